// The database side of deploy transactions (docs/rollback.md#data): rollback::DataGuard built
// on the backup engine. `begin --backup` takes a database-only backup into the configured
// repository, tagged with the transaction and the live version; a rollback with
// --restore-data (or rollback.restore_data_on_timeout) restores it between the switch of the
// code and `start`.
#include "rollback_data.hpp"

#include "backup_common.hpp"
#include "backup_db.hpp"
#include "hook_settings.hpp"
#include "velin/backup/archiver.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/core/threads.hpp"
#include "velin/version.hpp"

namespace velin::cli {
namespace {

class BackupDataGuard final : public rollback::DataGuard {
 public:
  explicit BackupDataGuard(Context& ctx) : ctx_(ctx) {}

  Result<std::string> Backup(const std::string& transaction, const std::string& version) override {
    VELIN_ASSIGN(repo::Snapshot s, CreateTransactionBackup(ctx_, transaction, version));
    return s.id;
  }

  Status Check(const std::string& id) override {
    VELIN_ASSIGN(const config::Config* cfg, ctx_.Config());
    VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx_, RepoFlags{}, repo::LockKind::kShared, false));
    VELIN_ASSIGN(std::string resolved, r.repo->ResolveSnapshotId(id));
    VELIN_ASSIGN(repo::Snapshot snapshot, r.repo->LoadSnapshot(resolved));
    return CheckDatabaseBackup(*cfg, snapshot);
  }

  Status Restore(const std::string& id) override {
    VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx_, RepoFlags{}, repo::LockKind::kShared, false));
    VELIN_ASSIGN(std::string resolved, r.repo->ResolveSnapshotId(id));
    VELIN_ASSIGN(repo::Snapshot snapshot, r.repo->LoadSnapshot(resolved));
    return RestoreDatabase(ctx_, *r.repo, snapshot, "", /*confirmed=*/true);
  }

  std::string RetryCommand(const std::string& id) const override {
    return "velin backup restore " + id + " --only db --yes";
  }

 private:
  Context& ctx_;
};

}  // namespace

Result<repo::Snapshot> CreateTransactionBackup(Context& ctx, const std::string& transaction,
                                               const std::string& version) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(repo::Codec codec, repo::ParseCodec(cfg->backup.compression));
  // Only a guard calls this, and MakeDataGuard makes one only when [database] is backed up.
  VELIN_ASSIGN(db::ConnectionOptions db_options, DatabaseConnectionOptions(*cfg));
  VELIN_ASSIGN(std::unique_ptr<db::Driver> driver, db::OpenDriver(db_options));
  DatabaseStreamSource db_source(std::move(driver), db_options.driver, /*continue_on_error=*/false);
  db_source.SetTags({{"transaction", transaction}, {"version", version}});
  backup::CreateOptions options;
  options.app_root = cfg->app.root;
  options.host = cfg->app.host;
  options.app = cfg->app.name;
  options.strategy =
      repo::Strategy::kFull;  // a dump is always read whole; its delta blobs keep it small
  options.codec = codec;
  options.level = cfg->backup.compression_level;
  options.velin_version = kVersion;
  options.streams.push_back(&db_source);
  // The hooks around every backup run around this one too (docs/operations.md#hooks), and a
  // signal stops it as it stops `backup create` (core/termination.hpp): nothing is changed.
  TerminationCancel cancel(BackupStopNotice());
  const HookSettings hooks = HookSettingsOf(*cfg);
  VELIN_TRY(CheckInterrupted());
  if (Status hook = RunHook(hooks, HookEvent::kBeforeBackup, {}); !hook) {
    return tl::unexpected(hook.error());
  }
  // Out of memory (ulimit -v) is a failure like any other: on_backup_failure runs for it too.
  auto created = CatchExceptions([&]() -> Result<repo::Snapshot> {
    VELIN_TRY(CheckInterrupted());  // asked to stop while the hook ran
    VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, RepoFlags{}, repo::LockKind::kShared, true));
    return backup::CreateBackup(*r.repo, ctx.env(), ctx.out(), options);
  });
  if (!created && Interrupted()) created = BackupInterrupted();
  HookVars vars;
  if (!created) {
    vars.error = created.error().message;
    if (Status hook = RunHook(hooks, HookEvent::kOnBackupFailure, vars); !hook) {
      ctx.out().Warn(hook.error().message);
    }
    return created;
  }
  vars.backup_id = created->id;
  vars.version = version;
  if (Status hook = RunHook(hooks, HookEvent::kAfterBackup, vars); !hook) {
    return Failure(TrFormat("{}; backup {} stands", hook.error().message, created->id));
  }
  return created;
}

std::unique_ptr<rollback::DataGuard> MakeDataGuard(Context& ctx) {
  auto cfg = ctx.Config();
  if (!cfg || !(*cfg)->database.configured) return nullptr;
  bool included = false;
  for (const auto& inc : (*cfg)->backup.include) included = included || inc == kDatabaseStream;
  if (!included) return nullptr;
  return std::make_unique<BackupDataGuard>(ctx);
}

}  // namespace velin::cli
