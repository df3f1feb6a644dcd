// velin backup restore --include / --exclude (docs/cli.md#backup-restore): what is restored is
// exactly what the patterns select, the directories leading to it and nothing else; an include
// that matches nothing and hostile patterns are usage errors that write nothing.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// Every path under `root`, relative, directories with a trailing '/'.
std::set<std::string> RestoredPaths(const std::string& root) {
  std::set<std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    std::string rel = fs::relative(e.path(), root).string();
    out.insert(e.is_directory() && !e.is_symlink() ? rel + "/" : rel);
  }
  return out;
}

class RestoreSelectTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    app_ = new BackupApp({"storage", "config"});
    const std::string r = app_->root();
    WriteFile(r + "/storage/uploads/a.jpg", "a");
    WriteFile(r + "/storage/uploads/b.png", "b");
    WriteFile(r + "/storage/uploads/2024/c.jpg", "c");
    WriteFile(r + "/storage/cache/x.jpg", "x");
    WriteFile(r + "/storage/notes.txt", "n");
    WriteFile(r + "/config/app.ini", "i");
    fs::create_directories(r + "/storage/empty");
    ASSERT_EQ(app_->Run({"backup", "create"}).exit_code, 0);
  }
  static void TearDownTestSuite() {
    delete app_;
    app_ = nullptr;
  }

  // Restores latest with `args` into a fresh target; the paths restored.
  std::set<std::string> Restore(std::vector<std::string> args, int expected_exit = 0,
                                std::string* err = nullptr) {
    const std::string target = app_->path("out" + std::to_string(++count_));
    std::vector<std::string> all = {"backup", "restore", "latest", "--target", target};
    all.insert(all.end(), args.begin(), args.end());
    RunResult r = app_->Run(all);
    EXPECT_EQ(r.exit_code, expected_exit) << r.err;
    if (err) *err = r.err;
    return RestoredPaths(target);
  }

  static BackupApp* app_;
  static inline int count_ = 0;
};

BackupApp* RestoreSelectTest::app_ = nullptr;

TEST_F(RestoreSelectTest, IncludeSelectsAndCreatesOnlyTheWayThere) {
  // A pattern without '/' matches the last component anywhere, like backup.exclude.
  EXPECT_EQ(Restore({"--include", "*.jpg"}),
            (std::set<std::string>{"storage/", "storage/uploads/", "storage/uploads/a.jpg",
                                   "storage/uploads/2024/", "storage/uploads/2024/c.jpg",
                                   "storage/cache/", "storage/cache/x.jpg"}));
  // A directory included brings everything below it; two includes add up.
  EXPECT_EQ(Restore({"--include", "storage/uploads/2024", "--include", "config"}),
            (std::set<std::string>{"storage/", "storage/uploads/", "storage/uploads/2024/",
                                   "storage/uploads/2024/c.jpg", "config/", "config/app.ini"}));
}

TEST_F(RestoreSelectTest, ExcludeRemovesAndWinsOverIncludeWithinOnly) {
  EXPECT_EQ(Restore({"--exclude", "storage/cache", "--exclude", "*.png", "--exclude", "config"}),
            (std::set<std::string>{"storage/", "storage/uploads/", "storage/uploads/a.jpg",
                                   "storage/uploads/2024/", "storage/uploads/2024/c.jpg",
                                   "storage/notes.txt", "storage/empty/"}));
  // Within --only: the include narrows it, the exclude takes out of what is included.
  EXPECT_EQ(Restore({"--only", "storage/uploads", "--include", "*.jpg", "--exclude", "2024"}),
            (std::set<std::string>{"storage/", "storage/uploads/", "storage/uploads/a.jpg"}));
  // Everything excluded: nothing restored, not an error.
  EXPECT_EQ(Restore({"--exclude", "*"}), std::set<std::string>{});
}

