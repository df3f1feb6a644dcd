// The archiver on a MemEnv: a backup of an in-memory application tree into an in-memory
// repository, its snapshot stamped by the manual clock and this Env's host, incremental
// backups that store nothing new for an unchanged tree, exclusions, and an unreadable
// include refused. Milliseconds each.
#include "mem_repo.hpp"
#include "velin/backup/restorer.hpp"

namespace velin::backup {
namespace {

using ArchiverMemTest = MemRepoTest;

TEST_F(ArchiverMemTest, ABackupIsStampedByTheEnvsClockAndHost) {
  Put("storage/a.txt", "alpha\n");
  Put("storage/sub/b.bin", std::string(200'000, 'b'));
  ASSERT_TRUE(env_.Symlink("a.txt", "/app/storage/link"));
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_EQ(snap->time, "2026-01-01T00:00:00Z");  // the MemEnv's clock
  EXPECT_EQ(snap->unix_time, 1'767'225'600);
  EXPECT_EQ(snap->host, "mem-host");
  EXPECT_EQ(snap->app, "shop");
  EXPECT_EQ(snap->id.substr(snap->id.size() - 5), "-full") << snap->id;  // local-time prefix
  EXPECT_EQ(snap->stats.duration_ms, 0u);                                // no manual time passed
  EXPECT_GT(snap->stats.bytes_added, 0u);
  auto stored = backend_->List("snapshots/");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->size(), 1u);
  auto locks = backend_->List("locks/");
  ASSERT_TRUE(locks);
  EXPECT_TRUE(locks->empty());  // the commit lock was released
}

TEST_F(ArchiverMemTest, AnIncrementalOfAnUnchangedTreeStoresNoNewBlobs) {
  Put("storage/a.txt", "alpha\n");
  Put("storage/big.bin", std::string(300'000, 'x'));
  auto full = Backup();
  ASSERT_TRUE(full) << full.error().message;
  env_.Advance(std::chrono::hours(1));
  auto inc = Backup("incremental");
  ASSERT_TRUE(inc) << inc.error().message;
  EXPECT_EQ(inc->parent, full->id);
  EXPECT_EQ(inc->stats.blobs_added, 0u);
  EXPECT_EQ(inc->time, "2026-01-01T01:00:00Z");
  env_.Advance(std::chrono::hours(1));
  Put("storage/a.txt", "alpha, changed\n");
  auto changed = Backup("incremental");
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_GT(changed->stats.blobs_added, 0u);
}

TEST_F(ArchiverMemTest, TwoBackupsInOneMinuteGetDistinctIds) {
  Put("storage/a.txt", "alpha\n");
  auto first = Backup();
  ASSERT_TRUE(first) << first.error().message;
  auto second = Backup();
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_NE(first->id, second->id);
  EXPECT_EQ(second->id, first->id + "-2");
}

TEST_F(ArchiverMemTest, ExcludedPathsAreNotStored) {
  Put("storage/keep.txt", "keep\n");
  Put("storage/cache/junk.bin", "junk\n");
  auto snap = Backup("full", {"storage/cache"});
  ASSERT_TRUE(snap) << snap.error().message;
  Reopen();
  auto restored = RestoreSnapshot(*repo_, *snap, env_, quiet_, {.target = "/restore"});
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(Read("/restore/storage/keep.txt"), "keep\n");
  EXPECT_FALSE(*env_.Exists("/restore/storage/cache/junk.bin"));
}

TEST_F(ArchiverMemTest, AMissingIncludeIsRefusedAndLeavesNoSnapshot) {
  CreateOptions o;
  o.app_root = "/app";
  o.include = {"nowhere"};
  o.velin_version = "test";
  auto snap = CreateBackup(*repo_, env_, quiet_, o);
  ASSERT_FALSE(snap);
  EXPECT_NE(snap.error().message.find("nowhere"), std::string::npos) << snap.error().message;
  auto stored = backend_->List("snapshots/");
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->empty());
}

// backup.include names a path inside app.root: the one rule create and the config loader share.
TEST(IncludeRule, OnlyRelativePathsWithoutDotDotStayInsideTheRoot) {
  for (const char* inside : {"storage", "a/b", "./a", "a/./b", "a..b", "..a", "a/..b/c"}) {
    EXPECT_TRUE(IsIncludeInsideRoot(inside)) << inside;
  }
  for (const char* outside : {"", "/", "/etc", ".", "..", "../x", "a/..", "a/../b", "a/../../x"}) {
    EXPECT_FALSE(IsIncludeInsideRoot(outside)) << outside;
  }
}

TEST_F(ArchiverMemTest, AnIncludeOutsideTheRootIsAUsageError) {
  Put("storage/a.txt", "alpha\n");
  CreateOptions o;
  o.app_root = "/app";
  o.include = {"storage", "../etc"};
  o.velin_version = "test";
  auto snap = CreateBackup(*repo_, env_, quiet_, o);
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().code, ExitCode::kUsage) << snap.error().message;
  EXPECT_NE(snap.error().message.find("'../etc' must be a path inside app.root"), std::string::npos)
      << snap.error().message;
}

}  // namespace
}  // namespace velin::backup
