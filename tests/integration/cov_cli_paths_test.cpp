// Paths on the command line (issue 16 §5): a relative --destination, --target or repository
// is taken against the current directory; when that directory has been removed under the
// shell (a deploy replaced it), velin says which path it could not resolve and writes nothing
// anywhere, instead of backing up into or restoring to a guessed place.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

class CovCliPaths : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    app_ = new BackupApp({"storage"});
    WriteFile(app_->root() + "/storage/a.txt", "alpha");
    ASSERT_EQ(app_->Run({"backup", "create"}).exit_code, 0);
  }
  static void TearDownTestSuite() {
    delete app_;
    app_ = nullptr;
  }

  // Runs velin with `args` (and --config naming the app's velin.toml) from a directory that
  // the shell removes just before velin starts.
  static RunResult RunInRemovedDirectory(const std::vector<std::string>& args) {
    const std::string gone = app_->path("gone");
    fs::create_directories(gone);
    std::vector<std::string> argv = {"sh",
                                     "-c",
                                     "cd \"$0\" && rmdir \"$0\" && exec \"$@\"",
                                     gone,
                                     VelinBinary(),
                                     "--config",
                                     app_->path("velin.toml")};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions o;
    o.env = {{"LANG", "C"}};
    RunResult r = RunProgram(argv, o);
    EXPECT_FALSE(fs::exists(gone));
    return r;
  }

  static BackupApp* app_;
};

BackupApp* CovCliPaths::app_ = nullptr;

TEST_F(CovCliPaths, ARelativeDestinationWithoutACurrentDirectoryIsNamed) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"backup", "list", "--destination", "repo2"},
        {"backup", "init", "--destination", "repo2"},
        {"backup", "create", "--destination", "repo2"}}) {
    RunResult r = RunInRemovedDirectory(args);
    EXPECT_EQ(r.exit_code, 1) << args[1];
    EXPECT_EQ(r.err,
              "error: 'repo2' is relative to the current directory, which cannot be read: No "
              "such file or directory\n")
        << args[1];
    if (args[1] != "create") {
      EXPECT_EQ(r.out, "") << args[1];  // create said it began
    }
  }
  EXPECT_FALSE(fs::exists(app_->path("repo2")));
}

TEST_F(CovCliPaths, ARelativeRestoreTargetWithoutACurrentDirectoryIsNamed) {
  RunResult r = RunInRemovedDirectory({"backup", "restore", "latest", "--target", "out"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "error: 'out' is relative to the current directory, which cannot be read: No such "
            "file or directory\n");
  EXPECT_FALSE(fs::exists(app_->path("out")));
  // The same restore from a directory that exists lands below it.
  fs::create_directories(app_->path("here"));
  RunOptions o;
  o.cwd = app_->path("here");
  RunResult ok = RunVelin(
      {"--config", app_->path("velin.toml"), "backup", "restore", "latest", "--target", "out"}, o);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ReadFileOrDie(app_->path("here/out/storage/a.txt")), "alpha");
}

TEST_F(CovCliPaths, InitWithoutADestinationSaysWhichSettingIsMissing) {
  WriteFile(app_->path("norepo.toml"),
            "[app]\nroot = \"app\"\n[backup]\ninclude = [\"storage\"]\ndestination = \"\"\n");
  RunResult r = app_->Run({"--config", app_->path("norepo.toml"), "backup", "init"},
                          {.env = {{"LANG", "C"}}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: no backup.destination configured\n");
}

}  // namespace
}  // namespace velin::testing
