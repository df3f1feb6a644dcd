// velin backup diff ID1 ID2: the paths added, removed and changed from one backup to another,
// and the database streams whose bytes changed (docs/cli.md, "backup diff").
#include <fmt/format.h>

#include "backup_inspect.hpp"
#include "velin/backup/inspect.hpp"
#include "velin/core/i18n.hpp"

namespace velin::cli {

namespace {

struct DiffFlags {
  RepoFlags repo;
  SelectFlags select;  // whose `latest`
  std::string from;
  std::string to;
};

// restic's letters: + added, - removed, M content changed, U metadata only.
const char* Letter(backup::ChangeKind kind) {
  switch (kind) {
    case backup::ChangeKind::kAdded:
      return "+";
    case backup::ChangeKind::kRemoved:
      return "-";
    case backup::ChangeKind::kChanged:
      return "M";
    case backup::ChangeKind::kMetadata:
      return "U";
  }
  return "?";
}

Status RunDiff(Context& ctx, const DiffFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(repo::SnapshotFilter filter, FilterOf(*cfg, flags.select));
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kShared, false));
  VELIN_ASSIGN(repo::Snapshot from, LoadNamedBackup(*r.repo, flags.from, filter));
  VELIN_ASSIGN(repo::Snapshot to, LoadNamedBackup(*r.repo, flags.to, filter));
  VELIN_ASSIGN(auto changes, backup::DiffBackups(*r.repo, from, to));
  uint64_t count[4] = {0, 0, 0, 0};
  uint64_t added_bytes = 0, removed_bytes = 0;
  for (const auto& c : changes) {
    count[static_cast<int>(c.kind)]++;
    if (c.kind == backup::ChangeKind::kAdded) added_bytes += c.new_size;
    if (c.kind == backup::ChangeKind::kRemoved) removed_bytes += c.old_size;
  }
  output::Console& out = ctx.out();
  if (out.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& c : changes) {
      list.push_back(
          {{"kind", backup::ChangeKindName(c.kind)},
           {"path", c.path},
           {"type", c.type},
           {"old_size", c.kind == backup::ChangeKind::kAdded ? nlohmann::json(nullptr)
                                                             : nlohmann::json(c.old_size)},
           {"new_size", c.kind == backup::ChangeKind::kRemoved ? nlohmann::json(nullptr)
                                                               : nlohmann::json(c.new_size)}});
    }
    out.Json({{"from", from.id},
              {"to", to.id},
              {"changes", list},
              {"summary",
               {{"added", count[0]},
                {"removed", count[1]},
                {"changed", count[2]},
                {"metadata", count[3]},
                {"added_size", added_bytes},
                {"removed_size", removed_bytes}}}});
    return Ok();
  }
  out.Begin(output::Icon::kList, TrFormat("Changes from {} to {}:", from.id, to.id));
  for (const auto& c : changes) {
    std::string name = ShownPath(c.path);
    if (c.type == "dir") name += "/";
    if (c.type == "stream") name += " " + std::string(Tr("(database stream)"));
    std::string size;
    switch (c.kind) {
      case backup::ChangeKind::kAdded:
        size = output::FormatBytes(c.new_size);
        break;
      case backup::ChangeKind::kRemoved:
        size = output::FormatBytes(c.old_size);
        break;
      default:
        size = c.old_size == c.new_size ? output::FormatBytes(c.new_size)
                                        : fmt::format("{} -> {}", output::FormatBytes(c.old_size),
                                                      output::FormatBytes(c.new_size));
    }
    out.Line(NoTr(fmt::format("{} {}  ({})", Letter(c.kind), name, size)));
  }
  out.Info(TrFormat("{} added ({}), {} removed ({}), {} changed, {} metadata only", count[0],
                    output::FormatBytes(added_bytes), count[1], output::FormatBytes(removed_bytes),
                    count[2], count[3]));
  return Ok();
}

}  // namespace

void RegisterBackupDiff(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<DiffFlags>();
  CLI::App* cmd = AddCommand(group, "diff", "Show what changed between two backups");
  cmd->add_option("id1", flags->from, "The older backup: ID, unique prefix, or 'latest'")
      ->required()
      ->type_name("ID1");
  cmd->add_option("id2", flags->to, "The newer backup: ID, unique prefix, or 'latest'")
      ->required()
      ->type_name("ID2");
  AddRepoFlags(cmd, flags->repo);
  AddNoLockFlag(cmd, flags->repo);
  AddSelectFlags(cmd, flags->select, true);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunDiff(ctx, *flags); }); });
}

}  // namespace velin::cli
