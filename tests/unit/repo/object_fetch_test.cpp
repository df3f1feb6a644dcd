// ObjectFetcher hands out objects in the order given whatever order its requests finish in,
// puts a failed Get in its own place, reads no more than its byte bound ahead of the reader,
// can be dropped half-way, and reads a local repository on the caller's thread alone.
#include "velin/repo/object_fetch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace velin::repo {
namespace {

// Objects in memory behind a location that says remote or local; each Get waits a little, the
// later names less, so the requests finish out of order.
class LatencyMapBackend : public storage::Backend {
 public:
  explicit LatencyMapBackend(std::string location) : location_(std::move(location)) {}
  std::string Location() const override { return location_; }
  Status Put(const std::string& name, std::string_view data) override {
    std::lock_guard lock(mu_);
    objects_[name] = std::string(data);
    return Ok();
  }
  Result<std::string> Get(const std::string& name) override {
    const int now = ++in_flight_;
    int seen = max_in_flight_.load();
    while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
    }
    ++gets_;
    {
      std::lock_guard lock(mu_);
      threads_.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    --in_flight_;
    std::lock_guard lock(mu_);
    auto it = objects_.find(name);
    if (it == objects_.end()) return ErrnoError("no object " + name, 2);
    return it->second;
  }
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override {
    VELIN_ASSIGN(std::string all, Get(name));
    return all.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
  }
  Result<std::vector<storage::ObjectInfo>> List(const std::string&) override {
    return std::vector<storage::ObjectInfo>();
  }
  Status Delete(const std::string&) override { return Ok(); }
  Result<std::optional<storage::ObjectInfo>> Stat(const std::string&) override {
    return std::optional<storage::ObjectInfo>();
  }

  int delay_ms_ = 2;
  std::atomic<int> gets_{0};
  std::atomic<int> max_in_flight_{0};
  std::set<std::thread::id> threads_;

 private:
  std::string location_;
  std::mutex mu_;
  std::map<std::string, std::string> objects_;
  std::atomic<int> in_flight_{0};
};

std::vector<ObjectFetcher::Object> FetchNames(int n, uint64_t size) {
  std::vector<ObjectFetcher::Object> out;
  for (int i = 0; i < n; ++i) out.push_back({"index/" + std::to_string(i), size});
  return out;
}

TEST(ObjectFetcher, HandsOutARemoteRepositorysObjectsInOrderWhileSeveralAreRead) {
  LatencyMapBackend backend("s3://bucket/repo");
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(backend.Put("index/" + std::to_string(i), "object " + std::to_string(i)));
  }
  ObjectFetcher fetcher(backend, FetchNames(60, 10));
  for (int i = 0; i < 60; ++i) {
    auto got = fetcher.Next();
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, "object " + std::to_string(i));
  }
  EXPECT_EQ(backend.gets_.load(), 60);
  EXPECT_GT(backend.max_in_flight_.load(), 1);
  EXPECT_LE(backend.max_in_flight_.load(), storage::ParallelReadsFor("s3://bucket/repo"));
  EXPECT_EQ(backend.threads_.count(std::this_thread::get_id()), 0u);
}

TEST(ObjectFetcher, AsksAFileServerForFewerAtOnce) {
  LatencyMapBackend backend("sftp://backup@host:22/srv/repo");
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(backend.Put("index/" + std::to_string(i), "s"));
  ObjectFetcher fetcher(backend, FetchNames(40, 10));
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(fetcher.Next());
  EXPECT_GT(backend.max_in_flight_.load(), 1);
  EXPECT_LE(backend.max_in_flight_.load(),
            storage::ParallelReadsFor("sftp://backup@host:22/srv/repo"));
}

TEST(ObjectFetcher, PutsAFailedReadInItsOwnPlace) {
  LatencyMapBackend backend("sftp://host/repo");
  for (int i = 0; i < 20; ++i) {
    if (i == 7) continue;
    ASSERT_TRUE(backend.Put("index/" + std::to_string(i), std::to_string(i)));
  }
  ObjectFetcher fetcher(backend, FetchNames(20, 0));
  for (int i = 0; i < 20; ++i) {
    auto got = fetcher.Next();
    if (i == 7) {
      ASSERT_FALSE(got);
      EXPECT_TRUE(storage::IsNotFound(got.error()));
      EXPECT_NE(got.error().message.find("index/7"), std::string::npos);
    } else {
      ASSERT_TRUE(got) << i << ": " << got.error().message;
      EXPECT_EQ(*got, std::to_string(i));
    }
  }
}

TEST(ObjectFetcher, ReadsNoMoreThanItsBoundAheadOfTheReader) {
  LatencyMapBackend backend("s3://bucket/repo");
  backend.delay_ms_ = 0;
  const uint64_t size = 4ULL << 20;  // as listed; the bytes held are small here
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(backend.Put("index/" + std::to_string(i), "x"));
  ObjectFetcher fetcher(backend, FetchNames(20, size));
  ASSERT_TRUE(fetcher.Next());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the reader dawdles
  // The one returned, and what fits the bound behind it.
  EXPECT_EQ(backend.gets_.load(), 1 + static_cast<int>(ObjectFetcher::kAheadBytes / size));
  for (int i = 1; i < 20; ++i) ASSERT_TRUE(fetcher.Next());
  EXPECT_EQ(backend.gets_.load(), 20);
}

TEST(ObjectFetcher, ReadsAnObjectLargerThanTheBoundAlone) {
  LatencyMapBackend backend("s3://bucket/repo");
  backend.delay_ms_ = 0;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(backend.Put("index/" + std::to_string(i), "big"));
  ObjectFetcher fetcher(backend, FetchNames(3, ObjectFetcher::kAheadBytes * 2));
  for (int i = 0; i < 3; ++i) {
    auto got = fetcher.Next();
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, "big");
  }
}

TEST(ObjectFetcher, CanBeDroppedHalfWay) {
  LatencyMapBackend backend("s3://bucket/repo");
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(backend.Put("index/" + std::to_string(i), "y"));
  {
    ObjectFetcher fetcher(backend, FetchNames(200, 0));
    ASSERT_TRUE(fetcher.Next());
    ASSERT_TRUE(fetcher.Next());
  }  // waits for the requests under way, starts no more
  const int after = backend.gets_.load();
  EXPECT_LT(after, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(backend.gets_.load(), after);
  {
    ObjectFetcher untouched(backend, FetchNames(200, 0));  // never read
  }
}

TEST(ObjectFetcher, ReadsALocalRepositoryOnTheCallersThreadOneAtATime) {
  LatencyMapBackend backend("/srv/backups");
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(backend.Put("index/" + std::to_string(i), "z"));
  ObjectFetcher fetcher(backend, FetchNames(10, 0));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(fetcher.Next());
  EXPECT_EQ(backend.max_in_flight_.load(), 1);
  ASSERT_EQ(backend.threads_.size(), 1u);
  EXPECT_EQ(*backend.threads_.begin(), std::this_thread::get_id());
}

TEST(ObjectFetcher, TakesNoObjectsAtAll) {
  LatencyMapBackend backend("s3://bucket/repo");
  ObjectFetcher fetcher(backend, {});
  EXPECT_EQ(backend.gets_.load(), 0);
}

}  // namespace
}  // namespace velin::repo
