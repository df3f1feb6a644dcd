// A restore reads the blobs of a batch of small files with one request per run of neighbours in
// a pack (restorer.cpp, ReadNeighbours), not one request a blob — a remote repository answers
// each request with a round trip — and every blob read that way is still checked: a damaged
// one fails the restore with the blob named, as a blob read alone does; so does a damaged blob
// of a large file (first, middle or last), which is never linked under its name. A large file
// alone has its next blobs read and decoded by the workers that have nothing else to do.
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "pack_read_counter.hpp"
#include "small_files_tree.hpp"
#include "support/forwarding_backend.hpp"
#include "velin/backup/restorer.hpp"

namespace velin::backup {
namespace {

class RestorerNeighboursMemTest : public SmallFilesTreeTest {};

TEST_F(RestorerNeighboursMemTest, SmallFilesAreReadARunOfNeighboursAtATime) {
  MakeTree(/*copies=*/true);
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;
  PackReadCounter counted(*backend_);
  auto repo = repo::Repository::Open(counted, false);
  ASSERT_TRUE(repo) << repo.error().message;
  ASSERT_TRUE((*repo)->LoadIndex());
  auto stats = RestoreSnapshot(**repo, *snap, env_, quiet_, {.target = "/restore"});
  ASSERT_TRUE(stats) << stats.error().message;
  ExpectTreeBack("/restore");
  // One request a blob would be 270 for the small files' distinct blobs alone (plus trees).
  EXPECT_LT(counted.pack_reads(), 60u);
}

// Records the ranged reads of packs; says it is at `location` ("s3://…": a remote repository).
class RangeRecorder : public testing::ForwardingBackend {
 public:
  RangeRecorder(storage::Backend& base, std::string location)
      : ForwardingBackend(base), location_(std::move(location)) {}
  std::string Location() const override {
    return location_.empty() ? ForwardingBackend::Location() : location_;
  }
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override {
    {
      std::lock_guard lock(mu_);
      if (name.starts_with("data/")) ranges_.push_back({name, offset, length});
    }
    return base().GetRange(name, offset, length);
  }
  // The reads that covered at least one of `blobs` (index entries, with their packs' names).
  size_t ReadsCovering(const std::vector<std::pair<std::string, repo::IndexEntry>>& blobs) {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& [name, offset, length] : ranges_) {
      for (const auto& [pack, e] : blobs) {
        if (pack == name && e.offset >= offset && e.offset + e.length <= offset + length) {
          ++n;
          break;
        }
      }
    }
    return n;
  }

