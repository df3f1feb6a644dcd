// Releases: scanning, digests, hard-link dedup, config restore; and the engine's create and
// switch under every injected fault of a FaultInjectionEnv.
#include "velin/rollback/release.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>

#include "support/meddling_env.hpp"
#include "support/test_support.hpp"
#include "velin/io/fault_injection_env.hpp"
#include "velin/io/posix_env.hpp"
#include "velin/rollback/engine.hpp"

namespace velin::rollback {
namespace {

using velin::testing::ReadFileOrDie;
using velin::testing::TempDir;
using velin::testing::WriteFile;

uint64_t Links(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 ? st.st_nlink : 0;
}

TEST(ReleaseTest, DigestFollowsContentAndMode) {
  TempDir dir;
  io::Env& env = io::Env::Default();
  WriteFile(dir / "bin/app", "one");
  auto a = ScanTree(env, dir.path(), {"bin"}, true);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->size(), 2u);  // the directory and the file
  std::string d1 = DigestOf(*a);
  EXPECT_EQ(DigestOf(*ScanTree(env, dir.path(), {"bin"}, true)), d1);
  WriteFile(dir / "bin/app", "two");
  EXPECT_NE(DigestOf(*ScanTree(env, dir.path(), {"bin"}, true)), d1);
  ::chmod((dir / "bin/app").c_str(), 0700);
  WriteFile(dir / "bin/app", "one", 0700);
  EXPECT_NE(DigestOf(*ScanTree(env, dir.path(), {"bin"}, true)), d1);
  EXPECT_FALSE(ScanTree(env, dir.path(), {"missing"}, true));
  EXPECT_TRUE(ScanTree(env, dir.path(), {"missing"}, false));
  EXPECT_FALSE(ScanTree(env, dir.path(), {"../etc"}, true));
}

// create-version and create-snapshot may run as root on a tree its users write: a symlink to
// a secret, or a fifo, put in place of a file or directory after its lstat must not be stored
// in the release (and made live, readable) nor hang the command. The scan and the copies read
// only what was listed; anything else fails the command, which nothing was created by.
TEST(ReleaseTest, WhatIsSwappedWhileScannedOrCopiedFailsTheScanInsteadOfBeingRead) {
  TempDir dir;
  io::PosixEnv posix;
  WriteFile(dir / "secret/shadow", "SECRET");
  WriteFile(dir / "secret/x", "SECRET too");
  auto reset = [&] {
    (void)io::RemoveAll(posix, dir / "src");
    WriteFile(dir / "src/bin/app", "app");
    WriteFile(dir / "src/bin/lib/x", "x");
  };
  auto swap = [&](const std::string& path, const std::string& target) {
    ASSERT_TRUE(io::RemoveAll(posix, path));
    ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
  };
  const std::string app = dir / "src/bin/app", lib = dir / "src/bin/lib";
  struct Case {
    const char* what;
    std::function<void(velin::testing::MeddlingEnv&)> arm;
    std::string named;
  };
  const std::vector<Case> cases = {
      {"a file made a symlink at its open",
       [&](auto& env) { env.hooks[app] = [&] { swap(app, dir / "secret/shadow"); }; }, app},
      {"a file made a fifo at its open",
       [&](auto& env) {
         env.hooks[app] = [&] {
           ASSERT_EQ(::unlink(app.c_str()), 0);
           ASSERT_EQ(::mkfifo(app.c_str(), 0644), 0);
         };
       },
       app},
      {"a directory made a symlink at its open",
       [&](auto& env) { env.open_dir_hooks[lib] = [&] { swap(lib, dir / "secret"); }; }, lib},
  };
  for (const Case& c : cases) {
    reset();
    velin::testing::MeddlingEnv env(posix);
    c.arm(env);
    auto scanned = ScanTree(env, dir / "src", {"bin"}, true);
    ASSERT_FALSE(scanned) << c.what;
    EXPECT_EQ(scanned.error().message, c.named +
                                           " was replaced by another file while velin read it; "
                                           "nothing was created: run the command again")
        << c.what;
  }
  // Between the scan and the copy (a live config saved before a snapshot replaces it).
  for (bool checked : {false, true}) {
    reset();
    auto entries = ScanTree(posix, dir / "src", {"bin"}, true);
    ASSERT_TRUE(entries) << entries.error().message;
    swap(app, dir / "secret/shadow");
    auto made = Materialise(posix, *entries, dir / "src", dir / ("copy" + std::to_string(checked)),
                            DedupIndex(), checked);
    ASSERT_FALSE(made) << checked;
    EXPECT_NE(made.error().message.find(app + " was replaced by another file"), std::string::npos)
        << made.error().message;
  }
}

TEST(ReleaseTest, MaterialiseLinksIdenticalFilesAndKeepsSymlinks) {
  TempDir dir;
  io::Env& env = io::Env::Default();
  WriteFile(dir / "src/bin/same", "same content", 0755);
  WriteFile(dir / "src/bin/other", "v1");
  ASSERT_EQ(::symlink("same", (dir / "src/bin/link").c_str()), 0);
  auto entries = *ScanTree(env, dir / "src", {"bin"}, true);
  auto first = Materialise(env, entries, dir / "src", dir / "r1", DedupIndex());
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->copied, 2u);
  WriteFile(dir / "src/bin/other", "v2");
  auto entries2 = *ScanTree(env, dir / "src", {"bin"}, true);
  DedupIndex index;
  index.Add(dir / "r1", entries);
  auto second = Materialise(env, entries2, dir / "src", dir / "r2", index);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->linked, 1u);
  EXPECT_EQ(second->copied, 1u);
  EXPECT_EQ(Links(dir / "r2/bin/same"), 2u);
  EXPECT_EQ(Links(dir / "r2/bin/other"), 1u);
  EXPECT_EQ(ReadFileOrDie(dir / "r2/bin/other"), "v2");
  struct stat st {};
  ASSERT_EQ(::stat((dir / "r2/bin/same").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  char buf[64] = {0};
  ASSERT_GT(::readlink((dir / "r2/bin/link").c_str(), buf, sizeof buf), 0);
  EXPECT_STREQ(buf, "same");
  auto usage = MeasureTree(env, dir / "r2");
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->own, 2u);  // only "v2" is its own
}

