// The command record (command.json) on a MemEnv: a command a killed velin left running is waited
// for until its timeout on the steady clock, however the wall clock steps meanwhile, and its
// group is killed only once that timeout has passed; a record of an ended process, of another
// process space, or one torn by a crash names nothing.
#include "velin/rollback/command_record.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "velin/io/mem_env.hpp"

namespace velin::rollback {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

class CmdRecordWarnings : public NullReporter {
 public:
  void Warn(std::string_view message) override { warnings.emplace_back(message); }
  std::vector<std::string> warnings;
};

class CommandRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(io::CreateDirs(env_, "/state"));
    env_.StartProcess(kPid, 77);
  }
  // A migrate_down of pid kPid with `timeout`, recorded now.
  void Record(Duration timeout) {
    ASSERT_TRUE(SaveCommandRecord(
        env_, kPath, RecordOf(env_, "rollback.migrate_down", "the switch to v1", kPid, timeout)));
  }
  bool Killed() const {
    for (const std::string& w : warnings_.warnings) {
      if (w.find("did not end within its timeout: killed") != std::string::npos) return true;
    }
    return false;
  }

  static constexpr int64_t kPid = 4242;
  const std::string kPath = "/state/command.json";
  io::MemEnv env_;
  CmdRecordWarnings warnings_;
};

TEST_F(CommandRecordTest, AWallClockStepForwardDoesNotCutTheWaitShort) {
  Record(seconds(60));
  // A minute's command: on the first nap the wall clock jumps an hour ahead (NTP, date -s);
  // the command ends 20 s (steady) later. Before, the wait ended at the step and killed it.
  bool stepped = false;
  const auto started = env_.SteadyNow();
  env_.OnSleep([&] {
    if (!stepped) {
      stepped = true;
      env_.StepWallClock(hours(1));
    }
    if (env_.SteadyNow() - started >= seconds(20)) env_.EndProcess(kPid);
  });
  AwaitRecordedCommand(env_, warnings_, kPath);
  EXPECT_TRUE(stepped);
  EXPECT_FALSE(Killed());
  EXPECT_GE(env_.Slept(), seconds(20));
  ASSERT_FALSE(warnings_.warnings.empty());
  EXPECT_NE(warnings_.warnings[0].find("rollback.migrate_down (process 4242), started for the "
                                       "switch to v1 by a velin that was killed, still runs"),
            std::string::npos)
      << warnings_.warnings[0];
}

TEST_F(CommandRecordTest, AWallClockStepBackDoesNotLengthenTheWait) {
  Record(seconds(10));
  bool stepped = false;
  env_.OnSleep([&] {
    if (!stepped) {
      stepped = true;
      env_.StepWallClock(-hours(1));
    }
  });
  AwaitRecordedCommand(env_, warnings_, kPath);  // never ends by itself: killed at the timeout
  EXPECT_TRUE(Killed());
  EXPECT_GE(env_.Slept(), seconds(10));
  EXPECT_LT(env_.Slept(), seconds(30));  // 10 s, then the kills' short waits
}

TEST_F(CommandRecordTest, AnEndedProcessOrAnotherProcessSpaceIsNotWaitedFor) {
  Record(seconds(60));
  env_.EndProcess(kPid);
  AwaitRecordedCommand(env_, warnings_, kPath);
  EXPECT_TRUE(warnings_.warnings.empty());
  EXPECT_EQ(env_.Slept(), std::chrono::nanoseconds(0));

  env_.StartProcess(kPid, 77);
  CommandRecord other = RecordOf(env_, "rollback.stop", "the switch to v1", kPid, seconds(60));
  other.space = "00000000";  // made before a reboot, or in another container
  ASSERT_TRUE(SaveCommandRecord(env_, kPath, other));
  AwaitRecordedCommand(env_, warnings_, kPath);
  EXPECT_TRUE(warnings_.warnings.empty());
}

TEST_F(CommandRecordTest, ATornRecordNamesNothing) {
  ASSERT_TRUE(io::WriteFileDurably(env_, kPath, "{\"command\": \"rollback.st"));
  EXPECT_FALSE(LoadCommandRecord(env_, kPath).has_value());
  AwaitRecordedCommand(env_, warnings_, kPath);
  EXPECT_TRUE(warnings_.warnings.empty());
}

TEST_F(CommandRecordTest, ARecordIsWrittenWithoutFsync) {
  const auto before = env_.Syncs();
  Record(seconds(5));
  EXPECT_EQ(env_.Syncs(), before);
  auto loaded = LoadCommandRecord(env_, kPath);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->pid, kPid);
  EXPECT_EQ(loaded->start_ticks, 77);
  EXPECT_EQ(loaded->command, "rollback.migrate_down");
}

}  // namespace
}  // namespace velin::rollback
