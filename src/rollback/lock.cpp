#include "velin/rollback/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"

namespace velin::rollback {

namespace {

// "cannot open lock file P: …", saying whose it is when it is another user's (root made the
// state dir, or opened the transaction whose watchdog lock this is, while velin runs as the
// deploy user): the one remedy is to run velin as that user.
Error LockOpenError(const std::string& lock_path, int err) {
  struct stat st {};
  if ((err == EACCES || err == EPERM) && ::lstat(lock_path.c_str(), &st) == 0 &&
      st.st_uid != ::geteuid()) {
    return Error{ExitCode::kFailed,
                 TrFormat("cannot open lock file {}: {} (it belongs to user {}, velin runs as "
                          "user {}: run velin as user {})",
                          lock_path, std::strerror(err), st.st_uid, ::geteuid(), st.st_uid),
                 err};
  }
  return ErrnoError(TrFormat("cannot open lock file {}", lock_path), err).value();
}

// Opens the lock file without following a symlink; only velin's user may open it (anyone who
// can open a file can flock it, and would block every deploy and the watchdog). A lock file of
// an earlier velin (0644) is tightened.
Result<int> OpenLockFile(const std::string& lock_path, int flags) {
  int fd = ::open(lock_path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    int err = errno;
    if (err == ELOOP) {
      return Failure(TrFormat("lock file {} is a symlink; velin refuses to follow it", lock_path));
    }
    return tl::unexpected(LockOpenError(lock_path, err));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0 && st.st_uid == ::geteuid()) {
    (void)::fchmod(fd, st.st_mode & 0700);  // best effort: the lock works either way
  }
  return fd;
}

}  // namespace

Result<bool> StateLock::Held(const std::string& lock_path) {
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return false;
    return ErrnoError(TrFormat("cannot open lock file {}", lock_path), err);
  }
  bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // drops the lock if this probe took it
  return held;
}

Result<StateLock> StateLock::Acquire(io::Env& env, const std::string& lock_path, Duration wait) {
  VELIN_ASSIGN(int fd, OpenLockFile(lock_path, O_RDWR | O_CREAT));
  const auto deadline = env.SteadyNow() + wait;
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return StateLock(fd);
    int err = errno;
    if (err != EWOULDBLOCK && err != EINTR) {
      ::close(fd);
      return ErrnoError(TrFormat("cannot lock {}", lock_path), err);
    }
    if (env.SteadyNow() >= deadline) {
      ::close(fd);
      return MakeError(
          ExitCode::kLocked,
          TrFormat("another velin holds the rollback lock {}; try again later", lock_path));
    }
    env.SleepFor(std::chrono::milliseconds(20));
  }
}

StateLock& StateLock::operator=(StateLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<int> TryLockFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return tl::unexpected(LockOpenError(path, errno));
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
    int err = errno;
    if (err == EINTR) continue;
    ::close(fd);
    if (err == EWOULDBLOCK) return -1;
    return ErrnoError(TrFormat("cannot lock {}", path), err);
  }
}

void SetCloseOnExec(int fd, bool on) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC));
}

bool HoldsLockOn(int fd, const std::string& path) {
  struct stat held {};
  struct stat named {};
  if (fd < 0 || ::fstat(fd, &held) != 0 || ::lstat(path.c_str(), &named) != 0) return false;
  if (!S_ISREG(held.st_mode) || held.st_dev != named.st_dev || held.st_ino != named.st_ino) {
    return false;
  }
  // A lock this open file description holds already is granted again; one another process
  // holds is not.
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EINTR) return false;
  }
}

void CrashPoint(const char* step) {
  if (GetEnvironment("VELIN_TEST_CRASH_AT") == step) ::_exit(86);
}

}  // namespace velin::rollback