// Releases share identical files by hard links, so an edit in place (vim writes into a file
// with several links) changes every release holding it: a new release must not link to a file
// that no longer holds what its release recorded, even one of the same size.
TEST(ReleaseTest, AStoredFileEditedInPlaceIsCopiedNotLinked) {
  TempDir dir;
  io::Env& env = io::Env::Default();
  WriteFile(dir / "src/bin/lib", "original", 0644);
  auto entries = *ScanTree(env, dir / "src", {"bin"}, true);
  ASSERT_TRUE(Materialise(env, entries, dir / "src", dir / "r1", DedupIndex()));
  {  // the same size, written into the stored inode
    FILE* f = std::fopen((dir / "r1/bin/lib").c_str(), "r+");
    ASSERT_NE(f, nullptr);
    std::fputs("HOTFIXED", f);
    std::fclose(f);
  }
  DedupIndex index;
  index.Add(dir / "r1", entries);
  auto second = Materialise(env, entries, dir / "src", dir / "r2", index, true);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->linked, 0u);
  EXPECT_EQ(second->copied, 1u);
  EXPECT_EQ(second->changed_in_place, std::vector<std::string>{dir / "r1/bin/lib"});
  EXPECT_EQ(ReadFileOrDie(dir / "r2/bin/lib"), "original");
  EXPECT_EQ(Links(dir / "r2/bin/lib"), 1u);
  // A mode changed on the shared inode counts as well.
  ASSERT_EQ(::chmod((dir / "r2/bin/lib").c_str(), 0600), 0);
  DedupIndex index2;
  index2.Add(dir / "r2", entries);
  auto third = Materialise(env, entries, dir / "src", dir / "r3", index2);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->linked, 0u);
  EXPECT_EQ(third->changed_in_place.size(), 1u);
}

