// velin backup stats [ID]: what the backups hold and what the repository stores for them, per
// source, with deduplication and compression ratios (docs/cli.md, "backup stats").
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backup_inspect.hpp"
#include "velin/backup/inspect.hpp"
#include "velin/core/i18n.hpp"

namespace velin::cli {

namespace {

struct StatsFlags {
  RepoFlags repo;
  SelectFlags select;  // whose `latest`
  std::string id;
};

nlohmann::json SourceJson(const backup::SourceStats& s) {
  auto ratio = [](uint64_t a, uint64_t b) {
    return b == 0 ? nlohmann::json(nullptr)
                  : nlohmann::json(static_cast<double>(a) / static_cast<double>(b));
  };
  return {{"name", s.name},
          {"kind", s.kind},
          {"backups", s.backups},
          {"files", s.files},
          {"logical_size", s.logical},
          {"blobs", s.blobs},
          {"raw_size", s.raw},
          {"stored_size", s.stored},
          {"trees_stored_size", s.trees_stored},
          {"dedup_ratio", ratio(s.logical, s.raw)},
          {"compression_ratio", ratio(s.raw, s.stored)}};
}

std::string Row(const std::string& name, const std::string& kind, const backup::SourceStats& s) {
  return fmt::format("  {:<24} {:<7} {:>7} {:>9} {:>10} {:>10} {:>11} {:>10} {:>7} {:>7}", name,
                     kind, s.backups, s.files, output::FormatBytes(s.logical),
                     output::FormatBytes(s.raw), output::FormatBytes(s.stored),
                     output::FormatBytes(s.trees_stored), Ratio(s.logical, s.raw),
                     Ratio(s.raw, s.stored));
}

// Stats that left backups out are not the repository's: exit 4, after what could be counted.
Status NotCounted(const std::vector<std::string>& unreadable) {
  if (unreadable.empty()) return Ok();
  return DamageError(TrFormat(
      "{} backup(s) could not be read and are not counted: {} (run `velin backup verify --all`)",
      unreadable.size(), fmt::format("{}", fmt::join(unreadable, "; "))));
}

Status RunStats(Context& ctx, const StatsFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(repo::SnapshotFilter filter, FilterOf(*cfg, flags.select));
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kShared, false));
  output::Console& out = ctx.out();
  std::vector<repo::Snapshot> snapshots;
  std::vector<std::string> unreadable;  // named by the error line at the end
  const bool whole = flags.id.empty();
  if (whole) {
    std::vector<repo::ObjectDamage> damage;
    VELIN_ASSIGN(snapshots, r.repo->LoadAllSnapshots(&damage));
    unreadable = UnreadableBackups(damage);
  } else {
    VELIN_ASSIGN(repo::Snapshot s, LoadNamedBackup(*r.repo, flags.id, filter));
    snapshots.push_back(std::move(s));
  }
  VELIN_ASSIGN(backup::BackupStats st, backup::ComputeStats(*r.repo, snapshots, whole));
  if (out.json()) {
    nlohmann::json sources = nlohmann::json::array();
    for (const auto& s : st.sources) sources.push_back(SourceJson(s));
    nlohmann::json doc = {{"id", whole ? nlohmann::json(nullptr) : nlohmann::json(snapshots[0].id)},
                          {"backups", st.backups},
                          {"sources", sources},
                          {"total", SourceJson(st.total)}};
    if (whole) {
      doc["repository"] = {
          {"blobs", st.repository_blobs},
          {"stored_size", st.repository_stored},
          {"unreferenced_blobs", unreadable.empty() ? nlohmann::json(st.repository_unreferenced)
                                                    : nlohmann::json(nullptr)}};
      doc["damaged"] = unreadable;
    }
    out.Json(doc);
    return NotCounted(unreadable);
  }
  if (whole && !unreadable.empty()) {
    out.Begin(output::Icon::kList,
              TrFormat("Repository: {} backup(s) and {} that could not be read", st.backups,
                       unreadable.size()));
  } else if (whole) {
    out.Begin(output::Icon::kList, TrFormat("Repository: {} backup(s)", st.backups));
  } else {
    out.Begin(output::Icon::kList, TrFormat("Backup {}:", snapshots[0].id));
  }
  out.Line(NoTr(fmt::format("  {:<24} {:<7} {:>7} {:>9} {:>10} {:>10} {:>11} {:>10} {:>7} {:>7}",
                            Tr("Source"), Tr("Kind"), Tr("Backups"), Tr("Files"), Tr("Logical"),
                            Tr("Raw"), Tr("Stored"), Tr("Trees"), Tr("Dedup"), Tr("Compr."))));
  for (const auto& s : st.sources) {
    out.Line(NoTr(Row(ShownPath(s.name), s.kind == "stream" ? "stream" : "files", s)));
  }
  out.Line(NoTr(Row(std::string(Tr("total")), "", st.total)));
  if (whole && !unreadable.empty()) {
    // The blobs of a backup that could not be read are not in st.total: calling the rest
    // unreferenced would count them as prune's to delete.
    out.Info(
        TrFormat("The repository stores {} in {} blobs (how many of them no backup "
                 "references is unknown while a backup cannot be read)",
                 output::FormatBytes(st.repository_stored), st.repository_blobs));
  } else if (whole) {
    out.Info(
        TrFormat("The repository stores {} in {} blobs ({} of them needed by no backup: "
                 "`velin backup prune` removes those in packs worth repacking, see "
                 "backup.repack_threshold)",
                 output::FormatBytes(st.repository_stored), st.repository_blobs,
                 st.repository_unreferenced));
  }
  return NotCounted(unreadable);
}

}  // namespace

void RegisterBackupStats(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<StatsFlags>();
  CLI::App* cmd =
      AddCommand(group, "stats", "Show sizes, deduplication and compression of one backup or all");
  cmd->add_option("id", flags->id, "Backup ID, unique prefix, or 'latest' (default: every backup)")
      ->type_name("ID");
  AddRepoFlags(cmd, flags->repo);
  AddNoLockFlag(cmd, flags->repo);
  AddSelectFlags(cmd, flags->select, false);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunStats(ctx, *flags); }); });
}

}  // namespace velin::cli
