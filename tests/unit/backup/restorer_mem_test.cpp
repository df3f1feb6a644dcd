// The restorer on a MemEnv: what a backup of an in-memory tree holds comes back byte for byte
// with its modes, mtimes, symlinks and hard links, a subtree alone with `only`, over an
// existing tree in place, and a symlink planted in the target is never written through; small
// files are written while large ones before them still are.
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "mem_repo.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/io/fault_injection_env.hpp"

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

// The names of the files a restore starts, in the order it starts them.
class StartOrder : public io::FaultInjectionEnv {
 public:
  using FaultInjectionEnv::FaultInjectionEnv;
  Result<std::unique_ptr<io::WritableFile>> NewWritableFileAt(
      const io::Dir& dir, const std::string& name, const io::WriteOptions& options) override {
    {
      std::lock_guard lock(mu_);
      started_.push_back(name);
    }
    return FaultInjectionEnv::NewWritableFileAt(dir, name, options);
  }
  std::vector<std::string> started() {
    std::lock_guard lock(mu_);
    return started_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> started_;
};

// Large files keep the disk busy and small ones the processors: a restore that wrote them in
// the tree's order did one and then the other (the 2.2 GiB benchmark set: 2 s of reading and
// writing packs on one busy core, then 0.7 s of making small files with the disk idle). The
// small files of a later directory now start while the large files before them are written.
TEST_F(RestorerMemTest, SmallFilesAfterManyLargeOnesStartBeforeTheLargeOnesAreDone) {
  std::mt19937 rng(5);
  std::map<std::string, std::string> want;
  for (int i = 0; i < 32; ++i) {  // 1.25 MiB each: each a job of its own
    std::string data((5 << 20) / 4, '\0');
    for (char& c : data) c = static_cast<char>(rng() & 0xff);
    want["storage/a-large/big-" + std::to_string(i)] = data;
  }
  for (int d = 0; d < 8; ++d) {
    for (int i = 0; i < 40; ++i) {
      want["storage/b-small/d" + std::to_string(d) + "/small-" + std::to_string(i)] =
          "small " + std::to_string(d * 100 + i) + std::string(100 + i, 's');
    }
  }
  for (const auto& [rel, data] : want) Put(rel, data);
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;

  StartOrder order(env_);
  Reopen();
  auto stats = RestoreSnapshot(*repo_, *snap, order, quiet_, {.target = "/restore"});
  ASSERT_TRUE(stats) << stats.error().message;
  for (const auto& [rel, data] : want) EXPECT_TRUE(Read("/restore/" + rel) == data) << rel;

  const std::vector<std::string> started = order.started();
  ASSERT_EQ(started.size(), want.size());
  size_t large_before_small = 0;
  for (const std::string& name : started) {
    if (name.find("-big-") == std::string::npos) break;  // a small file's (temporary) name
    ++large_before_small;
  }
  // In the tree's order all 32 would come first; with half the workers free for small files,
  // the first starts once the walker reaches them, after a few large ones.
  EXPECT_LT(large_before_small, 24u);
}

// A target whose files take 2 ms each to make, whose file-system flushes are counted, and
// whose first flush fails (EIO) when asked.
class SlowTarget : public io::FaultInjectionEnv {
 public:
  SlowTarget(io::Env& base, bool fail_first) : FaultInjectionEnv(base), fail_first_(fail_first) {}
  Result<std::unique_ptr<io::WritableFile>> NewWritableFileAt(
      const io::Dir& dir, const std::string& name, const io::WriteOptions& options) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return FaultInjectionEnv::NewWritableFileAt(dir, name, options);
  }
  Status SyncFileSystem(const io::Dir& dir) override {
    const int n = ++syncs_;
    if (fail_first_ && n == 1) {
      return ErrnoError("syncfs " + dir.path(), EIO);  // and never again
    }
    return FaultInjectionEnv::SyncFileSystem(dir);
  }
  int syncs() const { return syncs_; }

