// The edges of core's small parts: durations at their bounds, exit statuses of every shape, a
// secret file that cannot be opened, a hook whose directory is gone, and each hook event's name.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/test_support.hpp"
#include "velin/core/duration.hpp"
#include "velin/core/environment.hpp"
#include "velin/core/hooks.hpp"
#include "velin/core/process.hpp"
#include "velin/core/secret_file.hpp"

namespace velin {
namespace {

using testing::TempDir;

TEST(CoreEdges, DurationsAtTheirBounds) {
  EXPECT_EQ(ParseDuration("3153600000000ms"), Duration(3'153'600'000'000));  // kMaxDuration
  EXPECT_EQ(ParseDuration("3153600000001ms"), std::nullopt);                 // too large
  EXPECT_EQ(ParseDuration("99999999999999999999999d"), std::nullopt);
  EXPECT_EQ(FormatDuration(Duration(-90'000)), "-1m30s");
  EXPECT_EQ(FormatDuration(Duration(7 * 86'400'000LL)), "7d");  // days are the largest unit
}

TEST(CoreEdges, AnEmptyVariableNameIsNeverSet) {
  EXPECT_EQ(GetEnvironment(""), std::nullopt);
  EXPECT_EQ(GetEnvironment("VELIN_TEST_SURELY_UNSET_VARIABLE"), std::nullopt);
}

// The tests run as a user with an entry (root in CI); the entry is the one the system's own
// reader, getpwuid, returns for the effective uid.
TEST(CoreEdges, TheCurrentAccountIsThePasswordDatabasesEntryForTheEffectiveUser) {
  auto account = CurrentAccount();
  ASSERT_TRUE(account.has_value());
  EXPECT_EQ(account->uid, ::geteuid());
  const passwd* pw = ::getpwuid(::geteuid());
  ASSERT_NE(pw, nullptr);
  EXPECT_EQ(account->name, pw->pw_name);
  EXPECT_EQ(account->home, pw->pw_dir);
  EXPECT_FALSE(account->name.empty());
}

TEST(CoreEdges, TheLastLineIsTheLastOneWithWordsWithoutItsBlanks) {
  EXPECT_EQ(LastLine(""), "");
  EXPECT_EQ(LastLine(" \n\r\n\t\n"), "");
  EXPECT_EQ(LastLine("one"), "one");
  EXPECT_EQ(LastLine("first\nsecond\n"), "second");
  EXPECT_EQ(LastLine("first\n  curl: (7) refused \r\n\n  \n"), "curl: (7) refused");
  EXPECT_EQ(LastLine("a\n\tb c\t"), "b c");
}

TEST(CoreEdges, ExitStatusesOfEveryShapeAreDescribed) {
  EXPECT_EQ(DescribeExit(0), "exit code 0");
  EXPECT_EQ(DescribeExit(128), "exit code 128");
  EXPECT_EQ(DescribeExit(128 + SIGKILL), "killed by signal 9 (SIGKILL)");
  EXPECT_EQ(DescribeExit(128 + SIGRTMIN + 2),
            "killed by signal " + std::to_string(SIGRTMIN + 2));  // no name
  EXPECT_EQ(DescribeExit(128 + 65), "exit code 193");
}

TEST(CoreEdges, ASecretFileInASymlinkLoopIsOneLineNamingIt) {
  TempDir dir;
  std::filesystem::create_symlink(dir / "pw", dir / "pw");
  auto r = ReadSecretFile(dir / "pw");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ExitCode::kUsage);
  EXPECT_EQ(r.error().message,
            "cannot read " + (dir / "pw") + ": Too many levels of symbolic links");
  auto under_file = ReadSecretFile("/dev/null/pw");
  ASSERT_FALSE(under_file);
  EXPECT_EQ(under_file.error().message, "/dev/null/pw does not exist");
}

TEST(CoreEdges, EachHookEventRunsItsOwnCommandUnderItsName) {
  TempDir dir;
  HookSettings hooks;
  hooks.cwd = dir.path();
  hooks.timeout = Duration(5'000);
  const std::string write = "printf '%s' \"$VELIN_EVENT\" > ";
  hooks.before_backup = write + "1";
  hooks.after_backup = write + "2";
  hooks.on_backup_failure = write + "3";
  hooks.before_switch = write + "4";
  hooks.after_switch = write + "5";
  hooks.on_switch_failure = write + "6";
  const HookEvent events[] = {HookEvent::kBeforeBackup,    HookEvent::kAfterBackup,
                              HookEvent::kOnBackupFailure, HookEvent::kBeforeSwitch,
                              HookEvent::kAfterSwitch,     HookEvent::kOnSwitchFailure};
  const char* names[] = {"before_backup", "after_backup", "on_backup_failure",
                         "before_switch", "after_switch", "on_switch_failure"};
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(RunHook(hooks, events[i], {})) << names[i];
    EXPECT_EQ(HookName(events[i]), std::string(names[i]));
    EXPECT_EQ(testing::ReadFileOrDie(dir / std::to_string(i + 1)), names[i]);
  }
  HookSettings none;
  EXPECT_TRUE(RunHook(none, HookEvent::kAfterSwitch, {}));  // nothing configured: nothing run
}

TEST(CoreEdges, AHookWhoseDirectoryIsGoneCouldNotBeRun) {
  TempDir dir;
  HookSettings hooks;
  hooks.cwd = dir / "gone";
  hooks.before_backup = "true";
  auto r = RunHook(hooks, HookEvent::kBeforeBackup, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ExitCode::kFailed);
  EXPECT_EQ(r.error().message, "hooks.before_backup could not be run: cannot run '/bin/sh' in " +
                                   (dir / "gone") + ": No such file or directory");
}

}  // namespace
}  // namespace velin
