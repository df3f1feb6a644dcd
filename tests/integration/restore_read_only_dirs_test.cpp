// A restore without root into a target that already holds read-only directories (0555, as an
// app's user keeps some, and as a first restore leaves them; 0300 and 0000, which it cannot
// even open as they are): the restore makes them writable
// while it writes there and gives them their mode at the end, so a second restore (an in-place
// one, or "run it again to finish it") works like the first. Run by the real binary as
// `nobody` when the tests run as root (root writes into any directory), else as the user.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;

// Hands the tree at `path` to the user the restores run as (nobody, when the tests run as root).
void GiveToUser(const std::string& path) {
  if (::geteuid() != 0) return;
  ASSERT_EQ(::lchown(path.c_str(), kNobody, kNobody), 0) << path;
  if (!fs::is_directory(fs::symlink_status(path))) return;
  for (const auto& e : fs::recursive_directory_iterator(path)) {
    ASSERT_EQ(::lchown(e.path().c_str(), kNobody, kNobody), 0) << e.path();
  }
}

// Runs velin in `app`'s directory as that user (with a HOME of its own).
RunResult RunAsUser(const BackupApp& app, const std::vector<std::string>& args) {
  RunOptions options;
  options.cwd = app.path("");
  options.env["HOME"] = app.path("");
  if (::geteuid() != 0) return RunVelin(args, options);
  std::vector<std::string> argv = {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                   "--",      VelinBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, options);
}

unsigned ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

