#include "velin/repo/tree_prefetch.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "velin/core/threads.hpp"

namespace velin::repo {
namespace {

// About the memory a decoded tree holds.
uint64_t TreeBytes(const Tree& tree) {
  uint64_t bytes = sizeof(Tree);
  for (const Node& n : tree.nodes) {
    bytes += sizeof(Node) + n.name.size() + n.target.size() + n.content.size() * sizeof(BlobId);
    for (const auto& [name, value] : n.xattrs) bytes += name.size() + value.size();
  }
  return bytes;
}

}  // namespace

TreePrefetcher::TreePrefetcher(ReadFn read, int threads, PlaceFn place, ReadRunFn read_run)
    : read_(std::move(read)),
      place_(std::move(place)),
      read_run_(std::move(read_run)),
      max_threads_(threads) {}

TreePrefetcher::~TreePrefetcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void TreePrefetcher::Prefetch(const std::vector<BlobId>& ids) {
  if (max_threads_ <= 0) return;
  size_t queued = 0;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    std::vector<BlobId> no_room;
    for (const BlobId& id : ids) {
      if (auto it = entries_.find(id); it != entries_.end()) {
        // Queued as a subtree of a tree read: the walk's now, so its own subtrees follow.
        Entry& e = it->second;
        if (!e.for_walk) {
          e.for_walk = true;
          const size_t before = queue_.size();
          if (e.state == State::kReady && read_deeper_) QueueSubtrees(*e.tree);
          queued += queue_.size() - before;
        }
        continue;
      }
      if (no_room.empty() && Full()) {
        MakeRoom();
      }
      if (!no_room.empty() || Full()) {
        no_room.push_back(id);
        continue;
      }
      entries_.emplace(id, Entry{});
      queue_.push_back(id);
      ++queued;
    }
    if (!no_room.empty() && !draining_) {
      later_.insert(later_.begin(), no_room.begin(), no_room.end());
      later_ids_.insert(no_room.begin(), no_room.end());
      while (later_.size() > kMaxLater) {
        later_ids_.erase(later_.back());
        later_.pop_back();
      }
    }
    StartThreads();
  }
  if (queued > 0) cv_.notify_all();
}

void TreePrefetcher::StartThreads() {
  // Threads start with the first trees to read, and no more of them than there is work for.
  while (!no_more_threads_ && static_cast<int>(threads_.size()) < max_threads_ &&
         threads_.size() < queue_.size()) {
    threads_.reserve(static_cast<size_t>(max_threads_));
    auto t = StartThread([this] { Work(); }, nullptr);
    if (!t) {
      // A system short of threads (ulimit -u): no more are tried, and what no thread reads
      // the walk reads itself (Take).
      no_more_threads_ = true;
      return;
    }
    threads_.push_back(std::move(*t));
  }
}

void TreePrefetcher::Refill() {
  // A run's worth of room at once: refilled one by one, each tree would be a request alone.
  if (later_.empty() || draining_ || stopping_ || ready_bytes_ > kMaxBytes ||
      entries_.size() + kMaxRunTrees > max_trees_) {
    return;
  }
  while (!later_.empty() && entries_.size() < max_trees_) {
    const BlobId id = later_.front();
    later_.pop_front();
    if (later_ids_.erase(id) == 0 || entries_.count(id)) continue;
    entries_.emplace(id, Entry{});
    queue_.push_back(id);
  }
  StartThreads();
}

void TreePrefetcher::QueueSubtrees(const Tree& tree) {
  if (draining_) return;
  for (const Node& n : tree.nodes) {
    if (n.type != NodeType::kDir || entries_.count(n.subtree)) continue;
    // No room made for these: the trees read and not taken yet are the walk's next ones.
    if (Full()) return;
    Entry e;
    e.for_walk = false;
    entries_.emplace(n.subtree, std::move(e));
    queue_.push_back(n.subtree);
  }
}

void TreePrefetcher::SetReadDeeper(bool deeper, size_t max_trees) {
  std::lock_guard lock(mu_);
  read_deeper_ = deeper;
  max_trees_ = deeper ? max_trees : kMaxTrees;
}

void TreePrefetcher::MakeRoom() {
  // The trees read longest ago and still not taken: the walk skipped them, or is far behind.
  while (!ready_.empty() && Full()) {
    const BlobId id = ready_.front();
    ready_.pop_front();
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.state != State::kReady) continue;  // taken
    ready_bytes_ -= it->second.bytes;
    entries_.erase(it);
  }
}