// A source that changed between the scan and the copy (a build still writing) fails the copy
// when asked to check: the manifest would describe other bytes than the release holds.
TEST(ReleaseTest, ASourceChangedSinceTheScanFailsACheckedCopy) {
  TempDir dir;
  io::Env& env = io::Env::Default();
  WriteFile(dir / "src/bin/app", "scanned");
  auto entries = *ScanTree(env, dir / "src", {"bin"}, true);
  WriteFile(dir / "src/bin/app", "rewritten");
  auto checked = Materialise(env, entries, dir / "src", dir / "r1", DedupIndex(), true);
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().message,
            (dir / "src/bin/app") +
                " changed while it was being copied (a build still writing it?); nothing was "
                "created: run the command again");
  // Unchecked (a config restore copies what it just scanned itself): as before.
  EXPECT_TRUE(Materialise(env, entries, dir / "src", dir / "r2", DedupIndex()));
}

TEST(ReleaseTest, RestoreTreeReplacesFilesAndDirectories) {
  TempDir dir;
  io::Env& env = io::Env::Default();
  WriteFile(dir / "stored/.env", "A=1\n");
  WriteFile(dir / "stored/config/app.yml", "x: 1\n");
  WriteFile(dir / "app/.env", "A=2\n");
  WriteFile(dir / "app/config/app.yml", "x: 2\n");
  WriteFile(dir / "app/config/stray.yml", "y\n");
  WriteFile(dir / "app/keep", "k\n");
  ASSERT_TRUE(RestoreTree(env, dir / "stored", {".env", "config", "absent"}, dir / "app"));
  EXPECT_EQ(ReadFileOrDie(dir / "app/.env"), "A=1\n");
  EXPECT_EQ(ReadFileOrDie(dir / "app/config/app.yml"), "x: 1\n");
  EXPECT_NE(::access((dir / "app/config/stray.yml").c_str(), F_OK), 0);
  EXPECT_EQ(ReadFileOrDie(dir / "app/keep"), "k\n");
  // A file where a directory of a configured path belongs: an error naming it, nothing made.
  WriteFile(dir / "stored/conf/x.yml", "x\n");
  WriteFile(dir / "app/conf", "a file\n");
  auto blocked = RestoreTree(env, dir / "stored", {"conf/x.yml"}, dir / "app");
  ASSERT_FALSE(blocked);
  EXPECT_NE(blocked.error().message.find(dir / "app/conf"), std::string::npos)
      << blocked.error().message;
  EXPECT_EQ(ReadFileOrDie(dir / "app/conf"), "a file\n");
}

// velin may run as root (a timer, the watchdog) on an app.root its deploy user or application
// writes. A directory on a configured path made a symlink to /etc by that user must not have
// the snapshot's file written there (a cron.d entry of the user's choosing, run as root); a link
// that stays inside app.root (shared/config) or that root made is followed as before. The old
// live copy is removed through descriptors too.
TEST(ReleaseTest, RestoreTreeWritesThroughNoSymlinkOfAnotherUserLeadingOut) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (symlinks of another owner)";
  TempDir dir;
  io::Env& env = io::Env::Default();
  constexpr uid_t kDeploy = 65534;
  WriteFile(dir / "stored/config/app.yml", "x: 1\n");
  WriteFile(dir / "stored/conf.d/job", "* * * * * root id\n");
  ASSERT_EQ(::mkdir((dir / "etc").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir / "app").c_str(), 0755), 0);
  auto link = [&](const std::string& target, const std::string& path, uid_t uid) {
    ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
    ASSERT_EQ(::lchown(path.c_str(), uid, static_cast<gid_t>(-1)), 0);
  };
  link(dir / "etc", dir / "app/config", kDeploy);
  link(dir / "etc", dir / "app/conf.d", kDeploy);
  auto refused = RestoreTree(env, dir / "stored", {"config/app.yml"}, dir / "app");
  ASSERT_FALSE(refused);
  EXPECT_NE(
      refused.error().message.find(dir / "app/config is a symbolic link to " + dir / "etc" +
                                   " that user 65534 made, which leads out of " + dir / "app"),
      std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(RestoreTree(env, dir / "stored", {"conf.d/job"}, dir / "app"));
  auto listed = env.ListDir(dir / "etc");
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());  // no app.yml, no job, no .velin-new
  // The same paths as configured directories: the link itself is replaced, as before.
  ASSERT_TRUE(RestoreTree(env, dir / "stored", {"conf.d"}, dir / "app"));
  EXPECT_EQ(ReadFileOrDie(dir / "app/conf.d/job"), "* * * * * root id\n");
  EXPECT_TRUE(env.ListDir(dir / "etc")->empty());

  // Inside app.root (Capistrano's shared/config), or made by root: followed.
  ASSERT_EQ(::unlink((dir / "app/config").c_str()), 0);
  WriteFile(dir / "app/shared/config/app.yml", "x: 2\n");
  link("shared/config", dir / "app/config", kDeploy);
  ASSERT_TRUE(RestoreTree(env, dir / "stored", {"config/app.yml"}, dir / "app"));
  EXPECT_EQ(ReadFileOrDie(dir / "app/shared/config/app.yml"), "x: 1\n");
  ASSERT_EQ(::unlink((dir / "app/config").c_str()), 0);
  link(dir / "etc", dir / "app/config", 0);
  ASSERT_TRUE(RestoreTree(env, dir / "stored", {"config/app.yml"}, dir / "app"));
  EXPECT_EQ(ReadFileOrDie(dir / "etc/app.yml"), "x: 1\n");

  // The scan of the live config (before a switch saves it) refuses the same link.
  ASSERT_EQ(::unlink((dir / "app/config").c_str()), 0);
  link(dir / "etc", dir / "app/config", kDeploy);
  auto scanned = ScanTree(env, dir / "app", {"config/app.yml"}, false);
  ASSERT_FALSE(scanned);
  EXPECT_NE(scanned.error().message.find("leads out of"), std::string::npos);
  EXPECT_FALSE(RemoveConfigPath(env, dir / "app", "config/app.yml"));
  EXPECT_EQ(ReadFileOrDie(dir / "etc/app.yml"), "x: 1\n");
}

