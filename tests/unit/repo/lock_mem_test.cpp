// The repository lock on a MemEnv: a local repository in memory, a manual clock that the lock's
// waits advance, and a process table for the liveness of holders. Each case runs in
// milliseconds although it covers minutes of lock time (stale ages, --lock-wait).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "support/forwarding_backend.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/repo/lock.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::repo {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

class LockMemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = storage::LocalBackend::Open(env_, "/repo", true);
    ASSERT_TRUE(b) << b.error().message;
    backend_ = std::move(*b);
    ASSERT_TRUE(env_.CreateDir("/repo/locks", 0755));
  }

  // A lock object written now (by the manual clock) by `holder`.
  void PutLock(const std::string& name, const LockHolder& holder, const std::string& kind) {
    const int64_t now = std::chrono::duration_cast<seconds>(env_.Now().time_since_epoch()).count();
    ASSERT_TRUE(backend_->Put("locks/" + name, FormatLockRecord(LockRecord{holder, kind, now})));
  }

  bool Present(const std::string& name) {
    auto st = backend_->Stat("locks/" + name);
    EXPECT_TRUE(st) << st.error().message;
    return st && st->has_value();
  }

  static LockOptions Wait(milliseconds wait) {
    LockOptions o;
    o.wait = wait;
    return o;
  }

  io::MemEnv env_;
  std::unique_ptr<storage::LocalBackend> backend_;
};

TEST_F(LockMemTest, ALiveLocalHolderBlocksUntilTheWaitRunsOutOnTheManualClock) {
  LockHolder other = env_.ThisProcess();
  other.pid = 2000;
  other.start_ticks = 7;
  env_.StartProcess(2000, 7);
  PutLock("exclusive-other", other, "exclusive");
  auto lock = RepoLock::Acquire(env_, *backend_, LockKind::kShared, Wait(minutes(2)));
  ASSERT_FALSE(lock);
  EXPECT_EQ(lock.error().code, ExitCode::kLocked);
  EXPECT_NE(lock.error().message.find("pid 2000"), std::string::npos) << lock.error().message;
  EXPECT_GE(env_.Slept(), minutes(2));  // waited two minutes of manual clock, not of real time
  EXPECT_TRUE(Present("exclusive-other"));
  auto listed = backend_->List("locks/");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 1u);  // its own attempt was taken back
}

TEST_F(LockMemTest, AHolderWhoseProcessEndedIsStaleAndItsLockIsRemoved) {
  LockHolder other = env_.ThisProcess();
  other.pid = 2000;
  other.start_ticks = 7;
  env_.StartProcess(2000, 7);
  PutLock("exclusive-other", other, "exclusive");
  env_.EndProcess(2000);
  auto lock = RepoLock::Acquire(env_, *backend_, LockKind::kShared, Wait(milliseconds(0)));
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_FALSE(Present("exclusive-other"));
  EXPECT_TRUE(Present((*lock)->name().substr(6)));
  EXPECT_EQ(env_.Slept().count(), 0);
}

TEST_F(LockMemTest, APidReusedByALaterProcessIsStale) {
  LockHolder other = env_.ThisProcess();
  other.pid = 2000;
  other.start_ticks = 7;
  PutLock("exclusive-reused", other, "exclusive");
  env_.StartProcess(2000, 99);  // the pid runs, but it is a later process
  auto lock = RepoLock::Acquire(env_, *backend_, LockKind::kExclusive, Wait(milliseconds(0)));
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_FALSE(Present("exclusive-reused"));
}

// Must show: the objects of one lock — its first and its refresh "-2", both there for a moment
// after each refresh, and for good when the holder was killed in between — are one lock to
// ListLocks (`status`, `unlock`), described by its newest object and naming both for removal,
// where status showed one backup's lock as two.
TEST_F(LockMemTest, ListLocksShowsALockAndItsRefreshAsOneLock) {
  LockHolder elsewhere = env_.ThisProcess();
  elsewhere.host = "web9";
  elsewhere.machine_id = "other-machine";
  elsewhere.pid = 4242;
  PutLock("shared-00000000000000aa", elsewhere, "shared");
  env_.Advance(minutes(5));
  PutLock("shared-00000000000000aa-2", elsewhere, "shared");
  PutLock("exclusive-00000000000000bb", elsewhere, "exclusive");
  env_.Advance(seconds(10));
  const int64_t now = std::chrono::duration_cast<seconds>(env_.Now().time_since_epoch()).count();
  auto listed = ListLocks(env_, *backend_, seconds(1800), now);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->locks.size(), 2u);
  const LockInfo& shared = listed->locks[1];
  EXPECT_EQ(shared.name, "locks/shared-00000000000000aa-2");  // the newest
  EXPECT_EQ(shared.age, 10);
  EXPECT_EQ(shared.objects, (std::vector<std::string>{"locks/shared-00000000000000aa",
                                                      "locks/shared-00000000000000aa-2"}));
  EXPECT_EQ(listed->locks[0].objects, std::vector<std::string>{"locks/exclusive-00000000000000bb"});
  EXPECT_EQ(LockOfObject("locks/shared-00000000000000aa-12"), "locks/shared-00000000000000aa");
  EXPECT_EQ(LockOfObject("locks/shared-live"), "locks/shared-live");
}

