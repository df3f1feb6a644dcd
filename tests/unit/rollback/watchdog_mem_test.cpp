// The transaction watchdog on a MemEnv: it waits for the deadline on the manual clock (its
// half-second naps advance it, no real sleep), follows a deadline extended while it waits, and
// ends without acting once the transaction is committed or replaced. Minutes of watchdog time
// in milliseconds. (The deadline's rollback itself takes the state lock, a real flock, and is
// covered by the integration tests of the binary; so is the watchdog lock, a real file in a
// temp dir the MemEnv's state directory is named after.)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "support/test_support.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/rollback/engine.hpp"
#include "velin/rollback/lock.hpp"

namespace velin::rollback {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

class WatchdogMemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(io::CreateDirs(env_, "/app"));
    ASSERT_TRUE(io::CreateDirs(env_, layout_.dir));
    ASSERT_TRUE(io::CreateDirs(io::Env::Default(), layout_.dir));
    // The watchdog lock the arming velin handed over, held.
    auto held = TryLockFile(layout_.WatchdogLock("t1"));
    ASSERT_TRUE(held) << held.error().message;
    lock_fd_ = *held;
    ASSERT_GE(lock_fd_, 0);
  }
  void TearDown() override {
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  int64_t NowMs() { return duration_cast<milliseconds>(env_.Now().time_since_epoch()).count(); }

  void Open(const std::string& id, milliseconds deadline_in) {
    TransactionRecord t;
    t.id = id;
    t.state = TransactionState::kOpen;
    t.base = "v1";
    t.started = IsoTime(NowMs());
    t.deadline_ms = NowMs() + deadline_in.count();
    ASSERT_TRUE(SaveTransaction(env_, layout_, t));
  }

  RollbackEngine Engine() {
    Settings s;
    s.app_root = "/app";
    s.state_dir = layout_.dir;
    s.current_link = "/app/current";
    return RollbackEngine(env_, s, quiet_);
  }

  velin::testing::TempDir real_;  // where the watchdog lock files are
  io::MemEnv env_;
  NullReporter quiet_;
  StateLayout layout_{real_ / ".velin"};
  int lock_fd_ = -1;
};

TEST_F(WatchdogMemTest, ItWaitsOnTheClockAndEndsWhenTheTransactionIsCommitted) {
  Open("t1", minutes(10));
  const auto start = env_.Now();
  env_.OnSleep([&] {
    if (env_.Now() - start >= minutes(5)) {
      ASSERT_TRUE(RemoveTransaction(env_, layout_));
    }
  });
  auto engine = Engine();
  auto end = engine.RunWatchdog("t1", lock_fd_);
  ASSERT_TRUE(end) << end.error().message;
  EXPECT_FALSE(*end);  // committed: nothing for the watchdog to do
  EXPECT_GE(env_.Slept(), minutes(5));
  EXPECT_LT(env_.Slept(), minutes(5) + seconds(1));  // naps of at most half a second
}

TEST_F(WatchdogMemTest, ADeadlineExtendedWhileItWaitsIsFollowed) {
  Open("t1", minutes(1));
  const auto start = env_.Now();
  bool extended = false;
  env_.OnSleep([&] {
    const auto waited = env_.Now() - start;
    if (!extended && waited >= seconds(50)) {  // `rollback extend` before the deadline
      auto t = LoadTransaction(env_, layout_);
      ASSERT_TRUE(t && *t);
      (*t)->deadline_ms += duration_cast<milliseconds>(minutes(3)).count();
      ASSERT_TRUE(SaveTransaction(env_, layout_, **t));
      extended = true;
    }
    if (waited >= minutes(3)) {  // then committed
      ASSERT_TRUE(RemoveTransaction(env_, layout_));
    }
  });
  auto engine = Engine();
  auto end = engine.RunWatchdog("t1", lock_fd_);
  ASSERT_TRUE(end) << end.error().message;
  EXPECT_FALSE(*end);
  EXPECT_TRUE(extended);
  // Past the first deadline (1 min) it kept waiting for the extended one (4 min).
  EXPECT_GE(env_.Slept(), minutes(3));
}

TEST_F(WatchdogMemTest, AWatchdogOfAnotherTransactionEndsAtOnce) {
  Open("t2", minutes(10));
  auto engine = Engine();
  auto end = engine.RunWatchdog("t1", lock_fd_);
  ASSERT_TRUE(end) << end.error().message;
  EXPECT_FALSE(*end);
  ASSERT_TRUE(RemoveTransaction(env_, layout_));
  auto none = engine.RunWatchdog("t1", lock_fd_);  // and so does one with no transaction
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(*none);
  EXPECT_EQ(env_.Slept().count(), 0);
}

// The descriptor handed over is checked (issue: it was never inherited, so no watchdog held its
// lock and each recover started another): it says it runs only once it holds the lock.
TEST_F(WatchdogMemTest, ItSaysItRunsOnceItHoldsItsLock) {
  Open("t1", minutes(10));
  auto engine = Engine();
  int said = 0;
  env_.OnSleep([&] {
    EXPECT_EQ(said, 1);  // before its first nap
    EXPECT_TRUE(StateLock::Held(layout_.WatchdogLock("t1")).value_or(false));
    ASSERT_TRUE(RemoveTransaction(env_, layout_));
  });
  auto end = engine.RunWatchdog("t1", lock_fd_, [&] { ++said; });
  ASSERT_TRUE(end) << end.error().message;
  EXPECT_EQ(said, 1);
}

TEST_F(WatchdogMemTest, ADescriptorThatIsNotItsLockIsNotTrusted) {
  Open("t1", minutes(10));
  auto engine = Engine();
  int not_the_lock = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(not_the_lock, 0);
  int said = 0;
  // Another watchdog holds the lock (lock_fd_): this one is not needed and ends at once.
  auto end = engine.RunWatchdog("t1", not_the_lock, [&] { ++said; });
  ::close(not_the_lock);
  ASSERT_TRUE(end) << end.error().message;
  EXPECT_FALSE(*end);
  EXPECT_EQ(said, 0);
  EXPECT_EQ(env_.Slept().count(), 0);
  // Once that one is gone, a watchdog without the lock handed over takes it itself.
  ::close(lock_fd_);
  lock_fd_ = -1;
  env_.OnSleep([&] {
    EXPECT_TRUE(StateLock::Held(layout_.WatchdogLock("t1")).value_or(false));
    ASSERT_TRUE(RemoveTransaction(env_, layout_));
  });
  end = engine.RunWatchdog("t1", ::open("/dev/null", O_RDONLY | O_CLOEXEC), [&] { ++said; });
  ASSERT_TRUE(end) << end.error().message;
  EXPECT_EQ(said, 1);
}

}  // namespace
}  // namespace velin::rollback
