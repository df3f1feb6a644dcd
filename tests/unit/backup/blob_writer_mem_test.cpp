// The blob writer's hand-offs between the saving thread and its workers (batched wake-ups: no
// blob may be stranded, no Save() may wait forever, a worker's failure reaches a waiting Save()),
// and its index objects written as it goes (BlobWriterOptions::index_checkpoint_bytes):
// a large run's memory does not hold the index of everything it wrote, every blob stays
// findable, and a run that fails after a checkpoint leaves only sound, indexed packs.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <set>
#include <thread>

#include "mem_repo.hpp"
#include "support/forwarding_backend.hpp"
#include "velin/io/fault_injection_env.hpp"
#include "velin/repo/blob_writer.hpp"
#include "velin/repo/index_object.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::backup {
namespace {

class BlobWriterMemTest : public MemRepoTest {
 protected:
  // Distinct blobs of 1 MiB: 15 fill a pack.
  static std::string Blob(int i) {
    std::string s(1 << 20, '\0');
    uint64_t x = 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(i + 1);
    for (size_t k = 0; k < s.size(); k += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      s[k] = static_cast<char>(x);
    }
    return s;
  }
  std::set<std::string> Names(const std::string& prefix) {
    std::set<std::string> names;
    auto listed = backend_->List(prefix);
    EXPECT_TRUE(listed) << listed.error().message;
    if (listed) {
      for (const auto& o : *listed) names.insert(o.name);
    }
    return names;
  }
  // The packs the index objects name.
  std::set<std::string> IndexedPacks() {
    std::set<std::string> packs;
    for (const std::string& name : Names("index/")) {
      auto stored = backend_->Get(name);
      EXPECT_TRUE(stored);
      auto decoded = repo::DecodeIndexObject(*stored);
      EXPECT_TRUE(decoded) << decoded.error().message;
      for (const auto& p : *decoded) packs.insert(repo::PackObjectName(p.first));
    }
    return packs;
  }
  static repo::BlobWriterOptions Options(uint64_t checkpoint_bytes) {
    repo::BlobWriterOptions o;
    o.codec = repo::Codec::kNone;
    o.workers = 1;
    o.index_checkpoint_bytes = checkpoint_bytes;
    return o;
  }
};

TEST_F(BlobWriterMemTest, ALargeRunWritesIndexObjectsAsItGoesAndEveryBlobIsFound) {
  const auto index_before = Names("index/");
  {
    repo::BlobWriter writer(*repo_, Options(1));  // an index object after every pack
    for (int i = 0; i < 40; ++i) {
      std::string b = Blob(i);
      ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(b), b));
    }
    // Blobs of packs indexed already are still known to this run: not stored twice.
    std::string again = Blob(0);
    EXPECT_TRUE(writer.Known(repo::Sha256(again)));
    ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(again), again));
    ASSERT_TRUE(writer.Flush());
    EXPECT_EQ(writer.stats().blobs_added, 40u);
    EXPECT_GE(writer.stats().packs_written, 3u);
    EXPECT_EQ(Names("index/").size() - index_before.size(), writer.stats().packs_written);
  }
  EXPECT_EQ(IndexedPacks(), Names("data/"));
  Reopen();
  for (int i = 0; i < 40; ++i) {
    auto read = repo_->ReadBlob(repo::Sha256(Blob(i)));
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(*read, Blob(i));
  }
}

TEST_F(BlobWriterMemTest, ARunThatFailsAfterACheckpointLeavesOnlyIndexedSoundPacks) {
  {
    repo::BlobWriter writer(*repo_, Options(1));
    for (int i = 0; i < 40; ++i) {
      std::string b = Blob(i);
      ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(b), b));
    }
    // No Flush(): the run stops here (an error further on); its open pack is dropped.
  }
  const auto packs = Names("data/");
  EXPECT_GE(packs.size(), 2u);
  EXPECT_EQ(IndexedPacks(), packs);  // no unindexed pack left, no index naming a missing one
  Reopen();
  int found = 0;
  for (int i = 0; i < 40; ++i) {
    const repo::BlobId id = repo::Sha256(Blob(i));
    if (!repo_->index().Find(id)) continue;
    auto read = repo_->ReadBlob(id);
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(*read, Blob(i));
    ++found;
  }
  EXPECT_GE(found, 15);  // a pack holds 15 of these blobs: at least one indexed before the stop
  EXPECT_LT(found, 40);
}

