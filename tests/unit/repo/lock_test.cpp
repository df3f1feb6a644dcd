// RepoLock on a real local repository: a holder whose lock object vanished, or whose refreshes
// fail, has lost it (Check fails, and the lock is not written again), also between two refreshes
// (Check asks the storage); a snapshot whose lock went as it was written is taken back; a
// BlobWriter whose commit guard fails writes no index object and takes away the packs it wrote;
// the local backend fsyncs the directories it creates into their parents.
#include "velin/repo/lock.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <set>
#include <thread>

#include "support/backup_fixture.hpp"
#include "support/forwarding_backend.hpp"
#include "support/test_support.hpp"
#include "velin/core/threads.hpp"
#include "velin/io/env.hpp"
#include "velin/io/fault_injection_env.hpp"
#include "velin/repo/blob_writer.hpp"
#include "velin/repo/repository.hpp"
#include "velin/repo/snapshot_commit.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::repo {
namespace {

namespace fs = std::filesystem;

// A backend that forwards to another and fails every Put once told to (a refresh that fails:
// network down, quota, credentials revoked).
class FailingPuts : public testing::ForwardingBackend {
 public:
  explicit FailingPuts(storage::Backend& base) : ForwardingBackend(base) {}
  std::atomic<bool> fail{false};
  Status Put(const std::string& name, std::string_view data) override {
    if (fail) return Failure("injected: put " + name + " refused");
    return base().Put(name, data);
  }
};

LockOptions FastRefresh() {
  LockOptions o;
  o.refresh_every = std::chrono::milliseconds(20);
  return o;
}

// Polls `lock.Check()` until it fails (or 5 s pass); returns its message ("" when it never did).
std::string WaitUntilLost(RepoLock& lock) {
  for (int i = 0; i < 500; ++i) {
    Status s = lock.Check();
    if (!s) return s.error().message;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "";
}

class RepoLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = storage::LocalBackend::Open(io::Env::Default(), dir_.path(), true);
    ASSERT_TRUE(b) << b.error().message;
    backend_ = std::move(*b);
  }
  testing::TempDir dir_;
  std::unique_ptr<storage::LocalBackend> backend_;
};

TEST_F(RepoLockTest, AHolderKeepsItsLockWhileRefreshesSucceed) {
  auto lock = RepoLock::Acquire(io::Env::Default(), *backend_, LockKind::kShared, FastRefresh());
  ASSERT_TRUE(lock) << lock.error().message;
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // several refreshes
  EXPECT_TRUE((*lock)->Check());
  EXPECT_TRUE(fs::exists(dir_.path() + "/" + (*lock)->name()));
}

// Must show: what ends velin from a worker thread (out of memory, the terminate handler) removes
// the local lock's current object, also after refreshes renamed it; a released lock is no longer
// registered, so the handler removes nothing of a later holder.
TEST_F(RepoLockTest, TheTerminateHandlerRemovesALocalLockAfterItsRefreshes) {
  auto lock = RepoLock::Acquire(io::Env::Default(), *backend_, LockKind::kShared, FastRefresh());
  ASSERT_TRUE(lock) << lock.error().message;
  const std::string first = (*lock)->name();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((*lock)->name() == first && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE((*lock)->name(), first) << "no refresh in 10 s";
  lock->reset();  // released: nothing registered any more
  auto second = RepoLock::Acquire(io::Env::Default(), *backend_, LockKind::kShared, LockOptions{});
  ASSERT_TRUE(second) << second.error().message;
  const std::string path = dir_.path() + "/" + (*second)->name();
  ASSERT_TRUE(fs::exists(path));
  RemoveRegisteredAtTermination();
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir_.path() + "/locks"));
}

// Removes every object of the lock named `name` (its refreshes write "<name>-2", "-3", …);
// whether any was there.
bool RemoveLockObjectsOf(const std::string& dir, const std::string& name) {
  const std::string base = fs::path(name).filename().string().substr(0, 23);  // kind-16hex
  bool removed = false;
  for (const auto& e : fs::directory_iterator(dir + "/locks")) {
    if (e.path().filename().string().rfind(base, 0) == 0) removed |= fs::remove(e.path());
  }
  return removed;
}

TEST_F(RepoLockTest, ALockThatVanishedIsLostAndNotWrittenAgain) {
  auto lock = RepoLock::Acquire(io::Env::Default(), *backend_, LockKind::kShared, FastRefresh());
  ASSERT_TRUE(lock) << lock.error().message;
  ASSERT_TRUE(RemoveLockObjectsOf(dir_.path(), (*lock)->name()));  // judged stale elsewhere
  const std::string why = WaitUntilLost(**lock);
  EXPECT_NE(why.find("vanished"), std::string::npos) << why;
  EXPECT_NE(why.find("stopped before committing"), std::string::npos) << why;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(fs::is_empty(dir_.path() + "/locks")) << "a lost lock must not come back";
}

