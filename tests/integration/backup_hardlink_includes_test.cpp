// Hard links between two backup.include paths: a hardlink node names its group's first link
// within its own source (docs/repository-format.md, "Trees"), so such a group is stored as one
// file per include and restored so; `backup create` says so, once a group. Groups within one
// include stay groups.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

ino_t InodeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_ino;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

void Link(const std::string& from, const std::string& to) {
  ASSERT_EQ(::link(from.c_str(), to.c_str()), 0) << to;
}

TEST(BackupHardlinkIncludesTest, GroupAcrossIncludesIsWarnedOnceAndRestoredAsTwoFiles) {
  BackupApp app({"b", "a", "c", "storage", "storage/uploads"});
  const std::string r = app.root();
  WriteFile(r + "/a/x", "one file, three names\n");
  WriteFile(r + "/b/other", "b\n");
  Link(r + "/a/x", r + "/b/y");
  Link(r + "/a/x", r + "/b/z");
  WriteFile(r + "/c/p", "a group inside one include\n");
  Link(r + "/c/p", r + "/c/q");
  // Overlapping includes hold the same file twice by their choice: no warning for them.
  WriteFile(r + "/storage/uploads/u", "nested\n");
  Link(r + "/storage/uploads/u", r + "/storage/uploads/v");

  RunResult created = app.Run({"backup", "create"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string warning =
      "warning: a/x and b/y are hard links to one file, in two include paths: they are backed "
      "up as two files and restored as two\n";
  EXPECT_NE(created.err.find(warning), std::string::npos) << created.err;
  EXPECT_EQ(Count(created.err, "hard links to one file"), 1u) << created.err;

  RunResult restored = app.Run({"backup", "restore", "latest", "--target", app.path("out")});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  const std::string out = app.path("out");
  EXPECT_EQ(ReadFileOrDie(out + "/a/x"), "one file, three names\n");
  EXPECT_EQ(ReadFileOrDie(out + "/b/y"), "one file, three names\n");
  EXPECT_NE(InodeOf(out + "/a/x"), InodeOf(out + "/b/y"));  // two files, as warned
  EXPECT_EQ(InodeOf(out + "/b/y"), InodeOf(out + "/b/z"));  // within one include: a group
  EXPECT_EQ(InodeOf(out + "/c/p"), InodeOf(out + "/c/q"));

  // The German catalogue has the line.
  RunOptions german;
  german.env["LANG"] = "de_DE.UTF-8";
  german.unset_env = {"LC_ALL", "LC_MESSAGES", "LANGUAGE"};
  created = app.Run({"backup", "create"}, german);
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.err.find("a/x und b/y sind harte Links auf eine Datei, in zwei Include-Pfaden"),
            std::string::npos)
      << created.err;
}

}  // namespace
}  // namespace velin::testing
