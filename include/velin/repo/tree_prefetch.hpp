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
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/blob_id.hpp"
#include "velin/repo/tree.hpp"

namespace velin::repo {

class TreePrefetcher {
 public:
  using ReadFn = std::function<Result<Tree>(const BlobId&)>;
  // At most this many trees queued, being read or read and not taken (a walk that skips
  // subtrees, such as prune's over backups that share them, leaves some never taken: the
  // oldest of those make room).
  static constexpr size_t kMaxTrees = 2048;
  // And at most about this much memory in trees read and not taken.
  static constexpr uint64_t kMaxBytes = 64ULL << 20;

  TreePrefetcher(ReadFn read, int threads);
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

  // How many trees were read ahead and how many of those were taken (for tests).
  uint64_t read_ahead() const;
  uint64_t taken() const;

 private:
  enum class State { kQueued, kReading, kReady };
  struct Entry {
    State state = State::kQueued;
    std::optional<Tree> tree;
    uint64_t bytes = 0;
  };
  void Work();
  void MakeRoom();  // REQUIRES: mu_ held

  ReadFn read_;
  int max_threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<BlobId, Entry, BlobIdHash> entries_;
  std::deque<BlobId> queue_;  // to read, oldest first (entries no longer queued are skipped)
  std::deque<BlobId> ready_;  // read, oldest first (entries taken meanwhile are skipped)
  uint64_t ready_bytes_ = 0;
  size_t reading_ = 0;
  bool stopping_ = false;
  uint64_t read_ahead_ = 0;
  uint64_t taken_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace velin::repo
