// The pruner on a MemEnv: after a backup is forgotten, prune removes what only it used and
// the remaining backup restores; a dry run changes nothing; a pack no index lists (a create
// still running) is left alone until it is older than the stale age by the manual clock.
#include <algorithm>
#include <cerrno>
#include <functional>
#include <set>

#include "mem_repo.hpp"
#include "support/removal_log_env.hpp"
#include "velin/backup/pruner.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/repo/blob_writer.hpp"
#include "velin/repo/index.hpp"

namespace velin::backup {
namespace {

class PrunerMemTest : public MemRepoTest {
 protected:
  Result<PruneResult> Prune(PruneOptions options = {}) {
    Reopen();
    return backup::Prune(*repo_, env_, options, quiet_);
  }

  // Every file under /repo with its content.
  std::map<std::string, std::string> Files() {
    std::map<std::string, std::string> out;
    std::function<void(const std::string&)> walk = [&](const std::string& dir) {
      auto entries = env_.ListDir(dir);
      ASSERT_TRUE(entries) << entries.error().message;
      for (const auto& e : *entries) {
        const std::string path = dir + "/" + e.name;
        if (e.type == io::FileType::kDirectory) {
          walk(path);
        } else {
          out[path] = Read(path);
        }
      }
    };
    walk("/repo");
    return out;
  }