TEST_F(BlobWriterMemTest, ARunBelowTheThresholdWritesOneIndexObject) {
  const auto index_before = Names("index/");
  repo::BlobWriter writer(*repo_, Options(repo::BlobWriterOptions().index_checkpoint_bytes));
  for (int i = 0; i < 40; ++i) {
    std::string b = Blob(i);
    ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(b), b));
  }
  ASSERT_TRUE(writer.Flush());
  EXPECT_GE(writer.stats().packs_written, 3u);
  EXPECT_EQ(Names("index/").size(), index_before.size() + 1);
}

// Ends the test binary when `body` has not returned within a minute: a hand-off that strands
// its jobs hangs, and a hang must fail the test rather than stall the suite.
template <typename F>
void WithinAMinute(const char* what, F body) {
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 600 && !done.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!done.load()) {
      std::fprintf(stderr, "%s: still waiting after 60 s (a stranded job or a lost wake-up)\n",
                   what);
      std::_Exit(1);
    }
  });
  body();
  done = true;
  watchdog.join();
}

// Blobs far smaller than a wake-up batch, under a budget smaller than one batch: every Save()
// that waits for room must first wake the workers that the batch rule let sleep. Every few
// blobs one is over the budget on its own (admitted alone). With one to three workers.
TEST_F(BlobWriterMemTest, SmallBlobsUnderABudgetBelowOneWakeUpBatchAllArrive) {
  for (int workers : {1, 2, 3}) {
    SCOPED_TRACE(workers);
    std::mt19937 rng(static_cast<unsigned>(workers));
    std::vector<std::string> blobs;
    for (int i = 0; i < 3000; ++i) {
      std::string b(i % 97 == 0 ? 8192 : 16 + rng() % 1000, '\0');
      for (auto& c : b) c = static_cast<char>(rng());
      blobs.push_back(std::move(b));
    }
    repo::BlobWriterOptions o;
    o.workers = workers;
    o.max_queued_bytes = 2048;
    WithinAMinute("small blobs", [&] {
      repo::BlobWriter writer(*repo_, o);
      for (const auto& b : blobs) {
        ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(b), b));
      }
      ASSERT_TRUE(writer.Flush());
      EXPECT_EQ(writer.stats().blobs_added, blobs.size());
    });
    Reopen();
    for (const auto& b : blobs) {
      auto read = repo_->ReadBlob(repo::Sha256(b));
      ASSERT_TRUE(read) << read.error().message;
      ASSERT_EQ(*read, b);
    }
  }
}

// Fewer blobs than a wake-up batch, then Flush(): the workers are woken for the flush and the
// blobs are written.
TEST_F(BlobWriterMemTest, ABatchTooSmallToWakeAWorkerIsWrittenByTheFlush) {
  repo::BlobWriterOptions o;
  o.workers = 2;
  const std::string a = "one small blob", b = "and another";
  WithinAMinute("flush", [&] {
    repo::BlobWriter writer(*repo_, o);
    ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(a), a));
    ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(b), b));
    ASSERT_TRUE(writer.Flush());
    EXPECT_EQ(writer.stats().blobs_added, 2u);
  });
  Reopen();
  EXPECT_EQ(*repo_->ReadBlob(repo::Sha256(a)), a);
  EXPECT_EQ(*repo_->ReadBlob(repo::Sha256(b)), b);
}

// A pack's put fails while the saving thread waits for room: the failure reaches it (that
// Save() or a later one returns the error), nothing waits forever, and Flush() reports it too.
TEST_F(BlobWriterMemTest, AFailedPutReachesTheSaverWhileItWaitsForRoom) {
  for (int workers : {1, 2}) {
    SCOPED_TRACE(workers);
    io::FaultInjectionEnv faulty(env_);
    faulty.SetRule(io::FaultRule{io::FaultOp::kWrite, 1, EIO, true, false});
    auto backend = storage::LocalBackend::Open(faulty, "/repo", false);
    ASSERT_TRUE(backend) << backend.error().message;
    auto repo = repo::Repository::Open(**backend, false);
    ASSERT_TRUE(repo) << repo.error().message;
    ASSERT_TRUE((*repo)->LoadIndex());
    repo::BlobWriterOptions o = Options(0);
    o.workers = workers;
    o.max_queued_bytes = 2 << 20;  // two of these blobs: Save() waits for room again and again
    WithinAMinute("failed put", [&] {
      repo::BlobWriter writer(**repo, o);
      Status failed = Ok();
      for (int i = 0; i < 60 && failed; ++i) {
        std::string b = Blob(i);
        failed = writer.Save(repo::BlobType::kData, repo::Sha256(b), b);
      }
      ASSERT_FALSE(failed) << "40 MiB saved through a backend that fails every write";
      EXPECT_FALSE(writer.Flush());
    });
  }
}