TEST_F(LockMemTest, AHolderElsewhereExpiresOnlyByTheStorageAgeOfItsLock) {
  LockHolder elsewhere = env_.ThisProcess();
  elsewhere.host = "other-host";
  elsewhere.machine_id = "other-machine";
  elsewhere.pid = 1000;  // the same pid as ours means nothing on another machine
  PutLock("exclusive-far", elsewhere, "exclusive");
  env_.Advance(minutes(29));
  auto early = RepoLock::Acquire(env_, *backend_, LockKind::kShared, Wait(milliseconds(0)));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, ExitCode::kLocked);
  EXPECT_TRUE(Present("exclusive-far"));
  env_.Advance(minutes(2));  // 31 minutes unrefreshed: older than the 30-minute stale age
  auto late = RepoLock::Acquire(env_, *backend_, LockKind::kShared, Wait(milliseconds(0)));
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_FALSE(Present("exclusive-far"));
}

TEST_F(LockMemTest, SharedLocksCoexistAndListLocksJudgesEachHolder) {
  LockHolder live = env_.ThisProcess();
  live.pid = 2000;
  live.start_ticks = 7;
  env_.StartProcess(2000, 7);
  LockHolder dead = live;
  dead.pid = 3000;
  PutLock("shared-live", live, "shared");
  PutLock("shared-dead", dead, "shared");
  auto lock = RepoLock::Acquire(env_, *backend_, LockKind::kShared, Wait(milliseconds(0)));
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_TRUE(Present("shared-live"));
  EXPECT_FALSE(Present("shared-dead"));                                  // removed on the way
  ASSERT_TRUE(backend_->Put("locks/exclusive-torn", "{\"host\": \"a"));  // a torn write
  env_.Advance(minutes(31));
  const int64_t now = std::chrono::duration_cast<seconds>(env_.Now().time_since_epoch()).count();
  auto listed = ListLocks(env_, *backend_, seconds(1800), now);
  ASSERT_TRUE(listed) << listed.error().message;
  std::map<std::string, LockInfo> by_name;
  for (const auto& l : listed->locks) by_name[l.name] = l;
  EXPECT_EQ(by_name.size(), 3u);
  ASSERT_EQ(by_name.count("locks/shared-live"), 1u);
  EXPECT_FALSE(by_name["locks/shared-live"].stale);  // a live local holder is never stale
  EXPECT_EQ(by_name["locks/shared-live"].pid, 2000);
  EXPECT_EQ(by_name["locks/shared-live"].age, 31 * 60);
  ASSERT_EQ(by_name.count("locks/exclusive-torn"), 1u);
  EXPECT_FALSE(by_name["locks/exclusive-torn"].readable);
  EXPECT_TRUE(by_name["locks/exclusive-torn"].stale);  // unreadable: stale by age alone
}

// Must show: a commit lock, held for a snapshot's write and refreshed every 10 s meanwhile, of a
// holder elsewhere that stopped refreshing it (it died) is stale 2 minutes after its last
// refresh, not 30; a taker that cannot get it within its wait is told it is the commit lock,
// that a longer --lock-wait outlasts a dead holder, and how to remove it (`velin backup unlock`).
TEST_F(LockMemTest, ACommitLockOfAHolderThatDiedExpiresAfterTwoMinutes) {
  LockHolder elsewhere = env_.ThisProcess();
  elsewhere.host = "vm";
  elsewhere.machine_id = "other-machine";
  elsewhere.pid = 6368;
  PutLock("commit-dead", elsewhere, "commit");
  PutLock("shared-running", elsewhere, "shared");  // its backup, refreshed every 5 minutes
  // As a create takes it: --lock-wait 0, and so a minute.
  auto early =
      RepoLock::Acquire(env_, *backend_, LockKind::kCommit, CommitLockOptions(milliseconds(0)));
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, ExitCode::kLocked);
  const std::string& why = early.error().message;
  EXPECT_NE(why.find("host vm pid 6368, commit lock"), std::string::npos) << why;
  EXPECT_NE(why.find("velin backup unlock"), std::string::npos) << why;
  EXPECT_NE(why.find("--lock-wait"), std::string::npos) << why;
  EXPECT_TRUE(Present("commit-dead"));
  env_.Advance(seconds(61));  // 121 s unrefreshed, by the storage's times
  auto late =
      RepoLock::Acquire(env_, *backend_, LockKind::kCommit, CommitLockOptions(milliseconds(0)));
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_FALSE(Present("commit-dead"));
  EXPECT_LT(env_.Slept(), seconds(61)) << "the minute of the first wait only";
  EXPECT_TRUE(Present("shared-running")) << "a shared lock as old is far from stale";
}