 private:
  std::string location_;
  std::mutex mu_;
  std::vector<std::tuple<std::string, uint64_t, uint64_t>> ranges_;
};

// From a remote repository a batch of small files goes on into the next directories, so that
// many small directories are not a request each (2,000 of them from SFTP 20 ms away: 64 s).
// Counted: the reads that brought the files' blobs (the trees' reads depend on how fast the
// walk took them from the threads reading ahead).
TEST_F(RestorerNeighboursMemTest, SmallDirectoriesFromARemoteRepositoryShareRequests) {
  for (int d = 0; d < 60; ++d) {
    for (int f = 0; f < 3; ++f) {
      Put("storage/d" + std::to_string(d) + "/f" + std::to_string(f),
          "directory " + std::to_string(d) + " file " + std::to_string(f) + "\n");
    }
  }
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;
  Reopen();
  std::vector<std::pair<std::string, repo::IndexEntry>> blobs;  // the files'
  for (int d = 0; d < 60; ++d) {
    for (int f = 0; f < 3; ++f) {
      const std::string path = "/app/storage/d" + std::to_string(d) + "/f" + std::to_string(f);
      auto e = repo_->index().Find(repo::Sha256(Read(path)));
      ASSERT_TRUE(e) << path;
      blobs.emplace_back(repo::PackObjectName(repo_->index().PackId(e->pack)), *e);
    }
  }
  for (const std::string location : {"", "s3://bucket/repo"}) {
    RangeRecorder recorded(*backend_, location);
    auto repo = repo::Repository::Open(recorded, false);
    ASSERT_TRUE(repo) << repo.error().message;
    ASSERT_TRUE((*repo)->LoadIndex());
    const std::string target = location.empty() ? "/near" : "/far";
    auto stats = RestoreSnapshot(**repo, *snap, env_, quiet_, {.target = target});
    ASSERT_TRUE(stats) << stats.error().message;
    for (int d = 0; d < 60; d += 7) {
      EXPECT_EQ(Read(target + "/storage/d" + std::to_string(d) + "/f2"),
                "directory " + std::to_string(d) + " file 2\n");
    }
    const size_t reads = recorded.ReadsCovering(blobs);
    if (location.empty()) {
      EXPECT_GE(reads, 60u) << "a local repository: a batch per directory";
    } else {
      // At most 512 files a batch, handed over early at 64: up to 3 batches of 180 files, a
      // read or two each (the writer's workers filled a pack each).
      EXPECT_LE(reads, 8u) << "60 directories' files";
    }
  }
}

TEST_F(RestorerNeighboursMemTest, ADamagedBlobAmongItsNeighboursFailsTheRestoreByName) {
  MakeTree(/*copies=*/true);
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;
  Reopen();  // the index the backup wrote
  // Flip one byte inside the stored bytes of d1/f50's blob.
  const repo::BlobId id = repo::Sha256(Read("/app/" + Rel(1, 50)));
  ASSERT_NO_FATAL_FAILURE(FlipStoredByte(id));

  auto stats = RestoreSnapshot(*repo_, *snap, env_, quiet_, {.target = "/restore"});
  ASSERT_FALSE(stats);
  EXPECT_NE(stats.error().message.find(id.Short()), std::string::npos) << stats.error().message;
  EXPECT_NE(stats.error().message.find("damaged"), std::string::npos) << stats.error().message;
  EXPECT_FALSE(*env_.Exists("/restore/storage/d1/f50"));  // never named with wrong bytes
}

std::string IncompressibleBytes(size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::string data(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const uint64_t v = rng();
    std::memcpy(data.data() + i, &v, 8);
  }
  return data;
}

TEST_F(RestorerNeighboursMemTest, ADamagedBlobOfALargeFileFailsTheRestoreByName) {
  const std::string data = IncompressibleBytes(6 << 20, 23);
  Put("storage/large.bin", data);
  auto snap = Backup();
  ASSERT_TRUE(snap) << snap.error().message;
  Reopen();
  auto top = repo_->ReadTree(snap->sources[0].tree);  // one node: storage
  ASSERT_TRUE(top) << top.error().message;
  ASSERT_EQ(top->nodes.size(), 1u);
  auto tree = repo_->ReadTree(top->nodes[0].subtree);
  ASSERT_TRUE(tree) << tree.error().message;
  ASSERT_EQ(tree->nodes.size(), 1u);
  const repo::Node* node = &tree->nodes[0];
  ASSERT_EQ(node->name, "large.bin");
  ASSERT_GE(node->content.size(), 4u);
  for (size_t damaged : {size_t{0}, size_t{2}, node->content.size() - 1}) {
    SCOPED_TRACE(damaged);
    const repo::BlobId id = node->content[damaged];
    ASSERT_NO_FATAL_FAILURE(FlipStoredByte(id));
    const std::string target = "/restore" + std::to_string(damaged);
    // A backend of its own: the backup's holds the pack open as it was (it read it back).
    // Slow reads: idle workers read the file's next blobs while its worker waits, so the
    // damaged one may be read by either, and the others are in flight when it fails.
    auto backend = storage::LocalBackend::Open(env_, "/repo", false);
    ASSERT_TRUE(backend) << backend.error().message;
    PackReadCounter slow(**backend, std::chrono::milliseconds(5));
    auto repo = repo::Repository::Open(slow, false);
    ASSERT_TRUE(repo) << repo.error().message;
    ASSERT_TRUE((*repo)->LoadIndex());
    auto stats = RestoreSnapshot(**repo, *snap, env_, quiet_, {.target = target});
    ASSERT_FALSE(stats);
    EXPECT_NE(stats.error().message.find(id.Short()), std::string::npos) << stats.error().message;
    EXPECT_NE(stats.error().message.find("damaged"), std::string::npos) << stats.error().message;
    EXPECT_FALSE(*env_.Exists(target + "/storage/large.bin"));  // never named with wrong bytes
    if (*env_.Exists(target + "/storage")) {  // and no temporary file of it is left either
      auto left = env_.ListDir(target + "/storage");
      ASSERT_TRUE(left) << left.error().message;
      EXPECT_TRUE(left->empty()) << left->front().name;
    }
    ASSERT_NO_FATAL_FAILURE(FlipStoredByte(id));  // mended for the next round
  }
}

class RestorerAheadMemTest : public MemRepoTest {
 protected:
  // One large file of many chunks, alone in its backup; its blobs in restore order.
  std::vector<repo::BlobId> BackUpOneLargeFile(const std::string& data) {
    Put("storage/large.bin", data);
    snap_ = Backup();
    EXPECT_TRUE(snap_) << snap_.error().message;
    if (!snap_) return {};
    Reopen();
    auto top = repo_->ReadTree(snap_->sources[0].tree);
    EXPECT_TRUE(top && top->nodes.size() == 1u);
    if (!top || top->nodes.size() != 1u) return {};
    auto tree = repo_->ReadTree(top->nodes[0].subtree);
    EXPECT_TRUE(tree && tree->nodes.size() == 1u);
    if (!tree || tree->nodes.size() != 1u) return {};
    return tree->nodes[0].content;
  }

