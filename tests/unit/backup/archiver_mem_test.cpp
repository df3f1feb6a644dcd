// The archiver on a MemEnv: a backup of an in-memory application tree into an in-memory
// repository, its snapshot stamped by the manual clock and this Env's host, incremental
// backups that store nothing new for an unchanged tree, exclusions, and an unreadable
// include refused. Milliseconds each.
#include <map>
#include <set>
#include <thread>

#include "mem_repo.hpp"
#include "velin/backup/dir_lister.hpp"
#include "velin/backup/forget.hpp"
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

// An incremental reuses the earlier backup's tree of a directory whose entries are all as they
// were, and writes new trees only on the path to what changed, here a file's mode alone.
TEST_F(ArchiverMemTest, OnlyTheDirectoriesAboveAChangeGetNewTrees) {
  Put("storage/a/b/deep.txt", "deep\n");
  Put("storage/x/y/other.txt", "other\n");
  auto full = Backup();
  ASSERT_TRUE(full) << full.error().message;
  env_.Advance(std::chrono::hours(1));
  auto same = Backup("incremental");
  ASSERT_TRUE(same) << same.error().message;
  EXPECT_EQ(same->sources.at(0).tree, full->sources.at(0).tree);
  ASSERT_TRUE(env_.SetMode("/app/storage/a/b/deep.txt", 0600));
  env_.Advance(std::chrono::hours(1));
  auto changed = Backup("incremental");
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_NE(changed->sources.at(0).tree, full->sources.at(0).tree);
  // The subtree of each top-level directory, by name, in a backup.
  auto subtrees = [&](const repo::Snapshot& snap) {
    std::map<std::string, repo::BlobId> out;
    auto top = repo_->ReadTree(snap.sources.at(0).tree);
    if (!top) {
      ADD_FAILURE() << top.error().message;
      return out;
    }
    auto storage = repo_->ReadTree(top->nodes.at(0).subtree);
    if (!storage) {
      ADD_FAILURE() << storage.error().message;
      return out;
    }
    for (const auto& n : storage->nodes) out[n.name] = n.subtree;
    return out;
  };
  Reopen();  // the index with the last backup's trees
  auto before = subtrees(*full);
  auto after = subtrees(*changed);
  EXPECT_EQ(after.at("x"), before.at("x"));
  EXPECT_NE(after.at("a"), before.at("a"));
  auto restored = RestoreSnapshot(*repo_, *changed, env_, quiet_, {.target = "/restore"});
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(Read("/restore/storage/a/b/deep.txt"), "deep\n");
  EXPECT_EQ(env_.Stat("/restore/storage/a/b/deep.txt")->mode, 0600u);
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

// An incremental, then a full in the same second: "…-incr" sorts above "…-full-2", but the full
// began later and is the newer for `latest`, the next backup's parent and keep_last.
TEST_F(ArchiverMemTest, AFullBegunAfterAnIncrementalInOneSecondIsTheNewer) {
  Put("storage/a.txt", "alpha\n");
  ASSERT_TRUE(Backup());
  env_.Advance(std::chrono::milliseconds(100));
  auto incr = Backup("incremental");
  ASSERT_TRUE(incr) << incr.error().message;
  env_.Advance(std::chrono::milliseconds(300));
  auto full = Backup("full");
  ASSERT_TRUE(full) << full.error().message;
  ASSERT_EQ(incr->unix_time, full->unix_time);
  EXPECT_EQ(incr->time_ns, 100'000'000);
  EXPECT_EQ(full->time_ns, 400'000'000);
  EXPECT_GT(incr->id, full->id);  // the ids alone would rank the incremental first
  auto latest = repo_->ResolveSnapshotId("latest");
  ASSERT_TRUE(latest) << latest.error().message;
  EXPECT_EQ(*latest, full->id);
  auto next = Backup("incremental");
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->parent, full->id);
  EXPECT_EQ(next->time_ns, 400'000'000);  // the clock did not move: equal instants, by id
  RetentionRules rules;
  rules.keep_last = 2;
  auto forgotten = ForgetSnapshots(*repo_, rules, env_.Now(), false, {.all = true}, quiet_);
  ASSERT_TRUE(forgotten) << forgotten.error().message;
  auto left = repo_->ListSnapshotIds();
  ASSERT_TRUE(left);
  EXPECT_EQ(std::set<std::string>(left->begin(), left->end()),
            (std::set<std::string>{full->id, next->id}));
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
  for (const char* outside :
       {"", "/", "/etc", ".", "./", ".//.", "..", "../x", "a/..", "a/../b", "a/../../x"}) {
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

// The lister (velin/backup/dir_lister.hpp) lists ahead of the walk. Whatever it was given and
// whatever changed since, the backup is the one the walk alone makes.
class DirListerMemTest : public MemRepoTest {
 protected:
  CreateOptions Options(std::vector<std::string> include = {"storage"}) {
    CreateOptions o;
    o.app_root = "/app";
    o.include = std::move(include);
    o.velin_version = "test";
    o.app = "shop";
    return o;
  }
  // The tree ids a backup with `o` makes (one per include).
  std::vector<repo::BlobId> Trees(const CreateOptions& o) {
    Reopen();
    auto snap = CreateBackup(*repo_, env_, quiet_, o);
    EXPECT_TRUE(snap) << snap.error().message;
    std::vector<repo::BlobId> out;
    if (snap) {
      for (const auto& s : snap->sources) out.push_back(s.tree);
    }
    return out;
  }
};

TEST_F(DirListerMemTest, TheWalkTakesEveryListingInItsOrder) {
  // "a/b" is walked before "a-c" although '/' sorts after '-': the walk's order, not the
  // strings'.
  Put("storage/a/b/one.txt", "1");
  Put("storage/a-c/two.txt", "2");
  Put("storage/z/three.txt", "3");
  Put("other/four.txt", "4");
  ASSERT_TRUE(env_.Symlink("other", "/app/linked"));
  Put("file.txt", "5");
  CreateOptions o = Options({"storage", "linked", "file.txt"});
  const auto alone = Trees(o);
  DirLister lister(env_, o);
  o.lister = &lister;
  EXPECT_EQ(Trees(o), alone);
  EXPECT_EQ(lister.taken(), 6u);  // storage, a, a/b, a-c, z; linked
  EXPECT_EQ(lister.missed(), 0u);
}

TEST_F(DirListerMemTest, ListingsOfDirectoriesTheWalkSkipsAreDropped) {
  Put("storage/a/b/one.txt", "1");
  Put("storage/a-c/two.txt", "2");
  CreateOptions o = Options();
  o.skip_paths = {"/app/storage/a"};
  const auto alone = Trees(o);
  DirLister lister(env_, Options());  // not told of the skip path
  o.lister = &lister;
  EXPECT_EQ(Trees(o), alone);
  EXPECT_EQ(lister.taken(), 2u);  // storage, a-c; a and a/b dropped
  EXPECT_EQ(lister.missed(), 0u);
}

// A listing taken is the directory as it was listed, as a walk's own listing is the directory as
// it was when the walk began it; the bound on its age is the next test's.
TEST_F(DirListerMemTest, WhatChangedAfterTheListingIsWalkedAsItWasListed) {
  Put("storage/a/one.txt", "1");
  Put("storage/c/two.txt", "2");
  CreateOptions o = Options();
  DirLister lister(env_, o);
  lister.WaitDone();
  Put("storage/b/new.txt", "new");
  Put("storage/c/late.txt", "late");
  o.lister = &lister;
  const auto with_lister = Trees(o);
  EXPECT_EQ(lister.taken(), 3u);  // storage (without b), a, c (without late.txt)
  EXPECT_EQ(lister.missed(), 0u);
  ASSERT_TRUE(env_.RemoveFile("/app/storage/c/late.txt"));
  ASSERT_TRUE(env_.RemoveFile("/app/storage/b/new.txt"));
  ASSERT_TRUE(env_.RemoveDir("/app/storage/b"));
  o.lister = nullptr;
  EXPECT_EQ(Trees(o), with_lister);  // the tree as it was listed
}

TEST_F(DirListerMemTest, AListingOlderThanTheBoundIsMadeAgain) {
  Put("storage/a/one.txt", "1");
  CreateOptions o = Options();
  DirLister lister(env_, o);
  lister.WaitDone();
  Put("storage/a/late.txt", "late");
  env_.Advance(DirLister::kMaxAge + std::chrono::seconds(1));
  o.lister = &lister;
  const auto with_lister = Trees(o);
  EXPECT_EQ(lister.taken(), 0u);
  EXPECT_EQ(lister.missed(), 2u);
  o.lister = nullptr;
  EXPECT_EQ(Trees(o), with_lister);  // late.txt is in
}

// A listing that waited for room is as old as the listing, not as the wait: made before the
// clock moves on, it is made again after.
TEST_F(DirListerMemTest, AListingThatWaitedForRoomIsAsOldAsItsListing) {
  for (const char* dir : {"storage/a", "storage/b"}) {
    ASSERT_TRUE(io::CreateDirs(env_, std::string("/app/") + dir));
    for (int i = 0; i < 20'000; ++i) {
      ASSERT_TRUE(env_.Symlink("x", std::string("/app/") + dir + "/" + std::to_string(i)));
    }
  }
  DirLister lister(env_, Options());
  ASSERT_TRUE(lister.Take(0, "/app/storage"));
  // b is listed and waits for room (a holds 20,000 of the 32,768 entries).
  for (int i = 0; i < 10'000 && lister.listed() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(lister.listed(), 3u);
  env_.Advance(DirLister::kMaxAge + std::chrono::seconds(1));
  EXPECT_FALSE(lister.Take(0, "/app/storage/a"));  // room for b from here on
  EXPECT_FALSE(lister.Take(0, "/app/storage/b"));
  EXPECT_EQ(lister.taken(), 1u);
  EXPECT_EQ(lister.missed(), 2u);
}

TEST_F(DirListerMemTest, AListerThatIsAheadStopsAtOnceAndNeverHoldsMoreThanItsBound) {
  // Three directories of 20,000 entries each: the second waits for room, and Stop (the
  // destructor) ends the wait.
  for (const char* dir : {"storage/a", "storage/b", "storage/c"}) {
    ASSERT_TRUE(io::CreateDirs(env_, std::string("/app/") + dir));
    for (int i = 0; i < 20'000; ++i) {
      ASSERT_TRUE(env_.Symlink("x", std::string("/app/") + dir + "/" + std::to_string(i)));
    }
  }
  {
    DirLister lister(env_, Options());
    auto storage = lister.Take(0, "/app/storage");
    ASSERT_TRUE(storage);
    EXPECT_EQ(storage->entries.size(), 3u);
  }  // joined with a listing waiting for room
  DirLister lister(env_, Options());
  for (const char* dir : {"/app/storage", "/app/storage/a", "/app/storage/b", "/app/storage/c"}) {
    auto listing = lister.Take(0, dir);
    ASSERT_TRUE(listing) << dir;
    for (const auto& info : listing->infos) ASSERT_TRUE(info && *info) << dir;
  }
  lister.Stop();
  EXPECT_FALSE(lister.Take(0, "/app/storage/d"));
  EXPECT_EQ(lister.taken(), 4u);
}

}  // namespace
}  // namespace velin::backup
