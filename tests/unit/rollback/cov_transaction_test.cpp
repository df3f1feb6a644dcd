// Deploy transactions on their error paths, on the engine (issue 16 §5): a begin, commit or
// extend that finds the deadline passed, a rollback that cannot reach its base, the data a
// rollback should have restored, an interrupted switch or rollback found by the next command, and
// the watchdog's own lock. Each test checks where `current` ends, what transaction.json,
// switch.json and the history say, and the error the command gets. Real files in a temp dir; the
// transaction's watchdog is a script that says it runs and ends (fake_watchdog.hpp: a timer these
// tests never wait for: a deadline "passes" by moving it into the past), and the database is a
// DataGuard whose restore fails on purpose.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "support/fake_watchdog.hpp"
#include "support/test_support.hpp"
#include "support/warning_recorder.hpp"
#include "velin/core/process.hpp"
#include "velin/io/fault_injection_env.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/io/process_space.hpp"
#include "velin/rollback/engine.hpp"
#include "velin/rollback/lock.hpp"

namespace velin::rollback {
namespace {

using velin::testing::AnyLineHas;
using velin::testing::ReadFileOrDie;
using velin::testing::TempDir;
using velin::testing::WarningRecorder;
using velin::testing::WriteFile;

// A database whose backups exist but whose restore fails (the server refuses the connection).
class RefusingData : public DataGuard {
 public:
  Result<std::string> Backup(const std::string&, const std::string&) override {
    ++backups;
    return std::string("b1");
  }
  Status Check(const std::string&) override { return Ok(); }
  Status Restore(const std::string&) override {
    ++restores;
    return Failure("pg_restore: connection refused");
  }
  std::string RetryCommand(const std::string& id) const override {
    return "velin backup restore " + id;
  }
  int backups = 0;
  int restores = 0;
};

class CovTransactionTest : public ::testing::Test {
 protected:
  CovTransactionTest() {
    s_.app_root = dir_ / "app";
    s_.state_dir = dir_ / "state";
    s_.current_link = dir_ / "app/current";
    s_.artifacts = {"bin"};  // no config files: a transaction's base is then the live version
    s_.velin_binary = velin::testing::WriteFakeWatchdog(dir_.path());
  }

  RollbackEngine Engine() { return RollbackEngine(io::Env::Default(), s_, out_); }
  StateLayout Layout() const { return StateLayout{s_.state_dir}; }

  void Create(const std::string& name) {
    WriteFile(dir_ / "app/bin/app", name + "\n");
    auto made = Engine().CreateVersion(name, VersionKind::kVersion, false);
    ASSERT_TRUE(made) << made.error().message;
  }
  // The release `current` points at ("" when it is not a symlink).
  std::string Live() {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(s_.current_link, ec);
    return ec ? "" : target.filename().string();
  }
  // v1 and v2 created, v1 live, a transaction opened on v1 and v2 deployed in it.
  std::string DeployV2InATransaction() {
    Create("v1");
    Create("v2");
    EXPECT_TRUE(Engine().ToVersion("v1", ""));
    auto txn = Engine().Begin(std::nullopt, "deploy v2");
    EXPECT_TRUE(txn) << txn.error().message;
    EXPECT_TRUE(Engine().ToVersion("v2", ""));
    EXPECT_EQ(Live(), "v2");
    return txn ? txn->id : "";
  }
  std::optional<TransactionRecord> Transaction() {
    auto t = LoadTransaction(io::Env::Default(), Layout());
    EXPECT_TRUE(t) << t.error().message;
    return t ? *t : std::nullopt;
  }
  void SetTransaction(const std::function<void(TransactionRecord&)>& change) {
    auto t = Transaction();
    ASSERT_TRUE(t);
    change(*t);
    ASSERT_TRUE(SaveTransaction(io::Env::Default(), Layout(), *t));
  }
  // Its deadline passed while its watchdog was gone (a reboot).
  void Expire() {
    SetTransaction([](TransactionRecord& t) { t.deadline_ms = UnixMs(io::Env::Default()) - 1000; });
  }
  std::vector<HistoryEntry> History() {
    auto h = ReadHistory(io::Env::Default(), Layout());
    EXPECT_TRUE(h) << h.error().message;
    return h ? *h : std::vector<HistoryEntry>();
  }
  // The last "transaction" entry of the history (empty when none).
  HistoryEntry LastTransaction() {
    auto h = History();
    for (auto it = h.rbegin(); it != h.rend(); ++it) {
      if (it->action == "transaction") return *it;
    }
    return {};
  }
  // Someone removed the version from registry.json by hand.
  void Unregister(const std::string& name) {
    auto reg = LoadRegistry(io::Env::Default(), Layout());
    ASSERT_TRUE(reg);
    std::erase_if(reg->versions, [&](const VersionRecord& v) { return v.name == name; });
    ASSERT_TRUE(SaveRegistry(io::Env::Default(), Layout(), *reg));
  }
  bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

