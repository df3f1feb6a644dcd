// velin backup verify ID|--all: re-reads every blob a backup needs and checks its hash;
// exit 4 with one line per damaged object when anything is wrong.
#include <limits>

#include "backup_common.hpp"
#include "backup_db.hpp"
#include "velin/backup/verifier.hpp"
#include "velin/backup/verify_record.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"

namespace velin::cli {

namespace {

struct VerifyFlags {
  RepoFlags repo;
  std::string id;
  bool all = false;
  bool restore_test = false;
  std::string restore_test_server;
  SelectFlags select;  // whose `latest`
};

Status RunVerify(Context& ctx, const VerifyFlags& flags) {
  if (!flags.all && flags.id.empty()) {
    return UsageError(std::string(Tr("verify needs a backup ID or --all")));
  }
  if (flags.all && !flags.id.empty()) {
    return UsageError(std::string(Tr("verify takes a backup ID or --all, not both")));
  }
  output::Console& out = ctx.out();
  // A signal stops the verify at its next pack (core/termination.hpp): nothing is recorded, a
  // restore test's temporary database is dropped, the lock goes; then velin ends by it.
  TerminationCancel cancel(
      std::string(Tr("stopping the verify (a second signal ends velin at once)")));
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(repo::SnapshotFilter filter, FilterOf(*cfg, flags.select));
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kShared, false,
                                          IndexUse::kLoadUnwarned));
  std::vector<std::string> ids;
  if (!flags.all) {
    VELIN_ASSIGN(std::string id, r.repo->ResolveSnapshotId(flags.id, filter));
    ids.push_back(id);
  }
  // The config's checksum was checked when the repository was opened (a mismatch is exit 4
  // there): "intact"; a config of an older velin has none to check: "unchecked".
  const bool config_checked = !r.repo->config().checksum.empty();
  const char* config_state = config_checked ? "intact" : "unchecked";
  if (!config_checked && !out.json()) {
    out.Info(
        TrFormat("the config of {} has no checksum (an older velin wrote it), so a change to "
                 "it cannot be detected: `velin backup upgrade` adds one",
                 r.backend->Location()));
  }
  out.Begin(output::Icon::kVerify, Tr("Verifying backups..."));
  VELIN_ASSIGN(backup::VerifyReport report, backup::VerifyBackups(*r.repo, out, ids));
  if (!out.json()) {
    for (const auto& p : report.problems) out.Warn(p);
  }
  // The outcome goes into the repository for `backup status` (monitor.max_verify_age); a
  // repository that cannot take it (read-only) only costs a warning (and create then does not
  // know to store the data of the damaged packs again).
  auto record = [&](bool ok) {
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(ctx.env().Now().time_since_epoch())
            .count();
    // With the packs it found damaged: `create` stores their blobs again (repo/damaged_packs.hpp).
    // Per host and app too: `backup status` judges its own (verify_record.hpp).
    std::vector<backup::VerifiedGroup> covered;
    // `--all` and `latest` cover each group's newest backup there is now: one that passes clears
    // a failure found in a backup since forgotten (newer than any left) too.
    const bool newest_there_is = flags.all || flags.id == "latest";
    for (size_t i = 0; i < report.groups.size(); ++i) {
      covered.push_back({.host = report.groups[i].first,
                         .app = report.groups[i].second,
                         .newest = newest_there_is ? std::numeric_limits<int64_t>::max()
                                                   : report.groups_newest[i]});
    }
    Status s = backup::RecordVerify(
        *r.backend, now, ok, report.snapshots.size(), flags.restore_test,
        {.whole = report.packs_whole, .damaged = report.packs_damaged, .gone = report.packs_gone},
        covered);
    if (!s) out.Warn(TrFormat("could not record the verify outcome: {}", s.error().message));
  };
  if (!report.problems.empty()) {
    record(false);
    return DamageError(TrFormat("verify found {} problem(s) in {}: {}", report.problems.size(),
                                r.backend->Location(), report.problems.front()));
  }
  // An empty repository: nothing was checked, and saying "0 backup(s) intact" would read as a
  // pass. A warning (stderr: cron mails it) and exit 0, as for restic's check of an empty
  // repository; nothing is recorded, so `backup status` does not count it as a verify.
  if (report.snapshots.empty()) {
    out.Warn(TrFormat("no backups to verify in {}", r.backend->Location()));
    if (out.json()) {
      out.Json({{"ok", true},
                {"config", config_state},
                {"restore_test", nlohmann::json::object()},
                {"backups", report.snapshots},
                {"blobs", report.blobs_checked},
                {"packs", report.packs_checked},
                {"bytes", report.bytes_checked}});
    }
    return Ok();
  }
  nlohmann::json restore_test = nlohmann::json::object();
  if (flags.restore_test) {
    Status rt =
        RestoreTestBackups(ctx, *r.repo, report.snapshots, flags.restore_test_server, restore_test);
    if (!rt) {
      // Only a restore test that found the data wrong is a failed verify for `backup status`:
      // one stopped by a signal, or failing for a reason that says nothing about the data (no
      // room for the temp dir, the database server down), records nothing — it reported
      // "damage" and pointed at `verify --all`, which found none.
      if (rt.error().code == ExitCode::kDamage && !Interrupted()) record(false);
      ctx.stats().event = "restore-test-failed";  // [notify]
    }
    if (!rt && out.json()) {
      out.Json(
          {{"ok", false},
           {"restore_test", restore_test},
           {"error",
            {{"message", rt.error().message}, {"exit_code", static_cast<int>(rt.error().code)}}}});
    }
    VELIN_TRY(rt);
  }
  record(true);
  if (out.json()) {
    out.Json({{"ok", true},
              {"config", config_state},
              {"restore_test", restore_test},
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
  cmd->add_flag("--all", flags->all, "Verify every backup (of every host and application)");
  cmd->add_flag("--restore-test", flags->restore_test,
                "Also restore each backup: files into a temp dir, the database into a temporary "
                "database whose row counts must match the recorded ones");
  cmd->add_option("--restore-test-server", flags->restore_test_server,
                  "HOST[:PORT] of the server for the temporary database (default: the "
                  "configured one)");
  AddRepoFlags(cmd, flags->repo);
  AddNoLockFlag(cmd, flags->repo);
  AddSelectFlags(cmd, flags->select, false);
  cmd->callback([&ctx, flags] {
    ctx.Execute([&ctx, flags]() -> Status {
      Status st = RunVerify(ctx, *flags);
      if (!st && Interrupted()) {
        return Failure(TrFormat("verify interrupted by {}; nothing was recorded",
                                TerminationSignalName(HeldTerminationSignal())));
      }
      return st;
    });
  });
}

}  // namespace velin::cli
