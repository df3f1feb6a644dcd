// A restore killed with SIGKILL leaves the temp files it was writing
// (".velin-restore-PID-N-name") in the target; the torture engine (issue 16) found a rerun into
// the same target leaving one there (seed 12). A rerun now removes the temp files of restores
// that are gone, in every directory it enters, and leaves those of a running one alone.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// The pid of a process that has ended (and been reaped).
pid_t DeadPid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

TEST(RestoreDeadTempsTest, ARerunRemovesTheTempFilesOfAKilledRestore) {
  BackupApp app;
  WriteFile(app.root() + "/storage/big", RandomData(200000, 3));
  WriteFile(app.root() + "/storage/sub/f", RandomData(1000, 4));
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string tree = DescribeTree(app.root() + "/storage");
  const std::string out = app.path("out");
  ASSERT_EQ(app.Run({"backup", "restore", "latest", "--target", out}).exit_code, 0);

  // What a killed restore leaves: an empty temp file and a half-written one.
  const std::string dead = std::to_string(DeadPid());
  const std::string empty = out + "/storage/.velin-restore-" + dead + "-0-big";
  const std::string half = out + "/storage/sub/.velin-restore-" + dead + "-1-f";
  WriteFile(empty, "");
  WriteFile(half, RandomData(500, 4));
  // One of a restore still running (this process): not ours to remove.
  const std::string running =
      out + "/storage/.velin-restore-" + std::to_string(::getpid()) + "-0-big";
  WriteFile(running, "x");
  // Names that only look alike are the user's.
  const std::string user = out + "/storage/.velin-restore-notes";
  WriteFile(user, "mine");

  RunResult r = app.Run({"backup", "restore", "latest", "--target", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(empty));
  EXPECT_FALSE(fs::exists(half));
  EXPECT_TRUE(fs::exists(running));
  EXPECT_TRUE(fs::exists(user));
  fs::remove(running);
  fs::remove(user);
  EXPECT_EQ(DescribeTree(out + "/storage"), tree);
}

}  // namespace
}  // namespace velin::testing