// Must show: a refresh writes the lock's next object before the one before goes, so the lock
// always has an object, and the holder ends with none left behind.
TEST_F(RepoLockTest, ARefreshWritesTheNextObjectBeforeTheOneBeforeGoes) {
  auto lock = RepoLock::Acquire(io::Env::Default(), *backend_, LockKind::kShared, FastRefresh());
  ASSERT_TRUE(lock) << lock.error().message;
  const std::string first = (*lock)->name();
  std::set<std::string> seen;
  // Until the third name shows, or 10 s: a loaded sanitizer run may refresh only twice in 300 ms.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int i = 0; i < 300 || (seen.size() <= 2 && std::chrono::steady_clock::now() < deadline);
       ++i) {
    auto listed = backend_->List("locks/");
    ASSERT_TRUE(listed) << listed.error().message;
    EXPECT_FALSE(listed->empty()) << "a held lock without an object, at listing " << i;
    for (const auto& o : *listed) seen.insert(o.name);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GT(seen.size(), 2u) << "refreshed under new names";
  EXPECT_EQ(seen.count(first + "-2"), 1u);
  EXPECT_TRUE((*lock)->Check());
  lock->reset();
  EXPECT_TRUE(fs::is_empty(dir_.path() + "/locks"));
}

TEST_F(RepoLockTest, ALockRemovedBetweenTwoRefreshesIsLostAtTheNextCheck) {
  // The default refresh: the next one is 5 minutes away, and a prune may start at once.
  auto lock = RepoLock::Acquire(io::Env::Default(), *backend_, LockKind::kShared, LockOptions{});
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_TRUE((*lock)->Check());
  const std::string path = dir_.path() + "/" + (*lock)->name();
  fs::remove(path);  // `velin backup unlock`
  Status st = (*lock)->Check();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("lost the repository lock"), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("vanished"), std::string::npos) << st.error().message;
  EXPECT_FALSE((*lock)->Check());
  EXPECT_FALSE(fs::exists(path)) << "a lost lock must not come back";
}

TEST_F(RepoLockTest, ASnapshotWrittenJustAsItsLockWentIsTakenBack) {
  // The lock is there at the check before the write and gone right after it: a prune may have
  // listed the snapshots in between, without this one, and be deleting what it references.
  ASSERT_TRUE(Repository::Init(*backend_));
  auto repo = Repository::Open(*backend_, false);
  ASSERT_TRUE(repo) << repo.error().message;
  int checks = 0;
  (*repo)->SetCommitGuard([&checks]() -> Status {
    if (++checks == 1) return Ok();
    return Failure("lost the repository lock (test)");
  });
  auto committed = CommitSnapshotText(
      io::Env::Default(), **repo, "20261125-1430-full", std::chrono::milliseconds(0),
      [](const std::string& id) { return Result<std::string>("{\"id\":\"" + id + "\"}"); });
  ASSERT_FALSE(committed);
  EXPECT_NE(committed.error().message.find("lost the repository lock"), std::string::npos)
      << committed.error().message;
  EXPECT_EQ(checks, 2);
  EXPECT_TRUE(backend_->List("snapshots/")->empty()) << "the snapshot is taken back";
  EXPECT_TRUE(backend_->List("locks/")->empty());
}

