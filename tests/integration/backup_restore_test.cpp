// velin backup restore on real files: every kind of entry comes back identical; --only,
// in place with --yes; a crafted repository cannot write outside the target.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/crafted_repo.hpp"

namespace velin::testing {
namespace {

void SetTimes(const std::string& path, int64_t sec, int64_t nsec) {
  struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// A tree with every kind of entry the archiver keeps.
void MakeRichTree(const std::string& s) {
  WriteFile(s + "/plain.txt", "plain\n");
  WriteFile(s + "/exec.sh", "#!/bin/sh\necho hi\n", 0755);
  WriteFile(s + "/secret", "s3cr3t", 0600);
  WriteFile(s + "/empty", "");
  WriteFile(s + "/big.bin", RandomData((3 << 20) + 12345, 9));
  WriteFile(s + "/with space/ünïcödé ✓.txt", "unicode\n");
  WriteFile(s + "/with space/new\nline", "newline name\n");
  WriteFile(s + "/deep/a/b/c/leaf", "leaf\n");
  std::filesystem::create_directories(s + "/empty dir");
  ::chmod((s + "/deep/a").c_str(), 0700);
  ::symlink("plain.txt", (s + "/rel-link").c_str());
  ::symlink("/nonexistent/target", (s + "/dangling").c_str());
  ::link((s + "/plain.txt").c_str(), (s + "/deep/hard1").c_str());
  ::link((s + "/plain.txt").c_str(), (s + "/with space/hard2").c_str());
  WriteFile(s + "/deep/a/h1", "group inside deep/a\n");
  ::link((s + "/deep/a/h1").c_str(), (s + "/deep/a/b/h2").c_str());
  SetTimes(s + "/plain.txt", 1600000000, 123456789);
  SetTimes(s + "/big.bin", 1500000000, 1);
  SetTimes(s + "/rel-link", 1400000000, 5);
  SetTimes(s + "/deep/a/b", 1300000000, 7);
  SetTimes(s + "/empty dir", 1200000000, 0);
}

TEST(BackupRestoreTest, RoundTripKeepsBytesModesTimesLinksAndNames) {
  BackupApp app({"storage", "config.ini"}, "compression = \"gzip\"");
  MakeRichTree(app.root() + "/storage");
  WriteFile(app.root() + "/config.ini", "[x]\n", 0640);
  const std::string before = DescribeTree(app.root());
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);

  RunResult r = app.Run({"backup", "restore", "latest", "--target", app.path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DescribeTree(app.path("out")), before);
  EXPECT_NE(before.find("link=/storage/deep/hard1"), std::string::npos);  // a hardlink group

  // Restore in place over local changes, with --yes.
  WriteFile(app.root() + "/storage/plain.txt", "changed!\n");
  std::filesystem::remove_all(app.root() + "/storage/deep");
  ASSERT_EQ(app.Run({"backup", "restore", "2", "--yes"}).exit_code, 0);
  EXPECT_EQ(DescribeTree(app.root()), before);
}

// Restored files are made with their mode at once where they can be (unnamed until complete):
// whatever the umask, and for the modes that cannot (set-id bits, no write permission for the
// owner, none at all), the mode comes back exactly.
TEST(BackupRestoreTest, ModesComeBackExactlyUnderAnyUmask) {
  BackupApp app;
  const std::string s = app.root() + "/storage";
  std::vector<unsigned> modes = {0644, 0600, 0604, 0666, 0777, 0444, 0400, 04755, 02750, 01644};
  if (::geteuid() == 0) modes.insert(modes.end(), {0200, 0000});  // unreadable but to root
  for (unsigned m : modes) {
    const std::string f = s + "/m" + std::to_string(m);
    WriteFile(f, "mode " + std::to_string(m) + "\n");
    ASSERT_EQ(::chmod(f.c_str(), m), 0) << f;
  }
  const std::string before = DescribeTree(app.root());
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  for (mode_t mask : {022, 027, 077}) {
    const mode_t old = ::umask(mask);
    const std::string out = app.path("out" + std::to_string(mask));
    RunResult r = app.Run({"backup", "restore", "latest", "--target", out});
    ::umask(old);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(DescribeTree(out), before) << "umask " << mask;
  }
}

TEST(BackupRestoreTest, OnlyRestoresPartAndPrefixesNameBackups) {
  BackupApp app;
  MakeRichTree(app.root() + "/storage");
  nlohmann::json created = app.Json({"backup", "create"});
  std::string prefix = created["id"].get<std::string>().substr(0, 11);
  RunResult r = app.Run(
      {"backup", "restore", prefix, "--target", app.path("out"), "--only", "storage/deep/a"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.path("out/storage/deep/a/b/c/leaf")), "leaf\n");
  EXPECT_FALSE(std::filesystem::exists(app.path("out/storage/plain.txt")));
  struct stat h1 {
  }, h2{};
  ASSERT_EQ(::lstat(app.path("out/storage/deep/a/h1").c_str(), &h1), 0);
  ASSERT_EQ(::lstat(app.path("out/storage/deep/a/b/h2").c_str(), &h2), 0);
  EXPECT_EQ(h1.st_ino, h2.st_ino);  // the group stays one file

  // A hardlink whose first link is outside --only gets its content.
  r = app.Run({"backup", "restore", "latest", "--target", app.path("out2"), "--only",
               "storage/with space"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.path("out2/storage/with space/hard2")), "plain\n");

  r = app.Run({"backup", "restore", "latest", "--target", app.path("o3"), "--only", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("has no path 'nope'"), std::string::npos) << r.err;
  r = app.Run({"backup", "restore", "1999", "--target", app.path("o3")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no backup '1999'"), std::string::npos) << r.err;
}

TEST(BackupRestoreTest, RepositoryInsideTheBackedUpTreeIsSkipped) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  const std::string repo = app.root() + "/storage/backups";
  ASSERT_EQ(app.Run({"backup", "create", "--destination", repo}).exit_code, 0);
  nlohmann::json second = app.Json({"backup", "create", "--destination", repo});
  EXPECT_EQ(second["files"], 1) << second;
  RunResult r =
      app.Run({"backup", "restore", "latest", "--destination", repo, "--target", app.path("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(app.path("out/storage/backups")));
}

repo::Node FileNode(const std::string& name) {
  repo::Node n;
  n.type = repo::NodeType::kFile;
  n.name = name;
  n.mode = 0644;
  n.content.push_back(repo::Sha256(kCraftedContent));
  return n;
}

repo::Tree One(repo::Node n) { return TreeOf({std::move(n)}); }

TEST(BackupRestoreTest, CraftedRepositoryWritesNothingOutsideTheTarget) {
  BackupApp app;
  std::filesystem::create_directories(app.path("outside"));
  const std::string target = app.path("jail/target");
  std::filesystem::create_directories(target);

  // 1. A source named "../escape".
  CraftSnapshot(app.repo(), "20260101-0000-full", {{"../escape", One(FileNode("escape"))}});
  // 2. Node names "..", "/abs", "a/../../x" inside a tree.
  CraftSnapshot(app.repo(), "20260101-0001-full", {{"storage", One(FileNode(".."))}});
  CraftSnapshot(app.repo(), "20260101-0002-full", {{"storage", One(FileNode("/etc-x"))}});
  CraftSnapshot(app.repo(), "20260101-0003-full", {{"storage", One(FileNode("a/../../x"))}});
  // 3. A symlink to outside, then a source that would write through it.
  repo::Node link;
  link.type = repo::NodeType::kSymlink;
  link.name = "storage";
  link.target = app.path("outside");
  CraftSnapshot(app.repo(), "20260101-0004-full",
                {{"storage", One(link)}, {"storage/sub", One(FileNode("sub"))}});
  // 4. An absolute source name.
  CraftSnapshot(app.repo(), "20260101-0005-full",
                {{app.path("outside/abs"), One(FileNode("abs"))}});

  for (const char* id : {"20260101-0000", "20260101-0001", "20260101-0002", "20260101-0003",
                         "20260101-0004", "20260101-0005"}) {
    RunResult r = app.Run({"backup", "restore", id, "--target", target});
    EXPECT_NE(r.exit_code, 0) << id << r.out;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_TRUE(std::filesystem::is_empty(app.path("outside")));
  for (const auto& e : std::filesystem::recursive_directory_iterator(app.path("jail"))) {
    EXPECT_TRUE(e.path().string().rfind(target, 0) == 0) << e.path();
  }
  EXPECT_FALSE(std::filesystem::exists(app.path("escape")));
  EXPECT_FALSE(std::filesystem::exists(app.path("jail/escape")));
}

// The restore writes files on several threads: a write failing anywhere still ends it with one
// line naming the file and the cause, exit 1, no temporary file left behind, and a later
// restore into the same target completes.
TEST(BackupRestoreTest, InjectedWriteFailureStopsTheParallelRestoreCleanly) {
  BackupApp app;
  for (int i = 0; i < 60; ++i) {
    WriteFile(app.root() + "/storage/d" + std::to_string(i % 4) + "/f" + std::to_string(i),
              i % 10 == 0 ? RandomData((1 << 20) + 4097 * i, i) : "file " + std::to_string(i));
  }
  const std::string before = DescribeTree(app.root() + "/storage");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  for (int n : {2, 9, 30, 55}) {  // write 1 is the lock's
    RunOptions options;
    options.env["VELIN_FAULT_INJECT"] = "write:" + std::to_string(n) + ":EIO";
    std::string target = app.path("out" + std::to_string(n));
    RunResult r = app.Run({"backup", "restore", "latest", "--target", target}, options);
    ASSERT_EQ(r.exit_code, 1) << n << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << n << r.err;
    EXPECT_NE(r.err.find("Input/output error"), std::string::npos) << n << r.err;
    EXPECT_NE(r.err.find(target + "/storage/d"), std::string::npos) << n << r.err;
    for (const auto& e : std::filesystem::recursive_directory_iterator(target)) {
      EXPECT_EQ(e.path().filename().string().find(".velin-restore-"), std::string::npos)
          << e.path();
    }
    RunResult again = app.Run({"backup", "restore", "latest", "--target", target});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(DescribeTree(target + "/storage"), before);
  }
}

}  // namespace
}  // namespace velin::testing
