// velin backup list: every backup with its time, strategy, sources, files and sizes.
#include <fmt/format.h>

#include "backup_common.hpp"
#include "velin/core/i18n.hpp"

namespace velin::cli {

namespace {

Status RunList(Context& ctx, const RepoFlags& flags) {
  VELIN_ASSIGN(OpenRepo r,
               OpenRepository(ctx, flags, repo::LockKind::kShared, false, IndexUse::kNone));
  std::vector<repo::ObjectDamage> damage;
  VELIN_ASSIGN(auto snapshots, r.repo->LoadAllSnapshots(&damage));
  output::Console& out = ctx.out();
  for (const auto& d : damage) out.Warn(TrFormat("{}: {}", d.object, d.message));
  if (out.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : snapshots) {
      nlohmann::json sources = nlohmann::json::array();
      nlohmann::json streams = nlohmann::json::object();  // e.g. "db": the database's metadata
      for (const auto& src : s.sources) {
        sources.push_back(src.name);
        if (src.kind == "stream") streams[src.name] = src.metadata;
      }
      list.push_back({{"id", s.id},
                      {"time", s.time},
                      {"strategy", s.strategy},
                      {"parent", s.parent},
                      {"host", s.host},
                      {"sources", sources},
                      {"streams", streams},
                      {"files", s.stats.files},
                      {"size", s.stats.bytes},
                      {"added_size", s.stats.bytes_added}});
    }
    out.Json({{"backups", list}});
    return Ok();
  }
  if (snapshots.empty()) {
    out.Info(Tr("No backups yet"));
    return Ok();
  }
  out.Begin(output::Icon::kList, Tr("Backups:"));
  out.Line(fmt::format("  {:<26} {:<20} {:<12} {:>8} {:>10} {:>10}  {}", Tr("ID"), Tr("Time"),
                       Tr("Strategy"), Tr("Files"), Tr("Size"), Tr("Added"), Tr("Sources")));
  for (const auto& s : snapshots) {
    std::string sources;
    for (const auto& src : s.sources) sources += (sources.empty() ? "" : ", ") + src.name;
    out.Line(fmt::format("  {:<26} {:<20} {:<12} {:>8} {:>10} {:>10}  {}", s.id, s.time, s.strategy,
                         s.stats.files, output::FormatBytes(s.stats.bytes),
                         output::FormatBytes(s.stats.bytes_added), sources));
  }
  return Ok();
}

}  // namespace

void RegisterBackupList(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<RepoFlags>();
  CLI::App* cmd = AddCommand(group, "list", "List the backups in the repository");
  AddRepoFlags(cmd, *flags);
  AddNoLockFlag(cmd, *flags);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunList(ctx, *flags); }); });
}

}  // namespace velin::cli
