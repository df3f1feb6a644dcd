// TreePrefetcher: trees read ahead are handed out once; one the caller asks for before a
// thread took it is left to the caller (and never read twice); a failed read is left to the
// caller too; Drain waits for the reads under way; the oldest trees never taken make room for
// new ones; without threads nothing is read ahead; trees close together in one pack are read
// with one request, never across packs or beyond the span a request may cover; reading deeper
// (SetReadDeeper) goes one level beyond the walk, never makes room, and stops at a Drain; the
// subdirectories of a directory wider than the room are read ahead as the walk takes trees.
#include "velin/repo/tree_prefetch.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "support/test_support.hpp"

namespace velin::repo {
namespace {

BlobId PrefetchTestId(int n) {
  BlobId id;
  id.bytes[0] = static_cast<uint8_t>(n);
  id.bytes[1] = static_cast<uint8_t>(n >> 8);
  id.bytes[31] = 1;
  return id;
}

Tree PrefetchTestTree(const BlobId& id) {
  Tree t;
  Node n;
  n.name = "n" + std::to_string(id.bytes[0] + 256 * id.bytes[1]);
  t.nodes.push_back(n);
  return t;
}

// Counts reads per id; a read of a held id waits until released.
class TreeSource {
 public:
  Result<Tree> Read(const BlobId& id) {
    std::unique_lock lock(mu_);
    ++reads_[id];
    cv_.wait(lock, [&] { return !held_.count(id); });
    if (failing_.count(id)) return MakeError(ExitCode::kFailed, "no such tree");
    return PrefetchTestTree(id);
  }
  void Hold(const BlobId& id) {
    std::lock_guard lock(mu_);
    held_[id] = true;
  }
  void Release(const BlobId& id) {
    {
      std::lock_guard lock(mu_);
      held_.erase(id);
    }
    cv_.notify_all();
  }
  void Fail(const BlobId& id) {
    std::lock_guard lock(mu_);
    failing_[id] = true;
  }
  int Reads(const BlobId& id) {
    std::lock_guard lock(mu_);
    return reads_[id];
  }
  TreePrefetcher::ReadFn Fn() {
    return [this](const BlobId& id) { return Read(id); };
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<BlobId, int> reads_;
  std::map<BlobId, bool> held_;
  std::map<BlobId, bool> failing_;
};

TEST(TreePrefetcher, HandsOutWhatItReadAheadOnce) {
  TreeSource source;
  TreePrefetcher p(source.Fn(), 4);
  std::vector<BlobId> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(PrefetchTestId(i));
  p.Prefetch(ids);
  p.Prefetch(ids);  // known already: not queued again
  ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == 50; }));
  for (int i = 0; i < 50; ++i) {
    auto t = p.Take(ids[i]);
    ASSERT_TRUE(t) << i;
    EXPECT_EQ(t->nodes.at(0).name, "n" + std::to_string(i));
    EXPECT_EQ(source.Reads(ids[i]), 1) << i;
  }
  EXPECT_EQ(p.taken(), 50u);
  EXPECT_FALSE(p.Take(ids[0])) << "handed out once";
}

TEST(TreePrefetcher, ATreeAskedForBeforeAThreadTookItIsLeftToTheCaller) {
  TreeSource source;
  TreePrefetcher p(source.Fn(), 1);
  const BlobId first = PrefetchTestId(1), second = PrefetchTestId(2);
  source.Hold(first);
  p.Prefetch({first, second});
  ASSERT_TRUE(testing::WaitFor([&] { return source.Reads(first) > 0; }));
  EXPECT_FALSE(p.Take(second));  // still queued behind the held read
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    source.Release(first);
  });
  auto t = p.Take(first);  // being read: waits for it
  release.join();
  ASSERT_TRUE(t);
  EXPECT_EQ(t->nodes.at(0).name, "n1");
  p.Drain();
  EXPECT_EQ(source.Reads(second), 0) << "the caller reads it, not a thread as well";
}

TEST(TreePrefetcher, AFailedReadIsLeftToTheCaller) {
  TreeSource source;
  TreePrefetcher p(source.Fn(), 2);
  const BlobId bad = PrefetchTestId(7);
  source.Fail(bad);
  p.Prefetch({bad});
  ASSERT_TRUE(testing::WaitFor([&] { return source.Reads(bad) > 0; }));
  p.Drain();
  EXPECT_FALSE(p.Take(bad));
  EXPECT_EQ(p.read_ahead(), 0u);
}