// A backend whose Put of an existing object leaves an instant without it, as an SFTP or FTP
// server does (its rename replaces no file, so the old object is first moved aside under a
// temp name, which listings skip).
class ReplacesInTwoSteps : public testing::ForwardingBackend {
 public:
  explicit ReplacesInTwoSteps(storage::Backend& base) : ForwardingBackend(base) {}
  Status Put(const std::string& name, std::string_view data) override {
    auto present = base().Stat(name);
    if (present && *present) {
      VELIN_TRY(base().Delete(name));
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    return base().Put(name, data);
  }
};

// Must show: while a shared lock is refreshed every 2 ms on such a server, an exclusive lock is
// never granted (a prune would delete what the running backup wrote): a refresh never leaves an
// instant without the shared lock, and a lock that vanishes between the listing and its read
// is looked for again before it counts as released. The holder keeps its lock all along.
TEST_F(RepoLockTest, AnExclusiveLockIsNeverTakenWhileASharedOneIsRefreshedOnAFileServer) {
  ReplacesInTwoSteps server(*backend_);
  LockOptions fast;
  fast.refresh_every = std::chrono::milliseconds(2);
  auto shared = RepoLock::Acquire(io::Env::Default(), server, LockKind::kShared, fast);
  ASSERT_TRUE(shared) << shared.error().message;
  int granted = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  int attempts = 0;
  for (; std::chrono::steady_clock::now() < until; ++attempts) {
    auto exclusive = RepoLock::Acquire(io::Env::Default(), server, LockKind::kExclusive, {});
    if (exclusive) {
      ++granted;
    } else {
      EXPECT_EQ(exclusive.error().code, ExitCode::kLocked) << exclusive.error().message;
    }
  }
  EXPECT_EQ(granted, 0) << "of " << attempts << " attempts";
  EXPECT_TRUE((*shared)->Check());
}

// Must show: the holder of a shared lock that finds a live exclusive lock taken since (a prune
// that got in, whatever let it) stops before it commits, naming it; an exclusive lock that
// comes and goes (a prune that saw the shared lock and backed off) does not stop it.
TEST_F(RepoLockTest, ASharedHolderStopsBeforeCommittingWhenAnExclusiveLockGotIn) {
  auto shared = RepoLock::Acquire(io::Env::Default(), *backend_, LockKind::kShared, LockOptions{});
  ASSERT_TRUE(shared) << shared.error().message;
  ASSERT_TRUE((*shared)->Check());
  const std::string body =
      FormatLockRecord(LockRecord{io::Env::Default().ThisProcess(), "exclusive", ::time(nullptr)});
  {
    std::atomic<bool> stop{false};
    std::thread backing_off([&] {  // a prune waiting with --lock-wait
      while (!stop) {
        (void)backend_->Put("locks/exclusive-waiting", body);
        std::this_thread::sleep_for(std::chrono::milliseconds(3));
        (void)backend_->Delete("locks/exclusive-waiting");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    for (int i = 0; i < 20; ++i) {
      Status st = (*shared)->Check();
      EXPECT_TRUE(st) << st.error().message;
    }
    stop = true;
    backing_off.join();
  }
  ASSERT_TRUE(backend_->Put("locks/exclusive-got-in", body));
  Status st = (*shared)->Check();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("locks/exclusive-got-in"), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("stopped before committing"), std::string::npos)
      << st.error().message;
}

TEST_F(RepoLockTest, FailingRefreshesLoseTheLock) {
  FailingPuts failing(*backend_);
  auto lock = RepoLock::Acquire(io::Env::Default(), failing, LockKind::kExclusive, FastRefresh());
  ASSERT_TRUE(lock) << lock.error().message;
  failing.fail = true;
  const std::string why = WaitUntilLost(**lock);
  EXPECT_NE(why.find("refreshing it failed"), std::string::npos) << why;
  EXPECT_NE(why.find("injected"), std::string::npos) << why;
}

TEST_F(RepoLockTest, AWriterWhoseLockIsLostCommitsNothingAndRemovesItsPacks) {
  ASSERT_TRUE(Repository::Init(*backend_));
  auto repo = Repository::Open(*backend_, false);
  ASSERT_TRUE(repo) << repo.error().message;
  ASSERT_TRUE((*repo)->LoadIndex());
  (*repo)->SetCommitGuard([] { return Failure("lost the repository lock (test)"); });
  {
    BlobWriterOptions options;
    options.workers = 1;
    BlobWriter writer(**repo, options);
    for (int i = 0; i < 3; ++i) {
      std::string data = testing::RandomData(200000, static_cast<unsigned>(i));
      auto id = (*repo)->HashBlob(data);
      ASSERT_TRUE(id);
      ASSERT_TRUE(writer.Save(BlobType::kData, *id, std::move(data)));
    }
    Status flushed = writer.Flush();
    ASSERT_FALSE(flushed);
    EXPECT_NE(flushed.error().message.find("lost the repository lock"), std::string::npos);
    EXPECT_EQ(writer.stats().packs_written, 1u);  // the pack was put; its index was not
  }
  EXPECT_TRUE(backend_->List("index/")->empty());
  EXPECT_TRUE(backend_->List("data/")->empty()) << "the writer takes away its unindexed packs";
}

TEST(LocalBackendDurability, NewDirectoriesAreSyncedIntoTheirParents) {
  testing::TempDir dir;
  io::FaultInjectionEnv env(io::Env::Default());
  auto backend = storage::LocalBackend::Open(env, dir.path(), true);
  ASSERT_TRUE(backend);
  const uint64_t before = env.Count(io::FaultOp::kSync);
  ASSERT_TRUE((*backend)->Put("data/ab/first", "x"));
  const uint64_t into_new_dirs = env.Count(io::FaultOp::kSync) - before;
  ASSERT_TRUE((*backend)->Put("data/ab/second", "y"));
  const uint64_t into_known_dir = env.Count(io::FaultOp::kSync) - before - into_new_dirs;
  // data/ into the root and data/ab into data/: two more than a put into a known directory.
  EXPECT_EQ(into_new_dirs, into_known_dir + 2);
  // And each of them matters: a failing directory sync fails the put.
  for (uint64_t n = 1; n <= into_new_dirs; ++n) {
    testing::TempDir fresh;
    io::FaultInjectionEnv faulty(io::Env::Default());
    auto b = storage::LocalBackend::Open(faulty, fresh.path(), true);
    ASSERT_TRUE(b);
    faulty.SetRule(io::FaultRule{io::FaultOp::kSync, n, 5});
    EXPECT_FALSE((*b)->Put("data/ab/first", "x")) << "sync " << n;
  }
}

}  // namespace
}  // namespace velin::repo
