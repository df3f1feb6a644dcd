// velin backup verify ID|--all: re-reads every blob a backup needs and checks its hash;
// exit 4 with one line per damaged object when anything is wrong.
#include "backup_common.hpp"
#include "velin/backup/verifier.hpp"
#include "velin/core/i18n.hpp"

namespace velin::cli {

namespace {

struct VerifyFlags {
  RepoFlags repo;
  std::string id;
  bool all = false;
};

Status RunVerify(Context& ctx, const VerifyFlags& flags) {
  if (flags.all == !flags.id.empty()) return UsageError("verify needs a backup ID or --all");
  output::Console& out = ctx.out();
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kShared, false));
  std::vector<std::string> ids;
  if (!flags.all) {
    VELIN_ASSIGN(std::string id, r.repo->ResolveSnapshotId(flags.id));
    ids.push_back(id);
  }
  out.Begin(output::Icon::kVerify, Tr("Verifying backups..."));
  VELIN_ASSIGN(backup::VerifyReport report, backup::VerifyBackups(*r.repo, out, ids));
  if (!out.json()) {
    for (const auto& p : report.problems) out.Warn(p);
  }
  if (!report.problems.empty()) {
    return DamageError(TrFormat("verify found {} problem(s) in {}: {}", report.problems.size(),
                                r.backend->Location(), report.problems.front()));
  }
  if (out.json()) {
    out.Json({{"ok", true},
              {"backups", report.snapshots},
              {"blobs", report.blobs_checked},
              {"packs", report.packs_checked},
              {"bytes", report.bytes_checked}});
    return Ok();
  }
  out.Done(TrFormat("{} backup(s) intact: {} blobs in {} packs checked", report.snapshots.size(),
                    report.blobs_checked, report.packs_checked));
  return Ok();
}

}  // namespace

void RegisterBackupVerify(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<VerifyFlags>();
  CLI::App* cmd = AddCommand(group, "verify", "Check that backups are complete and undamaged");
  cmd->add_option("id", flags->id, "Backup ID, unique prefix, or 'latest'");
  cmd->add_flag("--all", flags->all, "Verify every backup");
  AddRepoFlags(cmd, flags->repo);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunVerify(ctx, *flags); }); });
}

}  // namespace velin::cli
