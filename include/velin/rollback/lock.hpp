// The rollback state lock: an exclusive flock(2) on state_dir/lock. Every command that changes
// the registry, the `current` link or a transaction holds it, so a commit and the watchdog's
// timer can never both act: whoever takes the lock first decides. The kernel drops the lock
// when its holder dies, so a crash never leaves a stale lock behind. The descriptor is
// close-on-exec: the service started under the lock must not inherit it.
// (The lock file is velin's own; flock has no place in io::Env, so this is the one raw call.
// The wait between attempts goes on the Env's clock: a MemEnv test waits without sleeping.)
#pragma once

#include <string>

#include "velin/core/duration.hpp"
#include "velin/core/error.hpp"
#include "velin/io/env.hpp"

namespace velin::rollback {

class StateLock {
 public:
  // Waits up to `wait` (0: do not wait) for the lock, trying every 20 ms (env's SteadyNow and
  // SleepFor); after that an error with exit code 3. The lock file is opened with O_NOFOLLOW
  // and created 0600.
  static Result<StateLock> Acquire(io::Env& env, const std::string& lock_path, Duration wait);
  // Whether another process holds the lock now (false when there is no lock file). A probe
  // that takes the lock releases it at once.
  static Result<bool> Held(const std::string& lock_path);

  StateLock(StateLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// A lock file held for as long as a process lives: the watchdog of a transaction holds one, so
// "is the watchdog alive" is a non-blocking lock attempt. Unlike kill(pid, 0) this cannot be
// fooled by a zombie (the kernel drops the lock when the process dies, before it is reaped) or
// by a pid reused by another process. Returns the descriptor holding the lock (close-on-exec),
// or -1 when another process holds it.
Result<int> TryLockFile(const std::string& path);

// Sets or clears FD_CLOEXEC (to hand a held lock to a child process).
void SetCloseOnExec(int fd, bool on);

// Whether the inherited descriptor `fd` is the lock file `path` (same device and inode) and
// holds its lock: a watchdog checks the lock handed to it before it counts as alive. False for a
// descriptor that was not inherited (closed, or another file under that number) and when
// another process holds the lock; the caller then takes the lock itself (TryLockFile).
bool HoldsLockOn(int fd, const std::string& path);

// For tests of crash safety only: when VELIN_TEST_CRASH_AT names `step`, the process ends at
// once with _exit(86), as a kill -9 would (no destructors, no flush).
void CrashPoint(const char* step);

}  // namespace velin::rollback