 private:
  bool fail_first_;
  std::atomic<int> syncs_{0};
};

// Small files go through the page cache: their writeback starts in the background while the
// restore goes on (every 250 ms once 8 MiB more went in), not all at the end. A flush that
// fails in the background fails the restore, although the final one, which syncfs no longer
// tells about that error, succeeds.
TEST_F(RestorerMemTest, SmallFilesAreFlushedMeanwhileAndABackgroundFlushErrorFailsTheRestore) {
  for (int i = 0; i < 1500; ++i) {  // 3 s of 2 ms creations (on 4 workers), 24 MiB with inodes
    Put("storage/d" + std::to_string(i % 10) + "/f" + std::to_string(i),
        "file " + std::to_string(i) + std::string(12 * 1024, 'x'));
  }
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;

  SlowTarget slow(env_, false);
  Reopen();
  auto stats = RestoreSnapshot(*repo_, *snap, slow, quiet_, {.target = "/restore"});
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_GE(slow.syncs(), 2);  // in the background, and the final one
  EXPECT_EQ(Read("/restore/storage/d3/f1493"), "file 1493" + std::string(12 * 1024, 'x'));

  SlowTarget failing(env_, true);
  Reopen();
  auto failed = RestoreSnapshot(*repo_, *snap, failing, quiet_, {.target = "/restore2"});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().sys_errno, EIO);
  EXPECT_NE(failed.error().message.find("syncfs /restore2"), std::string::npos)
      << failed.error().message;
  EXPECT_GE(failing.syncs(), 2);
}

// A target with a mount inside it (storage/uploads on a volume of its own): syncfs flushes one
// file system, so the restore flushes each it wrote into, and an error flushing the mount's
// fails the restore as one flushing the target's does.
class TwoFileSystems : public io::FaultInjectionEnv {
 public:
  TwoFileSystems(io::Env& base, bool fail_mount) : FaultInjectionEnv(base), fail_(fail_mount) {}
  Result<io::FileInfo> StatAt(const io::Dir& dir, const std::string& name) override {
    auto info = FaultInjectionEnv::StatAt(dir, name);
    if (info && OnMount(name == "." ? dir.path() : io::JoinPath(dir.path(), name))) {
      info->device = 2;
    }
    return info;
  }
  Status SyncFileSystem(const io::Dir& dir) override {
    {
      std::lock_guard lock(mu_);
      synced_.push_back(dir.path());
    }
    if (fail_ && OnMount(dir.path())) return ErrnoError("syncfs " + dir.path(), EIO);
    return FaultInjectionEnv::SyncFileSystem(dir);
  }
  std::vector<std::string> synced() {
    std::lock_guard lock(mu_);
    return synced_;
  }

 private:
  static bool OnMount(const std::string& path) {
    return path.rfind("/restore/storage/uploads", 0) == 0;
  }
  bool fail_;
  std::mutex mu_;
  std::vector<std::string> synced_;
};

TEST_F(RestorerMemTest, EachFileSystemTheRestoreWroteToIsFlushed) {
  Put("storage/a.txt", "alpha\n");
  Put("storage/uploads/photo.jpg", "jpeg\n");
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;

  TwoFileSystems fine(env_, false);
  Reopen();
  auto stats = RestoreSnapshot(*repo_, *snap, fine, quiet_, {.target = "/restore"});
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(fine.synced(), (std::vector<std::string>{"/restore", "/restore/storage/uploads"}));
  EXPECT_EQ(Read("/restore/storage/uploads/photo.jpg"), "jpeg\n");

  TwoFileSystems failing(env_, true);
  Reopen();
  auto failed = RestoreSnapshot(*repo_, *snap, failing, quiet_, {.target = "/restore"});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().sys_errno, EIO);
  EXPECT_NE(failed.error().message.find("syncfs /restore/storage/uploads"), std::string::npos)
      << failed.error().message;
}

}  // namespace
}  // namespace velin::backup
