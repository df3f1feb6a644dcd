// CachingBackend in front of a real S3 server: index and snapshot objects are downloaded once,
// served from the cache only while the remote listing still shows them, and dropped when the
// remote loses them.
#include "velin/storage/caching_backend.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "support/remote_backends.hpp"
#include "support/test_support.hpp"
#include "velin/io/env.hpp"

namespace velin::storage {
namespace {

using testing::TempDir;

// Counts the downloads that reach the real backend underneath.
class CountingBackend : public Backend {
 public:
  explicit CountingBackend(Backend& real) : real_(real) {}
  std::atomic<int> gets{0};
  std::string Location() const override { return real_.Location(); }
  Status Put(const std::string& n, std::string_view d) override { return real_.Put(n, d); }
  Result<std::string> Get(const std::string& n) override {
    gets++;
    return real_.Get(n);
  }
  Result<std::string> GetRange(const std::string& n, uint64_t o, uint64_t l) override {
    gets++;
    return real_.GetRange(n, o, l);
  }
  Result<std::vector<ObjectInfo>> List(const std::string& p) override { return real_.List(p); }
  Status Delete(const std::string& n) override { return real_.Delete(n); }
  Result<std::optional<ObjectInfo>> Stat(const std::string& n) override { return real_.Stat(n); }

 private:
  Backend& real_;
};

struct Cached {
  CountingBackend* counter;
  std::unique_ptr<CachingBackend> backend;
};

Cached Wrap(Backend& remote, const std::string& cache_dir) {
  auto counting = std::make_unique<CountingBackend>(remote);
  CountingBackend* raw = counting.get();
  return {raw,
          std::make_unique<CachingBackend>(std::move(counting), io::Env::Default(), cache_dir)};
}

TEST(CachingBackend, DownloadsIndexAndSnapshotsOnceWhileTheRemoteListsThem) {
  auto s3 = testing::StartBackend("s3");
  TempDir cache;
  {
    Cached first = Wrap(*s3->backend, cache / "c");
    ASSERT_TRUE(first.backend->Put("index/aa", "index one"));
    ASSERT_TRUE(first.backend->Put("snapshots/s1", "snapshot one"));
    ASSERT_TRUE(first.backend->Put("data/00/pack", "pack"));
  }
  // A later process: listing confirms the cached copies, so nothing is downloaded.
  Cached later = Wrap(*s3->backend, cache / "c");
  ASSERT_TRUE(later.backend->List("index/"));
  ASSERT_TRUE(later.backend->List("snapshots/"));
  EXPECT_EQ(*later.backend->Get("index/aa"), "index one");
  EXPECT_EQ(*later.backend->Get("snapshots/s1"), "snapshot one");
  EXPECT_EQ(later.counter->gets.load(), 0);
  EXPECT_EQ(*later.backend->Get("data/00/pack"), "pack");
  EXPECT_EQ(later.counter->gets.load(), 1) << "packs are never cached";
}

TEST(CachingBackend, TheRemoteListingWinsOverTheCache) {
  auto s3 = testing::StartBackend("s3");
  TempDir cache;
  Cached c = Wrap(*s3->backend, cache / "c");
  ASSERT_TRUE(c.backend->Put("snapshots/s1", "old"));
  ASSERT_TRUE(c.backend->Put("snapshots/s2", "kept"));
  // Another machine forgets s1 and re-creates the repository's s2 with other content.
  ASSERT_TRUE(s3->backend->Delete("snapshots/s1"));
  ASSERT_TRUE(s3->backend->Put("snapshots/s2", "replaced!"));

  Cached fresh = Wrap(*s3->backend, cache / "c");
  auto listed = fresh.backend->List("");
  ASSERT_TRUE(listed);
  EXPECT_FALSE(std::filesystem::exists(cache / "c/snapshots/s1")) << "gone remotely: dropped";
  auto s1 = fresh.backend->Get("snapshots/s1");
  ASSERT_FALSE(s1);
  EXPECT_TRUE(IsNotFound(s1.error()));
  EXPECT_EQ(*fresh.backend->Get("snapshots/s2"), "replaced!");
}

TEST(CachingBackend, NeverServesACachedObjectTheRemoteWasNotAskedAbout) {
  auto s3 = testing::StartBackend("s3");
  TempDir cache;
  { ASSERT_TRUE(Wrap(*s3->backend, cache / "c").backend->Put("index/aa", "x")); }
  ASSERT_TRUE(s3->backend->Delete("index/aa"));
  Cached fresh = Wrap(*s3->backend, cache / "c");
  auto got = fresh.backend->Get("index/aa");  // no listing yet: asks the remote
  ASSERT_FALSE(got);
  EXPECT_TRUE(IsNotFound(got.error()));
}

TEST(CachingBackend, DefaultDirectoryFollowsTheEnvironment) {
  std::string a = CachingBackend::DefaultCacheDir("s3://bkt/a");
  std::string b = CachingBackend::DefaultCacheDir("s3://bkt/b");
  EXPECT_NE(a, b) << "one cache per repository location";
  EXPECT_NE(a.find("velin"), std::string::npos);
}

}  // namespace
}  // namespace velin::storage
