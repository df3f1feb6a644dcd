// velin backup prune [--dry-run]: removes the data no remaining backup references — deletes
// unused packs, repacks mostly-unused ones (backup.repack_threshold), writes a new index and
// only then deletes the old index objects and packs (docs/repository-format.md, "Prune").
// Shows what it removed/repacked and the bytes freed (--json: the same as a document).
#include <fmt/format.h>

#include "backup_common.hpp"
#include "stale_temps.hpp"
#include "velin/backup/pruner.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/output/console.hpp"

namespace velin::cli {
namespace {

struct PruneFlags {
  RepoFlags repo;
  bool dry_run = false;
};

}  // namespace

nlohmann::json PruneJson(const backup::PruneResult& r, bool dry_run) {
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

namespace {

void PrintHuman(output::Console& out, const backup::PruneResult& r, bool dry_run) {
  // Each count in its own number ("1 pack", core/i18n.hpp's TrCounted).
  out.Info(TrCount(r.snapshots, "{} backup references {}", "{} backups reference {}", r.snapshots,
                   TrCounted(r.blobs_used, "{} blob", "{} blobs")));
  if (dry_run) {
    out.Done(TrFormat("Would delete {} and repack {} of {}, freeing about {} (dry run)",
                      r.packs_deleted, r.packs_repacked,
                      TrCounted(r.packs_total, "{} pack", "{} packs"),
                      output::FormatBytes(r.bytes_freed())));
  } else if (!r.changed) {
    out.Done(Tr("Nothing to prune"));
  } else {
    out.Done(TrFormat("Deleted {} and repacked {} of {} ({}, {})", r.packs_deleted,
                      r.packs_repacked, TrCounted(r.packs_total, "{} pack", "{} packs"),
                      TrCounted(r.blobs_removed, "{} blob removed", "{} blobs removed"),
                      TrCounted(r.packs_written, "{} new pack", "{} new packs")));
    out.Done(TrFormat("Freed {}", output::FormatBytes(r.bytes_freed())));
  }
}

Status RunPrune(Context& ctx, const PruneFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  const auto kind = flags.dry_run ? repo::LockKind::kShared : repo::LockKind::kExclusive;
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, kind, false, IndexUse::kLoadUnwarned));
  output::Console& out = ctx.out();
  out.Begin(output::Icon::kList, flags.dry_run ? Tr("Looking for unused data (dry run)...")
                                               : Tr("Pruning unused data..."));
  backup::PruneOptions options;
  options.repack_threshold = cfg->backup.repack_threshold;
  options.dry_run = flags.dry_run;
  VELIN_ASSIGN(auto result, backup::Prune(*r.repo, ctx.env(), options, out));
  if (!flags.dry_run) RemoveStaleTemps(ctx, *r.backend);  // stale_temps.hpp
  // velin_repository_size_bytes: what prune measured (packs and index objects), which is
  // nearly all of a repository (snapshots, keys and config are a few KiB).
  if (!flags.dry_run) ctx.stats().repository_size = result.bytes_after;
  if (out.json()) {
    out.Json(PruneJson(result, flags.dry_run));
  } else {
    PrintHuman(out, result, flags.dry_run);
  }
  return Ok();
}

}  // namespace

nlohmann::json MaintenanceJson(const std::optional<backup::Maintenance>& m) {
  if (!m) return nullptr;
  if (m->error) return {{"error", m->error->message}};
  nlohmann::json j = {{"forgotten", m->forgotten}};
  if (m->prune) j["prune"] = PruneJson(*m->prune, false);
  return j;
}

void PrintMaintenance(output::Console& out, const std::optional<backup::Maintenance>& m) {
  if (!m || m->error || !m->prune) return;
  out.Done(TrFormat("{} old backup(s) forgotten, {} freed", m->forgotten,
                    output::FormatBytes(m->prune->bytes_freed())));
}

void RegisterBackupPrune(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<PruneFlags>();
  CLI::App* cmd = AddCommand(group, "prune", "Remove the data no backup references any more");
  AddRepoFlags(cmd, flags->repo);
  cmd->add_flag("--dry-run", flags->dry_run, "Only show what would be removed");
  cmd->callback([&ctx, flags] {
    ctx.Execute([&ctx, flags]() -> Status {
      // A signal stops the prune at its next tree, pack or removal instead of killing it
      // (core/termination.hpp): what it wrote and did not index yet goes, the lock goes (also
      // from a remote repository, where a lock left behind blocks other hosts until it is
      // stale), and velin ends by the signal. Every state on the way is whole.
      TerminationCancel cancel(
          std::string(Tr("stopping the prune (a second signal ends velin at once)")));
      Status st = RunPrune(ctx, *flags);
      if (!st && Interrupted()) {
        return Failure(
            TrFormat("prune interrupted by {}; the repository is whole: run it again to finish",
                     TerminationSignalName(HeldTerminationSignal())));
      }
      return st;
    });
  });
}

}  // namespace velin::cli
