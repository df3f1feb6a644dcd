// A restore killed with SIGKILL leaves the temp files it was writing
// (".velin-restore-PID-TAG-N-name") in the target; the torture engine (issue 16) found a rerun
// into the same target leaving one there (seed 12). A rerun now removes the temp files of
// restores that are gone, in every directory it enters, and leaves those of a running one, of
// another process space (another host writing the same NFS target) and a user's files alone.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "support/backup_fixture.hpp"
#include "velin/io/env.hpp"
#include "velin/io/process_space.hpp"

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

// "<pid>-<tag>" as a restore of this process space names its temp files (io::WriterMark).
std::string RestoreTempMark(int64_t pid) {
  const std::string own = io::WriterMark(io::Env::Default(), '-');
  return std::to_string(pid) + own.substr(own.find('-'));
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
  const std::string dead = RestoreTempMark(DeadPid());
  const std::string empty = out + "/storage/.velin-restore-" + dead + "-0-big";
  const std::string half = out + "/storage/sub/.velin-restore-" + dead + "-1-f";
  WriteFile(empty, "");
  WriteFile(half, RandomData(500, 4));
  // One of a restore still running (this process): not ours to remove.
  const std::string running =
      out + "/storage/.velin-restore-" + RestoreTempMark(::getpid()) + "-0-big";
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

// Only a name of exactly the temp files' shape, of this process space, whose writer is gone, is
// velin's to remove. The pid alone was taken for enough: an in-place restore of one file deleted
// a user's ".velin-restore-3999999-notes.txt" beside it, and a live restore's temp files in
// another container or on another host writing the same NFS target.
TEST(RestoreDeadTempsTest, NamesThatOnlyLookAlikeAndOtherProcessSpacesStay) {
  BackupApp app;
  WriteFile(app.root() + "/storage/top.txt", "t");
  WriteFile(app.root() + "/storage/c/f", "f");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);

  const std::string s = app.root() + "/storage";
  const pid_t gone = DeadPid();
  const std::string own = RestoreTempMark(gone);
  const std::string other_tag = own.ends_with("-deadbeef") ? "-0badf00d" : "-deadbeef";
  const std::vector<std::string> kept = {
      s + "/.velin-restore-3999999-notes.txt",                   // the audit's: a user's notes
      s + "/.velin-restore-" + std::to_string(gone) + "-0-big",  // a velin before 2026-12: no tag
      s + "/.velin-restore-" + std::to_string(gone) + other_tag + "-0-big",  // another host's
      s + "/.velin-restore-" + own + "-0-",                                  // no hint
      s + "/.velin-restore-" + own + "-0-a b",                               // not a hint's
      s + "/.velin-restore-" + own + "-x7-big",                              // no counter
      s + "/c/.velin-restore-" + std::to_string(gone) + "-x-1-f",  // an unknown tag: never dead
  };
  for (const std::string& f : kept) WriteFile(f, "precious user data");
  const std::string dead = s + "/.velin-restore-" + own + "-3-top.txt";
  const std::string dead_below = s + "/c/.velin-restore-" + own + "-4-f";
  WriteFile(dead, "");
  WriteFile(dead_below, "half");

  // In place, one file selected: the directories walked are swept, not the user's files.
  RunResult r = app.Run({"backup", "restore", "latest", "--only", "storage/top.txt", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string& f : kept) EXPECT_EQ(ReadFileOrDie(f), "precious user data") << f;
  EXPECT_FALSE(fs::exists(dead));
  r = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string& f : kept) EXPECT_EQ(ReadFileOrDie(f), "precious user data") << f;
  EXPECT_FALSE(fs::exists(dead_below));
}

}  // namespace
}  // namespace velin::testing