  TempDir dir_;
  Settings s_;
  WarningRecorder out_;
};

TEST_F(CovTransactionTest, BeginRollsAnExpiredTransactionBackFirst) {
  std::string first = DeployV2InATransaction();
  Expire();
  auto second = Engine().Begin(std::nullopt, "deploy v3");
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(Live(), "v1");  // the expired deploy was undone before the new one opened
  EXPECT_TRUE(AnyLineHas(out_.warnings, "transaction " + first + " (reason 'deploy v2', by "));
  EXPECT_TRUE(AnyLineHas(out_.warnings, "has expired: rolling it back first"));
  EXPECT_TRUE(
      AnyLineHas(out_.warnings, "transaction " + first + ": rolled back by timeout (to v1)"));
  EXPECT_EQ(LastTransaction().outcome, "rolled back by timeout");
  auto open = Transaction();
  ASSERT_TRUE(open);
  EXPECT_EQ(open->state, TransactionState::kOpen);
  EXPECT_EQ(open->base, "v1");
  EXPECT_EQ(open->reason, "deploy v3");
}

TEST_F(CovTransactionTest, BeginFinishesAnInterruptedRollbackFirst) {
  std::string id = DeployV2InATransaction();
  // `rollback rollback` died after recording its decision, before switching.
  SetTransaction([](TransactionRecord& t) {
    t.state = TransactionState::kRollingBack;
    t.cause = RollbackCause::kByHand;
  });
  auto next = Engine().Begin(std::nullopt, "");
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(Live(), "v1");
  EXPECT_TRUE(AnyLineHas(out_.warnings,
                         "transaction " + id + ": finishing its interrupted rollback to v1"));
  EXPECT_EQ(LastTransaction().outcome, "rolled back by hand");
  ASSERT_TRUE(Transaction());
  EXPECT_EQ(Transaction()->state, TransactionState::kOpen);
}

// An interrupted switch must be finished (recover) before a transaction or a plan can start
// from a known live version: both refuse and change nothing.
TEST_F(CovTransactionTest, BeginAndPlanRefuseWhileASwitchIsInterrupted) {
  Create("v1");
  Create("v2");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  SwitchIntent intent{.from = "v1", .to = "v2", .started = IsoTime(UnixMs(io::Env::Default()))};
  intent.action = "switch";
  intent.phase = "forward";
  intent.history_len = static_cast<int64_t>(History().size());
  ASSERT_TRUE(SaveSwitchIntent(io::Env::Default(), Layout(), intent));

  auto begun = Engine().Begin(std::nullopt, "");
  ASSERT_FALSE(begun);
  EXPECT_EQ(begun.error().code, ExitCode::kFailed);
  EXPECT_EQ(begun.error().message, "a switch was interrupted; run 'velin rollback recover' first");
  EXPECT_FALSE(Exists(Layout().Transaction()));
  auto plan = Engine().PlanSwitch("v2");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().message,
            "a switch from 'v1' to 'v2' was interrupted; run 'velin rollback recover' first");
  EXPECT_EQ(Live(), "v1");
  EXPECT_TRUE(Exists(Layout().SwitchIntent()));

