// velin backup ls ID [PATH] [--long] [--recursive]: the paths a backup holds and the database
// streams with their tables and row counts (docs/cli.md, "backup ls").
#include <fmt/format.h>
#include <sys/sysmacros.h>

#include <optional>

#include "backup_inspect.hpp"
#include "velin/backup/inspect.hpp"
#include "velin/core/i18n.hpp"
#include "velin/db/metadata.hpp"

namespace velin::cli {

namespace {

struct LsFlags {
  RepoFlags repo;
  SelectFlags select;  // whose `latest`
  std::string id;
  std::string path;
  bool long_format = false;
  bool recursive = false;
};

bool IsDevice(repo::NodeType type) {
  return type == repo::NodeType::kCharDevice || type == repo::NodeType::kBlockDevice;
}

// "8,1": a device node's major and minor number, as ls(1) shows them in place of a size.
std::string DeviceNumber(uint64_t rdev) {
  return fmt::format("{},{}", major(static_cast<dev_t>(rdev)), minor(static_cast<dev_t>(rdev)));
}

nlohmann::json EntryJson(const backup::BackupEntry& e) {
  nlohmann::json j = {{"path", e.path},
                      {"type", backup::NodeTypeName(e.node.type)},
                      {"mode", fmt::format("{:04o}", e.node.mode)},
                      {"uid", e.node.uid},
                      {"gid", e.node.gid},
                      {"size", e.node.size},
                      {"mtime", UtcTime(e.node.mtime_ns)}};
  if (e.node.type == repo::NodeType::kSymlink || e.node.type == repo::NodeType::kHardlink) {
    j["target"] = e.node.target;
  }
  if (IsDevice(e.node.type)) j["rdev"] = DeviceNumber(e.node.rdev);
  return j;
}

// Why a stream is not usable: a dump that failed under --continue-on-error left it empty or cut
// off (metadata status "missing"); nullopt for a whole one.
std::optional<std::string> StreamFailure(const backup::BackupStream& s) {
  if (!s.metadata.is_object() || s.metadata.value("status", "ok") == "ok") return std::nullopt;
  return s.metadata.value("error", std::string("the dump failed"));
}

void PrintStream(output::Console& out, const backup::BackupStream& s) {
  if (std::optional<std::string> failed = StreamFailure(s)) {
    out.Line(TrFormat("{}  stream  {}  (failed: {})", ShownPath(s.name),
                      output::FormatBytes(s.bytes), *failed));
    return;
  }
  auto info = db::DatabaseInfoFromJson(s.metadata);
  if (!info) {
    out.Line(TrFormat("{}  stream  {}", ShownPath(s.name), output::FormatBytes(s.bytes)));
    return;
  }
  out.Line(TrFormat("{}  database stream  {}  {} '{}' ({}, {})", ShownPath(s.name),
                    output::FormatBytes(s.bytes), info->driver, info->name, info->dump_tool,
                    info->dump_format));
  for (const auto& t : info->tables) {
    out.Line(TrCount(static_cast<uint64_t>(t.rows), "  table {}: {} row", "  table {}: {} rows",
                     ShownPath(t.name), t.rows));
  }
}

Status RunLs(Context& ctx, const LsFlags& given) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  LsFlags flags = given;
  flags.path = PathInBackup(*cfg, flags.path);
  VELIN_ASSIGN(repo::SnapshotFilter filter, FilterOf(*cfg, flags.select));
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kShared, false));
  VELIN_ASSIGN(repo::Snapshot snapshot, LoadNamedBackup(*r.repo, flags.id, filter));
  // A stream is named by itself ("db"); the whole backup lists every stream.
  std::vector<backup::BackupStream> streams;
  std::vector<backup::BackupEntry> entries;
  bool is_stream = false;
  for (auto& s : backup::BackupStreams(snapshot)) {
    if (flags.path.empty()) streams.push_back(s);
    if (s.name == flags.path) {
      streams.push_back(s);
      is_stream = true;
    }
  }
  if (!is_stream) {
    backup::ListOptions options;
    options.path = flags.path;
    options.recursive = flags.recursive;
    VELIN_ASSIGN(entries, backup::ListBackup(*r.repo, snapshot, options));
  }
  output::Console& out = ctx.out();
  if (out.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& e : entries) list.push_back(EntryJson(e));
    nlohmann::json stream_list = nlohmann::json::array();
    for (const auto& s : streams) {
      stream_list.push_back({{"name", s.name},
                             {"size", s.bytes},
                             {"usable", !StreamFailure(s)},
                             {"metadata", s.metadata}});
    }
    out.Json({{"id", snapshot.id},
              {"time", snapshot.time},
              {"path", flags.path},
              {"entries", list},
              {"streams", stream_list}});
    return Ok();
  }
  for (const auto& e : entries) {
    const std::string type = backup::NodeTypeName(e.node.type);
    std::string name = ShownPath(e.path);
    if (e.node.type == repo::NodeType::kDir) name += "/";
    if (!flags.long_format) {
      out.Line(NoTr(name));
      continue;
    }
    const std::string size =
        IsDevice(e.node.type) ? DeviceNumber(e.node.rdev) : output::FormatBytes(e.node.size);
    std::string line = fmt::format("{} {:>6} {:>6} {:>10}  {}  {}", ModeString(type, e.node.mode),
                                   e.node.uid, e.node.gid, size, LocalTime(e.node.mtime_ns), name);
    if (e.node.type == repo::NodeType::kSymlink) line += " -> " + ShownPath(e.node.target);
    if (e.node.type == repo::NodeType::kHardlink) line += " => " + ShownPath(e.node.target);
    out.Line(NoTr(line));
  }
  for (const auto& s : streams) PrintStream(out, s);
  return Ok();
}

}  // namespace

void RegisterBackupLs(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<LsFlags>();
  CLI::App* cmd = AddCommand(group, "ls", "List the files and database streams of a backup");
  cmd->add_option("id", flags->id, "Backup ID, unique prefix, or 'latest'")
      ->required()
      ->type_name("ID");
  cmd->add_option("path", flags->path,
                  "A path in the backup (relative to app.root), or a stream's name ('db')")
      ->type_name("PATH");
  cmd->add_flag("--long,-l", flags->long_format, "Show type, mode, owner, size and mtime");
  cmd->add_flag("--recursive,-R", flags->recursive, "List everything below, not one level");
  AddRepoFlags(cmd, flags->repo);
  AddNoLockFlag(cmd, flags->repo);
  AddSelectFlags(cmd, flags->select, true);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunLs(ctx, *flags); }); });
}

}  // namespace velin::cli