  // Two backups of different data, the first forgotten (prune then has packs to remove); the
  // second, or the error.
  Result<repo::Snapshot> TwoBackupsTheFirstForgotten() {
    Put("storage/a.txt", std::string(100'000, 'a'));
    VELIN_ASSIGN(repo::Snapshot first, Backup());
    env_.Advance(std::chrono::hours(1));
    Put("storage/a.txt", std::string(100'000, 'b'));
    VELIN_ASSIGN(repo::Snapshot second, Backup());
    VELIN_TRY(backend_->Delete(repo::SnapshotObjectName(first.id)));
    return second;
  }
};

TEST_F(PrunerMemTest, AForgottenBackupsDataGoesAndTheOtherStillRestores) {
  auto second = TwoBackupsTheFirstForgotten();
  ASSERT_TRUE(second) << second.error().message;

  const auto before = Files();
  PruneOptions dry;
  dry.dry_run = true;
  auto planned = Prune(dry);
  ASSERT_TRUE(planned) << planned.error().message;
  EXPECT_FALSE(planned->changed);
  EXPECT_GT(planned->blobs_removed, 0u);
  EXPECT_EQ(Files(), before);  // a dry run writes and deletes nothing

  auto pruned = Prune();
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_TRUE(pruned->changed);
  EXPECT_EQ(pruned->snapshots, 1u);
  EXPECT_GT(pruned->blobs_removed, 0u);
  EXPECT_GE(pruned->packs_deleted + pruned->packs_repacked, 1u);
  EXPECT_LT(pruned->bytes_after, pruned->bytes_before);

  Reopen();
  auto restored = RestoreSnapshot(*repo_, *second, env_, quiet_, {.target = "/restore"});
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(Read("/restore/storage/a.txt"), std::string(100'000, 'b'));
  auto again = Prune();
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->changed);  // nothing left to do
}

TEST_F(PrunerMemTest, AYoungUnindexedPackIsLeftAloneUntilTheStaleAgeHasPassed) {
  Put("storage/a.txt", "alpha\n");
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;
  // A pack as a running create has it: written, its index object not yet.
  auto index_before = backend_->List("index/");
  ASSERT_TRUE(index_before);
  {
    repo::BlobWriter writer(*repo_, {.codec = repo::Codec::kNone, .workers = 1});
    const std::string blob = "a blob of a create still running";
    ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(blob), blob));
    ASSERT_TRUE(writer.Flush());
  }
  auto index_after = backend_->List("index/");
  ASSERT_TRUE(index_after);
  std::set<std::string> old_names;
  for (const auto& o : *index_before) old_names.insert(o.name);
  for (const auto& o : *index_after) {
    if (old_names.count(o.name) == 0) {
      ASSERT_TRUE(backend_->Delete(o.name));
    }
  }
  auto packs = backend_->List("data/");
  ASSERT_TRUE(packs);
  const size_t pack_count = packs->size();

  env_.Advance(std::chrono::minutes(29));
  auto young = Prune();
  ASSERT_TRUE(young) << young.error().message;
  EXPECT_EQ(young->packs_young, 1u);
  EXPECT_EQ(young->packs_deleted, 0u);
  ASSERT_EQ(backend_->List("data/")->size(), pack_count);

  env_.Advance(std::chrono::minutes(2));  // 31 minutes old: no create runs that long unlocked
  auto old = Prune();
  ASSERT_TRUE(old) << old.error().message;
  EXPECT_EQ(old->packs_young, 0u);
  EXPECT_EQ(old->packs_deleted, 1u);
  EXPECT_EQ(backend_->List("data/")->size(), pack_count - 1);
}

// The old index objects' removal is durable (their directory fsynced) before the first pack
// goes: an index object brought back by a crash must never name a pack that is gone. The
// removed packs' directories are fsynced before prune reports success.
TEST_F(PrunerMemTest, OldIndexRemovalsAreDurableBeforeAnyPackGoes) {
  ASSERT_TRUE(TwoBackupsTheFirstForgotten());

  velin::testing::RemovalLogEnv logged(env_);
  auto backend = storage::LocalBackend::Open(logged, "/repo", false);
  ASSERT_TRUE(backend) << backend.error().message;
  auto repository = repo::Repository::Open(**backend, false);
  ASSERT_TRUE(repository) << repository.error().message;
  ASSERT_TRUE((*repository)->LoadIndex());
  auto pruned = backup::Prune(**repository, env_, {}, quiet_);
  ASSERT_TRUE(pruned) << pruned.error().message;
  ASSERT_GE(pruned->packs_deleted + pruned->packs_repacked, 1u);

  const auto& log = logged.log;
  auto first_of = [&](const std::string& prefix) {
    return std::find_if(log.begin(), log.end(),
                        [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
  };
  auto last_of = [&](const std::string& prefix) {
    auto it = std::find_if(log.rbegin(), log.rend(),
                           [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
    return it == log.rend() ? log.end() : std::prev(it.base());
  };
  const auto last_index_rm = last_of("rm /repo/index/");
  const auto first_pack_rm = first_of("rm /repo/data/");
  const auto last_pack_rm = last_of("rm /repo/data/");
  ASSERT_NE(last_index_rm, log.end());
  ASSERT_NE(first_pack_rm, log.end());
  ASSERT_LT(last_index_rm, first_pack_rm);
  EXPECT_NE(std::find(last_index_rm, first_pack_rm, "sync /repo/index"), first_pack_rm)
      << "no fsync of /repo/index between the index removals and the pack removals";
  const std::string pack_dir = "sync " + io::Dirname(last_pack_rm->substr(3));
  EXPECT_NE(std::find(last_pack_rm, log.end(), pack_dir), log.end()) << pack_dir;
}

// When that fsync fails, prune stops with the error and removes no pack.
TEST_F(PrunerMemTest, AFailedIndexDirectoryFsyncRemovesNoPack) {
  ASSERT_TRUE(TwoBackupsTheFirstForgotten());
  auto packs_before = backend_->List("data/");
  ASSERT_TRUE(packs_before);

  velin::testing::RemovalLogEnv logged(env_);
  logged.fail_sync_after_rm = "/repo/index";
  auto backend = storage::LocalBackend::Open(logged, "/repo", false);
  ASSERT_TRUE(backend) << backend.error().message;
  auto repository = repo::Repository::Open(**backend, false);
  ASSERT_TRUE(repository) << repository.error().message;
  ASSERT_TRUE((*repository)->LoadIndex());
  auto pruned = backup::Prune(**repository, env_, {}, quiet_);
  ASSERT_FALSE(pruned);
  EXPECT_EQ(pruned.error().sys_errno, EIO) << pruned.error().message;
  for (const auto& p : *packs_before) {
    EXPECT_TRUE(env_.Stat("/repo/" + p.name)) << p.name << " was removed";
  }
}

}  // namespace
}  // namespace velin::backup