TEST_F(RestoreSelectTest, AnIncludeMatchingNothingIsAUsageErrorThatWritesNothing) {
  std::string err;
  EXPECT_EQ(Restore({"--include", "*.jpg", "--include", "*.gif"}, 2, &err),
            std::set<std::string>{});
  EXPECT_NE(err.find("--include '*.gif' matches nothing in backup"), std::string::npos) << err;
  EXPECT_NE(err.find("nothing was restored"), std::string::npos) << err;
  // In German too (LANG), like every message of velin.
  RunOptions de;
  de.env = {{"LANG", "de_DE.UTF-8"}};
  de.unset_env = {"LC_ALL", "LC_MESSAGES"};
  RunResult german = app_->Run(
      {"backup", "restore", "latest", "--target", app_->path("de"), "--include", "*.gif"}, de);
  EXPECT_EQ(german.exit_code, 2);
  EXPECT_NE(german.err.find("passt auf nichts in Backup"), std::string::npos) << german.err;
  // Matching only outside --only is matching nothing.
  EXPECT_EQ(Restore({"--only", "config", "--include", "*.jpg"}, 2, &err), std::set<std::string>{});
  EXPECT_NE(err.find("under 'config'"), std::string::npos) << err;
}

// An include that matches, but only what an exclude takes out again, did match: the exclude
// wins and nothing is restored, exit 0 ("Excludes that exclude everything restore nothing"). It
// was exit 2, "--include … matches nothing in backup …".
TEST_F(RestoreSelectTest, AnIncludeWhoseMatchesAreAllExcludedRestoresNothingWithExitZero) {
  std::string err;
  EXPECT_EQ(Restore({"--include", "storage/cache/x.jpg", "--exclude", "storage/cache"}, 0, &err),
            std::set<std::string>{});
  EXPECT_EQ(err.find("matches nothing"), std::string::npos) << err;
  EXPECT_EQ(Restore({"--include", "*.jpg", "--exclude", "storage"}, 0, &err),
            std::set<std::string>{});
  // Part excluded, part not: what is not excluded is restored.
  EXPECT_EQ(Restore({"--include", "storage/cache/x.jpg", "--include", "config/app.ini", "--exclude",
                     "storage/cache"}),
            (std::set<std::string>{"config/", "config/app.ini"}));
  // A typo stays a typo, excluded or not.
  EXPECT_EQ(Restore({"--include", "*.gif", "--exclude", "storage"}, 2, &err),
            std::set<std::string>{});
  EXPECT_NE(err.find("--include '*.gif' matches nothing"), std::string::npos) << err;
}

// "mode owner:group" of `path`.
std::string SelectModeOwner(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%o", st.st_mode & 07777);
  return std::string(mode) + " " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid);
}