// A chunk's buffer comes back for later chunks of other sizes (TakeBuffer): a fresh large one
// gets a power-of-two capacity, so the archiver's copies land in pages faulted in once, not
// once per chunk. (Before, a 600 KiB chunk's buffer fitted no chunk larger than itself.)
TEST_F(BlobWriterMemTest, AChunksBufferComesBackForALargerChunk) {
  repo::BlobWriter writer(*repo_, Options(repo::BlobWriterOptions().index_checkpoint_bytes));
  EXPECT_LT(writer.TakeBuffer(4096).capacity(), size_t{128} << 10);  // small: as it comes
  std::string first = writer.TakeBuffer(600 << 10);
  EXPECT_EQ(first.capacity(), size_t{1} << 20);
  const std::string data = Blob(1) + Blob(2) + Blob(3);
  first.assign(std::string_view(data).substr(0, 600 << 10));  // a copy, as the archiver's
  const char* at = first.data();
  const repo::BlobId first_id = repo::Sha256(first);
  ASSERT_TRUE(writer.Save(repo::BlobType::kData, first_id, std::move(first)));
  std::string other = writer.TakeBuffer(3 << 20);  // fresh while the first is out
  EXPECT_EQ(other.capacity(), size_t{4} << 20);
  other.assign(std::string_view(data));
  const repo::BlobId other_id = repo::Sha256(other);
  ASSERT_TRUE(writer.Save(repo::BlobType::kData, other_id, std::move(other)));
  ASSERT_TRUE(writer.Flush());  // every job done: both buffers are spares (5 of 8 MiB)
  std::string second = writer.TakeBuffer(900 << 10);
  EXPECT_EQ(second.data(), at);
  EXPECT_EQ(second.capacity(), size_t{1} << 20);
  EXPECT_EQ(writer.TakeBuffer(5 << 20).capacity(), size_t{8} << 20);  // no spare fits: fresh
  EXPECT_EQ(writer.stats().blobs_added, 2u);
}

// After the small files of a tree their buffers fill the spares (8 MiB of them): a large
// chunk's buffer that comes back then takes the place of small ones instead of being let go,
// so the large chunks that follow land in pages faulted in once (bench/README.md, "Thirteenth
// pass": 123 buffers of 2 MiB let go and made again in one first backup).
TEST_F(BlobWriterMemTest, ALargeBufferComingBackDisplacesSmallSpares) {
  repo::BlobWriter writer(*repo_, Options(repo::BlobWriterOptions().index_checkpoint_bytes));
  std::string large = writer.TakeBuffer(1500 << 10);
  ASSERT_EQ(large.capacity(), size_t{2} << 20);
  const std::string data = Blob(1) + Blob(2);
  large.assign(std::string_view(data).substr(0, 1500 << 10));
  const char* at = large.data();
  // 9 MiB of small files in 144 buffers of their own: more than the spares hold, so when they
  // come back they fill them, before the large one comes back.
  std::vector<std::string> smalls;
  for (int i = 0; i < 144; ++i) {
    std::string small = writer.TakeBuffer(64 << 10);
    small.assign(64 << 10, static_cast<char>('a' + i % 26));
    small[0] = static_cast<char>(i);
    small[1] = static_cast<char>(i >> 8);
    smalls.push_back(std::move(small));
  }
  for (std::string& small : smalls) {
    const repo::BlobId id = repo::Sha256(small);
    ASSERT_TRUE(writer.Save(repo::BlobType::kData, id, std::move(small)));
  }
  const repo::BlobId id = repo::Sha256(large);
  ASSERT_TRUE(writer.Save(repo::BlobType::kData, id, std::move(large)));
  ASSERT_TRUE(writer.Flush());
  EXPECT_EQ(writer.stats().fresh_buffers, 1u);
  std::string again = writer.TakeBuffer(1800 << 10);
  EXPECT_EQ(writer.stats().fresh_buffers, 1u);  // kept, not made afresh
  EXPECT_EQ(again.data(), at);
  EXPECT_EQ(again.capacity(), size_t{2} << 20);
  EXPECT_EQ(writer.stats().blobs_added, 145u);
}

