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

std::string GuardSourceList(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// "velin backup restore ID --only db --yes": one command per database `sources` names, joined by
// "&&" so that, pasted into a shell as printed, it stops at the first that fails.
std::string GuardRestoreCommands(const std::string& id, const std::vector<std::string>& sources) {
  std::string out;
  for (const std::string& source : sources) {
    out += (out.empty() ? "" : " && ") +
           ("velin backup restore " + id + " --only " + source + " --yes");
  }
  return out;
}

class BackupDataGuard final : public rollback::DataGuard {
 public:
  explicit BackupDataGuard(Context& ctx) : ctx_(ctx) {}

  Result<std::string> Backup(const std::string& transaction, const std::string& version) override {
    VELIN_ASSIGN(repo::Snapshot s, CreateTransactionBackup(ctx_, transaction, version));
    return s.id;
  }

  // Every database the backup holds, each of the driver configured for it: a backup taken
  // before a [databases.NAME] was added (or by a velin that backed up [database] alone) is
  // checked for what it holds.
  Status Check(const std::string& id) override {
    VELIN_ASSIGN(const config::Config* cfg, ctx_.Config());
    VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx_, RepoFlags{}, repo::LockKind::kShared, false));
    VELIN_ASSIGN(std::string resolved, r.repo->ResolveSnapshotId(id));
    VELIN_ASSIGN(repo::Snapshot snapshot, r.repo->LoadSnapshot(resolved));
    return CheckDatabaseBackup(*cfg, snapshot);
  }

  // Each database of the backup in its order, stopping at the first that fails: the error names
  // the ones restored and the ones not, and RetryCommand then restores those left.
  Status Restore(const std::string& id) override {
    VELIN_ASSIGN(const config::Config* cfg, ctx_.Config());
    std::vector<std::string>& left = left_[id];
    left = config::IncludedDatabases(*cfg);  // until the backup says what it holds
    VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx_, RepoFlags{}, repo::LockKind::kShared, false));
    VELIN_ASSIGN(std::string resolved, r.repo->ResolveSnapshotId(id));
    VELIN_ASSIGN(repo::Snapshot snapshot, r.repo->LoadSnapshot(resolved));
    const std::vector<config::DatabaseRef> databases = DatabasesOf(*cfg, snapshot);
    left.clear();
    for (const config::DatabaseRef& d : databases) left.push_back(d.source);
    for (const config::DatabaseRef& d : config::IncludedDatabaseRefs(*cfg)) {
      if (snapshot.FindSource(d.source) == nullptr) {
        ctx_.out().Warn(
            TrFormat("backup {} holds no dump of {} (taken before it was configured, or by a "
                     "velin that backed up [database] alone): it stays as it is",
                     snapshot.id, d.table));
      }
    }
    std::vector<std::string> restored;
    for (const config::DatabaseRef& d : databases) {
      Status one = RestoreDatabase(ctx_, *r.repo, snapshot, "", /*confirmed=*/true, d.source);
      if (!one) {
        Error e = d.source == kDatabaseStream ? one.error() : one.error().Wrap(d.table);
        if (databases.size() > 1) {
          e.message +=
              TrFormat(" (restored: {}; not restored: {})",
                       restored.empty() ? std::string(Tr("none")) : GuardSourceList(restored),
                       GuardSourceList(left));
        }
        return tl::unexpected(e);
      }
      restored.push_back(d.source);
      left.erase(left.begin());
    }
    return Ok();
  }

  // What a failed Restore left, as it recorded; in another process (a recover after a crash)
  // every database of the backup, or of backup.include when the backup cannot be read now.
  std::string RetryCommand(const std::string& id) const override {
    if (auto it = left_.find(id); it != left_.end() && !it->second.empty()) {
      return GuardRestoreCommands(id, it->second);
    }
    std::vector<std::string> sources;
    if (auto cfg = ctx_.Config()) {
      sources = config::IncludedDatabases(**cfg);
      auto r = OpenRepository(ctx_, RepoFlags{}, repo::LockKind::kShared, false);
      auto resolved = r ? r->repo->ResolveSnapshotId(id) : Result<std::string>(std::string());
      if (r && resolved) {
        if (auto snapshot = r->repo->LoadSnapshot(*resolved)) {
          sources.clear();
          for (const config::DatabaseRef& d : DatabasesOf(**cfg, *snapshot)) {
            sources.push_back(d.source);
          }
        }
      }
    }
    if (sources.empty()) sources.push_back(kDatabaseStream);
    return GuardRestoreCommands(id, sources);
  }

 private:
  Context& ctx_;
  // By backup id, the databases a Restore did not get to ("db", "db:NAME"), in order.
  std::map<std::string, std::vector<std::string>> left_;
};

}  // namespace

Result<repo::Snapshot> CreateTransactionBackup(Context& ctx, const std::string& transaction,
                                               const std::string& version) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(repo::Codec codec, repo::ParseCodec(cfg->backup.compression));
  // Every database backup.include names, in one snapshot: a rollback brings them all back to
  // the same moment. Only a guard calls this, and MakeDataGuard makes one only when there is one.
  // One that cannot be dumped fails the backup, naming it, and nothing is committed.
  VELIN_ASSIGN(std::vector<std::unique_ptr<DatabaseStreamSource>> sources,
               MakeDatabaseSources(*cfg, /*continue_on_error=*/false));
  backup::CreateOptions options;
  options.app_root = cfg->app.root;
  options.host = cfg->app.host;
  options.app = cfg->app.name;
  options.strategy =
      repo::Strategy::kFull;  // a dump is always read whole; its delta blobs keep it small
  options.codec = codec;
  options.level = cfg->backup.compression_level;
  options.velin_version = kVersion;
  for (const auto& source : sources) {
    source->SetTags({{"transaction", transaction}, {"version", version}});
    options.streams.push_back(source.get());
  }
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
  if (!cfg) return nullptr;
  // Any database backed up ("db" with [database], "db:NAME" with [databases.NAME]): an app
  // with only [databases.NAME] had no guard, and begin --backup was refused.
  for (const config::DatabaseRef& d : config::IncludedDatabaseRefs(**cfg)) {
    if (d.section != nullptr) return std::make_unique<BackupDataGuard>(ctx);
  }
  return nullptr;
}

}  // namespace velin::cli
