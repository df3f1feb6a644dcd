// Paths below a tree that others may write, walked as root: io::RemoveAll empties each
// directory through its own descriptor (a directory swapped for a symlink after its lstat loses
// the link, not what it leads to), and io::OpenDirBeneath reaches a directory below a root
// through descriptors, following a symlink on the way only where it stays below the root or
// where root (or velin's own user) made it.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "support/meddling_env.hpp"
#include "support/test_support.hpp"
#include "velin/io/env.hpp"
#include "velin/io/posix_env.hpp"

namespace velin::io {
namespace {

using velin::testing::ReadFileOrDie;
using velin::testing::TempDir;
using velin::testing::WriteFile;

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// A symlink at `path` to `target`, owned by `uid` (lchown: root only).
void Link(const std::string& target, const std::string& path, uid_t uid) {
  ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0) << path;
  ASSERT_EQ(::lchown(path.c_str(), uid, static_cast<gid_t>(-1)), 0) << path;
}

// rm -rf of a tree whose writer swaps a directory for a symlink to /etc (here: `keep`) right
// after its lstat. Before, the listing followed the link and emptied `keep`.
TEST(RemoveAllTest, ADirectorySwappedForASymlinkAfterItsLstatLosesTheLinkOnly) {
  TempDir dir;
  PosixEnv posix;
  velin::testing::MeddlingEnv env(posix);
  WriteFile(dir / "keep/precious", "p");
  WriteFile(dir / "tree/sub/a", "a");
  WriteFile(dir / "tree/sub/deeper/b", "b");
  WriteFile(dir / "tree/top", "t");
  int swapped = 0;
  env.stat_hooks[dir / "tree/sub"] = [&] {
    if (swapped++ != 0) return;
    ASSERT_EQ(::rename((dir / "tree/sub").c_str(), (dir / "moved").c_str()), 0);
    ASSERT_EQ(::symlink((dir / "keep").c_str(), (dir / "tree/sub").c_str()), 0);
  };
  auto removed = RemoveAll(env, dir / "tree");
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(swapped, 1);
  EXPECT_FALSE(Exists(dir / "tree"));
  EXPECT_EQ(ReadFileOrDie(dir / "keep/precious"), "p");
  EXPECT_EQ(ReadFileOrDie(dir / "moved/deeper/b"), "b");  // moved away: not velin's to remove
}

TEST(RemoveAllTest, RemovesTreesFilesLinksAndMissingPaths) {
  TempDir dir;
  Env& env = Env::Default();
  WriteFile(dir / "outside/x", "x");
  WriteFile(dir / "t/a/b/c", "c");
  ASSERT_EQ(::symlink((dir / "outside").c_str(), (dir / "t/a/link").c_str()), 0);
  ASSERT_TRUE(RemoveAll(env, dir / "t/"));
  EXPECT_FALSE(Exists(dir / "t"));
  EXPECT_EQ(ReadFileOrDie(dir / "outside/x"), "x");
  ASSERT_EQ(::symlink((dir / "outside").c_str(), (dir / "l").c_str()), 0);
  ASSERT_TRUE(RemoveAll(env, dir / "l"));  // the link, not its target
  EXPECT_FALSE(Exists(dir / "l"));
  EXPECT_TRUE(Exists(dir / "outside/x"));
  EXPECT_TRUE(RemoveAll(env, dir / "missing"));
  EXPECT_TRUE(RemoveAll(env, dir / "missing/below"));
  EXPECT_FALSE(RemoveAll(env, dir / "outside/.."));
}

class BeneathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (symlinks of another owner)";
    WriteFile(dir_ / "app/shared/config/app.yml", "shared");
    WriteFile(dir_ / "etc/passwd", "root:x:0:0");
  }
  // The path of the directory `rel` below app/ as reached, or the error.
  std::string Reach(const std::string& rel, bool create = false) {
    BeneathOptions options;
    options.create = create;
    auto dir = OpenDirBeneath(env_, dir_ / "app", rel, options);
    if (!dir) return "error: " + dir.error().message;
    auto self = env_.StatAt(**dir, ".");
    EXPECT_TRUE(self);
    struct stat st {};
    // Which directory it is: compare with the candidates' inodes.
    for (const char* candidate :
         {"app", "app/shared", "app/shared/config", "etc", "app/new/deep", "app/real"}) {
      if (::stat((dir_ / candidate).c_str(), &st) == 0 && st.st_ino == self->inode) {
        return candidate;
      }
    }
    return "elsewhere";
  }
  TempDir dir_;
  PosixEnv env_;
  static constexpr uid_t kDeploy = 65534;  // nobody: the deploy user or the application
};