// The directories above a file --include selects are only the way to it (docs/cli.md): one
// that exists keeps its mode and owner, as one above --only does; it was given the backup's
// (a `chmod 700` of storage/private undone by restoring one file in it). One missing is made
// with the backup's, like every directory of the backup a restore makes; one an include
// matches itself is the backup's directory, mode and owner included.
TEST(RestoreSelectDirsTest, ExistingDirectoriesAboveAnIncludedFileKeepTheirModeAndOwner) {
  BackupApp app;
  const std::string s = app.root() + "/storage";
  WriteFile(s + "/private/secret.txt", "s");
  WriteFile(s + "/private/other.txt", "o");
  ASSERT_EQ(::chmod((s + "/private").c_str(), 0750), 0);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string backed_up = SelectModeOwner(s + "/private");
  const bool root = ::geteuid() == 0;

  ASSERT_EQ(::chmod((s + "/private").c_str(), 0700), 0);
  ASSERT_EQ(::chmod(s.c_str(), 0711), 0);
  if (root) {
    ASSERT_EQ(::chown((s + "/private").c_str(), 33, 33), 0);
  }
  const std::string changed = SelectModeOwner(s + "/private");
  WriteFile(s + "/private/secret.txt", "changed");
  RunResult r =
      app.Run({"backup", "restore", "latest", "--yes", "--include", "storage/private/secret.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(s + "/private/secret.txt"), "s");
  EXPECT_EQ(SelectModeOwner(s + "/private"), changed);
  EXPECT_EQ(SelectModeOwner(s).substr(0, 4), "711 ");
  // With --only the same selection keeps them too.
  r = app.Run({"backup", "restore", "latest", "--yes", "--only", "storage/private/secret.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SelectModeOwner(s + "/private"), changed);

  // Into a new target: the directories made get the backup's.
  const std::string target = app.path("fresh");
  r = app.Run({"backup", "restore", "latest", "--target", target, "--include",
               "storage/private/secret.txt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SelectModeOwner(target + "/storage/private"), backed_up);
  EXPECT_FALSE(fs::exists(target + "/storage/private/other.txt"));

  // The directory itself included: the backup's directory, its mode and owner too.
  r = app.Run({"backup", "restore", "latest", "--yes", "--include", "storage/private"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(SelectModeOwner(s + "/private"), backed_up);
}

// docs/cli.md's synopsis of restore names every option `--help` lists (it lacked --database,
// --destination and --lock-wait).
TEST(RestoreSynopsisTest, TheDocsSynopsisNamesEveryOptionHelpLists) {
  const std::string cli = ReadFileOrDie(SourceDir() + "/docs/cli.md");
  const size_t at = cli.find("### `velin backup restore ID ");
  ASSERT_NE(at, std::string::npos);
  const std::string synopsis = cli.substr(at, cli.find('\n', at) - at);
  RunResult help = RunVelin({"backup", "restore", "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  const std::string options = help.out.substr(0, help.out.find("Global flags:"));
  int named = 0;
  for (size_t i = options.find("\n  --"); i != std::string::npos;
       i = options.find("\n  --", i + 1)) {
    const std::string flag = options.substr(i + 3, options.find_first_of(" \n", i + 3) - i - 3);
    if (flag == "--help") continue;
    ++named;
    const bool shown = synopsis.find("[" + flag + "]") != std::string::npos ||
                       synopsis.find("[" + flag + " ") != std::string::npos;
    EXPECT_TRUE(shown) << flag << " missing in " << synopsis;
  }
  EXPECT_GE(named, 12) << help.out;
}

TEST_F(RestoreSelectTest, HostilePatternsAreRefusedOrHarmless) {
  std::string err;
  EXPECT_EQ(Restore({"--include", "/storage"}, 2, &err), std::set<std::string>{});
  EXPECT_NE(err.find("relative to app.root"), std::string::npos) << err;
  EXPECT_EQ(Restore({"--exclude", ""}, 2, &err), std::set<std::string>{});
  EXPECT_NE(err.find("--exclude is empty (an unset variable?)"), std::string::npos) << err;
  EXPECT_EQ(Restore({"--include", "a\nb"}, 2, &err), std::set<std::string>{});
  EXPECT_EQ(err.find("a\nb"), std::string::npos) << "one error line: " << err;
  EXPECT_EQ(Restore({"--include", std::string(5000, '*')}, 2, &err), std::set<std::string>{});
  EXPECT_EQ(Restore({"--include", "storage", "--only", "db"}, 2, &err), std::set<std::string>{});
  // Patterns that reach upwards or hold fnmatch syntax errors match nothing: no escape.
  EXPECT_EQ(Restore({"--include", "../*"}, 2), std::set<std::string>{});
  EXPECT_EQ(Restore({"--include", "[", "--exclude", "\\"}, 2), std::set<std::string>{});
  // Many stars against short names stay fast (fnmatch, bounded length).
  EXPECT_EQ(Restore({"--include", "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"}, 2),
            std::set<std::string>{});
}

}  // namespace
}  // namespace velin::testing
