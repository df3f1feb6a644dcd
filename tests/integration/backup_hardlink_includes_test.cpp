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

// Overlapping includes ("a" and "a/sub") hold a/sub's files twice. A restore wrote the inner
// include's copy after the outer one's, as a file of its own over the name the outer one had
// just linked: a hard link from a/sub into the rest of a came back as two files (while the
// restore counted the link), or not, depending on the includes' order. The outer include
// restores them now, once, and the counts are of what is on disk.
TEST(BackupHardlinkIncludesTest, OverlappingIncludesKeepLinksIntoTheInnerOneInEitherOrder) {
  for (const std::vector<std::string>& include :
       {std::vector<std::string>{"a", "a/sub"}, std::vector<std::string>{"a/sub", "a"}}) {
    SCOPED_TRACE(include[0] + ", " + include[1]);
    BackupApp app(include);
    const std::string r = app.root();
    WriteFile(r + "/a/x", "one file, two names\n");
    WriteFile(r + "/a/sub/only", "inner\n");
    Link(r + "/a/x", r + "/a/sub/z");
    ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);

    const nlohmann::json restored =
        app.Json({"backup", "restore", "latest", "--target", app.path("out")});
    const std::string out = app.path("out");
    EXPECT_EQ(ReadFileOrDie(out + "/a/sub/z"), "one file, two names\n");
    EXPECT_EQ(InodeOf(out + "/a/x"), InodeOf(out + "/a/sub/z"));
    EXPECT_EQ(ReadFileOrDie(out + "/a/sub/only"), "inner\n");
    EXPECT_EQ(restored["files"], 2) << restored.dump() << ": x and only, once each";
    EXPECT_EQ(restored["hardlinks"], 1) << restored.dump();
    EXPECT_EQ(restored["dirs"], 2) << restored.dump();

    // In place, over a tree whose link was broken.
    std::filesystem::remove(r + "/a/sub/z");
    WriteFile(r + "/a/sub/z", "one file, two names\n");
    ASSERT_NE(InodeOf(r + "/a/x"), InodeOf(r + "/a/sub/z"));
    RunResult in_place = app.Run({"backup", "restore", "latest", "--yes"});
    ASSERT_EQ(in_place.exit_code, 0) << in_place.err;
    EXPECT_EQ(InodeOf(r + "/a/x"), InodeOf(r + "/a/sub/z"));

    // --only inside the inner include: the outer one's entry, once.
    const nlohmann::json only =
        app.Json({"backup", "restore", "latest", "--only", "a/sub", "--target", app.path("only")});
    EXPECT_EQ(ReadFileOrDie(app.path("only") + "/a/sub/z"), "one file, two names\n");
    EXPECT_EQ(ReadFileOrDie(app.path("only") + "/a/sub/only"), "inner\n");
    EXPECT_EQ(only["files"].get<uint64_t>() + only["hardlinks"].get<uint64_t>(), 2u) << only.dump();
  }
}

}  // namespace
}  // namespace velin::testing