// A backend that says it is `location` and holds every pack's Commit at a gate until Open():
// how many packs are named at once, and how many are written and wait to be.
class GatedCommitBackend : public testing::ForwardingBackend {
 public:
  GatedCommitBackend(storage::Backend& base, std::string location, bool open)
      : ForwardingBackend(base), location_(std::move(location)), open_(open) {}
  std::string Location() const override { return location_; }
  Result<std::unique_ptr<storage::ObjectWriter>> NewObjectWriter(const std::string& dir) override {
    VELIN_ASSIGN(std::unique_ptr<storage::ObjectWriter> base, base().NewObjectWriter(dir));
    std::lock_guard lock(mu_);
    max_alive_ = std::max(max_alive_, ++alive_);
    return std::unique_ptr<storage::ObjectWriter>(std::make_unique<Writer>(*this, std::move(base)));
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Until `n` commits wait at the gate (false after 60 s).
  bool WaitForCommits(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return committing_ >= n; });
  }
  int max_committing() {
    std::lock_guard lock(mu_);
    return max_committing_;
  }
  int max_alive() {
    std::lock_guard lock(mu_);
    return max_alive_;
  }

 private:
  class Writer : public storage::ObjectWriter {
   public:
    Writer(GatedCommitBackend& owner, std::unique_ptr<storage::ObjectWriter> base)
        : owner_(owner), base_(std::move(base)) {}
    ~Writer() override {
      std::lock_guard lock(owner_.mu_);
      owner_.alive_--;
    }
    Status Append(std::string_view data) override { return base_->Append(data); }
    Status Commit(const std::string& name) override {
      {
        std::unique_lock lock(owner_.mu_);
        owner_.max_committing_ = std::max(owner_.max_committing_, ++owner_.committing_);
        owner_.cv_.notify_all();
        owner_.cv_.wait(lock, [&] { return owner_.open_; });
      }
      // Long enough for another commit thread, if there were one, to come in meanwhile.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      Status st = base_->Commit(name);
      std::lock_guard lock(owner_.mu_);
      owner_.committing_--;
      return st;
    }

   private:
    GatedCommitBackend& owner_;
    std::unique_ptr<storage::ObjectWriter> base_;
  };

  std::string location_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_;
  int committing_ = 0, max_committing_ = 0, alive_ = 0, max_alive_ = 0;
};

// A file server uploads a pack on Commit (FileServerBackend::NewObjectWriter): its packs are
// named four at a time, as many as it takes reads, and while all four wait no more than
// another four packs (one a worker, one more each) are written ahead of them: the spill
// directory holds a few packs, never the whole backup.
TEST_F(BlobWriterMemTest, AFileServersPacksGoUpFourAtATimeAndAFewWaitAtMost) {
  GatedCommitBackend gated(*backend_, "sftp://backup@offsite/srv/repo", false);
  auto repo = repo::Repository::Open(gated, false, keys_);
  ASSERT_TRUE(repo) << repo.error().message;
  ASSERT_TRUE((*repo)->LoadIndex());
  repo::BlobWriterOptions o = Options(repo::BlobWriterOptions().index_checkpoint_bytes);
  o.workers = 2;
  constexpr int kBlobs = 15 * 12;  // twelve packs
  WithinAMinute("gated commits", [&] {
    repo::BlobWriter writer(**repo, o);
    Status saved = Ok();
    std::thread saver([&] {
      for (int i = 0; i < kBlobs && saved; ++i) {
        std::string b = Blob(i);
        saved = writer.Save(repo::BlobType::kData, repo::Sha256(b), b);
      }
    });
    EXPECT_TRUE(gated.WaitForCommits(4));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // what more would be written
    EXPECT_LE(gated.max_alive(), 4 + 2 * 2) << "committing: 4 + 2 workers; filling: 2";
    gated.Open();
    saver.join();
    ASSERT_TRUE(saved) << saved.error().message;
    ASSERT_TRUE(writer.Flush());
    EXPECT_EQ(writer.stats().blobs_added, static_cast<uint64_t>(kBlobs));
  });
  EXPECT_EQ(gated.max_committing(), 4);
  Reopen();
  for (int i = 0; i < kBlobs; i += 7) {
    auto read = repo_->ReadBlob(repo::Sha256(Blob(i)));
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_TRUE(*read == Blob(i)) << i;
  }
}

// A local directory names its packs one at a time (fsync, rename, fsync: one thread keeps up).
TEST_F(BlobWriterMemTest, ALocalDirectorysPacksAreNamedOneAtATime) {
  GatedCommitBackend gated(*backend_, backend_->Location(), true);
  auto repo = repo::Repository::Open(gated, false, keys_);
  ASSERT_TRUE(repo) << repo.error().message;
  ASSERT_TRUE((*repo)->LoadIndex());
  repo::BlobWriterOptions o = Options(repo::BlobWriterOptions().index_checkpoint_bytes);
  o.workers = 2;
  repo::BlobWriter writer(**repo, o);
  for (int i = 0; i < 15 * 6; ++i) {
    std::string b = Blob(i);
    ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(b), b));
  }
  ASSERT_TRUE(writer.Flush());
  EXPECT_GE(writer.stats().packs_written, 6u);
  EXPECT_EQ(gated.max_committing(), 1);
}

}  // namespace
}  // namespace velin::backup
