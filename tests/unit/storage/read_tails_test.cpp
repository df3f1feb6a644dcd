// ReadTails: a read or two stay the caller's ranged reads; the third read of an object fetches it
// from the lowest offset read to its end, once, and the reads after it come from memory.
#include "velin/storage/read_tails.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace velin::storage {
namespace {

std::string PackBytes(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

class ReadTailsTest : public ::testing::Test {
 protected:
  ReadTails::FetchTail Fetch(const std::string& object) {
    return [this, object](uint64_t from) -> Result<std::string> {
      ++fetches_;
      return object.substr(from);
    };
  }
  std::atomic<int> fetches_{0};
};

// Two ranged reads of `name`, from offset 0: what makes the next read fetch its tail.
void Walked(ReadTails& tails, const std::string& name, const ReadTails::FetchTail& fetch) {
  EXPECT_FALSE(tails.Read(name, 0, 10, fetch)) << "the first read of " << name;
  EXPECT_FALSE(tails.Read(name, 10, 10, fetch)) << "the second read of " << name;
}

TEST_F(ReadTailsTest, TwoReadsAreTheCallersAndTheNextOnesComeFromOneFetch) {
  const std::string pack = PackBytes(1000);
  ReadTails tails(1 << 20);
  EXPECT_FALSE(tails.Read("data/p", 50, 50, Fetch(pack))) << "the first read of a pack";
  EXPECT_FALSE(tails.Read("data/p", 100, 50, Fetch(pack))) << "the second";
  EXPECT_EQ(fetches_.load(), 0);
  auto second = tails.Read("data/p", 300, 50, Fetch(pack));
  ASSERT_TRUE(second && *second);
  EXPECT_EQ(**second, pack.substr(300, 50));
  EXPECT_EQ(fetches_.load(), 1);
  for (uint64_t at : {350u, 500u, 950u}) {
    auto next = tails.Read("data/p", at, 50, Fetch(pack));
    ASSERT_TRUE(next && *next);
    EXPECT_EQ(**next, pack.substr(at, 50));
  }
  EXPECT_EQ(fetches_.load(), 1) << "served from the tail kept";
  EXPECT_EQ(tails.kept_bytes(), 950u) << "from the lowest offset read";
}

TEST_F(ReadTailsTest, ScatteredReadsFetchFromTheLowestOffsetOnceWhileItIsKept) {
  // Several workers restore files whose blobs lie in one pack: its reads come in any order.
  const std::string pack = PackBytes(1000);
  ReadTails tails(1 << 20);
  EXPECT_FALSE(tails.Read("data/p", 500, 10, Fetch(pack)));
  EXPECT_FALSE(tails.Read("data/q", 600, 10, Fetch(pack))) << "another object's first read";
  EXPECT_FALSE(tails.Read("data/p", 200, 10, Fetch(pack)));
  EXPECT_EQ(fetches_.load(), 0);
  for (uint64_t at : {300u, 250u, 200u, 990u}) {
    auto r = tails.Read("data/p", at, 10, Fetch(pack));
    ASSERT_TRUE(r && *r);
    EXPECT_EQ(**r, pack.substr(at, 10));
  }
  EXPECT_EQ(fetches_.load(), 1);
  EXPECT_FALSE(tails.Read("data/p", 100, 10, Fetch(pack))) << "below the tail: ranged";
  EXPECT_FALSE(tails.Read("data/p", 50, 10, Fetch(pack))) << "no second fetch while kept";
  EXPECT_EQ(fetches_.load(), 1);
}

TEST_F(ReadTailsTest, AReadNearTheKnownEndRunsToTheEndAtOnce) {
  const std::string pack = PackBytes(3 << 20);
  ReadTails tails(16 << 20);
  tails.NoteSize("data/p", pack.size());
  EXPECT_FALSE(tails.Read("data/p", 0, 100, Fetch(pack))) << "megabytes before the end";
  const uint64_t near = pack.size() - (512 << 10);
  auto r = tails.Read("data/p", near, 100, Fetch(pack));
  ASSERT_TRUE(r && *r) << "half a megabyte before the end";
  EXPECT_EQ(**r, pack.substr(near, 100));
  EXPECT_EQ(tails.kept_bytes(), 512u << 10) << "from the read on, not from the lowest";
  EXPECT_EQ(fetches_.load(), 1);
  tails.Forget("data/p");
  EXPECT_FALSE(tails.SizeOf("data/p"));
  EXPECT_FALSE(tails.Read("data/p", near, 100, Fetch(pack))) << "size forgotten";
}

TEST_F(ReadTailsTest, ASmallObjectOfKnownSizeIsReadWholeAtItsFirstRead) {
  const std::string pack = PackBytes(5000);  // a pack of a few trees
  ReadTails tails(1 << 20);
  tails.NoteSize("data/t", pack.size());
  for (uint64_t at : {2000u, 0u, 4000u}) {
    auto r = tails.Read("data/t", at, 500, Fetch(pack));
    ASSERT_TRUE(r && *r) << at;
    EXPECT_EQ(**r, pack.substr(at, 500));
  }
  EXPECT_EQ(fetches_.load(), 1);
  EXPECT_EQ(tails.kept_bytes(), 5000u);
}

TEST_F(ReadTailsTest, ATailShorterThanTheRangeIsReturnedShortForTheCallerToReport) {
  const std::string pack = PackBytes(100);
  ReadTails tails(1 << 20);
  Walked(tails, "data/p", Fetch(pack));
  auto beyond = tails.Read("data/p", 90, 50, Fetch(pack));
  ASSERT_TRUE(beyond && *beyond);
  EXPECT_EQ((*beyond)->size(), 10u);
}

TEST_F(ReadTailsTest, AFailedFetchIsTheReadsErrorAndKeepsNothing) {
  ReadTails tails(1 << 20);
  auto failing = [](uint64_t) -> Result<std::string> {
    return tl::unexpected(Error{ExitCode::kFailed, "get data/p: connection refused", 111});
  };
  Walked(tails, "data/p", failing);
  auto read = tails.Read("data/p", 20, 10, failing);
  ASSERT_TRUE(read);
  ASSERT_FALSE(*read);
  EXPECT_EQ(read->error().sys_errno, 111);
  EXPECT_EQ(tails.kept_bytes(), 0u);
}

TEST_F(ReadTailsTest, KeepsWithinItsBudgetDroppingTheLeastRecentlyUsed) {
  const std::string pack = PackBytes(1000);
  ReadTails tails(1500);
  for (const char* name : {"data/a", "data/b"}) {
    Walked(tails, name, Fetch(pack));
    ASSERT_TRUE(tails.Read(name, 200, 10, Fetch(pack)));  // 800 bytes kept each
  }
  EXPECT_LE(tails.kept_bytes(), 1500u);
  EXPECT_EQ(fetches_.load(), 2);
  auto b = tails.Read("data/b", 900, 10, Fetch(pack));  // b is still kept, a was dropped
  ASSERT_TRUE(b && *b);
  EXPECT_EQ(fetches_.load(), 2);
  ReadTails small(100);  // a tail larger than the budget serves its read and is not kept
  Walked(small, "data/a", Fetch(pack));
  ASSERT_TRUE(small.Read("data/a", 200, 10, Fetch(pack)));
  EXPECT_EQ(small.kept_bytes(), 0u);
}

TEST_F(ReadTailsTest, ForgetDropsWhatWasKeptOfAnObject) {
  const std::string pack = PackBytes(1000);
  ReadTails tails(1 << 20);
  Walked(tails, "data/p", Fetch(pack));
  ASSERT_TRUE(tails.Read("data/p", 100, 10, Fetch(pack)));
  tails.Forget("data/p");
  EXPECT_EQ(tails.kept_bytes(), 0u);
  EXPECT_FALSE(tails.Read("data/p", 500, 10, Fetch(pack))) << "a first read again";
}

TEST_F(ReadTailsTest, ReadersOfATailBeingFetchedWaitForItInsteadOfFetchingAgain) {
  const std::string pack = PackBytes(1 << 16);
  ReadTails tails(1 << 20);
  Walked(tails, "data/p", Fetch(pack));
  std::atomic<bool> release{false};
  auto slow = [&](uint64_t from) -> Result<std::string> {
    ++fetches_;
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return pack.substr(from);
  };
  std::vector<std::thread> readers;
  std::atomic<int> served{0};
  auto read_at = [&](uint64_t at) {
    auto r = tails.Read("data/p", at, 100, slow);
    if (r && *r && **r == pack.substr(at, 100)) ++served;
  };
  readers.emplace_back(read_at, 100);  // fetches the tail from 100 ...
  while (fetches_.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (uint64_t at : {1100u, 2100u, 3100u}) readers.emplace_back(read_at, at);  // ... these wait
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  release = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(served.load(), 4);
  EXPECT_EQ(fetches_.load(), 1) << "the readers behind the first waited for its tail";
}

}  // namespace
}  // namespace velin::storage
