// StateLock's wait on a MemEnv clock: the lock itself is a real flock on a real file (that is
// the kernel's part), but the 20 ms pauses between attempts and the deadline are the Env's, so
// a five-second wait for a lock that stays held ends at once, and one that is let go after a
// few pauses is taken on the next attempt.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "support/test_support.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/rollback/lock.hpp"

namespace velin::rollback {
namespace {

using std::chrono::milliseconds;
using velin::testing::TempDir;

TEST(StateLockMem, GivesUpAtTheDeadlineOnTheEnvClockWithoutSleeping) {
  TempDir dir;
  const std::string path = dir / "lock";
  auto holder = StateLock::Acquire(io::Env::Default(), path, Duration(0));
  ASSERT_TRUE(holder) << holder.error().message;

  io::MemEnv env;
  int pauses = 0;
  env.OnSleep([&] { ++pauses; });
  const auto wall_start = std::chrono::steady_clock::now();
  const auto env_start = env.SteadyNow();
  auto waited = StateLock::Acquire(env, path, Duration(5000));
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.error().code, ExitCode::kLocked);
  EXPECT_EQ(waited.error().message,
            "another velin holds the rollback lock " + path + "; try again later");
  // Five seconds of waiting in 20 ms pauses, all of them on the manual clock.
  EXPECT_EQ(env.Slept(), milliseconds(5000));
  EXPECT_EQ(pauses, 250);
  EXPECT_EQ(env.SteadyNow() - env_start, milliseconds(5000));
  EXPECT_LT(std::chrono::steady_clock::now() - wall_start, milliseconds(2500));
}

TEST(StateLockMem, TakesTheLockOnTheAttemptAfterTheHolderLetsGo) {
  TempDir dir;
  const std::string path = dir / "lock";
  std::optional<StateLock> holder;
  {
    auto held = StateLock::Acquire(io::Env::Default(), path, Duration(0));
    ASSERT_TRUE(held) << held.error().message;
    holder.emplace(std::move(*held));
  }
  io::MemEnv env;
  int pauses = 0;
  env.OnSleep([&] {
    if (++pauses == 7) holder.reset();  // the other velin finishes meanwhile
  });
  auto taken = StateLock::Acquire(env, path, Duration(60'000));
  ASSERT_TRUE(taken) << taken.error().message;
  EXPECT_EQ(pauses, 7);
  EXPECT_EQ(env.Slept(), milliseconds(7 * 20));
  EXPECT_TRUE(*StateLock::Held(path));  // by `taken` now
  taken = Failure("released");
  EXPECT_FALSE(*StateLock::Held(path));
}

TEST(StateLockMem, NoWaitMeansNoPause) {
  TempDir dir;
  const std::string path = dir / "lock";
  auto holder = StateLock::Acquire(io::Env::Default(), path, Duration(0));
  ASSERT_TRUE(holder) << holder.error().message;
  io::MemEnv env;
  auto refused = StateLock::Acquire(env, path, Duration(0));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ExitCode::kLocked);
  EXPECT_EQ(env.Slept(), milliseconds(0));
  // A free lock is taken at once, whatever the wait.
  auto free = StateLock::Acquire(env, dir / "free", Duration(5000));
  ASSERT_TRUE(free) << free.error().message;
  EXPECT_EQ(env.Slept(), milliseconds(0));
}

}  // namespace
}  // namespace velin::rollback
