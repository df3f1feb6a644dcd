// The rollback state lock and the watchdog's lock file: exclusive between open file
// descriptions (so between processes, and between two attempts of one process), never through
// a symlink, tightened to velin's user only, released when its holder closes it.
#include "velin/rollback/lock.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "support/test_support.hpp"

namespace velin::rollback {
namespace {

using velin::testing::TempDir;
using velin::testing::WriteFile;

uint32_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(StateLockTest, ExcludesASecondHolderUntilTheFirstIsGone) {
  TempDir dir;
  const std::string path = dir / "lock";
  EXPECT_FALSE(*StateLock::Held(path));  // no lock file: nobody holds it
  {
    auto first = StateLock::Acquire(io::Env::Default(), path, Duration(0));
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_EQ(ModeOf(path), 0600u);
    EXPECT_TRUE(*StateLock::Held(path));

    auto start = std::chrono::steady_clock::now();
    auto second = StateLock::Acquire(io::Env::Default(), path, Duration(150));
    ASSERT_FALSE(second);
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
    EXPECT_EQ(second.error().code, ExitCode::kLocked);
    EXPECT_EQ(second.error().message,
              "another velin holds the rollback lock " + path + "; try again later");
  }
  // The holder's destructor released it; a probe does not take it for good.
  EXPECT_FALSE(*StateLock::Held(path));
  EXPECT_FALSE(*StateLock::Held(path));
  EXPECT_TRUE(StateLock::Acquire(io::Env::Default(), path, Duration(0)));
}

TEST(StateLockTest, MovingALockKeepsItAndAssigningReleasesTheOldOne) {
  TempDir dir;
  auto a = StateLock::Acquire(io::Env::Default(), dir / "a", Duration(0));
  auto b = StateLock::Acquire(io::Env::Default(), dir / "b", Duration(0));
  ASSERT_TRUE(a && b);
  StateLock moved(std::move(*a));
  EXPECT_TRUE(*StateLock::Held(dir / "a"));
  moved = std::move(*b);  // lets go of a, holds b
  EXPECT_FALSE(*StateLock::Held(dir / "a"));
  EXPECT_TRUE(*StateLock::Held(dir / "b"));
  StateLock& self = moved;
  moved = std::move(self);  // self-assignment changes nothing
  EXPECT_TRUE(*StateLock::Held(dir / "b"));
}

TEST(StateLockTest, RefusesASymlinkInsteadOfFollowingIt) {
  TempDir dir;
  WriteFile(dir / "elsewhere", "");
  ASSERT_EQ(::symlink((dir / "elsewhere").c_str(), (dir / "lock").c_str()), 0);
  auto r = StateLock::Acquire(io::Env::Default(), dir / "lock", Duration(0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "lock file " + dir / "lock" + " is a symlink; velin refuses to follow it");
  auto held = StateLock::Held(dir / "lock");
  ASSERT_FALSE(held);
  EXPECT_NE(held.error().message.find("cannot open lock file " + dir / "lock"), std::string::npos);
  EXPECT_FALSE(TryLockFile(dir / "lock"));
}

TEST(StateLockTest, TightensTheLockFileOfAnEarlierVelin) {
  TempDir dir;
  WriteFile(dir / "lock", "", 0644);
  ASSERT_EQ(::chmod((dir / "lock").c_str(), 0644), 0);
  ASSERT_TRUE(StateLock::Acquire(io::Env::Default(), dir / "lock", Duration(0)));
  EXPECT_EQ(ModeOf(dir / "lock"), 0600u);
}

TEST(StateLockTest, ALockFileThatCannotBeOpenedIsAnError) {
  TempDir dir;
  const std::string path = dir / "missing-dir/lock";
  auto r = StateLock::Acquire(io::Env::Default(), path, Duration(0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ExitCode::kFailed);
  EXPECT_EQ(r.error().message, "cannot open lock file " + path + ": No such file or directory");
  EXPECT_FALSE(*StateLock::Held(path));  // a lock that is not there is not held
}

TEST(TryLockFileTest, HoldsUntilClosedAndReportsAHolder) {
  TempDir dir;
  const std::string path = dir / "watchdog.lock";
  auto fd = TryLockFile(path);
  ASSERT_TRUE(fd) << fd.error().message;
  ASSERT_GE(*fd, 0);
  EXPECT_NE(::fcntl(*fd, F_GETFD) & FD_CLOEXEC, 0);  // never inherited by accident
  auto other = TryLockFile(path);
  ASSERT_TRUE(other);
  EXPECT_EQ(*other, -1);  // held by someone else
  SetCloseOnExec(*fd, false);
  EXPECT_EQ(::fcntl(*fd, F_GETFD) & FD_CLOEXEC, 0);
  SetCloseOnExec(*fd, true);
  EXPECT_NE(::fcntl(*fd, F_GETFD) & FD_CLOEXEC, 0);
  ::close(*fd);
  auto again = TryLockFile(path);
  ASSERT_TRUE(again);
  EXPECT_GE(*again, 0);
  ::close(*again);

  auto missing = TryLockFile(dir / "no/such/dir");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot open lock file " + dir / "no/such/dir"),
            std::string::npos);
}

TEST(CrashPointDeathTest, EndsTheProcessOnlyAtTheNamedStep) {
  ::unsetenv("VELIN_TEST_CRASH_AT");
  CrashPoint("switch-after-link");  // not armed: returns
  ::setenv("VELIN_TEST_CRASH_AT", "another-step", 1);
  CrashPoint("switch-after-link");  // armed for another step: returns
  EXPECT_EXIT(
      {
        ::setenv("VELIN_TEST_CRASH_AT", "switch-after-link", 1);
        CrashPoint("switch-after-link");
        std::exit(0);
      },
      ::testing::ExitedWithCode(86), "");
  ::unsetenv("VELIN_TEST_CRASH_AT");
}

}  // namespace
}  // namespace velin::rollback