void TreePrefetcher::Work() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || (!queue_.empty() && !draining_); });
    if (stopping_) return;
    const BlobId id = queue_.front();
    queue_.pop_front();
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.state != State::kQueued) continue;  // taken meanwhile
    const std::vector<BlobId> run = RunFrom(id);  // each now kReading; left in queue_, skipped
    reading_ += run.size();
    lock.unlock();
    std::vector<Result<Tree>> trees;
    try {
      if (run.size() == 1) {
        trees.push_back(read_(id));
      } else {
        trees = read_run_(run);
      }
    } catch (...) {
      trees.clear();  // out of memory: none read here, the walk reads them itself
    }
    lock.lock();
    reading_ -= run.size();
    for (size_t i = 0; i < run.size(); ++i) {
      Finish(run[i], i < trees.size() ? std::move(trees[i])
                                      : MakeError(ExitCode::kFailed, "tree not read"));
    }
    if (!stopping_) StartThreads();  // subtrees queued by Finish
    cv_.notify_all();
  }
}

std::vector<BlobId> TreePrefetcher::RunFrom(const BlobId& first) {
  entries_[first].state = State::kReading;
  std::vector<BlobId> run{first};
  if (!place_ || !read_run_) return run;
  const std::optional<Place> at = place_(first);
  if (!at) return run;
  std::vector<std::pair<Place, BlobId>> near{{*at, first}};
  uint64_t begin = at->offset;
  uint64_t end = at->offset + at->length;
  // The queue in the walk's order: a directory's subtrees were queued together.
  size_t scanned = 0;
  for (const BlobId& id : queue_) {
    if (near.size() >= kMaxRunTrees || ++scanned > 4 * kMaxRunTrees) break;
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.state != State::kQueued) continue;
    const std::optional<Place> p = place_(id);
    if (!p || p->pack != at->pack) continue;
    const uint64_t b = std::min(begin, p->offset);
    const uint64_t e = std::max(end, p->offset + p->length);
    if (e - b > kMaxRunBytes) continue;
    begin = b;
    end = e;
    it->second.state = State::kReading;  // an id queued twice (taken, then asked again) goes once
    near.emplace_back(*p, id);
  }
  std::sort(near.begin(), near.end(),
            [](const auto& a, const auto& b) { return a.first.offset < b.first.offset; });
  run.clear();
  for (const auto& [place, id] : near) run.push_back(id);
  return run;
}

void TreePrefetcher::Finish(const BlobId& id, Result<Tree> tree) {
  auto it = entries_.find(id);  // a reading entry stays: Take waits for it, Drain too
  if (it == entries_.end()) return;
  if (tree) {
    it->second.bytes = TreeBytes(*tree);
    it->second.tree = std::move(*tree);
    it->second.state = State::kReady;
    ready_bytes_ += it->second.bytes;
    ready_.push_back(id);
    ++read_ahead_;
    if (read_deeper_ && it->second.for_walk) QueueSubtrees(*it->second.tree);
  } else {
    entries_.erase(it);  // the walk reads it itself, and meets the error itself
  }
}

std::optional<Tree> TreePrefetcher::Take(const BlobId& id) {
  std::unique_lock lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    later_ids_.erase(id);  // the walk reads it now: not to be read ahead after all
    return std::nullopt;
  }
  if (it->second.state == State::kQueued) {  // the walk is there first: it reads it now
    entries_.erase(it);
    return std::nullopt;
  }
  cv_.wait(lock, [&] {
    it = entries_.find(id);
    return it == entries_.end() || it->second.state == State::kReady;
  });
  if (it == entries_.end()) return std::nullopt;  // its read failed
  std::optional<Tree> tree = std::move(it->second.tree);
  ready_bytes_ -= it->second.bytes;
  entries_.erase(it);
  ++taken_;
  if (!later_.empty()) {
    const size_t before = queue_.size();
    Refill();
    if (queue_.size() > before) cv_.notify_all();
  }
  return tree;
}

void TreePrefetcher::Drain() {
  std::unique_lock lock(mu_);
  draining_ = true;  // the reads under way queue nothing more, no thread starts another
  for (const BlobId& id : queue_) {
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.state == State::kQueued) entries_.erase(it);
  }
  queue_.clear();
  later_.clear();
  later_ids_.clear();
  cv_.wait(lock, [this] { return reading_ == 0; });
  draining_ = false;
}

bool TreePrefetcher::draining() const {
  std::lock_guard lock(mu_);
  return draining_;
}

uint64_t TreePrefetcher::read_ahead() const {
  std::lock_guard lock(mu_);
  return read_ahead_;
}

uint64_t TreePrefetcher::taken() const {
  std::lock_guard lock(mu_);
  return taken_;
}

}  // namespace velin::repo