// Counts the Puts of lock objects by name.
class LockPutCounter : public testing::ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  Status Put(const std::string& name, std::string_view data) override {
    ++puts[name];
    return base().Put(name, data);
  }
  std::map<std::string, int> puts;
};

// Two commit locks that see each other: the smaller name keeps its object while it waits for
// the other to go. It wrote it again every 10-30 ms, which on a file server whose rename replaces
// no file moved it aside each time: for an instant no lock. Now each object is written once; a
// wait longer than the refresh interval writes the next under a new name before the last goes.
TEST_F(LockMemTest, ACommitLockThatKeepsItsTurnIsWrittenOnceAndRefreshedUnderANewName) {
  LockHolder elsewhere = env_.ThisProcess();
  elsewhere.host = "web2";
  elsewhere.machine_id = "other-machine";
  elsewhere.pid = 7311;
  PutLock("commit-ffffffffffffffff", elsewhere, "commit");  // sorts after any name of ours
  LockPutCounter counting(*backend_);
  LockOptions options = CommitLockOptions(seconds(0));  // waits a minute
  auto lock = RepoLock::Acquire(env_, counting, LockKind::kCommit, options);
  ASSERT_FALSE(lock);  // live all that minute: refreshed 0 s ago by the storage's time at first
  EXPECT_EQ(lock.error().code, ExitCode::kLocked);
  EXPECT_GE(env_.Slept(), seconds(60));
  ASSERT_FALSE(counting.puts.empty());
  for (const auto& [name, n] : counting.puts)
    EXPECT_EQ(n, 1) << name << " written " << n << " times";
  // A minute's wait, a refresh every 10 s: about six objects, one after another.
  EXPECT_GE(counting.puts.size(), 5u);
  EXPECT_LE(counting.puts.size(), 8u);
  auto listed = backend_->List("locks/");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);  // its last object taken back, the other's stays
  EXPECT_EQ((*listed)[0].name, "locks/commit-ffffffffffffffff");
}

TEST_F(LockMemTest, AHolderUnrefreshedForMostOfTheStaleAgeHasLostItsLock) {
  LockOptions o;
  o.refresh_every = minutes(10);  // the refresher never runs within this test
  auto lock = RepoLock::Acquire(env_, *backend_, LockKind::kExclusive, o);
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_TRUE((*lock)->Check());
  env_.Advance(minutes(24));
  EXPECT_TRUE((*lock)->Check());
  env_.Advance(minutes(2));  // 26 min > 30 min stale age - half a refresh period
  Status st = (*lock)->Check();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("has not been refreshed for 1560s"), std::string::npos)
      << st.error().message;
}

TEST_F(LockMemTest, ALockDatedInTheFutureIsJudgedByItsHoldersTimeAndSaysSo) {
  // A holder elsewhere, its object `touch`ed a day ahead (a storage clock that was wrong): the
  // modification time is no age; clamped to 0 it kept the lock "0s ago", never stale, a day.
  LockHolder elsewhere = env_.ThisProcess();
  elsewhere.host = "web9";
  elsewhere.machine_id = "other-machine";
  elsewhere.pid = 4242;
  PutLock("exclusive-cccc02", elsewhere, "exclusive");
  const int64_t day_ns = int64_t{86'400} * 1'000'000'000;
  const auto now_ns = [&] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(env_.Now().time_since_epoch())
        .count();
  };
  ASSERT_TRUE(env_.SetMtime("/repo/locks/exclusive-cccc02", now_ns() + day_ns));
  env_.Advance(minutes(10));
  const auto unix_now = [&] {
    return std::chrono::duration_cast<seconds>(env_.Now().time_since_epoch()).count();
  };
  auto listed = ListLocks(env_, *backend_, seconds(1800), unix_now());
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->locks.size(), 1u);
  EXPECT_EQ(listed->locks[0].age, 600);  // by the holder's time
  EXPECT_EQ(listed->locks[0].ahead, 86'400 - 600);
  EXPECT_FALSE(listed->locks[0].stale);
  auto early = RepoLock::Acquire(env_, *backend_, LockKind::kShared, Wait(milliseconds(0)));
  ASSERT_FALSE(early);
  EXPECT_NE(early.error().message.find(
                "host web9 pid 4242, exclusive lock, 600s ago, dated 1d in the future (clock "
                "skew?)"),
            std::string::npos)
      << early.error().message;
  env_.Advance(minutes(21));  // 31 minutes after the holder's last refresh: stale
  auto late = RepoLock::Acquire(env_, *backend_, LockKind::kShared, Wait(milliseconds(0)));
  ASSERT_TRUE(late) << late.error().message;
  EXPECT_FALSE(Present("exclusive-cccc02"));
}

