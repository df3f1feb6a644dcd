// velin under a small stack limit (`ulimit -s 64`, set in the shell that runs it, as a user or
// a service manager does): before 2026-12-08 `velin backup list` died with SIGSEGV in its first
// file read (a 64 KiB buffer on the stack). Now the command runs on a thread with a stack of its
// own, and the programs velin starts (a hook) keep the limit they were given.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

// velin with `args` run by `sh -c 'ulimit -s KIB && exec velin ARGS'` in the app's directory.
RunResult SmallStackRun(const BackupApp& app, int kib, const std::string& args) {
  RunOptions options;
  options.cwd = app.path("");
  return RunProgram(
      {"/bin/sh", "-c",
       "ulimit -s " + std::to_string(kib) + " && exec '" + VelinBinary() + "' " + args},
      options);
}

TEST(SmallStackTest, BackupCommandsWorkUnderA64KiBStackLimit) {
  BackupApp app({"storage"}, "encryption = \"none\"\n");
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  for (int kib : {64, 32}) {
    RunResult created = SmallStackRun(app, kib, "backup create");
    EXPECT_EQ(created.exit_code, 0) << kib << " KiB: " << created.out << created.err;
    RunResult listed = SmallStackRun(app, kib, "--json backup list");
    EXPECT_EQ(listed.exit_code, 0) << kib << " KiB: " << listed.out << listed.err;
    // The same listing as under the usual stack, with every backup made so far.
    EXPECT_EQ(nlohmann::json::parse(listed.out, nullptr, false), app.Json({"backup", "list"}))
        << listed.out;
    RunResult verified = SmallStackRun(app, kib, "backup verify --all");
    EXPECT_EQ(verified.exit_code, 0) << kib << " KiB: " << verified.out << verified.err;
  }
}

TEST(SmallStackTest, AHookKeepsTheStackLimitItWasGiven) {
  BackupApp app({"storage"},
                "encryption = \"none\"\n[hooks]\nbefore_backup = \"ulimit -s > "
                "../stack-limit\"\n");
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  RunResult created = SmallStackRun(app, 64, "backup create");
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  EXPECT_EQ(ReadFileOrDie(app.path("stack-limit")), "64\n");
}

}  // namespace
}  // namespace velin::testing
