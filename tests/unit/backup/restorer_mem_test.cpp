// The restorer on a MemEnv: what a backup of an in-memory tree holds comes back byte for byte
// with its modes, mtimes, symlinks and hard links, a subtree alone with `only`, over an
// existing tree in place, and a symlink planted in the target is never written through.
#include "mem_repo.hpp"
#include "velin/backup/restorer.hpp"

namespace velin::backup {
namespace {

class RestorerMemTest : public MemRepoTest {
 protected:
  Result<RestoreStats> Restore(const repo::Snapshot& snap, RestoreOptions o) {
    Reopen();
    return RestoreSnapshot(*repo_, snap, env_, quiet_, o);
  }
};

TEST_F(RestorerMemTest, WhatWasBackedUpComesBackWithModesTimesAndLinks) {
  Put("storage/a.txt", "alpha\n", 0640);
  Put("storage/sub/big.bin", std::string(1 << 20, 'z') + "tail");
  Put("storage/run.sh", "#!/bin/sh\n", 0755);
  ASSERT_TRUE(env_.Symlink("../a.txt", "/app/storage/sub/link"));
  ASSERT_TRUE(env_.HardLink("/app/storage/a.txt", "/app/storage/a-again.txt"));
  ASSERT_TRUE(env_.SetMtime("/app/storage/run.sh", 1'000'000'000'000'000'000));
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;

  auto stats = Restore(*snap, {.target = "/restore"});
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->symlinks, 1u);
  EXPECT_EQ(stats->hardlinks, 1u);
  EXPECT_EQ(Read("/restore/storage/a.txt"), "alpha\n");
  EXPECT_EQ(Read("/restore/storage/sub/big.bin"), std::string(1 << 20, 'z') + "tail");
  auto link = env_.ReadLink("/restore/storage/sub/link");
  ASSERT_TRUE(link) << link.error().message;
  EXPECT_EQ(*link, "../a.txt");
  auto a = env_.Stat("/restore/storage/a.txt");
  auto again = env_.Stat("/restore/storage/a-again.txt");
  ASSERT_TRUE(a && again);
  EXPECT_EQ(a->inode, again->inode);  // one file under two names again
  EXPECT_EQ(a->mode, 0640u);
  auto run = env_.Stat("/restore/storage/run.sh");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->mode, 0755u);
  EXPECT_EQ(run->mtime_ns, 1'000'000'000'000'000'000);
  EXPECT_GE(env_.Syncs(), 1u);  // the target's file system was flushed
}

TEST_F(RestorerMemTest, OnlyASubtreeIsRestoredWhenAsked) {
  Put("storage/keep/a.txt", "a\n");
  Put("storage/other/b.txt", "b\n");
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;
  auto stats = Restore(*snap, {.target = "/restore", .only = "storage/keep"});
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(Read("/restore/storage/keep/a.txt"), "a\n");
  auto other = env_.Exists("/restore/storage/other");
  ASSERT_TRUE(other);
  EXPECT_FALSE(*other);
  auto missing = Restore(*snap, {.target = "/restore2", .only = "storage/none"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ExitCode::kUsage);
}

TEST_F(RestorerMemTest, AnInPlaceRestoreBringsBackChangedContent) {
  Put("storage/a.txt", "alpha\n");
  Put("storage/b.txt", "beta\n");
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;
  env_.Advance(std::chrono::minutes(5));
  Put("storage/a.txt", "vandalised\n");
  ASSERT_TRUE(env_.RemoveFile("/app/storage/b.txt"));
  auto stats = Restore(*snap, {.target = "/app", .in_place = true});
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(Read("/app/storage/a.txt"), "alpha\n");
  EXPECT_EQ(Read("/app/storage/b.txt"), "beta\n");
}

TEST_F(RestorerMemTest, ASymlinkPlantedInTheTargetIsNotWrittenThrough) {
  Put("storage/a.txt", "alpha\n");
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;
  ASSERT_TRUE(io::CreateDirs(env_, "/restore"));
  ASSERT_TRUE(io::CreateDirs(env_, "/etc"));
  ASSERT_TRUE(env_.Symlink("/etc", "/restore/storage"));  // someone's trap
  (void)Restore(*snap, {.target = "/restore"});           // refused or replaced: never followed
  auto escaped = env_.Exists("/etc/a.txt");
  ASSERT_TRUE(escaped);
  EXPECT_FALSE(*escaped);
}

}  // namespace
}  // namespace velin::backup