TEST(TreePrefetcher, DrainWaitsForTheReadsUnderWayAndDropsTheQueue) {
  TreeSource source;
  TreePrefetcher p(source.Fn(), 1);
  const BlobId held = PrefetchTestId(1);
  source.Hold(held);
  std::vector<BlobId> ids = {held};
  for (int i = 2; i < 20; ++i) ids.push_back(PrefetchTestId(i));
  p.Prefetch(ids);
  ASSERT_TRUE(testing::WaitFor([&] { return source.Reads(held) > 0; }));
  std::atomic<bool> drained{false};
  std::thread drain([&] {
    p.Drain();
    drained = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(drained.load()) << "a read is under way";
  source.Release(held);
  drain.join();
  EXPECT_TRUE(p.Take(held)) << "what was read stays";
  for (int i = 2; i < 20; ++i) EXPECT_EQ(source.Reads(PrefetchTestId(i)), 0) << i;
}

TEST(TreePrefetcher, TheOldestTreesNeverTakenMakeRoom) {
  TreeSource source;
  TreePrefetcher p(source.Fn(), 4);
  const int n = static_cast<int>(TreePrefetcher::kMaxTrees) + 500;
  std::vector<BlobId> first, later;
  for (int i = 0; i < static_cast<int>(TreePrefetcher::kMaxTrees); ++i) {
    first.push_back(PrefetchTestId(i));
  }
  for (int i = static_cast<int>(TreePrefetcher::kMaxTrees); i < n; ++i) {
    later.push_back(PrefetchTestId(i));
  }
  p.Prefetch(first);
  ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == first.size(); }));
  p.Prefetch(later);  // full of trees never taken: the oldest go
  ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == static_cast<uint64_t>(n); }));
  EXPECT_TRUE(p.Take(later.back()));
  // Which of the first went depends on the order their reads finished in (four threads; under
  // load the very first may finish late): as many as came later.
  size_t kept = 0;
  for (const BlobId& id : first) kept += p.Take(id).has_value() ? 1 : 0;
  EXPECT_EQ(kept, first.size() - later.size()) << "made room";
}

// One directory of three times more subdirectories than there is room for (6,000 upload
// folders): the ones beyond the room are read ahead as the walk takes trees, each once.
TEST(TreePrefetcher, SubtreesBeyondTheRoomAreReadAheadAsTheWalkTakesTrees) {
  TreeSource source;
  TreePrefetcher p(source.Fn(), 4);
  const int n = static_cast<int>(TreePrefetcher::kMaxTrees) * 3 + 100;
  std::vector<BlobId> ids;
  for (int i = 0; i < n; ++i) ids.push_back(PrefetchTestId(i));
  p.Prefetch(ids);
  for (int i = 0; i < n; ++i) {
    // Read in the order asked for: once i + 1 reads are done, the i-th has begun.
    ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() > static_cast<uint64_t>(i); }))
        << "tree " << i << " was never read ahead";
    ASSERT_TRUE(p.Take(ids[i])) << i;
  }
  EXPECT_EQ(p.taken(), static_cast<uint64_t>(n));
  for (int i = 0; i < n; ++i) ASSERT_EQ(source.Reads(ids[i]), 1) << i;
}

// A walk that takes every tree keeps a directory of 6,000 subdirectories read ahead whole while
// it goes down the first of them: nothing of it is pushed out and read a second time.
TEST(TreePrefetcher, AWalkTakingEveryTreeKeepsAWideDirectoryWhileItGoesDown) {
  TreeSource source;
  TreePrefetcher p(source.Fn(), 4);
  p.SetReadDeeper(true);
  const int n = 6000;
  std::vector<BlobId> ids, below;
  for (int i = 0; i < n; ++i) ids.push_back(PrefetchTestId(i));
  for (int i = n; i < n + 300; ++i) below.push_back(PrefetchTestId(i));
  p.Prefetch(ids);
  ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == static_cast<uint64_t>(n); }));
  ASSERT_TRUE(p.Take(ids[0]));
  p.Prefetch(below);  // the first one's subdirectories
  ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == static_cast<uint64_t>(n + 300); }));
  for (const BlobId& id : below) ASSERT_TRUE(p.Take(id));
  for (int i = 1; i < n; ++i) ASSERT_TRUE(p.Take(ids[i])) << i;
  for (int i = 0; i < n; ++i) ASSERT_EQ(source.Reads(ids[i]), 1) << i;
}

