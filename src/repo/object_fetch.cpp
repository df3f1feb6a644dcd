#include "velin/repo/object_fetch.hpp"

#include <algorithm>

#include "velin/core/threads.hpp"

namespace velin::repo {

uint64_t ObjectFetcher::Cost(const Object& o) {
  return std::max<uint64_t>(o.size, 64 * 1024);  // unknown or tiny: a count bound too
}

ObjectFetcher::ObjectFetcher(storage::Backend& backend, std::vector<Object> objects)
    : backend_(backend), objects_(std::move(objects)), slots_(objects_.size()) {
  const size_t most = static_cast<size_t>(storage::ParallelReadsFor(backend_.Location()));
  if (most == 0 || objects_.size() < 2) return;  // read by Next() itself
  const int workers = static_cast<int>(std::min(most, objects_.size()));
  // A system short of threads (ulimit -u) gives fewer; with none Next() reads each itself.
  workers_.reserve(static_cast<size_t>(workers));
  for (int i = 0; i < workers; ++i) {
    auto t = StartThread([this] { Work(); }, nullptr);
    if (!t) break;
    workers_.push_back(std::move(*t));
  }
}

ObjectFetcher::~ObjectFetcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ObjectFetcher::Work() {
  std::unique_lock lock(mu_);
  for (;;) {
    // The object right after what Next() returned is always taken: it is what it waits for.
    cv_.wait(lock, [this] {
      return stopping_ || claimed_ == objects_.size() || claimed_ == next_ ||
             ahead_ + Cost(objects_[claimed_]) <= kAheadBytes;
    });
    if (stopping_ || claimed_ == objects_.size()) return;
    const size_t i = claimed_++;
    ahead_ += Cost(objects_[i]);
    lock.unlock();
    // Out of memory is the object's error: Next() waits for it.
    Result<std::string> data = CatchExceptions([&] { return backend_.Get(objects_[i].name); });
    lock.lock();
    slots_[i].data = std::move(data);
    slots_[i].done = true;
    cv_.notify_all();
  }
}

Result<std::string> ObjectFetcher::Next() {
  const size_t i = next_;
  if (workers_.empty()) {
    ++next_;
    return backend_.Get(objects_[i].name);
  }
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return slots_[i].done; });
  Result<std::string> data = std::move(slots_[i].data);
  slots_[i].data = std::string();
  ++next_;
  ahead_ -= Cost(objects_[i]);
  cv_.notify_all();
  return data;
}

}  // namespace velin::repo
