// Reads a remote repository's trees ahead of the walk that needs them. Every walk of a backup
// (create against its parent, restore, verify, prune, copy, diff, stats) reads one tree per
// directory, and each is a ranged GET: one round trip each, one after the other. 421
// directories on S3 20 ms away cost 10.7 s in every `backup create`, `restore` and `verify`
// (bench/README.md, "Twenty-first pass"). When Repository::ReadTree hands out a tree, the trees
// of its subdirectories are queued here and read by a few threads, so that by the time the
// walk descends into them they are in memory.
//
// What is read ahead is only ever a shortcut: a tree whose read failed is forgotten, and the
// walk reads it itself and gets its own error. A tree the walk asks for before a thread took it
// is read by the walk at once (a queue never holds the walk up). Trees are named by their
// content, so one read ahead is right whenever it is taken.
//
// Given where each tree lies (PlaceFn) and a reader of several (ReadRunFn), a thread reads the
// queued trees that lie close together in one pack with one request: a backup writes a
// directory's subtrees one after the other, so the hundred subtrees of a directory are one
// read, not a hundred (an unchanged backup of 2,000 directories to SFTP 20 ms away read them
// one at a time for 47 s; bench/README.md, "Twenty-fourth pass").
//
// A walk that takes every tree it is handed (create's of its parent, a restore's) may ask for
// more (SetReadDeeper): then a tree read ahead for the walk has its own subtrees queued as well,
// so the next level is under way before the walk gets there. Without it, an unchanged backup
// of 20 directories of 100 to SFTP 20 ms away waited a read for each of the 20 (2.5 of its 4.7
// s). Only one level beyond what the walk asked for, and only while there is room: a walk that
// skips subtrees (prune's, over backups that share them) would have them read in vain.
//
// A directory of more subdirectories than kMaxTrees (6,000 upload folders) has the ones beyond
// the room kept in order, and queued kMaxRunTrees at a time as the walk takes trees: a restore
// of 6,000 directories from S3 20 ms away read the last 4,000 one round trip each (108 s).
// REQUIRES: `read` may be called from several threads at once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/blob_id.hpp"
#include "velin/repo/tree.hpp"

namespace velin::repo {

class TreePrefetcher {
 public:
  using ReadFn = std::function<Result<Tree>(const BlobId&)>;
  // Where a tree's stored bytes lie: its pack (any number that tells packs apart) and range.
  struct Place {
    uint64_t pack = 0;
    uint64_t offset = 0;
    uint64_t length = 0;
  };
  using PlaceFn = std::function<std::optional<Place>(const BlobId&)>;
  // Reads trees of one pack whose ranges span at most kMaxRunBytes (sorted by offset) with one
  // request: a result for each, in order.
  using ReadRunFn = std::function<std::vector<Result<Tree>>(const std::vector<BlobId>&)>;
  // The most one grouped read spans (gaps between its trees included), and the trees in it.
  static constexpr uint64_t kMaxRunBytes = 1ULL << 20;
  static constexpr size_t kMaxRunTrees = 256;
  // At most this many trees queued, being read or read and not taken (a walk that skips
  // subtrees, such as prune's over backups that share them, leaves some never taken: the
  // oldest of those make room).
  static constexpr size_t kMaxTrees = 2048;
  // A walk that takes every tree (SetReadDeeper) skips none: up to this many, so that a
  // directory of thousands of subdirectories is read ahead whole, not pushed out (and read
  // again, by the walk) by the trees below the first of them.
  static constexpr size_t kMaxTreesTakingAll = 1 << 16;
  // And at most about this much memory in trees read and not taken.
  static constexpr uint64_t kMaxBytes = 64ULL << 20;
  // Trees asked for while there was no room, kept to be queued later (beyond: the oldest asked
  // for are forgotten, and the walk reads them itself).
  static constexpr size_t kMaxLater = 1 << 16;

  TreePrefetcher(ReadFn read, int threads, PlaceFn place = {}, ReadRunFn read_run = {});
  ~TreePrefetcher();  // waits for the reads under way
  TreePrefetcher(const TreePrefetcher&) = delete;
  TreePrefetcher& operator=(const TreePrefetcher&) = delete;

  // Queues the trees of `ids` that are not known here yet (in order, while there is room).
  void Prefetch(const std::vector<BlobId>& ids);
  // The tree `id` if it was read ahead (waiting for a read under way); nullopt when the caller
  // must read it (never queued, queued but not started, or its read failed).
  std::optional<Tree> Take(const BlobId& id);
  // Drops the queue and waits for the reads under way (the trees read stay).
  void Drain();
  // Also read the subtrees of trees read for the walk (see above).
  // `max_trees`: kMaxTreesTakingAll while reading deeper (smaller in tests), kMaxTrees after.
  void SetReadDeeper(bool deeper, size_t max_trees = kMaxTreesTakingAll);

  // How many trees were read ahead and how many of those were taken (for tests).
  uint64_t read_ahead() const;
  uint64_t taken() const;
  bool draining() const;  // Drain() waits (for tests)

 private:
  enum class State { kQueued, kReading, kReady };
  struct Entry {
    State state = State::kQueued;
    std::optional<Tree> tree;
    uint64_t bytes = 0;
    bool for_walk = true;  // Prefetch queued it; false: a subtree of one read (read_deeper_)
  };
  void Work();
  // No room for another tree (max_trees_ entries, or kMaxBytes of trees not taken).
  // REQUIRES: mu_ held.
  bool Full() const { return entries_.size() >= max_trees_ || ready_bytes_ > kMaxBytes; }
  void MakeRoom();  // REQUIRES: mu_ held
  // Queues the subtrees of `tree` not known here, while there is room without making any.
  // REQUIRES: mu_ held.
  void QueueSubtrees(const Tree& tree);
  void StartThreads();  // as many as there is work for; REQUIRES: mu_ held
  // Queues trees of later_ once there is room for a run of them. REQUIRES: mu_ held.
  void Refill();
  // `first` and the queued trees near it in its pack, sorted by offset, each marked kReading.
  // REQUIRES: mu_ held; `first` queued.
  std::vector<BlobId> RunFrom(const BlobId& first);
  // Records a read's outcome for `id`. REQUIRES: mu_ held.
  void Finish(const BlobId& id, Result<Tree> tree);

  ReadFn read_;
  PlaceFn place_;
  ReadRunFn read_run_;
  int max_threads_;
  bool no_more_threads_ = false;  // one would not start (ulimit -u): threads_ is all there is
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<BlobId, Entry, BlobIdHash> entries_;
  std::deque<BlobId> queue_;  // to read, oldest first (entries no longer queued are skipped)
  std::deque<BlobId> ready_;  // read, oldest first (entries taken meanwhile are skipped)
  // Asked for without room, the newest asked for first (the walk goes depth first); an id no
  // longer in later_ids_ (the walk read it meanwhile) is skipped.
  std::deque<BlobId> later_;
  std::unordered_set<BlobId, BlobIdHash> later_ids_;
  uint64_t ready_bytes_ = 0;
  size_t reading_ = 0;
  bool stopping_ = false;
  bool read_deeper_ = false;
  size_t max_trees_ = kMaxTrees;
  bool draining_ = false;
  uint64_t read_ahead_ = 0;
  uint64_t taken_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace velin::repo