// A tree waiting for room that the walk reaches first is the walk's: never read ahead after.
TEST(TreePrefetcher, ATreeWaitingForRoomThatTheWalkReadItselfIsNotReadAhead) {
  TreeSource source;
  TreePrefetcher p(source.Fn(), 4);
  const int room = static_cast<int>(TreePrefetcher::kMaxTrees);
  const int n = room + 300;
  std::vector<BlobId> ids;
  for (int i = 0; i < n; ++i) ids.push_back(PrefetchTestId(i));
  p.Prefetch(ids);
  ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == static_cast<uint64_t>(room); }));
  EXPECT_FALSE(p.Take(ids[room + 5])) << "not read ahead yet: the walk reads it";
  for (int i = 0; i < room; ++i) ASSERT_TRUE(p.Take(ids[i])) << i;
  ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == static_cast<uint64_t>(n - 1); }));
  EXPECT_EQ(source.Reads(ids[room + 5]), 0);
  for (int i = room; i < n; ++i) {
    if (i != room + 5) {
      EXPECT_TRUE(p.Take(ids[i])) << i;
    }
  }
}

TEST(TreePrefetcher, WithoutThreadsReadsNothingAhead) {
  TreeSource source;
  TreePrefetcher p(source.Fn(), 0);
  p.Prefetch({PrefetchTestId(1)});
  p.Drain();
  EXPECT_FALSE(p.Take(PrefetchTestId(1)));
  EXPECT_EQ(source.Reads(PrefetchTestId(1)), 0);
}

// Trees 0–99 lie one after the other in pack 1, 100–109 in pack 2, 200 in pack 1 far beyond
// the others: a run of pack 1's hundred, one of pack 2's ten, 200 alone.
TEST(TreePrefetcher, TreesCloseTogetherInOnePackAreOneRead) {
  TreeSource source;
  std::mutex mu;
  std::vector<std::vector<BlobId>> runs;
  bool fail_runs = false;
  auto place = [](const BlobId& id) -> std::optional<TreePrefetcher::Place> {
    const int n = id.bytes[0] + 256 * id.bytes[1];
    if (n < 100) return TreePrefetcher::Place{1, static_cast<uint64_t>(n) * 100, 100};
    if (n < 110) return TreePrefetcher::Place{2, static_cast<uint64_t>(n - 100) * 100, 100};
    return TreePrefetcher::Place{1, 5ULL << 20, 100};
  };
  auto read_run = [&](const std::vector<BlobId>& ids) {
    std::lock_guard lock(mu);
    runs.push_back(ids);
    std::vector<Result<Tree>> out;
    for (const BlobId& id : ids) {
      if (fail_runs) {
        out.push_back(MakeError(ExitCode::kFailed, "connection reset"));
      } else {
        out.push_back(PrefetchTestTree(id));
      }
    }
    return out;
  };
  {
    TreePrefetcher p(source.Fn(), 2, place, read_run);
    std::vector<BlobId> ids;
    for (int i = 99; i >= 0; --i) ids.push_back(PrefetchTestId(i));  // any order: sorted
    for (int i = 100; i < 110; ++i) ids.push_back(PrefetchTestId(i));
    ids.push_back(PrefetchTestId(200));
    p.Prefetch(ids);
    ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == ids.size(); }));
    for (const BlobId& id : ids) {
      auto t = p.Take(id);
      ASSERT_TRUE(t);
      EXPECT_EQ(t->nodes.at(0).name, PrefetchTestTree(id).nodes.at(0).name);
    }
    std::lock_guard lock(mu);
    ASSERT_EQ(runs.size(), 2u);  // in the order the two threads got to them
    const std::vector<BlobId>& hundred = runs[0].size() == 100 ? runs[0] : runs[1];
    const std::vector<BlobId>& ten = runs[0].size() == 100 ? runs[1] : runs[0];
    ASSERT_EQ(hundred.size(), 100u);
    for (size_t i = 0; i < hundred.size(); ++i) {
      EXPECT_EQ(hundred[i], PrefetchTestId(static_cast<int>(i))) << i;  // by offset
    }
    ASSERT_EQ(ten.size(), 10u);
    for (size_t i = 0; i < ten.size(); ++i) {
      EXPECT_EQ(ten[i], PrefetchTestId(100 + static_cast<int>(i))) << i;
    }
    EXPECT_EQ(source.Reads(PrefetchTestId(200)), 1) << "alone: beyond the span";
    for (int i = 0; i < 110; ++i) EXPECT_EQ(source.Reads(PrefetchTestId(i)), 0) << i;
  }
  {
    // A failed run leaves each of its trees to the caller, who reads it and meets the error.
    runs.clear();
    fail_runs = true;
    TreePrefetcher p(source.Fn(), 1, place, read_run);
    std::vector<BlobId> ids;
    for (int i = 0; i < 20; ++i) ids.push_back(PrefetchTestId(i));
    p.Prefetch(ids);
    ASSERT_TRUE(testing::WaitFor([&] {
      std::lock_guard lock(mu);
      return !runs.empty();
    }));
    p.Drain();
    for (const BlobId& id : ids) EXPECT_FALSE(p.Take(id));
    EXPECT_EQ(p.read_ahead(), 0u);
  }
}