TEST_F(BeneathTest, PlainDirectoriesAndMadeOnes) {
  EXPECT_EQ(Reach(""), "app");
  EXPECT_EQ(Reach("shared/config"), "app/shared/config");
  EXPECT_EQ(Reach("./shared//config/"), "app/shared/config");
  EXPECT_NE(Reach("new/deep").find("error: "), std::string::npos);
  EXPECT_EQ(Reach("new/deep", true), "app/new/deep");
  EXPECT_NE(Reach("shared/../shared").find("'..'"), std::string::npos);
  EXPECT_NE(Reach("shared/config/app.yml").find("Not a directory"), std::string::npos);
}

TEST_F(BeneathTest, ARelativeRootIsTakenFromTheWorkingDirectory) {
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  ASSERT_EQ(::chdir(dir_.path().c_str()), 0);
  Link("shared", dir_ / "app/in", kDeploy);
  auto dir = OpenDirBeneath(env_, "app", "in/config");
  auto out = OpenDirBeneath(env_, "./app/", "../etc");
  ASSERT_EQ(::chdir(cwd), 0);
  ASSERT_TRUE(dir) << dir.error().message;
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "app/shared/config").c_str(), &st), 0);
  EXPECT_EQ(env_.StatAt(**dir, ".")->inode, st.st_ino);
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("'..'"), std::string::npos);
}

TEST_F(BeneathTest, ALinkOfAnotherOwnerIsFollowedOnlyWhereItStaysBelowTheRoot) {
  Link("shared/config", dir_ / "app/config", kDeploy);             // relative, inside
  Link(dir_ / "app/shared", dir_ / "app/abs", kDeploy);            // absolute, inside
  Link("../etc", dir_ / "app/out", kDeploy);                       // relative, outside
  Link(dir_ / "etc", dir_ / "app/outabs", kDeploy);                // absolute, outside
  Link("shared/../../etc", dir_ / "app/sneaky", kDeploy);          // out through ..
  Link("shared/config/../../shared", dir_ / "app/back", kDeploy);  // .. that stays inside
  EXPECT_EQ(Reach("config"), "app/shared/config");
  EXPECT_EQ(Reach("abs/config"), "app/shared/config");
  EXPECT_EQ(Reach("back"), "app/shared");
  for (const char* out : {"out", "outabs", "sneaky"}) {
    const std::string got = Reach(out, true);
    EXPECT_NE(got.find("error: " + (dir_ / "app/") + out + " is a symbolic link to "),
              std::string::npos)
        << got;
    EXPECT_NE(got.find("that user 65534 made, which leads out of " + (dir_ / "app")),
              std::string::npos)
        << got;
  }
  EXPECT_FALSE(Exists(dir_ / "etc/new"));
}

// app.root itself a link (/srv/shop -> /data/shop): a link naming a place inside it by its real
// path stays inside.
TEST_F(BeneathTest, ALinkIntoTheRootByItsRealPathStaysInside) {
  ASSERT_EQ(::symlink((dir_ / "app").c_str(), (dir_ / "alias").c_str()), 0);
  Link(dir_ / "app/shared/config", dir_ / "app/byreal", kDeploy);
  Link(dir_ / "alias/shared/config", dir_ / "app/byalias", kDeploy);
  for (const char* link : {"byreal", "byalias"}) {
    auto dir = OpenDirBeneath(env_, dir_ / "alias", link);
    ASSERT_TRUE(dir) << link << ": " << dir.error().message;
    struct stat st {};
    ASSERT_EQ(::stat((dir_ / "app/shared/config").c_str(), &st), 0);
    EXPECT_EQ(env_.StatAt(**dir, ".")->inode, st.st_ino) << link;
  }
}