void Chmod(const std::string& path, unsigned mode) {
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

// Gives `path` the mtime of `like` (a directory the test changed after velin restored it).
void CopyMtime(const std::string& like, const std::string& path) {
  struct stat st {};
  ASSERT_EQ(::lstat(like.c_str(), &st), 0) << like;
  struct timespec times[2] = {st.st_mtim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// storage/rodir (0555) holding a read-only file and a read-only directory, beside a plain file;
// backed up by the user.
class RestoreReadOnlyDirsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string s = app_.root() + "/storage";
    WriteFile(s + "/plain.txt", "plain\n");
    WriteFile(s + "/rodir/f", "read-only file\n", 0400);
    WriteFile(s + "/rodir/sub/g", "deeper\n", 0444);
    Chmod(s + "/rodir/sub", 0500);
    Chmod(s + "/rodir", 0555);
    GiveToUser(app_.path(""));
    before_ = DescribeTree(app_.root());
    RunResult r = RunAsUser(app_, {"backup", "create"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  RunResult RestoreTo(const std::string& target, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"backup", "restore", "latest", "--target", target};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunAsUser(app_, args);
  }

  BackupApp app_;
  std::string before_;
};

TEST_F(RestoreReadOnlyDirsTest, RestoresTwiceIntoTheSameTarget) {
  const std::string t = app_.path("t");
  for (int run = 1; run <= 3; ++run) {
    RunResult r = RestoreTo(t);
    ASSERT_EQ(r.exit_code, 0) << "run " << run << ": " << r.err;
    EXPECT_EQ(DescribeTree(t), before_) << "run " << run;
    EXPECT_EQ(TempFilesUnder(t), std::vector<std::string>{}) << "run " << run;
  }
}

// In place, by the app's user, over a changed read-only file in its read-only directory.
TEST_F(RestoreReadOnlyDirsTest, RestoresInPlaceOverReadOnlyFilesAndDirs) {
  const std::string rodir = app_.root() + "/storage/rodir";
  Chmod(rodir, 0755);
  Chmod(rodir + "/f", 0600);
  WriteFile(rodir + "/f", "changed\n", 0600);
  Chmod(rodir + "/f", 0400);
  Chmod(rodir + "/sub", 0700);
  fs::remove(rodir + "/sub/g");
  Chmod(rodir + "/sub", 0500);
  Chmod(rodir, 0555);
  GiveToUser(app_.path(""));
  RunResult r = RunAsUser(app_, {"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DescribeTree(app_.root()), before_);
  EXPECT_EQ(TempFilesUnder(app_.root()), std::vector<std::string>{});
}

// The read-only directories are the target's, made by the user before any restore: those of
// the backup get the backup's mode, what else they hold stays; one above the backed-up path
// (--only) and the target itself keep the mode they had.
TEST_F(RestoreReadOnlyDirsTest, WritesIntoTheTargetsOwnReadOnlyDirectories) {
  const std::string t = app_.path("t");
  WriteFile(t + "/storage/rodir/mine", "not in the backup\n", 0444);
  fs::create_directories(t + "/storage/rodir/sub");
  Chmod(t + "/storage/rodir/sub", 0555);
  Chmod(t + "/storage/rodir", 0500);
  Chmod(t + "/storage", 0555);
  GiveToUser(t);

  RunResult r = RestoreTo(t);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(t + "/storage/rodir/mine"), "not in the backup\n");
  EXPECT_EQ(ModeOf(t + "/storage/rodir"), 0555u);
  Chmod(t + "/storage/rodir", 0755);
  fs::remove(t + "/storage/rodir/mine");
  Chmod(t + "/storage/rodir", 0555);
  CopyMtime(app_.root() + "/storage/rodir", t + "/storage/rodir");
  EXPECT_EQ(DescribeTree(t), before_);

  // --only a file: its directory (0555, as restored) is above the backed-up path.
  Chmod(t + "/storage/rodir", 0755);
  fs::remove(t + "/storage/rodir/f");
  Chmod(t + "/storage/rodir", 0555);
  r = RestoreTo(t, {"--only", "storage/rodir/f"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ModeOf(t + "/storage/rodir"), 0555u);
  CopyMtime(app_.root() + "/storage/rodir", t + "/storage/rodir");
  EXPECT_EQ(DescribeTree(t), before_);

  // A read-only target: a file at its top is restored into it, and it stays read-only.
  const std::string t2 = app_.path("t2");
  fs::create_directories(t2);
  Chmod(t2, 0555);
  GiveToUser(t2);
  r = RestoreTo(t2, {"--only", "storage/plain.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(t2 + "/storage/plain.txt"), "plain\n");
  EXPECT_EQ(ModeOf(t2), 0555u);
  EXPECT_EQ(TempFilesUnder(t), std::vector<std::string>{});
  EXPECT_EQ(TempFilesUnder(t2), std::vector<std::string>{});
}

// Directories their owner may not even read: 0300 (write and enter only) and 0000. A first
// restore leaves them so; the second one, by the same user, cannot open them until it gives
// them u+rwx, and then gives them their mode again. The backup is made by root (its user could
// not read them); the restores as nobody.
TEST(RestoreUnreadableDirsTest, RestoresTwiceDirectoriesTheirOwnerMayNotRead) {
  if (::geteuid() != 0) GTEST_SKIP() << "backing up a directory its owner cannot read needs root";
  BackupApp app;
  const std::string s = app.root() + "/storage";
  WriteFile(s + "/locked/f", "secret\n");
  WriteFile(s + "/locked/inner/g", "deeper\n", 0400);
  fs::create_directories(s + "/closed");
  Chmod(s + "/locked/inner", 0000);
  Chmod(s + "/locked", 0300);
  Chmod(s + "/closed", 0000);
  GiveToUser(app.path(""));
  const std::string before = DescribeTree(app.root());
  RunResult r = app.Run({"backup", "create"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  GiveToUser(app.path(""));  // the repository, for the restores by nobody

  const std::string t = app.path("t");
  for (int run = 1; run <= 3; ++run) {
    r = RunAsUser(app, {"backup", "restore", "latest", "--target", t});
    ASSERT_EQ(r.exit_code, 0) << "run " << run << ": " << r.err;
    EXPECT_EQ(DescribeTree(t), before) << "run " << run;
    EXPECT_EQ(ModeOf(t + "/storage/locked"), 0300u) << "run " << run;
    EXPECT_EQ(ModeOf(t + "/storage/closed"), 0000u) << "run " << run;
    EXPECT_EQ(TempFilesUnder(t), std::vector<std::string>{}) << "run " << run;
  }
}

// A restore without root of a backup root took: the files are the restoring user's then, not
// the backup's owners'. A setuid-root program restored with its setuid bit would run as that
// user for anyone who starts it (before 2026-12-07 it did: `-rwsr-xr-x nobody`); the bit is
// left out where the owner (setgid: the group) is not the user's, with one warning, and a
// directory keeps its setgid bit. As root every bit comes back with its owner.
constexpr uid_t kSetIdUser = 65534;

unsigned SetIdModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

void MakeSetIdEntry(const std::string& path, uid_t uid, gid_t gid, mode_t mode) {
  ASSERT_EQ(::lchown(path.c_str(), uid, gid), 0) << path;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;  // after the chown, which clears set-id bits
}

TEST(RestoreSetIdBitsTest, WithoutRootSetIdBitsOfOtherOwnersAreLeftOut) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (files of root and of another user)";
  BackupApp app;
  const std::string s = app.root() + "/storage";
  WriteFile(s + "/root-suid", "#!/bin/sh\n");
  WriteFile(s + "/own-suid", "#!/bin/sh\n");
  WriteFile(s + "/root-group-sgid", "#!/bin/sh\n");
  WriteFile(s + "/shared/f", "x\n");
  MakeSetIdEntry(s + "/root-suid", 0, 0, 04755);
  MakeSetIdEntry(s + "/own-suid", kSetIdUser, kSetIdUser, 06755);
  MakeSetIdEntry(s + "/root-group-sgid", kSetIdUser, 0, 02755);
  MakeSetIdEntry(s + "/shared", 0, 0, 02775);
  RunResult r = app.Run({"backup", "create"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // As the user, into a target of its own.
  const std::string t = app.path("t");
  fs::create_directories(t);
  ASSERT_EQ(::chown(t.c_str(), kSetIdUser, kSetIdUser), 0);
  ASSERT_EQ(RunProgram({"chmod", "-R", "a+rX", app.path("")}).exit_code, 0);  // the repository
  RunOptions options;
  options.cwd = app.path("");
  options.env["HOME"] = t;
  r = RunProgram({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                  VelinBinary(), "backup", "restore", "latest", "--target", t, "--no-lock"},
                 options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string ts = t + "/storage";
  EXPECT_EQ(SetIdModeOf(ts + "/root-suid"), 0755u);
  EXPECT_EQ(SetIdModeOf(ts + "/own-suid"), 06755u);  // the user's own: kept
  EXPECT_EQ(SetIdModeOf(ts + "/root-group-sgid"), 0755u);
  EXPECT_EQ(SetIdModeOf(ts + "/shared"), 02775u);  // a directory's setgid bit stays
  EXPECT_NE(r.err.find("warning: 2 files are restored without their setuid or setgid bit (e.g. " +
                       ts + "/"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("restore as root to keep it"), std::string::npos) << r.err;

  // As root: every bit with its owner, and no warning.
  const std::string rt = app.path("rt");
  r = app.Run({"backup", "restore", "latest", "--target", rt});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SetIdModeOf(rt + "/storage/root-suid"), 04755u);
  EXPECT_EQ(SetIdModeOf(rt + "/storage/own-suid"), 06755u);
  EXPECT_EQ(SetIdModeOf(rt + "/storage/root-group-sgid"), 02755u);
  EXPECT_EQ(r.err.find("setuid"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace velin::testing