  auto done = Engine().Recover();
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(Live(), "v2");
  EXPECT_FALSE(Exists(Layout().SwitchIntent()));
}

// Past the deadline, commit and extend are too late: the deploy is rolled back instead, and the
// command says so.
TEST_F(CovTransactionTest, CommitAndExtendAfterTheDeadlineRollBackInstead) {
  std::string id = DeployV2InATransaction();
  Expire();
  auto committed = Engine().Commit();
  ASSERT_FALSE(committed);
  EXPECT_EQ(committed.error().code, ExitCode::kFailed);
  EXPECT_EQ(committed.error().message,
            "too late to commit: transaction " + id + " was rolled back by timeout");
  EXPECT_EQ(Live(), "v1");
  EXPECT_FALSE(Exists(Layout().Transaction()));
  EXPECT_EQ(LastTransaction().outcome, "rolled back by timeout");

  auto again = Engine().Begin(std::nullopt, "");
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_TRUE(Engine().ToVersion("v2", ""));
  Expire();
  auto extended = Engine().Extend(Duration(60'000));
  ASSERT_FALSE(extended);
  EXPECT_EQ(extended.error().message,
            "too late to extend: transaction " + again->id + " was rolled back by timeout");
  EXPECT_EQ(Live(), "v1");
  EXPECT_FALSE(Exists(Layout().Transaction()));
}

TEST_F(CovTransactionTest, RestoreDataWithoutABackupChangesNothing) {
  std::string id = DeployV2InATransaction();
  auto rolled = Engine().RollbackNow("", /*restore_data=*/true);
  ASSERT_FALSE(rolled);
  EXPECT_EQ(rolled.error().code, ExitCode::kUsage);
  EXPECT_EQ(rolled.error().message,
            "--restore-data: transaction " + id +
                " took no database backup (begin --backup); nothing was changed");
  EXPECT_EQ(Live(), "v2");
  ASSERT_TRUE(Transaction());
  EXPECT_EQ(Transaction()->state, TransactionState::kOpen);
}

TEST_F(CovTransactionTest, RecoverCannotRearmAWatchdogWithoutTheVelinBinary) {
  std::string id = DeployV2InATransaction();
  s_.velin_binary.clear();
  auto recovered = Engine().Recover();
  ASSERT_FALSE(recovered);
  EXPECT_EQ(recovered.error().message, "cannot arm the watchdog: velin binary unknown");
  ASSERT_TRUE(Transaction());  // still open: its deadline is on disk for the next command
  EXPECT_EQ(Transaction()->id, id);
  EXPECT_EQ(Live(), "v2");
}

// The base was removed from registry.json by hand: the rollback fails (exit 1: the command was
// right, the state was not), says why, and the deploy stays live (a running release, never a
// broken link).
TEST_F(CovTransactionTest, ARollbackWhoseBaseIsGoneFailsAndKeepsTheDeploy) {
  std::string id = DeployV2InATransaction();
  Unregister("v1");
  auto rolled = Engine().RollbackNow("bad deploy");
  ASSERT_FALSE(rolled);
  EXPECT_EQ(rolled.error().code, ExitCode::kFailed);
  EXPECT_EQ(rolled.error().message, "transaction " + id +
                                        ": rollback failed: no version 'v1' (see velin rollback "
                                        "list)");
  EXPECT_EQ(Live(), "v2");
  EXPECT_EQ(ReadFileOrDie(s_.current_link + "/bin/app"), "v2\n");
  EXPECT_FALSE(Exists(Layout().Transaction()));
  EXPECT_FALSE(Exists(Layout().SwitchIntent()));
  HistoryEntry end = LastTransaction();
  EXPECT_EQ(end.outcome, "rollback failed: no version 'v1' (see velin rollback list)");
  EXPECT_EQ(end.reason, "deploy v2; bad deploy");
}

// `current` was replaced by plain files during the deploy: the rollback refuses to touch them.
TEST_F(CovTransactionTest, ARollbackOntoPlainFilesLeavesThemAlone) {
  std::string id = DeployV2InATransaction();
  ASSERT_EQ(::unlink(s_.current_link.c_str()), 0);
  WriteFile(s_.current_link + "/bin/app", "copied by hand\n");
  auto rolled = Engine().RollbackNow("");
  ASSERT_FALSE(rolled);
  EXPECT_NE(rolled.error().message.find("transaction " + id +
                                        ": rollback failed: switch to v1: " + s_.current_link +
                                        " is not a symlink (plain files): run 'velin rollback "
                                        "adopt' first; nothing to switch back to"),
            std::string::npos)
      << rolled.error().message;
  EXPECT_EQ(ReadFileOrDie(s_.current_link + "/bin/app"), "copied by hand\n");
  EXPECT_FALSE(Exists(Layout().SwitchIntent()));
  EXPECT_EQ(LastTransaction().outcome.rfind("rollback failed: switch to v1: ", 0), 0u);
}

// Every command first finishes an interrupted or expired transaction; when that rollback fails,
// the failure is a warning (and, for a deadline, the end to notify), never a stuck state.
TEST_F(CovTransactionTest, TheExpiredTransactionHookFinishesOrReportsTheRollback) {
  std::string id = DeployV2InATransaction();
  SetTransaction([](TransactionRecord& t) {
    t.state = TransactionState::kRollingBack;
    t.cause = RollbackCause::kTimeout;
  });
  auto finished = Engine().FinishExpiredTransaction();
  ASSERT_TRUE(finished) << finished.error().message;
  // The deadline's rollback a killed watchdog began: finished here, it is the end to notify
  // (rollback-timeout), as when recover finishes it.
  ASSERT_TRUE(*finished);
  EXPECT_EQ((*finished)->id, id);
  EXPECT_EQ((*finished)->outcome, "rolled back by timeout");
  EXPECT_TRUE(
      AnyLineHas(out_.warnings, "transaction " + id + ": finishing its interrupted rollback"));
  EXPECT_EQ(Live(), "v1");
  EXPECT_EQ(LastTransaction().outcome, "rolled back by timeout");

  // The same with the base gone: the failure is reported, the transaction ends either way.
  auto next = Engine().Begin(std::nullopt, "");
  ASSERT_TRUE(next) << next.error().message;
  ASSERT_TRUE(Engine().ToVersion("v2", ""));
  SetTransaction([](TransactionRecord& t) {  // a rollback by hand, interrupted
    t.state = TransactionState::kRollingBack;
    t.cause = RollbackCause::kByHand;
  });
  Unregister("v1");
  out_.warnings.clear();
  finished = Engine().FinishExpiredTransaction();
  ASSERT_TRUE(finished) << finished.error().message;
  EXPECT_FALSE(*finished);  // no deadline involved: nothing to notify
  EXPECT_TRUE(AnyLineHas(out_.warnings, "rollback failed: no version 'v1'"));
  EXPECT_EQ(Live(), "v2");
  EXPECT_FALSE(Exists(Layout().Transaction()));
}

TEST_F(CovTransactionTest, ADeadlineRollbackThatFailsIsTheEndToNotify) {
  std::string id = DeployV2InATransaction();
  Unregister("v1");
  Expire();
  auto finished = Engine().FinishExpiredTransaction();
  ASSERT_TRUE(finished) << finished.error().message;
  ASSERT_TRUE(*finished);
  EXPECT_EQ((*finished)->id, id);
  EXPECT_EQ(
      (*finished)->outcome.rfind("rollback failed: transaction " + id + ": rollback failed", 0), 0u)
      << (*finished)->outcome;
  EXPECT_EQ(Live(), "v2");
}

TEST_F(CovTransactionTest, RecoverReportsAFailedDeadlineRollbackForNotify) {
  std::string id = DeployV2InATransaction();
  Unregister("v1");
  Expire();
  std::optional<TransactionEnd> timed_out;
  auto recovered = Engine().Recover(&timed_out);
  ASSERT_FALSE(recovered);
  EXPECT_EQ(recovered.error().message,
            "transaction " + id + ": rollback failed: no version 'v1' (see velin rollback list)");
  ASSERT_TRUE(timed_out);
  EXPECT_EQ(timed_out->outcome, "rollback failed: " + recovered.error().message);
  EXPECT_EQ(timed_out->base, "v1");
  EXPECT_EQ(Live(), "v2");
}

// The data a rollback was asked to restore, when the switch fails before it got there (the
// stop command fails): the history says the backup was not restored, and why.
TEST_F(CovTransactionTest, RestoreDataIsNotAttemptedWhenTheSwitchStopsEarly) {
  RefusingData data;
  s_.data = &data;
  Create("v1");
  Create("v2");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  auto txn = Engine().Begin(std::nullopt, "", /*backup=*/true);
  ASSERT_TRUE(txn) << txn.error().message;
  EXPECT_EQ(txn->backup, "b1");
  ASSERT_TRUE(Engine().ToVersion("v2", ""));
  s_.stop = "echo the service manager is down >&2; exit 7";
  auto rolled = Engine().RollbackNow("", /*restore_data=*/true);
  ASSERT_FALSE(rolled);
  EXPECT_EQ(rolled.error().message.rfind("transaction " + txn->id + ": rollback failed: ", 0), 0u)
      << rolled.error().message;
  EXPECT_NE(rolled.error().message.find("exit code 7"), std::string::npos);
  EXPECT_EQ(Live(), "v2");
  EXPECT_EQ(data.restores, 0);
  HistoryEntry end = LastTransaction();
  EXPECT_EQ(end.data, "not restored from backup b1: the switch did not get that far");
  EXPECT_EQ(end.backup, "b1");
}

// A switch with --restore-data whose restore fails: the code is switched and the service
// started (the database is the one thing left), and the error says how to retry.
TEST_F(CovTransactionTest, AFailedRestoreOfASwitchNamesTheRetry) {
  RefusingData data;
  Create("v1");
  Create("v2");
  ASSERT_TRUE(Engine().ToVersion("v2", ""));
  auto refused = Engine().ToVersion("v1", "", "b1");  // no [database] configured
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ExitCode::kUsage);
  EXPECT_EQ(refused.error().message,
            "--restore-data needs a database in backup.include (\"db\" with [database], "
            "\"db:NAME\" with [databases.NAME])");
  EXPECT_EQ(Live(), "v2");

  s_.data = &data;
  auto switched = Engine().ToVersion("v1", "", "b1");
  ASSERT_FALSE(switched);
  EXPECT_EQ(switched.error().code, ExitCode::kFailed);
  EXPECT_EQ(switched.error().message,
            "the code is on v1 and the service started, but restoring the database from backup "
            "b1 failed: pg_restore: connection refused; retry with: velin backup restore b1");
  EXPECT_EQ(Live(), "v1");
  EXPECT_EQ(data.restores, 1);
  EXPECT_EQ(History().back().data, "restore from backup b1 failed: pg_restore: connection refused");
  EXPECT_TRUE(AnyLineHas(out_.warnings, "starting the service all the same"));
}

// recover finishes a switch interrupted before its restore: the restore runs once; when it
// fails (or no database is configured any more), the switch is finished all the same.
TEST_F(CovTransactionTest, RecoverFinishesAnInterruptedSwitchWhoseRestoreFails) {
  Create("v1");
  Create("v2");
  ASSERT_TRUE(Engine().ToVersion("v2", ""));
  auto interrupt = [&] {
    SwitchIntent intent{.from = "v2", .to = "v1", .started = IsoTime(UnixMs(io::Env::Default()))};
    intent.action = "switch";
    intent.phase = "forward";
    intent.restore_backup = "b1";
    intent.history_len = static_cast<int64_t>(History().size());
    ASSERT_TRUE(SaveSwitchIntent(io::Env::Default(), Layout(), intent));
  };
  RefusingData data;
  s_.data = &data;
  interrupt();
  auto recovered = Engine().Recover();
  ASSERT_FALSE(recovered);
  EXPECT_EQ(recovered.error().message,
            "finished the interrupted switch to v1, but restoring the database from backup b1 "
            "failed: pg_restore: connection refused; retry with: velin backup restore b1");
  EXPECT_EQ(Live(), "v1");
  EXPECT_FALSE(Exists(Layout().SwitchIntent()));
  EXPECT_EQ(data.restores, 1);

  s_.data = nullptr;  // velin.toml lost its [database] meanwhile
  ASSERT_TRUE(Engine().ToVersion("v2", ""));
  interrupt();
  recovered = Engine().Recover();
  ASSERT_TRUE(recovered) << recovered.error().message;
  EXPECT_TRUE(AnyLineHas(*recovered, "finished the interrupted switch v2 -> v1"));
  EXPECT_EQ(Live(), "v1");
  EXPECT_EQ(History().back().data,
            "restore from backup b1 failed: no database backup is configured (\"db\" or "
            "\"db:NAME\" in backup.include)");
}

// A switch.json naming a version no longer registered is left for a human: recover says so.
TEST_F(CovTransactionTest, RecoverLeavesASwitchToAnUnregisteredVersionAlone) {
  Create("v1");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  SwitchIntent intent{.from = "v1", .to = "ghost", .started = IsoTime(UnixMs(io::Env::Default()))};
  intent.phase = "forward";
  ASSERT_TRUE(SaveSwitchIntent(io::Env::Default(), Layout(), intent));
  auto recovered = Engine().Recover();
  ASSERT_FALSE(recovered);
  EXPECT_EQ(recovered.error().message,
            "the interrupted switch goes to 'ghost', which is no longer registered; " +
                Layout().SwitchIntent() + " was left alone");
  EXPECT_TRUE(Exists(Layout().SwitchIntent()));
  EXPECT_EQ(Live(), "v1");
}

// Started by hand (no inherited lock): a second watchdog of a transaction ends at once when the
// first holds the watchdog lock, and one with nothing to watch ends too.
TEST_F(CovTransactionTest, AWatchdogWithoutAnInheritedLockTakesItOrEnds) {
  Create("v1");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  TransactionRecord t;
  t.id = "t1";
  t.state = TransactionState::kOpen;
  t.base = "v1";
  t.deadline_ms = UnixMs(io::Env::Default()) + 3'600'000;
  ASSERT_TRUE(SaveTransaction(io::Env::Default(), Layout(), t));
  auto held = TryLockFile(Layout().WatchdogLock("t1"));  // its first watchdog
  ASSERT_TRUE(held) << held.error().message;
  ASSERT_GE(*held, 0);
  auto second = Engine().RunWatchdog("t1", -1);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_FALSE(*second);
  ::close(*held);
  auto other = Engine().RunWatchdog("t0", -1);  // a transaction that ended long ago
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_FALSE(*other);
  EXPECT_EQ(Live(), "v1");
  ASSERT_TRUE(Transaction());
  EXPECT_EQ(Transaction()->state, TransactionState::kOpen);
}

// At the deadline the watchdog waits for the state lock (a deploy step holds it); when it gets
// the lock, the deadline has been extended meanwhile: it goes back to waiting, and ends when the
// transaction is committed. The state files live in a MemEnv; the lock is a real flock on a real
// file of the same path.
TEST(CovWatchdogTest, ADeadlineExtendedWhileItWaitsForTheLockIsFollowed) {
  TempDir dir;
  io::MemEnv env;
  StateLayout layout{dir / "state"};
  ASSERT_EQ(::mkdir(layout.dir.c_str(), 0700), 0);
  ASSERT_TRUE(io::CreateDirs(env, layout.dir));
  ASSERT_TRUE(io::CreateDirs(env, dir / "app"));
  TransactionRecord t;
  t.id = "t1";
  t.state = TransactionState::kOpen;
  t.base = "v1";
  t.deadline_ms = UnixMs(env) - 1;  // due
  ASSERT_TRUE(SaveTransaction(env, layout, t));
  std::optional<StateLock> deploy;
  {
    auto held = StateLock::Acquire(io::Env::Default(), layout.Lock(), Duration(0));
    ASSERT_TRUE(held) << held.error().message;
    deploy.emplace(std::move(*held));
  }
  int naps = 0;
  env.OnSleep([&] {
    ++naps;
    if (naps == 1) {  // the deploy extends its transaction, then lets the lock go
      t.deadline_ms = UnixMs(env) + 60'000;
      ASSERT_TRUE(SaveTransaction(env, layout, t));
      deploy.reset();
    } else {  // and commits
      ASSERT_TRUE(RemoveTransaction(env, layout));
    }
  });
  Settings s;
  s.app_root = dir / "app";
  s.state_dir = layout.dir;
  s.current_link = dir / "app/current";
  NullReporter quiet;
  RollbackEngine engine(env, s, quiet);
  // Not the lock file: the watchdog does not trust it and takes the lock itself.
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto end = engine.RunWatchdog("t1", fd);
  ::close(fd);
  ASSERT_TRUE(end) << end.error().message;
  EXPECT_FALSE(*end);  // committed: nothing was rolled back
  EXPECT_EQ(naps, 2);  // one pause for the lock, one of waiting for the new deadline
}

// Fails the second rename onto transaction.json from now on (ENOSPC): begin's write of the
// watchdog's pid, after the transaction and its deadline are on disk and the watchdog runs.
class TransactionPidFaultEnv : public io::FaultInjectionEnv {
 public:
  explicit TransactionPidFaultEnv(std::string transaction)
      : io::FaultInjectionEnv(io::Env::Default()), transaction_(std::move(transaction)) {}
  Status Rename(const std::string& from, const std::string& to) override {
    if (to == transaction_ && ++seen_ == 2) {
      return ErrnoError("cannot rename " + from + " to " + to, ENOSPC);
    }
    return io::FaultInjectionEnv::Rename(from, to);
  }

 private:
  std::string transaction_;
  int seen_ = 0;
};

// A watchdog that does not start leaves no transaction open: nothing would roll it back.
TEST_F(CovTransactionTest, BeginWhoseWatchdogEndsAtOnceOpensNothing) {
  Create("v1");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  s_.velin_binary = dir_ / "dying-watchdog";
  WriteFile(s_.velin_binary, "#!/bin/sh\nexit 3\n", 0755);
  auto txn = Engine().Begin(std::nullopt, "deploy v2");
  ASSERT_FALSE(txn);
  EXPECT_EQ(txn.error().code, ExitCode::kFailed);
  EXPECT_NE(txn.error().message.find(
                " not opened: the watchdog, which rolls back at the deadline, did not start: it "
                "ended at once with exit code 3"),
            std::string::npos)
      << txn.error().message;
  EXPECT_FALSE(Exists(Layout().Transaction()));
  // One that says why it stopped (it could not load the config) is quoted.
  WriteFile(s_.velin_binary,
            "#!/bin/sh\n"
            "while [ $# -gt 1 ]; do\n"
            "  [ \"$1\" = --ready-fd ] && echo 'error: /dev/fd/63: cannot read' >/dev/fd/\"$2\"\n"
            "  shift\n"
            "done\n"
            "exit 2\n",
            0755);
  txn = Engine().Begin(std::nullopt, "deploy v2");
  ASSERT_FALSE(txn);
  EXPECT_NE(txn.error().message.find("did not start: /dev/fd/63: cannot read"), std::string::npos)
      << txn.error().message;
  EXPECT_FALSE(Exists(Layout().Transaction()));
  s_.velin_binary = velin::testing::WriteFakeWatchdog(dir_.path());
  auto opened = Engine().Begin(std::nullopt, "deploy v2");  // nothing was left in the way
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_GT(opened->watchdog_pid, 0);
}

// `--config <(…)`: the watchdog, started later, could not read it; refused before anything.
TEST_F(CovTransactionTest, BeginWithAConfigThatIsNotARegularFileIsRefused) {
  Create("v1");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  s_.config_file = dir_ / "config.fifo";
  ASSERT_EQ(::mkfifo(s_.config_file.c_str(), 0600), 0);
  auto txn = Engine().Begin(std::nullopt, "");
  ASSERT_FALSE(txn);
  EXPECT_EQ(txn.error().code, ExitCode::kUsage);
  EXPECT_EQ(txn.error().message,
            "the config " + s_.config_file +
                " is not a regular file (a pipe such as --config <(…) is read once): the "
                "watchdog, which rolls back at the deadline, could not read it; give the path of "
                "a file with --config");
  EXPECT_FALSE(Exists(Layout().Transaction()));
  // A symlink to a file is a file.
  WriteFile(dir_ / "velin.toml", "");
  s_.config_file = dir_ / "link.toml";
  ASSERT_EQ(::symlink((dir_ / "velin.toml").c_str(), s_.config_file.c_str()), 0);
  auto opened = Engine().Begin(std::nullopt, "");
  ASSERT_TRUE(opened) << opened.error().message;
}

// Only the watchdog's pid failed to be written: the transaction is open and says so (a begin
// that exited 1 here left a transaction open that blocked the next begin, exit 3).
TEST_F(CovTransactionTest, BeginWhoseWatchdogPidCannotBeWrittenIsOpenWithAWarning) {
  Create("v1");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  TransactionPidFaultEnv env(Layout().Transaction());
  auto txn = RollbackEngine(env, s_, out_).Begin(std::nullopt, "deploy v2");
  ASSERT_TRUE(txn) << txn.error().message;
  EXPECT_TRUE(AnyLineHas(out_.warnings, "transaction " + txn->id +
                                            " is open and its watchdog runs, but its pid could "
                                            "not be recorded: cannot rename"));
  ASSERT_TRUE(Transaction());
  EXPECT_EQ(Transaction()->id, txn->id);
  EXPECT_EQ(Transaction()->state, TransactionState::kOpen);
  auto committed = Engine().Commit();
  ASSERT_TRUE(committed) << committed.error().message;
}

// A line of the history this velin cannot read (a newer velin's field of another type) stops no
// rollback: it is left out with a warning, and stays in the file; `history` still names it.
TEST_F(CovTransactionTest, AnUnreadableHistoryLineStopsNoRollback) {
  std::string id = DeployV2InATransaction();
  std::string text = ReadFileOrDie(Layout().History());
  const std::string bad =
      "{\"time\":\"2026-12-01T10:00:00Z\",\"action\":\"switch\",\"from\":\"v1\",\"to\":\"v2\","
      "\"outcome\":\"switched\",\"data\":{\"x\":1}}\n";
  WriteFile(Layout().History(), text + bad);
  const int line = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  const std::string where = Layout().History() + ":" + std::to_string(line);
  Expire();
  auto finished = Engine().FinishExpiredTransaction();
  ASSERT_TRUE(finished) << finished.error().message;
  ASSERT_TRUE(*finished);
  EXPECT_EQ((*finished)->outcome, "rolled back by timeout");
  EXPECT_EQ(Live(), "v1");
  EXPECT_TRUE(AnyLineHas(out_.warnings, where + ": field 'data' is not text: line left out"));
  EXPECT_NE(ReadFileOrDie(Layout().History()).find(bad), std::string::npos);
  EXPECT_TRUE(Engine().ToVersion("v2", ""));
  EXPECT_TRUE(Engine().ToVersion("previous", ""));  // looked up past the line
  EXPECT_EQ(Live(), "v1");
  EXPECT_TRUE(AnyLineHas(out_.warnings, "transaction " + id));
  auto strict = Engine().History();
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().message, where + ": field 'data' is not text");
}

// The commit is decided once transaction.json says so; when the bookkeeping after it fails (a
// history written by a newer velin), the error says the commit stands.
TEST_F(CovTransactionTest, ACommitWhoseBookkeepingFailsSaysItIsCommitted) {
  std::string id = DeployV2InATransaction();
  WriteFile(Layout().History(), "{\"format\": 99}\n");
  auto committed = Engine().Commit();
  ASSERT_FALSE(committed);
  EXPECT_EQ(committed.error().message.rfind("transaction " + id + " is committed (recorded in " +
                                                Layout().Transaction() +
                                                "), but ending it failed; the next velin command "
                                                "retries: ",
                                            0),
            0u)
      << committed.error().message;
  ASSERT_TRUE(Transaction());
  EXPECT_EQ(Transaction()->state, TransactionState::kCommitted);
  EXPECT_EQ(Live(), "v2");
}

// What a killed write of transaction.json left (a SIGTERM during begin) goes with the next
// command that takes the state lock; a live writer's temp file stays.
TEST_F(CovTransactionTest, TempFilesOfDeadStateWritersAreRemoved) {
  Create("v1");
  const std::string tag = io::ProcessSpaceTag();
  if (tag.empty()) GTEST_SKIP() << "/proc tells nothing about this process space";
  ProcessOptions o;
  o.argv = {"true"};
  auto gone = Subprocess::Start(o);
  ASSERT_TRUE(gone);
  const pid_t dead = gone->pid();
  ASSERT_TRUE(gone->Wait());
  const std::string dead_temp =
      Layout().Transaction() + ".tmp-" + std::to_string(dead) + "-" + tag + "-12345";
  const std::string live_temp =
      Layout().Transaction() + ".tmp-" + std::to_string(::getpid()) + "-" + tag + "-12345";
  const std::string not_state =
      Layout().dir + "/notes.txt.tmp-" + std::to_string(dead) + "-" + tag + "-1";
  WriteFile(dead_temp, "{\"format\": 1, \"id\": \"t");
  WriteFile(live_temp, "{");
  WriteFile(not_state, "mine");
  ASSERT_TRUE(Engine().ToVersion("v1", ""));
  EXPECT_FALSE(Exists(dead_temp));
  EXPECT_TRUE(Exists(live_temp));
  EXPECT_TRUE(Exists(not_state));
}

// transaction.json as a symlink to nothing is named as the damage it is.
TEST_F(CovTransactionTest, ADanglingTransactionLinkIsNamedAsDamage) {
  Create("v1");
  ASSERT_EQ(::symlink((dir_ / "gone.json").c_str(), Layout().Transaction().c_str()), 0);
  auto t = LoadTransaction(io::Env::Default(), Layout());
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, ExitCode::kDamage);
  EXPECT_EQ(t.error().message, Layout().Transaction() +
                                   ": is a symlink to a missing file (velin writes this file "
                                   "itself, never a link)");
}

}  // namespace
}  // namespace velin::rollback