TEST_F(LockMemTest, ALockWhoseTimesAreAllInTheFutureIsOfUnknownAgeAndNeverStaleByAge) {
  LockHolder elsewhere = env_.ThisProcess();
  elsewhere.host = "web9";
  elsewhere.machine_id = "other-machine";
  const int64_t now = std::chrono::duration_cast<seconds>(env_.Now().time_since_epoch()).count();
  ASSERT_TRUE(backend_->Put("locks/exclusive-ahead",
                            FormatLockRecord(LockRecord{elsewhere, "exclusive", now + 86'400})));
  ASSERT_TRUE(backend_->Put("locks/shared-torn", "{\"host\": \"a"));
  const int64_t ahead_ns = (now + 86'400) * int64_t{1'000'000'000};
  ASSERT_TRUE(env_.SetMtime("/repo/locks/exclusive-ahead", ahead_ns));
  ASSERT_TRUE(env_.SetMtime("/repo/locks/shared-torn", ahead_ns));
  env_.Advance(minutes(40));
  const int64_t later = now + 40 * 60;
  auto listed = ListLocks(env_, *backend_, seconds(1800), later);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->locks.size(), 2u);
  for (const LockInfo& l : listed->locks) {
    EXPECT_EQ(l.age, -1) << l.name;  // unknown: neither time says how old it is
    EXPECT_EQ(l.ahead, 86'400 - 40 * 60) << l.name;
    EXPECT_FALSE(l.stale) << l.name;  // never stale by age; `backup unlock` removes it
  }
  // A few minutes ahead is two clocks a little apart, or a refresh just now: age 0.
  ASSERT_TRUE(env_.SetMtime("/repo/locks/exclusive-ahead", (later + 600) * int64_t{1'000'000'000}));
  listed = ListLocks(env_, *backend_, seconds(1800), later);
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(listed->locks[0].name, "locks/exclusive-ahead");
  EXPECT_EQ(listed->locks[0].age, 0);
  EXPECT_EQ(listed->locks[0].ahead, 0);
}

TEST(LockDatedAheadTest, NamesHowFarAheadRoundedToItsLargestUnit) {
  EXPECT_EQ(LockDatedAhead(86'395), "dated 1d in the future (clock skew?)");
  EXPECT_EQ(LockDatedAhead(3 * 86'400 + 7), "dated 3d in the future (clock skew?)");
  EXPECT_EQ(LockDatedAhead(5 * 3'600 - 20), "dated 5h in the future (clock skew?)");
  EXPECT_EQ(LockDatedAhead(20 * 60 + 5), "dated 20m in the future (clock skew?)");
}

TEST(LockRecordTest, TheOneFormatRoundTripsAndRefusesGarbage) {
  LockRecord r{io::ProcessIdentity{"h", "m", "b", "pid:[4]", 42, 77}, "commit", 1'700'000'000};
  auto back = ParseLockRecord(FormatLockRecord(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->holder.host, "h");
  EXPECT_EQ(back->holder.machine_id, "m");
  EXPECT_EQ(back->holder.boot_id, "b");
  EXPECT_EQ(back->holder.pid_ns, "pid:[4]");
  EXPECT_EQ(back->holder.pid, 42);
  EXPECT_EQ(back->holder.start_ticks, 77);
  EXPECT_EQ(back->kind, "commit");
  EXPECT_EQ(back->time, 1'700'000'000);
  // The first format: host, pid, kind and time only; never in this process space.
  auto old = ParseLockRecord(R"({"host":"h","pid":5,"kind":"shared","time":3})");
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->holder.boot_id.empty());
  EXPECT_FALSE(io::ProcessIdentity{}.SameProcessSpace(old->holder));
  for (const char* bad :
       {"", "{", "[]", R"({"host":1,"pid":5,"kind":"shared","time":3})",
        R"({"host":"h","kind":"shared","time":3})", "\xff\xfe",
        // Numbers that are not integers of the field's range: refused, not
        // converted (a double of 1e102 into int64_t is undefined behaviour;
        // the lock fuzzer found it).
        R"({"host":"h","pid":5,"kind":"shared","time":1e102})",
        R"({"host":"h","pid":5.5,"kind":"shared","time":3})",
        R"({"host":"h","pid":5,"kind":"shared","time":18446744073709551615})",
        R"({"host":"h","pid":5,"kind":"shared","time":3,"start_ticks":-1e300})"}) {
    EXPECT_FALSE(ParseLockRecord(bad)) << bad;
  }
}

}  // namespace
}  // namespace velin::repo
