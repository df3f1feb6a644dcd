// velin backup prune [--dry-run]: removes the data no remaining backup references — deletes
// unused packs, repacks mostly-unused ones (backup.repack_threshold), writes a new index and
// only then deletes the old index objects and packs (docs/repository-format.md, "Prune").
// Shows what it removed/repacked and the bytes freed (--json: the same as a document).
#include <fmt/format.h>

#include "backup_common.hpp"
#include "stale_temps.hpp"
#include "velin/backup/forget.hpp"
#include "velin/backup/pruner.hpp"
#include "velin/core/i18n.hpp"
#include "velin/output/console.hpp"

namespace velin::cli {
namespace {

struct PruneFlags {
  RepoFlags repo;
  bool dry_run = false;
};

nlohmann::json ToJson(const backup::PruneResult& r, bool dry_run) {
  return {{"dry_run", dry_run},
          {"snapshots", r.snapshots},
          {"blobs_used", r.blobs_used},
          {"blobs_removed", r.blobs_removed},
          {"packs_total", r.packs_total},
          {"packs_deleted", r.packs_deleted},
          {"packs_repacked", r.packs_repacked},
          {"packs_written", r.packs_written},
          {"index_objects_replaced", r.index_objects_replaced},
          {"packs_young", r.packs_young},
          {"bytes_before", r.bytes_before},
          {"bytes_after", r.bytes_after},
          {"bytes_freed", r.bytes_freed()}};
}

void PrintHuman(output::Console& out, const backup::PruneResult& r, bool dry_run) {
  out.Info(TrFormat("{} backups reference {} blobs", r.snapshots, r.blobs_used));
  if (dry_run) {
    out.Done(TrFormat("Would delete {} and repack {} of {} packs, freeing about {} (dry run)",
                      r.packs_deleted, r.packs_repacked, r.packs_total,
                      output::FormatBytes(r.bytes_freed())));
  } else if (!r.changed) {
    out.Done(Tr("Nothing to prune"));
  } else {
    out.Done(TrFormat("Deleted {} and repacked {} of {} packs ({} blobs removed, {} new packs)",
                      r.packs_deleted, r.packs_repacked, r.packs_total, r.blobs_removed,
                      r.packs_written));
    out.Done(TrFormat("Freed {}", output::FormatBytes(r.bytes_freed())));
  }
}

Status RunPrune(Context& ctx, const PruneFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  const auto kind = flags.dry_run ? repo::LockKind::kShared : repo::LockKind::kExclusive;
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, kind, false));
  output::Console& out = ctx.out();
  out.Begin(output::Icon::kList, flags.dry_run ? Tr("Looking for unused data (dry run)...")
                                               : Tr("Pruning unused data..."));
  backup::PruneOptions options;
  options.repack_threshold = cfg->backup.repack_threshold;
  options.dry_run = flags.dry_run;
  VELIN_ASSIGN(auto result, backup::Prune(*r.repo, ctx.env(), options, out));
  if (!flags.dry_run) RemoveStaleTemps(ctx, *r.backend);  // stale_temps.hpp
  if (out.json()) {
    out.Json(ToJson(result, flags.dry_run));
  } else {
    PrintHuman(out, result, flags.dry_run);
  }
  return Ok();
}

Result<nlohmann::json> Maintain(Context& ctx, const RepoFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  const auto& b = cfg->backup;
  const backup::RetentionRules rules{b.retention_days,
                                     b.keep_last,
                                     b.keep_daily,
                                     b.keep_weekly,
                                     b.keep_monthly,
                                     b.keep_yearly,
                                     cfg->rollback.keep_transaction_backups};
  if (rules.Empty()) return nlohmann::json(nullptr);
  output::Console& out = ctx.out();
  RepoFlags waiting = flags;
  if (waiting.lock_wait == "0s") waiting.lock_wait = "60s";  // a verify may be finishing
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, waiting, repo::LockKind::kExclusive, false));
  // Only this host's and app's groups: other hosts' and apps' retention is theirs.
  const repo::SnapshotFilter mine{false, cfg->app.host, cfg->app.name};
  VELIN_ASSIGN(auto forgot,
               backup::ForgetSnapshots(*r.repo, rules, ctx.env().Now(), false, mine, out));
  nlohmann::json j = {{"forgotten", forgot.forgotten}};
  if (forgot.forgotten == 0) return j;
  backup::PruneOptions options;
  options.repack_threshold = b.repack_threshold;
  VELIN_ASSIGN(auto pruned, backup::Prune(*r.repo, ctx.env(), options, out));
  j["prune"] = ToJson(pruned, false);
  if (!out.json()) {
    out.Done(TrFormat("{} old backup(s) forgotten, {} freed", forgot.forgotten,
                      output::FormatBytes(pruned.bytes_freed())));
  }
  return j;
}

}  // namespace

nlohmann::json MaintainAfterCreate(Context& ctx, const RepoFlags& flags) {
  auto done = Maintain(ctx, flags);
  if (done) return *done;
  ctx.out().Warn(
      TrFormat("the backup stands, but forget/prune after it failed: {}", done.error().message));
  return {{"error", done.error().message}};
}

void RegisterBackupPrune(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<PruneFlags>();
  CLI::App* cmd = AddCommand(group, "prune", "Remove the data no backup references any more");
  AddRepoFlags(cmd, flags->repo);
  cmd->add_flag("--dry-run", flags->dry_run, "Only show what would be removed");
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunPrune(ctx, *flags); }); });
}

}  // namespace velin::cli
