// Deploy transactions: begin (base + deadline + detached watchdog), commit, rollback, extend,
// status, recover, and the watchdog itself. States and what each one asks for next are in
// docs/rollback-format.md#transaction.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "service.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/process.hpp"
#include "velin/io/process_space.hpp"
#include "velin/rollback/engine.hpp"
#include "velin/rollback/lock.hpp"
#include "velin/rollback/registry.hpp"
#include "velin/rollback/release.hpp"

namespace velin::rollback {
namespace {

// Long enough for a rollback in progress (stop, start, health check) to finish.
Duration LockWait(const Settings& s) { return s.health_timeout * 3 + Duration(120'000); }

std::string OutcomeFor(RollbackCause cause, bool ok) {
  if (!ok) return "rollback failed";
  return cause == RollbackCause::kTimeout ? "rolled back by timeout" : "rolled back by hand";
}

}  // namespace

Status RollbackEngine::CheckWatchdogCanReadConfig() const {
  if (settings_.config_file.empty()) return Ok();
  // stat, not lstat: a config file reached through a symlink is a file the watchdog can read.
  struct stat st {};
  if (::stat(settings_.config_file.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return Ok();
  return UsageError(
      TrFormat("the config {} is not a regular file (a pipe such as --config <(…) is read once): "
               "the watchdog, which rolls back at the deadline, could not read it; give the "
               "path of a file with --config",
               settings_.config_file));
}

namespace {

// How long a watchdog may take to load velin.toml and report that it holds its lock.
constexpr int kWatchdogStartMs = 30'000;

// Waits on the read end of the watchdog's --ready-fd pipe: "ready" once it holds its lock, or
// "error: MESSAGE" when something stopped it before. Reaps it (it is this process's child, so
// its pid cannot be reused meanwhile) when it did not start.
Status AwaitWatchdogStart(int fd, Subprocess& child) {
  std::string said;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kWatchdogStartMs);
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd p {
      .fd = fd, .events = POLLIN, .revents = 0
    };
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;  // the deadline is checked above
    char buf[512];
    ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // the watchdog closed its end: all it had to say is here
    said.append(buf, static_cast<size_t>(got));
    if (said.size() > 8192) break;
  }
  if (said.rfind("ready", 0) == 0) return Ok();
  // It did not start: end it (it may hang) and reap it, for its exit code.
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 50 && !timed_out; ++i) {
    done = ::waitpid(child.pid(), &status, WNOHANG);
    if (done != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (done == 0) {
    child.Kill(SIGKILL);
    (void)child.Wait();
  }
  std::string why;
  if (said.rfind("error: ", 0) == 0) {
    why = said.substr(7);
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
  } else if (timed_out) {
    why = TrFormat("it did not report within {} s", std::to_string(kWatchdogStartMs / 1000));
  } else if (done > 0 && WIFEXITED(status)) {
    why = TrFormat("it ended at once with exit code {}", std::to_string(WEXITSTATUS(status)));
  } else {
    why = std::string(Tr("it ended at once"));
  }
  return Failure(
      TrFormat("the watchdog, which rolls back at the deadline, did not start: {}", why));
}

}  // namespace

// A state file's temp copy (FILE.tmp-PID-TAG-N, io::WriteFileDurably) whose writer was killed
// mid-write (a SIGTERM during begin) is removed under the state lock; a live writer's is not.
void RollbackEngine::RemoveDeadStateTemps() {
  auto entries = env_.ListDir(layout_.dir);
  if (!entries) return;  // whatever is wrong with the directory, the command says
  const std::string files[] = {layout_.Registry(), layout_.History(), layout_.Transaction(),
                               layout_.SwitchIntent(), layout_.Removals()};
  for (const io::DirEntry& e : *entries) {
    if (e.type != io::FileType::kRegular) continue;
    bool temp_of_state = false;
    for (const std::string& file : files) {
      temp_of_state = temp_of_state || e.name.rfind(io::Basename(file) + ".tmp-", 0) == 0;
    }
    if (!temp_of_state || !io::IsDeadWritersTemp(env_, e.name)) continue;
    // Best effort: a leftover costs only its bytes.
    (void)env_.RemoveFile(io::JoinPath(layout_.dir, e.name));
  }
}

// Starts the detached watchdog unless one of this transaction still runs. Liveness is the
// watchdog's lock file, never the pid (a zombie or a reused pid would look alive): the lock is
// taken here and the child inherits the locked descriptor, so it is held from the first instant.
// Reported started only once the watchdog said so: one that cannot read velin.toml (a pipe
// gone with this command) or dies at once would leave the deadline to nobody.
Result<bool> RollbackEngine::ArmWatchdog(TransactionRecord& txn) {
  if (settings_.velin_binary.empty())
    return Failure(std::string(Tr("cannot arm the watchdog: velin binary unknown")));
  VELIN_ASSIGN(int fd, TryLockFile(layout_.WatchdogLock(txn.id)));
  if (fd < 0) return false;  // its watchdog is alive
  if (Status readable = CheckWatchdogCanReadConfig(); !readable) {
    ::close(fd);
    return tl::unexpected(readable.error());
  }
  // A watchdog re-armed by another user (root's `recover` of a deploy user's transaction) runs
  // the rollback's stop, start and health commands as that user at the deadline: the app then
  // runs as root, and the deploy user's next stop cannot end it.
  if (const std::string user = CurrentUser(env_); !txn.user.empty() && txn.user != user) {
    reporter_.Warn(TrFormat(
        "transaction {} was begun by user {}, and its watchdog now runs as user {}: at the "
        "deadline its rollback runs stop, start and health as {} (run recover and extend as {}; "
        "in the recover unit: User={})",
        txn.id, txn.user, user, user, txn.user, txn.user));
  }
  int ready[2] = {-1, -1};
  if (::pipe2(ready, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoError(std::string(Tr("cannot create a pipe for the watchdog")), err);
  }
  ProcessOptions options;
  options.argv = {settings_.velin_binary, "rollback",   "watchdog",
                  "--transaction",        txn.id,       "--lock-fd",
                  std::to_string(fd),     "--ready-fd", std::to_string(ready[1])};
  std::vector<std::string> global = settings_.watchdog_flags;
  if (!settings_.config_file.empty()) {
    global.insert(global.begin(), {"--config", settings_.config_file});
  }
  options.argv.insert(options.argv.begin() + 1, global.begin(), global.end());
  options.cwd = settings_.app_root;
  options.stdin_mode = Stdio::kNull;
  options.stdout_mode = Stdio::kNull;
  options.stderr_mode = Stdio::kNull;
  options.new_session = true;  // no controlling terminal; survives the shell and its group
  // The held lock and the pipe it reports on; nothing else of velin's reaches it.
  options.pass_fds = {fd, ready[1]};
  // Test-only crash points and fault rules belong to this invocation, not to the timer.
  options.extra_env = {{"VELIN_TEST_CRASH_AT", ""},
                       {"VELIN_FAULT_INJECT", ""},
                       {"VELIN_FAULT_BITFLIP", ""},
                       {"VELIN_FAULT_SIGNAL", ""}};
  for (const auto& variable : settings_.watchdog_env) options.extra_env.push_back(variable);
  for (const std::string& name : settings_.watchdog_secret_env) {
    std::optional<std::string> value = env_.GetEnv(name);
    if (value) options.extra_env.emplace_back(name, *value);
  }
  auto child = Subprocess::Start(options);
  ::close(fd);  // the lock stays with the child's copy of the descriptor
  ::close(ready[1]);
  if (!child) {
    ::close(ready[0]);
    return tl::unexpected(child.error());
  }
  Status started = AwaitWatchdogStart(ready[0], *child);
  ::close(ready[0]);
  VELIN_TRY(started);
  txn.watchdog_pid = child->pid();  // informational; never waited for: init reaps it
  return true;
}

// The version a rollback of a new transaction returns to: the live version when it brings back
// exactly what is live (its release unmodified and, when config files are configured, a
// snapshot holding the live config); else an earlier base holding exactly the live files, live
// config and schema level (reused, so repeated deploys of one version add no identical bases);
// else a fresh snapshot of the live release plus live config.
Result<std::string> RollbackEngine::ChooseBaseLocked(const std::string& txn_id) {
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  VELIN_ASSIGN(std::string live, LiveCurrent());
  const VersionRecord* current = reg.Find(live);
  if (current == nullptr) {
    return UsageError(
        TrFormat("nothing to return to: {} does not point at a registered version (create-version "
                 "+ to-version, or 'velin rollback adopt')",
                 settings_.current_link));
  }
  VELIN_ASSIGN(auto live_art, ScanTree(env_, layout_.Release(live), settings_.artifacts, false));
  VELIN_ASSIGN(auto live_cfg, ScanTree(env_, settings_.app_root, settings_.config, false));
  std::string art_digest = DigestOf(live_art);
  std::string cfg_digest = DigestOf(live_cfg);
  bool artifacts_same = art_digest == current->source_digest;
  bool config_kept = live_cfg.empty() || (current->kind == VersionKind::kSnapshot &&
                                          cfg_digest == current->config_digest);
  // A version whose stored config velin's user cannot read (a snapshot root made, its config
  // 0700) is no base: the rollback could not switch to it (before 2026-12-07 it was taken, and
  // the rollback at the deadline failed).
  const bool current_readable =
      artifacts_same && config_kept && StoredConfigReadable(reg, current->name);
  if (current_readable) return current->name;
  VELIN_ASSIGN(std::string level,
               SchemaLevel(settings_, CommandRecorder(std::string(Tr("a transaction")))));
  for (auto it = reg.versions.rbegin(); it != reg.versions.rend(); ++it) {
    if (it->IsTransactionBase() && it->source_digest == art_digest &&
        it->config_digest == cfg_digest && it->schema_level == level &&
        StoredConfigReadable(reg, it->name)) {
      reporter_.Info(TrFormat("The live files equal base {}: reusing it", it->name));
      return it->name;
    }
  }
  std::string name = "base-" + txn_id;
  if (artifacts_same && config_kept) {
    reporter_.Info(TrFormat(
        "velin (user {}) cannot read the stored configuration of version {}: taking snapshot {}",
        ::geteuid(), current->name, name));
  } else {
    reporter_.Info(
        TrFormat("The live files differ from version {}: taking snapshot {}", current->name, name));
  }
  VELIN_ASSIGN(VersionRecord snap,
               CreateLocked(name, "Base of transaction " + txn_id, VersionKind::kSnapshot, false,
                            layout_.Release(live), txn_id));
  return snap.name;
}

// The level recorded at create-version is the database's then: in a deploy that runs the
// version's migrations after its create-version (or after its switch), the version got its
// predecessor's level, and a later switch back to it migrated down one step too far (its own
// tables dropped, exit 0). Before 2026-12-07 that level was never corrected.
void RollbackEngine::RecordLiveLevelLocked() {
  if (settings_.migration_status.empty()) return;
  auto update = [&]() -> Status {
    VELIN_ASSIGN(std::string live, LiveCurrent());
    VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
    VersionRecord* rec = reg.Find(live);
    if (rec == nullptr) return Ok();
    VELIN_ASSIGN(std::string level,
                 SchemaLevel(settings_, CommandRecorder(std::string(Tr("a transaction")))));
    if (level.empty() || level == rec->schema_level) return Ok();
    const std::string before = rec->schema_level;
    rec->schema_level = level;
    VELIN_TRY(SaveRegistry(env_, layout_, reg));
    reporter_.Info(before.empty()
                       ? TrFormat("Schema level of {} recorded: {}", live, level)
                       : TrFormat("Schema level of {} recorded: {} (was {})", live, level, before));
    return Ok();
  };
  if (Status recorded = update(); !recorded) {
    reporter_.Warn(TrFormat("the schema level of the live version was not recorded: {}",
                            recorded.error().message));
  }
}

// "transaction ID (reason 'R', by user@host, open until T)" for messages about another deploy.
static std::string DescribeTransaction(const TransactionRecord& t) {
  if (t.reason.empty()) {
    return TrFormat("transaction {} (by {}@{}, open until {})", t.id, t.user, t.host,
                    LocalTime(t.deadline_ms));
  }
  return TrFormat("transaction {} (reason '{}', by {}@{}, open until {})", t.id, t.reason, t.user,
                  t.host, LocalTime(t.deadline_ms));
}

Result<TransactionRecord> RollbackEngine::Begin(std::optional<Duration> timeout,
                                                const std::string& reason, bool backup) {
  VELIN_TRY(CheckWatchdogCanReadConfig());  // before anything is done
  VELIN_TRY(EnsureStateDir());
  VELIN_ASSIGN(StateLock lock, LockState(LockWait(settings_)));
  Duration span = timeout.value_or(settings_.transaction_timeout);
  VELIN_ASSIGN(auto open, LoadTransaction(env_, layout_));
  if (open) {
    if (open->state == TransactionState::kOpen && UnixMs(env_) < open->deadline_ms) {
      // Never join it: its commit would commit this deploy too (docs/rollback.md#transactions).
      return MakeError(
          ExitCode::kLocked,
          TrFormat(
              "another deploy is running: {}; wait for its commit or rollback ('velin rollback "
              "status'), or, if it is yours, give it more time with 'velin rollback extend'",
              DescribeTransaction(*open)));
    }
    if (open->state == TransactionState::kOpen) {
      reporter_.Warn(TrFormat("{} has expired: rolling it back first", DescribeTransaction(*open)));
    } else if (open->state == TransactionState::kRollingBack) {
      reporter_.Warn(TrFormat("transaction {}: finishing its interrupted rollback to {} first",
                              open->id, open->base));
    }
    VELIN_ASSIGN(TransactionEnd end, FinishIfDueLocked(*open));
    reporter_.Warn(
        TrFormat("transaction {}: {} (to {})", end.id, OutcomeShown(end.outcome), end.base));
  }
  VELIN_ASSIGN(auto intent, LoadSwitchIntent(env_, layout_));
  if (intent)
    return Failure(std::string(Tr("a switch was interrupted; run 'velin rollback recover' first")));
  VELIN_TRY(CheckLiveRelease());  // before a backup is taken or anything is written
  RecordLiveLevelLocked();        // the level the base, when it is the live version, goes back to
  int64_t now = UnixMs(env_);
  TransactionRecord txn;
  txn.id = IsoTime(now).substr(0, 19) + "-" + std::to_string(env_.ThisProcess().pid);
  for (char& c : txn.id) {
    if (c == ':') c = '-';
  }
  if (backup || settings_.backup_on_begin) {  // before anything changes (docs/rollback.md#data)
    if (settings_.data == nullptr) {
      return UsageError(
          "begin --backup (rollback.backup_on_begin) needs a database in backup.include "
          "(\"db\" with [database], \"db:NAME\" with [databases.NAME]); nothing was changed");
    }
    VELIN_ASSIGN(txn.version, LiveCurrent());
    reporter_.Begin(TrFormat("Backing up the database for transaction {}...", txn.id));
    auto taken = settings_.data->Backup(txn.id, txn.version);
    if (!taken) {
      return tl::unexpected(
          taken.error().Wrap("transaction not opened, nothing was changed: database backup"));
    }
    txn.backup = *taken;
    CrashPoint("begin-backup-taken");
  }
  VELIN_ASSIGN(txn.base, ChooseBaseLocked(txn.id));
  txn.state = TransactionState::kOpen;
  txn.started = IsoTime(now);
  txn.deadline_ms = now + span.count();
  txn.reason = reason;
  txn.user = CurrentUser(env_);
  txn.host = env_.HostName();
  VELIN_TRY(SaveTransaction(env_, layout_, txn));  // the deadline is on disk before the timer
  CrashPoint("begin-saved");
  if (auto armed = ArmWatchdog(txn); !armed) {
    // Nothing would roll back at the deadline: the transaction is not opened (nothing was
    // deployed in it yet).
    if (Status removed = RemoveTransaction(env_, layout_); !removed) {
      return tl::unexpected(armed.error().Wrap(
          TrFormat("transaction {} is open without a watchdog (its file could not be removed: "
                   "{}); end it with 'velin rollback rollback'",
                   txn.id, removed.error().message)));
    }
    return tl::unexpected(armed.error().Wrap(TrFormat("transaction {} not opened", txn.id)));
  }
  // Only adds the watchdog's pid (informational): the transaction is open either way.
  if (Status saved = SaveTransaction(env_, layout_, txn); !saved) {
    reporter_.Warn(
        TrFormat("transaction {} is open and its watchdog runs, but its pid could not "
                 "be recorded: {}",
                 txn.id, saved.error().message));
  }
  reporter_.Done(TrFormat("Transaction {} open until {} (base {})", txn.id,
                          LocalTime(txn.deadline_ms), txn.base));
  if (!txn.backup.empty()) {
    reporter_.Done(TrFormat("Database backup {} taken for transaction {}", txn.backup, txn.id));
  }
  // Bases of ended transactions go now; the transaction is open whatever happens here.
  if (Status pruned = Prune(txn.base); !pruned) {
    reporter_.Warn(TrFormat("pruning old transaction bases failed: {}", pruned.error().message));
  }
  return txn;
}

Result<TransactionEnd> RollbackEngine::FinalizeTransactionLocked(const TransactionRecord& txn) {
  VELIN_ASSIGN(auto history, ReadHistoryForUse());
  bool recorded = false;
  for (const auto& h : history) {
    if (h.action == "transaction" && h.transaction == txn.id) recorded = true;
  }
  if (!recorded) {
    HistoryEntry entry{.time = IsoTime(UnixMs(env_)),
                       .user = CurrentUser(env_),
                       .host = env_.HostName(),
                       .action = "transaction",
                       .from = txn.base,
                       .reason = txn.reason,
                       .outcome = txn.outcome,
                       .transaction = txn.id,
                       .backup = txn.backup,
                       .backup_version = txn.backup.empty() ? "" : txn.version,
                       .data = txn.data};
    VELIN_TRY(AppendHistory(env_, layout_, entry));
  }
  CrashPoint("txn-history");
  VELIN_TRY(RemoveTransaction(env_, layout_));
  std::string watchdog_lock = layout_.WatchdogLock(txn.id);
  VELIN_ASSIGN(bool lock_file, env_.Exists(watchdog_lock));
  if (lock_file) VELIN_TRY(env_.RemoveFile(watchdog_lock));
  return TransactionEnd{txn.id, txn.outcome, txn.base, txn.data};
}

Result<TransactionEnd> RollbackEngine::RollBackTransactionLocked(TransactionRecord txn,
                                                                 RollbackCause cause,
                                                                 bool restore_data) {
  if (txn.state == TransactionState::kOpen) {
    txn.state = TransactionState::kRollingBack;  // from here on, recover continues this rollback
    txn.cause = cause;
    // Decided once, with the state: a recover continues the rollback as it was chosen.
    txn.restore_data =
        !txn.backup.empty() &&
        (cause == RollbackCause::kTimeout ? settings_.restore_data_on_timeout : restore_data);
    VELIN_TRY(SaveTransaction(env_, layout_, txn));
  }
  CrashPoint("txn-rolling-back");
  reporter_.Begin(TrFormat("Rolling back transaction {} to {}...", txn.id, txn.base));
  // A switch interrupted inside this rollback is continued; any other interrupted switch (a
  // deploy step of the transaction) is first undone, so its saved config comes back too.
  VELIN_ASSIGN(auto intent, LoadSwitchIntent(env_, layout_));
  bool own = intent && intent->action == "rollback" && intent->transaction == txn.id &&
             intent->to == txn.base;
  if (intent && !own) {
    intent->phase = "back";
    if (intent->failure.empty())
      intent->failure = "interrupted; transaction " + txn.id + " rolls back";
    // Its outcome (an error by design: that switch did not happen) is in the history; the
    // switch to the base below follows either way.
    (void)ContinueSwitchLocked(*intent);
  }
  last_data_.clear();
  Status s = own ? ContinueSwitchLocked(*intent)
                 : SwitchLocked(txn.base,
                                txn.cause == RollbackCause::kTimeout ? "transaction deadline passed"
                                                                     : "transaction rolled back",
                                txn.id, "rollback", txn.restore_data ? txn.backup : "");
  txn.state = s ? TransactionState::kRolledBack : TransactionState::kRollbackFailed;
  txn.outcome = OutcomeFor(txn.cause, static_cast<bool>(s));
  if (!s) txn.outcome += ": " + s.error().message;
  const bool data_failed = last_data_.rfind("failed: ", 0) == 0;
  if (txn.backup.empty()) {
    txn.data.clear();
  } else if (last_data_ == "restored") {
    txn.data = "restored from backup " + txn.backup + "; writes since begin are gone";
  } else if (data_failed) {
    txn.data = "restore from backup " + txn.backup + " " + last_data_;
  } else if (txn.restore_data) {
    txn.data = "not restored from backup " + txn.backup + ": the switch did not get that far";
  } else {
    txn.data = "kept: writes since begin stay (backup " + txn.backup + " was not restored)";
  }
  VELIN_TRY(SaveTransaction(env_, layout_, txn));
  VELIN_ASSIGN(TransactionEnd end, FinalizeTransactionLocked(txn));
  if (!s) {
    Error failed = s.error().Wrap(TrFormat("transaction {}: rollback failed", txn.id));
    // The command was right; the state it met (a base removed from the registry by hand) was
    // not: that is a failed operation (1), not a usage error (2), for a script or a timer.
    if (failed.code == ExitCode::kUsage) failed.code = ExitCode::kFailed;
    return tl::unexpected(failed);
  }
  if (data_failed) {
    std::string retry = settings_.data == nullptr ? "velin backup restore " + txn.backup
                                                  : settings_.data->RetryCommand(txn.backup);
    return Failure(
        TrFormat("transaction {} {} (back to {}, service started), but restoring the "
                 "database from backup {} failed: {}; retry with: {}",
                 txn.id, txn.outcome, txn.base, txn.backup, last_data_.substr(8), retry));
  }
  return end;
}

// Under the lock: finishes `txn` when its state or its deadline asks for it.
Result<TransactionEnd> RollbackEngine::FinishIfDueLocked(const TransactionRecord& txn) {
  if (txn.state == TransactionState::kRollingBack) return RollBackTransactionLocked(txn, txn.cause);
  if (txn.state != TransactionState::kOpen) return FinalizeTransactionLocked(txn);
  if (UnixMs(env_) >= txn.deadline_ms)
    return RollBackTransactionLocked(txn, RollbackCause::kTimeout);
  return TransactionEnd{txn.id, "", txn.base};
}

static Result<TransactionRecord> RequireOpen(const std::optional<TransactionRecord>& txn,
                                             io::Env& env, const StateLayout& layout) {
  if (txn) return *txn;
  std::vector<std::string> unreadable;  // this message needs none of them
  VELIN_ASSIGN(auto history, ReadHistory(env, layout, &unreadable));
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->action == "transaction") {
      return Failure(TrFormat("no open transaction (the last one, {}, ended at {}: {})",
                              it->transaction, LocalTimeOf(it->time), OutcomeShown(it->outcome)));
    }
  }
  return Failure(std::string(Tr("no open transaction")));
}

Result<RollbackEngine::LockedTransaction> RollbackEngine::LockOpenTransaction() {
  VELIN_TRY(EnsureStateDir());
  VELIN_ASSIGN(StateLock lock, LockState(LockWait(settings_)));
  VELIN_ASSIGN(auto loaded, LoadTransaction(env_, layout_));
  VELIN_ASSIGN(TransactionRecord txn, RequireOpen(loaded, env_, layout_));
  const bool live = txn.state == TransactionState::kOpen && UnixMs(env_) < txn.deadline_ms;
  return LockedTransaction{std::move(lock), std::move(txn), live};
}

Result<TransactionEnd> RollbackEngine::Commit() {
  VELIN_ASSIGN(LockedTransaction locked, LockOpenTransaction());
  TransactionRecord& txn = locked.txn;
  if (!locked.live) {
    VELIN_ASSIGN(TransactionEnd end, FinishIfDueLocked(txn));
    return Failure(
        TrFormat("too late to commit: transaction {} was {}", end.id, OutcomeShown(end.outcome)));
  }
  txn.state = TransactionState::kCommitted;
  txn.outcome = "committed";
  VELIN_TRY(SaveTransaction(env_, layout_, txn));  // the decision; the rest is bookkeeping
  CrashPoint("commit-saved");
  // The watchdog sees the transaction gone within half a second and ends by itself (a kill by
  // pid could hit an unrelated process once the pid is reused).
  auto end = FinalizeTransactionLocked(txn);
  if (!end) {  // the decision stands: the next velin command finishes the bookkeeping
    return tl::unexpected(end.error().Wrap(
        TrFormat("transaction {} is committed (recorded in {}), but ending it failed; the next "
                 "velin command retries",
                 txn.id, layout_.Transaction())));
  }
  RecordLiveLevelLocked();  // the deploy, its migrations included, is done
  return end;
}

Result<TransactionEnd> RollbackEngine::RollbackNow(const std::string& reason, bool restore_data) {
  VELIN_ASSIGN(LockedTransaction locked, LockOpenTransaction());
  TransactionRecord& txn = locked.txn;
  if (!locked.live) return FinishIfDueLocked(txn);
  if (restore_data && txn.backup.empty()) {
    return UsageError("--restore-data: transaction " + txn.id +
                      " took no database backup (begin --backup); nothing was changed");
  }
  if (restore_data) {
    if (settings_.data == nullptr) return UsageError("--restore-data: no database is backed up");
    VELIN_TRY(settings_.data->Check(txn.backup));
  }
  if (!reason.empty()) txn.reason = txn.reason.empty() ? reason : txn.reason + "; " + reason;
  return RollBackTransactionLocked(txn, RollbackCause::kByHand, restore_data);
}

Result<TransactionRecord> RollbackEngine::Extend(Duration by) {
  VELIN_ASSIGN(LockedTransaction locked, LockOpenTransaction());
  TransactionRecord& txn = locked.txn;
  if (!locked.live) {
    VELIN_ASSIGN(TransactionEnd end, FinishIfDueLocked(txn));
    return Failure(
        TrFormat("too late to extend: transaction {} was {}", end.id, OutcomeShown(end.outcome)));
  }
  // Extended again and again, the deadline must stay one the clock can hold (kMaxDuration).
  if (txn.deadline_ms - UnixMs(env_) > kMaxDuration.count() - by.count()) {
    return UsageError(TrFormat("extend: the deadline would be more than {} away", "36500d"));
  }
  txn.deadline_ms += by.count();
  VELIN_TRY(ArmWatchdog(txn));
  VELIN_TRY(SaveTransaction(env_, layout_, txn));
  return txn;
}

Result<TransactionStatus> RollbackEngine::Inspect(bool live_level) {
  TransactionStatus st;
  // Read although only the link is shown: a damaged or newer registry.json is said here (exit
  // 4, 1) as by every other rollback command, not found at the next switch.
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  VELIN_ASSIGN(st.transaction, LoadTransaction(env_, layout_));
  VELIN_ASSIGN(st.interrupted_switch, LoadSwitchIntent(env_, layout_));
  if (st.interrupted_switch) {
    // switch.json also exists while a switch runs: only a switch nobody holds the lock for
    // was interrupted.
    VELIN_ASSIGN(st.switch_running, StateLock::Held(layout_.Lock()));
  }
  VELIN_ASSIGN(st.current, LiveCurrent());
  if (!st.current.empty()) {
    VELIN_ASSIGN(bool release_there, env_.Exists(layout_.Release(st.current)));
    if (!release_there) st.current_missing = layout_.Release(st.current);
  }
  if (!settings_.migration_status.empty()) {
    // A status answers whatever the database does: a level that cannot be read is shown as
    // such, not a failed `status` (a deploy script and monitoring read it).
    if (const VersionRecord* rec = reg.Find(st.current)) st.recorded_level = rec->schema_level;
  }
  if (!settings_.migration_status.empty() && live_level) {
    st.schema_levels = true;
    if (auto level = SchemaLevel(settings_)) {
      st.live_level = *level;
    } else {
      st.level_error = level.error().message;
    }
  }
  st.now_ms = UnixMs(env_);
  return st;
}

Result<std::vector<std::string>> RollbackEngine::Recover(std::optional<TransactionEnd>* timed_out) {
  std::vector<std::string> done;
  VELIN_TRY(EnsureStateDir());
  VELIN_ASSIGN(StateLock lock, LockState(LockWait(settings_)));
  VELIN_TRY(LoadRegistry(env_, layout_));  // damaged or newer: said, as by every command
  VELIN_ASSIGN(auto txn, LoadTransaction(env_, layout_));
  if (txn) {
    // Its deadline passed (or the watchdog's rollback was interrupted): the timeout's rollback.
    const bool timeout =
        (txn->state == TransactionState::kOpen && UnixMs(env_) >= txn->deadline_ms) ||
        (txn->state == TransactionState::kRollingBack && txn->cause == RollbackCause::kTimeout);
    auto finished = FinishIfDueLocked(*txn);
    if (!finished && timeout && timed_out != nullptr) {
      *timed_out =
          TransactionEnd{txn->id, "rollback failed: " + finished.error().message, txn->base, ""};
    }
    VELIN_ASSIGN(TransactionEnd end, std::move(finished));
    if (timeout && timed_out != nullptr) *timed_out = end;
    if (end.outcome.empty()) {
      VELIN_ASSIGN(bool armed, ArmWatchdog(*txn));
      if (armed) {
        VELIN_TRY(SaveTransaction(env_, layout_, *txn));
        done.push_back(TrFormat("transaction {} is open; its watchdog was re-armed", txn->id));
      } else {
        done.push_back(
            TrFormat("transaction {} is open until {}", txn->id, LocalTime(txn->deadline_ms)));
      }
    } else {
      done.push_back(TrFormat("transaction {}: {}", end.id, OutcomeShown(end.outcome)));
    }
  }
  VELIN_ASSIGN(auto intent, LoadSwitchIntent(env_, layout_));
  if (intent) {  // an interrupted switch: continue it as recorded (back to `from` on failure)
    last_data_.clear();
    VELIN_TRY(ContinueSwitchLocked(*intent));
    done.push_back(TrFormat("finished the interrupted switch {} {} {}", intent->from,
                            ArrowOf(reporter_), intent->to));
    if (last_data_.rfind("failed: ", 0) == 0 && settings_.data != nullptr) {
      return Failure(
          TrFormat("finished the interrupted switch to {}, but restoring the database "
                   "from backup {} failed: {}; retry with: {}",
                   intent->to, intent->restore_backup, last_data_.substr(8),
                   settings_.data->RetryCommand(intent->restore_backup)));
    }
  }
  return done;
}

Result<std::optional<TransactionEnd>> RollbackEngine::RunWatchdog(
    const std::string& id, int lock_fd, const std::function<void()>& ready) {
  // The lock handed over by the arming velin, checked: a descriptor that is not it (not
  // inherited) would leave this watchdog looking dead, and every recover would start another.
  if (lock_fd >= 0 && HoldsLockOn(lock_fd, layout_.WatchdogLock(id))) {
    SetCloseOnExec(lock_fd, true);  // held until this process ends; never by the service
  } else {
    VELIN_ASSIGN(lock_fd, TryLockFile(layout_.WatchdogLock(id)));
    if (lock_fd < 0) return std::nullopt;  // another watchdog of this transaction runs
  }
  if (ready) ready();
  for (;;) {
    VELIN_ASSIGN(auto txn, LoadTransaction(env_, layout_));
    if (!txn || txn->id != id) return std::nullopt;  // committed, rolled back, or another one
    int64_t left = txn->deadline_ms - UnixMs(env_);
    if (txn->state == TransactionState::kOpen && left > 0) {
      env_.SleepFor(Duration(std::min<int64_t>(left, 500)));
      continue;
    }
    auto lock = LockState(LockWait(settings_));
    if (!lock && lock.error().code == ExitCode::kLocked) continue;  // a long deploy: keep waiting
    if (!lock) return tl::unexpected(lock.error());
    VELIN_ASSIGN(auto locked, LoadTransaction(env_, layout_));
    if (!locked || locked->id != id) return std::nullopt;
    if (locked->state == TransactionState::kOpen && UnixMs(env_) < locked->deadline_ms)
      continue;  // extended
    VELIN_ASSIGN(TransactionEnd end, FinishIfDueLocked(*locked));
    return std::optional<TransactionEnd>(std::move(end));
  }
}

Result<std::optional<TransactionEnd>> RollbackEngine::FinishExpiredTransaction() {
  VELIN_ASSIGN(bool exists, env_.Exists(layout_.Transaction()));
  if (!exists) return std::nullopt;
  VELIN_ASSIGN(auto txn, LoadTransaction(env_, layout_));
  if (!txn || (txn->state == TransactionState::kOpen && UnixMs(env_) < txn->deadline_ms))
    return std::nullopt;
  VELIN_ASSIGN(StateLock lock, LockState(LockWait(settings_)));
  VELIN_ASSIGN(auto locked, LoadTransaction(env_, layout_));
  if (!locked) return std::nullopt;
  // The deadline's rollback: begun now, or begun by a watchdog killed in the middle of it.
  const bool deadline =
      locked->state == TransactionState::kOpen ||
      (locked->state == TransactionState::kRollingBack && locked->cause == RollbackCause::kTimeout);
  if (locked->state == TransactionState::kOpen) {  // say it before doing it
    reporter_.Warn(TrFormat("transaction {} expired at {}: rolling it back to {} first", locked->id,
                            LocalTime(locked->deadline_ms), locked->base));
  } else if (locked->state == TransactionState::kRollingBack) {
    reporter_.Warn(TrFormat("transaction {}: finishing its interrupted rollback to {} first",
                            locked->id, locked->base));
  }
  auto finished = FinishIfDueLocked(*locked);
  if (!finished) {  // recorded as "rollback failed"; other commands may still run
    reporter_.Warn(finished.error().message);
    if (!deadline) return std::nullopt;
    return TransactionEnd{locked->id, "rollback failed: " + finished.error().message, locked->base};
  }
  const TransactionEnd& end = *finished;
  if (!end.outcome.empty()) {
    reporter_.Warn(TrFormat("transaction {} had expired: {} (to {})", end.id,
                            OutcomeShown(end.outcome), end.base));
  }
  if (!deadline || end.outcome.empty()) return std::nullopt;
  return end;
}

}  // namespace velin::rollback
