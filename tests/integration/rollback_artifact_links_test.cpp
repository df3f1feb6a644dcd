// An artifact path that is itself a symlink (`bin -> build/bin`, a build tool's layout) is
// followed when a version is made: the version holds the files, not the link. Stored as a link,
// an absolute one kept leading to the live build (a switch to v3 after v4 ran v4's code, exit
// 0) and a relative one dangled inside the release.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

bool IsSymlinkPath(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

// app/build/bin holding version `name`, and app/build/run.sh saying it.
void BuildLinkedVersion(ToyApp& app, const std::string& name) {
  WriteFile(app.app() + "/build/bin/VERSION", name + "\n");
  WriteFile(app.app() + "/build/bin/lib.dat", std::string(4096, 'L'));
  WriteFile(app.app() + "/build/run.sh", "#!/bin/sh\necho " + name + "\n", 0755);
}

// bin -> build/bin and scripts -> build/run.sh (a directory and a file), spelled as `target`
// gives them (relative or absolute).
void LinkArtifacts(ToyApp& app, bool absolute) {
  const std::string build = absolute ? app.app() + "/build" : "build";
  ASSERT_EQ(::symlink((build + "/bin").c_str(), (app.app() + "/bin").c_str()), 0);
  ASSERT_EQ(::symlink((build + "/run.sh").c_str(), (app.app() + "/scripts").c_str()), 0);
}

TEST(RollbackArtifactLinksTest, AnArtifactThatIsASymlinkIsStoredAsWhatItLeadsTo) {
  for (bool absolute : {false, true}) {
    SCOPED_TRACE(absolute ? "absolute links" : "relative links");
    ToyApp app(NoService());
    BuildLinkedVersion(app, "v3");
    LinkArtifacts(app, absolute);
    RunResult r = app.Velin({"rollback", "create-version", "v3"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    BuildLinkedVersion(app, "v4");
    r = app.Velin({"rollback", "create-version", "v4"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ASSERT_EQ(app.Velin({"rollback", "to-version", "v4"}).exit_code, 0);
    r = app.Velin({"rollback", "to-version", "v3"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(app.Current(), "v3");
    const std::string release = app.state() + "/releases/v3";
    EXPECT_FALSE(IsSymlinkPath(release + "/bin"));
    EXPECT_TRUE(std::filesystem::is_directory(release + "/bin"));
    EXPECT_FALSE(IsSymlinkPath(release + "/scripts"));
    EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v3\n");
    EXPECT_EQ(ReadFileOrDie(app.app() + "/current/scripts"), "#!/bin/sh\necho v3\n");
    // The build changing again changes no version.
    BuildLinkedVersion(app, "v5");
    EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v3\n");
    ASSERT_EQ(app.Velin({"rollback", "to-version", "v4"}).exit_code, 0);
    EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v4\n");
  }
}

TEST(RollbackArtifactLinksTest, AnArtifactLinkToTheStateDirIsRefused) {
  ToyApp app(NoService());
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  std::filesystem::remove_all(app.app() + "/scripts");
  // The state dir is beside app/ in the toy: ../.velin, and `..`, which holds it.
  for (const std::string target : {"../.velin", "..", "../.velin/releases/v1"}) {
    std::filesystem::remove(app.app() + "/scripts");
    ASSERT_EQ(::symlink(target.c_str(), (app.app() + "/scripts").c_str()), 0);
    RunResult r = app.Velin({"rollback", "create-version", "v2"});
    EXPECT_EQ(r.exit_code, 2) << target << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("holds or lies in rollback.state_dir"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(app.state() + "/releases/v2")) << target;
  }
}

// A link to app.root itself or to `/` (`vendor -> .`, a stray `root -> /`) holds the whole
// application, as "." does: refused as a usage error that names it. Before, exit 1 and only
// `…/scripts: Is a directory`.
TEST(RollbackArtifactLinksTest, AnArtifactLinkToTheAppRootOrToSlashIsRefusedSayingSo) {
  ToyApp app(NoService());
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  std::filesystem::remove_all(app.app() + "/scripts");
  for (const std::string& target : std::vector<std::string>{".", app.app(), app.app() + "/", "/"}) {
    std::filesystem::remove(app.app() + "/scripts");
    ASSERT_EQ(::symlink(target.c_str(), (app.app() + "/scripts").c_str()), 0);
    RunResult r = app.Velin({"rollback", "create-version", "v2"});
    EXPECT_EQ(r.exit_code, 2) << target << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("rollback.artifacts: " + app.app() + "/scripts is a symbolic link to "),
              std::string::npos)
        << target << ": " << r.err;
    EXPECT_NE(r.err.find("which holds the whole application"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("Is a directory"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(app.state() + "/releases/v2")) << target;
  }
}

TEST(RollbackArtifactLinksTest, AnotherUsersArtifactLinkLeadingOutOfTheAppIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the link to another user";
  ToyApp app(NoService());
  app.Build("v1");
  TempDir elsewhere;
  WriteFile(elsewhere / "secret", "not the app's\n");
  std::filesystem::remove_all(app.app() + "/scripts");
  ASSERT_EQ(::symlink(elsewhere.path().c_str(), (app.app() + "/scripts").c_str()), 0);
  ASSERT_EQ(::lchown((app.app() + "/scripts").c_str(), 12345, 12345), 0);
  RunResult r = app.Velin({"rollback", "create-version", "v1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("that user 12345 made, which leads out of"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(app.state() + "/releases/v1"));
}

}  // namespace
}  // namespace velin::testing
