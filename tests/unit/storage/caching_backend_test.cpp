// CachingBackend in front of real servers: index and snapshot objects are downloaded once,
// served from the cache only while the remote listing still shows them (a snapshot: with the
// ETag it was cached under), and dropped when the remote loses them; a snapshot replaced by one
// of the same size is read anew on every backend.
#include "velin/storage/caching_backend.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "support/remote_backends.hpp"
#include "support/remote_servers.hpp"
#include "support/test_support.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/file_server_backend.hpp"

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
  // A later process: listing confirms the cached index object, so it is not downloaded. The
  // snapshot's ETag the writer did not know: it is downloaded once, and kept under it.
  Cached later = Wrap(*s3->backend, cache / "c");
  ASSERT_TRUE(later.backend->List("index/"));
  ASSERT_TRUE(later.backend->List("snapshots/"));
  EXPECT_EQ(*later.backend->Get("index/aa"), "index one");
  EXPECT_EQ(later.counter->gets.load(), 0);
  EXPECT_EQ(*later.backend->Get("snapshots/s1"), "snapshot one");
  EXPECT_EQ(later.counter->gets.load(), 1);
  EXPECT_EQ(*later.backend->Get("data/00/pack"), "pack");
  EXPECT_EQ(later.counter->gets.load(), 2) << "packs are never cached";
  Cached third = Wrap(*s3->backend, cache / "c");
  ASSERT_TRUE(third.backend->List(""));
  EXPECT_EQ(*third.backend->Get("index/aa"), "index one");
  EXPECT_EQ(*third.backend->Get("snapshots/s1"), "snapshot one");
  EXPECT_EQ(third.counter->gets.load(), 0);
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

// Must show: a snapshot object replaced by another of the same size under the same name (a
// backup id used again once the first was forgotten: ids are minutes) is read anew from the
// remote, in the process that cached the first and in a later one; the listing's size alone
// is no proof that a cached snapshot is the one the remote holds. On every backend kind.
class CachingBackendReuse : public ::testing::TestWithParam<std::string> {};

TEST_P(CachingBackendReuse, ASnapshotReplacedBySameSizeContentIsReadAnew) {
  auto remote = testing::StartBackend(GetParam());
  TempDir cache;
  const std::string first = "{\"id\":\"20261125-1430-full\",\"tree\":\"aaaa\"}";
  const std::string second = "{\"id\":\"20261125-1430-full\",\"tree\":\"bbbb\"}";
  ASSERT_EQ(first.size(), second.size());
  ASSERT_TRUE(remote->backend->Put("snapshots/20261125-1430-full", first));
  Cached host_b = Wrap(*remote->backend, cache / "c");
  ASSERT_TRUE(host_b.backend->List("snapshots/"));
  EXPECT_EQ(*host_b.backend->Get("snapshots/20261125-1430-full"), first);
  // Host A forgets the backup and makes another in the same minute: same id, same size.
  ASSERT_TRUE(remote->backend->Delete("snapshots/20261125-1430-full"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a later write, by any clock
  ASSERT_TRUE(remote->backend->Put("snapshots/20261125-1430-full", second));

  ASSERT_TRUE(host_b.backend->List("snapshots/"));
  EXPECT_EQ(*host_b.backend->Get("snapshots/20261125-1430-full"), second) << "same process";
  Cached later = Wrap(*remote->backend, cache / "c");
  ASSERT_TRUE(later.backend->List("snapshots/"));
  EXPECT_EQ(*later.backend->Get("snapshots/20261125-1430-full"), second) << "a later process";
  // Index objects are named by their content: a cached one still saves its download.
  ASSERT_TRUE(later.backend->Put("index/0123abcd", "index"));
  Cached third = Wrap(*remote->backend, cache / "c");
  ASSERT_TRUE(third.backend->List("index/"));
  EXPECT_EQ(*third.backend->Get("index/0123abcd"), "index");
  EXPECT_EQ(third.counter->gets.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, CachingBackendReuse,
                         ::testing::Values("local", "s3", "sftp", "ftp"));

// Must show: where the listing gives no version (an SFTP server lists times to the minute), a
// snapshot is cached by its modification time once a later object in the listing shows that its
// minute was over, and only then: an older backup is downloaded once and then read from the
// cache, the newest every time; and one forgotten and written again with the same size (a later
// minute) is read anew.
TEST(CachingBackend, OnAFileServerASnapshotIsCachedOnceItsMinuteIsOver) {
  testing::SshServer server;
  RetryPolicy retry = testing::FastRetries();
  auto remote = FileServerBackend::Create(testing::SftpRepoOptions(server), &retry);
  ASSERT_TRUE(remote) << remote.error().message;
  const std::string older = "{\"tree\":\"aaaa\"}", again = "{\"tree\":\"bbbb\"}";
  ASSERT_TRUE((*remote)->Put("snapshots/older", older));
  ASSERT_TRUE((*remote)->Put("snapshots/newest", "{\"tree\":\"cccc\"}"));
  const std::string dir = server.files_dir() + "/repo/snapshots/";
  std::filesystem::last_write_time(
      dir + "older", std::filesystem::file_time_type::clock::now() - std::chrono::hours(2));
  TempDir cache;
  for (int run = 0; run < 2; ++run) {
    Cached c = Wrap(**remote, cache / "c");
    ASSERT_TRUE(c.backend->List("snapshots/"));
    EXPECT_EQ(*c.backend->Get("snapshots/older"), older);
    EXPECT_EQ(*c.backend->Get("snapshots/newest"), "{\"tree\":\"cccc\"}");
    EXPECT_EQ(c.counter->gets.load(), run == 0 ? 2 : 1) << "run " << run;
  }
  ASSERT_TRUE((*remote)->Delete("snapshots/older"));
  ASSERT_TRUE((*remote)->Put("snapshots/older", again));
  Cached c = Wrap(**remote, cache / "c");
  ASSERT_TRUE(c.backend->List("snapshots/"));
  EXPECT_EQ(*c.backend->Get("snapshots/older"), again);
}

TEST(CachingBackend, DefaultDirectoryFollowsTheEnvironment) {
  std::string a = CachingBackend::DefaultCacheDir("s3://bkt/a");
  std::string b = CachingBackend::DefaultCacheDir("s3://bkt/b");
  EXPECT_NE(a, b) << "one cache per repository location";
  EXPECT_NE(a.find("velin"), std::string::npos);
}

}  // namespace
}  // namespace velin::storage
