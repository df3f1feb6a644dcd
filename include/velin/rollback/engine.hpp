// The rollback engine: versions and snapshots (immutable releases under state_dir), the atomic
// switch of the `current` symlink with service stop/start, migration hook and health check, and
// deploy transactions that roll back by themselves at their deadline (a detached watchdog, and
// every velin invocation, finish an expired transaction). Design: docs/rollback.md; on-disk
// format: docs/rollback-format.md. Guarantees: `current` always names one complete release;
// every state file names what to do next, so `Recover` can always finish an interrupted switch
// or transaction; a transaction ends exactly once (committed or rolled back) under the lock.
// The engine reports through Reporter and never prints.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "velin/core/duration.hpp"
#include "velin/core/error.hpp"
#include "velin/core/hooks.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/env.hpp"
#include "velin/rollback/lock.hpp"
#include "velin/rollback/registry.hpp"

namespace velin::rollback {

struct ReleaseCheck;  // release.hpp

// The database side of deploy transactions (docs/rollback.md#data): the command layer implements
// it with the backup engine, so the rollback engine never depends on it.
class DataGuard {
 public:
  virtual ~DataGuard() = default;
  // Backs up the configured database into the repository, tagged with `transaction` and the
  // live `version`. Returns the backup's id. Nothing of the rollback state is touched.
  virtual Result<std::string> Backup(const std::string& transaction,
                                     const std::string& version) = 0;
  // Usage error unless backup `id` exists and holds a usable database dump.
  virtual Status Check(const std::string& id) = 0;
  // Replaces the configured database with the one of backup `id`, without asking.
  virtual Status Restore(const std::string& id) = 0;
  // The command that retries Restore(id) by hand.
  virtual std::string RetryCommand(const std::string& id) const = 0;
};

// What the engine needs from velin.toml ([app], [rollback], whether [database] exists).
struct Settings {
  std::string app_root;
  std::string config_file;   // passed to the watchdog
  std::string velin_binary;  // the watchdog re-executes it
  std::string state_dir;
  std::string current_link;
  std::vector<std::string> artifacts;
  std::vector<std::string> config;
  // Where velin.toml lists each of them (config::RollbackSection::path_places), for messages.
  std::map<std::pair<std::string, std::string>, std::string> path_places;
  int keep_versions = 10;
  std::string stop;
  std::string start;
  std::string health;
  Duration health_timeout = Duration(30'000);
  Duration transaction_timeout = Duration(600'000);
  Duration start_timeout = Duration(120'000);
  Duration stop_timeout = Duration(120'000);
  std::string migration_status;
  std::string migrate_down;
  bool database_configured = false;
  // before_switch/after_switch/on_switch_failure run around every switch
  // (docs/operations.md#hooks).
  HookSettings hooks;
  // Deploy transactions and the database (docs/rollback.md#data); `data` is null when no
  // [database] is backed up (begin --backup and --restore-data are then usage errors).
  DataGuard* data = nullptr;
  // Environment variables the watchdog (velin itself) needs to restore the database at the
  // deadline: the configured password_env names and the repository's credentials
  // (storage::CredentialVariables). Passed to it alone; every other child still gets the
  // environment without secrets.
  std::vector<std::string> watchdog_secret_env;
  // What of this command's global flags the watchdog must repeat to act as this command would
  // (restore from the same repository with the same passphrase): flags for its command line
  // (`--password-file FILE`, a path) and variables for its environment (VELIN_REPOSITORY: a
  // repository URL may hold a password, which never goes on a command line).
  std::vector<std::string> watchdog_flags;
  std::vector<std::pair<std::string, std::string>> watchdog_env;
  bool backup_on_begin = false;
  bool restore_data_on_timeout = false;
};

struct VersionListing {
  VersionRecord record;
  uint64_t total_bytes = 0;
  uint64_t own_bytes = 0;
  bool current = false;
  bool transaction_base = false;
};

struct ListResult {
  std::string current;  // what `current` points at ("" when nothing)
  std::vector<VersionListing> versions;
  // Live configuration saved before switches to snapshots (absolute paths, oldest first).
  std::vector<std::string> saved_configs;
};

struct TransactionStatus {
  std::optional<TransactionRecord> transaction;
  int64_t now_ms = 0;
  std::string current;
  // The release directory `current` points at when it does not exist (velin's state lost or
  // the release deleted by hand), else "".
  std::string current_missing;
  std::optional<SwitchIntent> interrupted_switch;
  bool switch_running = false;  // switch.json exists and its velin still holds the lock
  // With rollback.migration_status: the database's schema level now (what it printed), or why
  // it could not be read (level_error), and the level recorded for the current version.
  bool schema_levels = false;  // rollback.migration_status is configured
  std::string live_level;
  std::string level_error;
  std::string recorded_level;
};

// What `to-version NAME --dry-run` would do (docs/rollback.md#dry-run). Nothing is changed
// to compute it; migration_status, a read-only query, is run.
struct SwitchPlan {
  std::string from;  // the live version ("" when none)
  std::string to;
  VersionKind to_kind = VersionKind::kVersion;
  bool older = false;  // going back: `to` was created before `from`
  std::string stop;    // the configured commands ("" when not configured), a URL's password as ***
  std::string start;
  std::string health;
  Duration health_timeout{0};
  // Config files a snapshot's restore would touch (paths relative to app.root).
  std::vector<std::string> config_added;
  std::vector<std::string> config_changed;
  std::vector<std::string> config_removed;
  std::string live_level;       // schema level now ("" when migration_status is not configured)
  std::string target_level;     // recorded with the target
  bool migrate_down = false;    // migrate_down would run with {level} = target_level
  std::string migrate_warning;  // why the schema would stay as it is, when it matters
  std::string target_failed;    // the target's failed mark ("" when none)
  std::optional<TransactionRecord> expired_transaction;  // would be rolled back first
  // Files of the target's release (and snapshot configs) that no longer hold what it recorded
  // (paths under state_dir), and how many of them the switch would put back.
  std::vector<std::string> release_changed;
  size_t release_mendable = 0;
  std::vector<std::string> release_missing;  // of release_changed: deleted (put back too)
  // Files of the release velin's user cannot read (not checked; the switch goes on), and why.
  std::vector<std::string> release_unreadable;
  std::string release_unreadable_reason;
};

// How a transaction ended, for commands to print.
struct TransactionEnd {
  std::string id;
  std::string outcome;  // "committed", "rolled back by hand", "rolled back by timeout", ...
  std::string base;
  std::string data;  // what happened to the database ("" when the transaction took no backup)
};

class RollbackEngine {
 public:
  RollbackEngine(io::Env& env, Settings settings, Reporter& reporter);

  // `label` is "NAME - description" (or just "NAME").
  Result<VersionRecord> CreateVersion(const std::string& label, VersionKind kind, bool replace);
  Result<ListResult> List();
  Result<std::vector<HistoryEntry>> History();
  // Exit code 5 when the health check failed and the switch was undone. `name` may be
  // "previous" (kPreviousVersion).
  // `restore_data`: "" (the database stays), a backup id, or "at-version" (the last backup
  // taken by a transaction while `name` was live); restored after `current` points at `name`
  // and before `start` (docs/rollback.md#data).
  Status ToVersion(const std::string& name, const std::string& reason,
                   const std::string& restore_data = "");
  // `to-version NAME --undo` (the fleet's switch back, docs/rollback.md#fleet): back to NAME by
  // undoing the last switch, which must have gone from NAME to the live version; the live
  // config is put back as it was before that switch (the copy saved then), or left alone when
  // that switch touched none, instead of taking NAME's stored config. Exit codes as ToVersion.
  Status UndoSwitch(const std::string& name, const std::string& reason);
  // The plan of ToVersion(name) without any change (--dry-run).
  Result<SwitchPlan> PlanSwitch(const std::string& name);
  // Takes over an application deployed as plain files (docs/rollback.md#adopt).
  Result<VersionRecord> Adopt(const std::string& label, bool replace = false);

  // Opens a transaction, or extends the open one to now + timeout. Returns the record.
  // `backup` (or rollback.backup_on_begin): first a database backup through Settings::data;
  // when it fails, nothing is changed.
  Result<TransactionRecord> Begin(std::optional<Duration> timeout, const std::string& reason,
                                  bool backup = false);
  Result<TransactionEnd> Commit();
  // `restore_data`: also restore the database from the backup taken at begin.
  Result<TransactionEnd> RollbackNow(const std::string& reason, bool restore_data = false);
  Result<TransactionRecord> Extend(Duration by);
  // With `live_level` (and rollback.migration_status set), also runs migration_status for the
  // database's level now (`status --schema-level`); the recorded level is always read.
  Result<TransactionStatus> Inspect(bool live_level = false);
  // Finishes an interrupted switch and an expired or interrupted transaction. Returns what it did.
  // `timed_out` (may be null): set when it ended a transaction because its deadline had passed
  // (also when that rollback failed: outcome "rollback failed: …"), for [notify].
  Result<std::vector<std::string>> Recover(std::optional<TransactionEnd>* timed_out = nullptr);
  // The detached watchdog of transaction `id`: sleeps until the deadline, then rolls back.
  // `lock_fd`: the locked watchdog lock file inherited from the arming process (-1, or a
  // descriptor that is not that lock: take it). `ready` is called once the lock is held: from
  // then on the watchdog counts as alive (ArmWatchdog waits for it).
  // What it ended: the transaction it finished (rolled back by timeout), or nullopt when the
  // transaction ended otherwise (committed, rolled back by hand) or another watchdog runs.
  Result<std::optional<TransactionEnd>> RunWatchdog(const std::string& id, int lock_fd = -1,
                                                    const std::function<void()>& ready = {});
  // Before every command: one stat when there is no transaction; an expired one is rolled back.
  // Returns the end of a transaction it rolled back because its deadline passed (outcome
  // "rolled back by timeout", or "rollback failed: ..." when that failed), else nullopt.
  Result<std::optional<TransactionEnd>> FinishExpiredTransaction();

  const StateLayout& layout() const { return layout_; }

  // rollback.artifacts and rollback.config must not hold the state directory or `current`: a
  // usage error naming the path, its key and where velin.toml lists it. Every version command
  // checks it before it starts; `config check` too.
  Status CheckPathsLeaveOutTheState() const;

 private:
  friend class Switcher;
  Result<std::string> LiveCurrent();
  // The registered version `name` names ("previous": the version live before the live one, from
  // the history); a usage error naming what is missing.
  Result<std::string> ResolveTarget(const std::string& name, const Registry& reg,
                                    const std::string& live);
  // Keeps the failed mark of `target` (registry.json) in step with the switch's outcome: set when
  // its health check failed, cleared when a switch to it passed. A failure to record the mark is
  // a warning: it never stops a switch (or its switch-back).
  void NoteSwitchOutcome(const std::string& target, const Status& outcome);
  // `config`, `config_saved`: where the forward direction takes the config from (an undo).
  Status SwitchLocked(const std::string& target, const std::string& reason,
                      const std::string& txn_id, const std::string& action,
                      const std::string& restore_backup = "",
                      SwitchConfig config = SwitchConfig::kTarget,
                      const std::string& config_saved = "");
  // Restores the database of `intent` (once: intent.data records it), between the link and
  // `start`. A failure is recorded, never stops the switch.
  Status RestoreDataOfSwitch(SwitchIntent& intent);
  // The backup id "at-version" names for `version` (the last one a transaction took while it
  // was live); a usage error when there is none.
  Result<std::string> BackupAtVersion(const std::string& version);
  // The history for what the engine looks up in it: a line it cannot read is left out (a
  // warning naming it, once per command), never stops a switch or a rollback.
  Result<std::vector<HistoryEntry>> ReadHistoryForUse();
  Status ContinueSwitchLocked(const SwitchIntent& intent);
  // `*started`: false when the switch could not even be looked at (its target is gone).
  Status ContinueSwitchStepsLocked(SwitchIntent intent, bool* started);
  // The command an interrupted switch started (`intent`'s command_pid), left running alone by
  // a velin killed with kill -9: waited for until it ends, or its process group killed once
  // its timeout has passed, as that velin would have. Then no second one runs beside it.
  void AwaitInterruptedCommand(const SwitchIntent& intent);
  // Records each command it is told of (its name, pid and timeout) in command.json before the
  // command runs anything (rollback/command_record.hpp), `context` saying what it is for ("the
  // switch to v1"). A record that cannot be written is a warning, once: the command runs.
  std::function<Status(const std::string& name, int64_t pid, Duration timeout)> CommandRecorder(
      const std::string& context);
  // The same for a hook (core's RunHook).
  std::function<Status(pid_t)> HookRecorder(HookEvent event, const std::string& context);
  // `keep_also`: a saved copy the bound of keep_versions must not remove (the one an undo puts
  // back).
  Status SaveLiveConfig(const std::string& name, const std::string& keep_also = "");
  Status RecordAdopt(const std::string& name, const std::string& root, const Status& outcome);
  Result<std::vector<std::string>> SavedConfigs();
  Result<VersionRecord> CreateLocked(const std::string& name, const std::string& description,
                                     VersionKind kind, bool replace,
                                     const std::string& artifact_root,
                                     const std::string& base_of = "");
  // A usage error when `name` exists and may not (or cannot) be replaced.
  Status CheckCreatable(const std::string& name, bool replace, const Registry& reg);
  Status Prune(const std::string& keep_also);
  Result<TransactionEnd> RollBackTransactionLocked(TransactionRecord txn, RollbackCause cause,
                                                   bool restore_data = false);
  Result<TransactionEnd> FinalizeTransactionLocked(const TransactionRecord& txn);
  Result<TransactionEnd> FinishIfDueLocked(const TransactionRecord& txn);
  // The one step commit, rollback and extend start with: the state lock taken and the
  // transaction loaded ("no open transaction", naming the last one, when there is none).
  // `live`: open and before its deadline; otherwise the caller finishes it (FinishIfDueLocked).
  struct LockedTransaction {
    StateLock lock;
    TransactionRecord txn;
    bool live = false;
  };
  Result<LockedTransaction> LockOpenTransaction();
  // False when a watchdog of `txn` is still alive (nothing started). True once the started
  // watchdog said it runs (holds its lock); an error when it could not start or ended at once
  // (a config it cannot read), with its reason.
  Result<bool> ArmWatchdog(TransactionRecord& txn);
  // A usage error when the watchdog, a process started now and running until the deadline,
  // could not read the config this command read (a pipe such as `--config <(…)`).
  Status CheckWatchdogCanReadConfig() const;
  Result<std::string> ChooseBaseLocked(const std::string& txn_id);
  // Under the lock, where the live version is known to run on the live schema (`begin`,
  // before the deploy; `commit`, after it): records migration_status's level as the live
  // version's `schema_level`, the level a later switch back to it migrates down to. A level
  // that cannot be read is a warning.
  void RecordLiveLevelLocked();
  Status PointCurrentAt(const std::string& name);
  Status EnsureStateDir();
  // Refuses a state dir below app.root reached through another user's symlink leading out.
  Status CheckStateDirPath();
  Status FinishRemovals(const Registry& reg);
  // Removes the release, stored config and manifest of the unregistered version `name`; the
  // error names what stayed, whose it is and how to remove it (another user's release).
  Status RemoveUnregistered(const std::string& name);
  // The state lock, then what an interrupted create-version left half-installed is finished
  // or undone (FinishInstalls, versions.cpp) before anything reads the registry's releases.
  Result<StateLock> LockState(Duration wait);
  // "a switch from A to B was interrupted; run velin rollback recover first" when one was.
  Status RefuseInterruptedSwitch();
  // Under the state lock: temp copies of state files whose writer died (transaction.cpp).
  void RemoveDeadStateTemps();
  // What a release with deleted files was refused for: its message says what stays and what
  // to do.
  enum class PartialReleaseUse { kSwitch, kRollback, kBegin };
  Status CheckTargetRelease(const std::string& target, const Registry& reg, const std::string& from,
                            PartialReleaseUse use);
  Status CheckLiveRelease();
  void ReportReleaseMended(const std::string& target, const ReleaseCheck& check);
  Error PartialReleaseError(const std::string& target, const std::vector<std::string>& lost,
                            const std::string& from, PartialReleaseUse use) const;
  // The refusal of a switch (or rollback) to `target` whose stored config velin's user cannot
  // read (another user's snapshot): the switch would fail putting it back, after `stop`.
  Error UnreadableConfigError(const std::string& target, const ReleaseCheck& check,
                              const std::string& from, PartialReleaseUse use) const;
  // Whether a switch to `name` could read its stored config (ChooseBaseLocked: a base the
  // transaction's rollback could not switch to is not taken).
  bool StoredConfigReadable(const Registry& reg, const std::string& name);

  io::Env& env_;
  Settings settings_;
  Reporter& reporter_;
  StateLayout layout_;
  // What the last switch did to the database (SwitchIntent::data: "", "restored", "failed: …").
  // A failed restore never stops the switch: callers turn it into exit 1 with the retry command.
  std::string last_data_;
  bool history_warned_ = false;  // ReadHistoryForUse warned about the lines it left out
};

// Splits "v1.2.0 - Feature X Release" into name and description.
std::pair<std::string, std::string> ParseLabel(const std::string& label);

}  // namespace velin::rollback