  // A restore through pack reads of `delay` each into `target`, from a repository that says it
  // is at `location` (empty: the local one it is).
  Result<RestoreStats> SlowRestore(const std::string& target, size_t* reader_threads,
                                   int* most_at_once = nullptr,
                                   std::chrono::milliseconds delay = std::chrono::milliseconds(5),
                                   const std::string& location = {}) {
    auto backend = storage::LocalBackend::Open(env_, "/repo", false);
    if (!backend) return tl::unexpected(backend.error());
    PackReadCounter slow(**backend, delay, location);
    auto repo = repo::Repository::Open(slow, false);
    if (!repo) return tl::unexpected(repo.error());
    VELIN_TRY((*repo)->LoadIndex());
    auto stats = RestoreSnapshot(**repo, *snap_, env_, quiet_, {.target = target});
    *reader_threads = slow.reader_threads();
    if (most_at_once) *most_at_once = slow.most_at_once();
    return stats;
  }

  Result<repo::Snapshot> snap_;
};

TEST_F(RestorerAheadMemTest, ALargeFileAloneIsDecodedAheadByTheIdleWorkers) {
  // Half random, half text: blobs stored as they are and compressed ones.
  std::string data = IncompressibleBytes(12 << 20, 5);
  for (size_t i = 0; i < data.size(); i += 2 << 20) {
    std::memset(data.data() + i, 'a' + static_cast<int>(i >> 20) % 26, 1 << 20);
  }
  const auto ids = BackUpOneLargeFile(data);
  ASSERT_GE(ids.size(), 5u);
  size_t readers = 0;
  auto stats = SlowRestore("/restore", &readers);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(Read("/restore/storage/large.bin"), data);
  // One worker owns the file; the others read its next blobs meanwhile. Without them, one
  // thread reads every blob (the trees are read before the pool starts, on the caller's).
  EXPECT_GE(readers, 3u);
}

TEST_F(RestorerAheadMemTest, ALargeFileFromARemoteRepositoryKeepsMoreReadsInFlight) {
  // Each read a round trip: the file's blobs are read 8 at a time (S3's reads at once), not 3
  // (a local disk's window), and all of them come back as they were.
  const std::string data = IncompressibleBytes(24 << 20, 11);
  const auto ids = BackUpOneLargeFile(data);
  ASSERT_GE(ids.size(), 10u);
  for (const char* location : {"", "s3://bucket/repo"}) {
    SCOPED_TRACE(location);
    const std::string target = std::string("/restore-") + (*location ? "s3" : "local");
    size_t readers = 0;
    int most = 0;
    auto stats = SlowRestore(target, &readers, &most, std::chrono::milliseconds(30), location);
    ASSERT_TRUE(stats) << stats.error().message;
    EXPECT_EQ(Read(target + "/storage/large.bin"), data);
    if (*location) {
      EXPECT_GE(most, 6);  // 7 helpers beside the writer, at most 8 blobs held ahead
      EXPECT_LE(most, 9);
    } else {
      EXPECT_LE(most, 4);  // 3 ahead, and the writer's own read
    }
  }
}

}  // namespace
}  // namespace velin::backup