Settings ToySettings(const TempDir& dir) {
  Settings s;
  s.app_root = dir / "app";
  s.state_dir = dir / "state";
  s.current_link = dir / "app/current";
  s.artifacts = {"bin"};
  s.config = {".env"};
  return s;
}

// Whatever single create/write (also a short one: half its bytes, then the error)/sync/rename
// fails during create-version or to-version, the registry still loads, `current` names a
// complete release, and the next attempt succeeds.
TEST(EngineFaultTest, EveryFaultLeavesAConsistentState) {
  int fired = 0;
  using Case = std::pair<io::FaultOp, bool>;  // the call that fails, short write
  for (auto [op, short_write] : {Case{io::FaultOp::kWrite, false}, Case{io::FaultOp::kWrite, true},
                                 Case{io::FaultOp::kSync, false}, Case{io::FaultOp::kRename, false},
                                 Case{io::FaultOp::kCreate, false}}) {
    for (uint64_t nth = 1; nth <= 12; ++nth) {
      TempDir dir;
      io::FaultInjectionEnv env(io::Env::Default());
      NullReporter quiet;
      RollbackEngine engine(env, ToySettings(dir), quiet);
      WriteFile(dir / "app/bin/app", "v1");
      WriteFile(dir / "app/.env", "E=1");
      ASSERT_TRUE(engine.CreateVersion("v1", VersionKind::kVersion, false));
      ASSERT_TRUE(engine.ToVersion("v1", ""));
      WriteFile(dir / "app/bin/app", "v2");
      env.SetRule(io::FaultRule{op, nth, 5, false, short_write});
      bool created = engine.CreateVersion("v2", VersionKind::kSnapshot, false).has_value();
      Status switched = created ? engine.ToVersion("v2", "") : Status();
      fired += env.Fired() ? 1 : 0;
      env.SetRule(std::nullopt);
      (void)switched;
      auto reg = LoadRegistry(env, engine.layout());
      ASSERT_TRUE(reg) << reg.error().message;
      std::string current = ReadFileOrDie(dir / "app/current/bin/app");
      EXPECT_TRUE(current == "v1" || current == "v2");
      ASSERT_TRUE(engine.Recover());
      if (!created) {
        ASSERT_TRUE(engine.CreateVersion("v2", VersionKind::kSnapshot, true));
      }
      ASSERT_TRUE(engine.ToVersion("v2", ""));
      EXPECT_EQ(ReadFileOrDie(dir / "app/current/bin/app"), "v2");
    }
  }
  EXPECT_GE(fired, 50);  // the faults really hit create and switch
}

}  // namespace
}  // namespace velin::rollback