// A tree the walk took before a thread did and then asked for again is queued twice: it is read
// once, in one run.
TEST(TreePrefetcher, ATreeQueuedTwiceIsReadOnceInARun) {
  TreeSource source;
  std::mutex mu;
  std::vector<std::vector<BlobId>> runs;
  auto place = [](const BlobId& id) -> std::optional<TreePrefetcher::Place> {
    const int n = id.bytes[0] + 256 * id.bytes[1];
    if (n == 9) return TreePrefetcher::Place{2, 0, 100};  // the held one, alone in its pack
    return TreePrefetcher::Place{1, static_cast<uint64_t>(n) * 100, 100};
  };
  auto read_run = [&](const std::vector<BlobId>& ids) {
    std::lock_guard lock(mu);
    runs.push_back(ids);
    std::vector<Result<Tree>> out;
    for (const BlobId& id : ids) out.push_back(PrefetchTestTree(id));
    return out;
  };
  TreePrefetcher p(source.Fn(), 1, place, read_run);
  const BlobId held = PrefetchTestId(9), c = PrefetchTestId(0), a = PrefetchTestId(1),
               b = PrefetchTestId(2);
  source.Hold(held);
  p.Prefetch({held});  // the one thread waits on it
  ASSERT_TRUE(testing::WaitFor([&] { return source.Reads(held) > 0; }));
  p.Prefetch({c, a});
  EXPECT_FALSE(p.Take(a));  // still queued: the walk reads it itself
  p.Prefetch({a, b});       // and asks again: `a` is in the queue twice, behind `c`
  source.Release(held);
  ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == 4; }));
  EXPECT_TRUE(p.Take(c));
  EXPECT_TRUE(p.Take(a));
  EXPECT_TRUE(p.Take(b));
  std::lock_guard lock(mu);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0], (std::vector<BlobId>{c, a, b}));
}

