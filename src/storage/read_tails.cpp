#include "velin/storage/read_tails.hpp"

#include <algorithm>

namespace velin::storage {

ReadTails::Tail* ReadTails::Find(const std::string& name, uint64_t offset, uint64_t length) {
  for (Tail& t : tails_) {
    if (t.name == name && offset >= t.offset && offset - t.offset <= t.data->size() &&
        length <= t.data->size() - (offset - t.offset)) {
      return &t;
    }
  }
  return nullptr;
}

void ReadTails::Keep(Tail tail) {
  const uint64_t size = tail.data->size();
  if (size > budget_) return;
  std::erase_if(tails_, [&](const Tail& t) {
    if (t.name != tail.name) return false;
    kept_ -= t.data->size();
    return true;
  });
  while (kept_ + size > budget_ && !tails_.empty()) {
    auto oldest = std::min_element(tails_.begin(), tails_.end(),
                                   [](const Tail& a, const Tail& b) { return a.used < b.used; });
    kept_ -= oldest->data->size();
    tails_.erase(oldest);
  }
  kept_ += size;
  tails_.push_back(std::move(tail));
}

std::optional<Result<std::string>> ReadTails::Read(const std::string& name, uint64_t offset,
                                                   uint64_t length, const FetchTail& fetch) {
  std::unique_lock lock(mu_);
  fetched_.wait(lock, [&] { return !fetching_.contains(name); });
  if (Tail* t = Find(name, offset, length)) {
    t->used = ++uses_;
    std::shared_ptr<const std::string> data = t->data;
    const uint64_t at = offset - t->offset;
    lock.unlock();
    return data->substr(at, length);
  }
  const bool kept =
      std::any_of(tails_.begin(), tails_.end(), [&](const Tail& t) { return t.name == name; });
  auto seen = seen_.find(name);
  auto size = sizes_.find(name);
  const bool near_end = size != sizes_.end() && offset + length <= size->second &&
                        size->second - (offset + length) <= kNearEnd;
  const bool walked = seen != seen_.end() && seen->second.reads >= kReadsBeforeTail;
  if (kept || (!near_end && !walked)) {
    // Before the tail kept (one fetch an object while it is kept), or not read enough yet: the
    // caller reads the range.
    if (seen == seen_.end()) {
      if (seen_.size() >= kMaxSeen) seen_.clear();
      seen_[name] = Seen{offset, 1};
    } else {
      seen->second.lowest = std::min(seen->second.lowest, offset);
      ++seen->second.reads;
    }
    return std::nullopt;
  }
  // A small object is read whole: its other blobs (a pack of a few trees) come next.
  const uint64_t from = near_end && size->second <= kNearEnd ? 0
                        : walked                             ? std::min(seen->second.lowest, offset)
                                                             : offset;
  fetching_.insert(name);
  lock.unlock();
  Result<std::string> tail = fetch(from);
  lock.lock();
  fetching_.erase(name);
  fetched_.notify_all();
  if (!tail) return tl::unexpected(tail.error());
  auto data = std::make_shared<const std::string>(std::move(*tail));
  if (sizes_.size() >= kMaxSeen) sizes_.clear();
  sizes_[name] = from + data->size();
  Keep(Tail{name, from, data, ++uses_});
  lock.unlock();
  const uint64_t at = offset - from;
  if (at >= data->size()) return std::string();  // the object ends before: short
  return data->substr(at, length);
}

void ReadTails::NoteSize(const std::string& name, uint64_t size) {
  std::lock_guard lock(mu_);
  if (sizes_.size() >= kMaxSeen) sizes_.clear();
  sizes_[name] = size;
}

std::optional<uint64_t> ReadTails::SizeOf(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = sizes_.find(name);
  if (it == sizes_.end()) return std::nullopt;
  return it->second;
}

void ReadTails::Forget(const std::string& name) {
  std::lock_guard lock(mu_);
  seen_.erase(name);
  sizes_.erase(name);
  std::erase_if(tails_, [&](const Tail& t) {
    if (t.name != name) return false;
    kept_ -= t.data->size();
    return true;
  });
}

uint64_t ReadTails::kept_bytes() const {
  std::lock_guard lock(mu_);
  return kept_;
}

}  // namespace velin::storage