TEST_F(BeneathTest, ALinkRootMadeIsFollowedWhereverItLeads) {
  Link(dir_ / "etc", dir_ / "app/conf", 0);
  EXPECT_EQ(Reach("conf"), "etc");
  // A link of another owner met there is judged the same way: it leads out of app/.
  Link(dir_ / "app/shared", dir_ / "etc/back-in", kDeploy);
  Link("/", dir_ / "etc/root", kDeploy);
  EXPECT_EQ(Reach("conf/back-in"), "app/shared");
  EXPECT_NE(Reach("conf/root").find("leads out of"), std::string::npos);
}

TEST_F(BeneathTest, AnEntryIsFoundByTheSameRuleAndNeverIsALinkLeadingOut) {
  auto name_of = [&](const std::string& rel, bool create = false) -> std::string {
    BeneathOptions options;
    options.create = create;
    auto found = OpenEntryBeneath(env_, dir_ / "app", rel, options);
    if (!found) return "error: " + found.error().message;
    return found->dir->path() + " " + found->name;
  };
  EXPECT_EQ(name_of("shared/config/app.yml"), dir_ / "app/shared/config app.yml");
  EXPECT_EQ(name_of("shared/config/missing.yml"), dir_ / "app/shared/config missing.yml");
  EXPECT_NE(name_of("var/db/app.db").find("error: "), std::string::npos);
  EXPECT_EQ(name_of("var/db/app.db", true), dir_ / "app/var/db app.db");
  Link("shared/config/app.yml", dir_ / "app/app.yml", kDeploy);      // inside
  Link(dir_ / "etc/passwd", dir_ / "app/passwd", kDeploy);           // out
  Link(dir_ / "etc/passwd", dir_ / "app/rootmade", 0);               // out, by root
  Link(dir_ / "etc/nowhere", dir_ / "app/dangling", kDeploy);        // out, to nothing
  Link("shared/config/new.yml", dir_ / "app/dangling-in", kDeploy);  // in, to nothing
  EXPECT_EQ(name_of("app.yml"), dir_ / "app/shared/config app.yml");
  EXPECT_NE(name_of("passwd").find("leads out of"), std::string::npos);
  EXPECT_EQ(name_of("rootmade"), dir_ / "etc passwd");
  EXPECT_NE(name_of("dangling").find("leads out of"), std::string::npos);
  EXPECT_EQ(name_of("dangling-in"), dir_ / "app/shared/config new.yml");
  EXPECT_NE(name_of("").find("no file named"), std::string::npos);
}

TEST_F(BeneathTest, LoopsEndAndADirectorySwappedForALinkIsNotFollowed) {
  Link("loop2", dir_ / "app/loop1", kDeploy);
  Link("loop1", dir_ / "app/loop2", kDeploy);
  const std::string loop = Reach("loop1");
  EXPECT_NE(loop.find("error: "), std::string::npos);
  EXPECT_NE(loop.find(strerror(ELOOP)), std::string::npos) << loop;
  // Swapped between its lstat and its opening: refused, not followed.
  ASSERT_EQ(::mkdir((dir_ / "app/real").c_str(), 0755), 0);
  velin::testing::MeddlingEnv meddling(env_);
  meddling.stat_hooks[dir_ / "app/real"] = [&] {
    if (!Exists(dir_ / "app/real-moved")) {
      ASSERT_EQ(::rename((dir_ / "app/real").c_str(), (dir_ / "app/real-moved").c_str()), 0);
      ASSERT_EQ(::symlink((dir_ / "etc").c_str(), (dir_ / "app/real").c_str()), 0);
    }
  };
  auto dir = OpenDirBeneath(meddling, dir_ / "app", "real");
  ASSERT_FALSE(dir);
  EXPECT_NE(dir.error().message.find("was replaced while velin opened it"), std::string::npos)
      << dir.error().message;
}

}  // namespace
}  // namespace velin::io