// A tree of directories for SetReadDeeper: id n (n < 1000) has the three subtrees 10n+1..10n+3
// (0 -> 1..3 -> 11..13, 21..23, 31..33 -> 111..113, ...); counts reads; a read of a held id
// waits until released.
class DeepTreeSource {
 public:
  Result<Tree> Read(const BlobId& id) {
    std::unique_lock lock(mu_);
    ++reads_;
    ++read_[id];
    cv_.wait(lock, [&] { return !held_.count(id); });
    Tree t;
    const int n = id.bytes[0] + 256 * id.bytes[1];
    for (int k = 1; k <= 3 && n < 1000; ++k) {
      Node d;
      d.name = "d" + std::to_string(k);
      d.type = NodeType::kDir;
      d.subtree = PrefetchTestId(10 * n + k);
      t.nodes.push_back(d);
    }
    return t;
  }
  TreePrefetcher::ReadFn Fn() {
    return [this](const BlobId& id) { return Read(id); };
  }
  void Hold(int n) {
    std::lock_guard lock(mu_);
    held_.insert(PrefetchTestId(n));
  }
  void Release(int n) {
    {
      std::lock_guard lock(mu_);
      held_.erase(PrefetchTestId(n));
    }
    cv_.notify_all();
  }
  int reads() {
    std::lock_guard lock(mu_);
    return reads_;
  }
  int Reads(int n) {
    std::lock_guard lock(mu_);
    return read_[PrefetchTestId(n)];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int reads_ = 0;
  std::map<BlobId, int> read_;
  std::set<BlobId> held_;
};

std::vector<BlobId> DeepIds(std::initializer_list<int> ns) {
  std::vector<BlobId> ids;
  for (int n : ns) ids.push_back(PrefetchTestId(n));
  return ids;
}

// The walk took the root and asked for its three subtrees: with SetReadDeeper their nine
// subtrees are read too, and no further until the walk takes one of the three; then that one's
// subtrees' own come. Without it, only what the walk asked for.
TEST(TreePrefetcher, ReadingDeeperReadsOneLevelBeyondWhatTheWalkAskedFor) {
  {
    DeepTreeSource source;
    TreePrefetcher p(source.Fn(), 2);
    p.SetReadDeeper(true);
    p.Prefetch(DeepIds({1, 2, 3}));
    ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == 12; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(source.reads(), 12) << "the walk asked for nothing below 11..33";
    EXPECT_EQ(source.Reads(111), 0);
    // The walk takes 1 and asks for its subtrees, read already: theirs follow.
    ASSERT_TRUE(p.Take(PrefetchTestId(1)));
    p.Prefetch(DeepIds({11, 12, 13}));
    ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == 21; }));
    for (int n : {111, 112, 113, 121, 122, 123, 131, 132, 133}) {
      EXPECT_EQ(source.Reads(n), 1) << n;
      EXPECT_TRUE(p.Take(PrefetchTestId(n))) << n;
    }
    for (int n : {11, 12, 13, 2, 21, 33}) EXPECT_TRUE(p.Take(PrefetchTestId(n))) << n;
    EXPECT_EQ(source.Reads(211), 0) << "2 was never taken: its subtrees' own are not read";
  }
  {
    DeepTreeSource source;
    TreePrefetcher p(source.Fn(), 2);
    p.Prefetch(DeepIds({1, 2, 3}));
    ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == 3; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(source.reads(), 3);
  }
}

// Subtrees read deeper never make room: the trees read for the walk and not taken yet are the
// ones it needs next, and stay; so does the limit.
TEST(TreePrefetcher, ReadingDeeperNeverPushesOutWhatTheWalkAskedFor) {
  DeepTreeSource source;
  TreePrefetcher p(source.Fn(), 2);
  p.SetReadDeeper(true, TreePrefetcher::kMaxTrees);
  std::vector<BlobId> tops;
  for (int n = 1; n <= 900; ++n) tops.push_back(PrefetchTestId(n));  // 2,700 subtrees below
  p.Prefetch(tops);
  ASSERT_TRUE(testing::WaitFor([&] { return p.read_ahead() == TreePrefetcher::kMaxTrees; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(p.read_ahead(), TreePrefetcher::kMaxTrees);
  for (const BlobId& id : tops) EXPECT_TRUE(p.Take(id));
  EXPECT_EQ(p.taken(), 900u);
}

// While Drain waits for the reads under way, they queue nothing more: after it, nothing is read.
TEST(TreePrefetcher, NothingIsReadDeeperAfterADrain) {
  DeepTreeSource source;
  TreePrefetcher p(source.Fn(), 2);
  p.SetReadDeeper(true);
  source.Hold(1);
  p.Prefetch(DeepIds({1}));
  ASSERT_TRUE(testing::WaitFor([&] { return source.Reads(1) > 0; }));
  std::thread drain([&] { p.Drain(); });
  EXPECT_TRUE(testing::WaitFor([&] { return p.draining(); }));
  source.Release(1);  // its end would queue 11..13
  drain.join();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(source.reads(), 1);
  EXPECT_TRUE(p.Take(PrefetchTestId(1)));
}

}  // namespace
}  // namespace velin::repo
