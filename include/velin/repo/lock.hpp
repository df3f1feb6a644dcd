// Repository locks, as objects ("locks/<id>") so they work on every backend: each carries host,
// pid, kind and time. Shared locks (create, restore, verify) coexist; an exclusive lock (prune,
// repair) excludes every other; a commit lock serialises the few milliseconds in which a
// create picks its snapshot id and writes the snapshot. A lock is refreshed while held and is
// stale when its pid is gone on this host or its refresh is older than the stale age; stale
// locks are removed. A holder that cannot get the lock within `wait` gets exit code 3 and a
// message naming who holds it (docs/repository-format.md, "Locks").
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/storage/backend.hpp"

namespace velin::repo {

enum class LockKind { kShared, kExclusive, kCommit };

// One lock object as `backup status` and `backup unlock` show it.
struct LockInfo {
  std::string name;  // "locks/exclusive-…"
  std::string host, kind;
  int64_t pid = 0;
  int64_t time = 0;      // last refresh, Unix seconds
  bool stale = false;    // its pid is gone on this host, or its refresh is older than stale_after
  bool readable = true;  // false: not valid lock JSON (a torn write); never stale by itself
};

// Every lock object in `backend`, sorted by name; `now` is Unix seconds.
Result<std::vector<LockInfo>> ListLocks(storage::Backend& backend, std::chrono::seconds stale_after,
                                        int64_t now);

struct LockOptions {
  std::chrono::milliseconds wait{0};
  std::chrono::seconds stale_after{1800};
  std::chrono::seconds refresh_every{300};
};

class RepoLock {
 public:
  static Result<std::unique_ptr<RepoLock>> Acquire(storage::Backend& backend, LockKind kind,
                                                   const LockOptions& options);
  ~RepoLock();  // stops refreshing and deletes the lock object
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;

 private:
  RepoLock(storage::Backend& backend, std::string name, std::string host, LockOptions options);
  void RefreshLoop();

  storage::Backend& backend_;
  std::string name_;
  std::string host_;
  LockKind kind_ = LockKind::kShared;
  LockOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread refresher_;
};

}  // namespace velin::repo
