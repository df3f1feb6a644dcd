#include "velin/rollback/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace velin::rollback {

Result<StateLock> StateLock::Acquire(const std::string& lock_path, Duration wait) {
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot open lock file " + lock_path, errno);
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return StateLock(fd);
    int err = errno;
    if (err != EWOULDBLOCK && err != EINTR) {
      ::close(fd);
      return ErrnoError("cannot lock " + lock_path, err);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return MakeError(ExitCode::kLocked,
                       "another velin holds the rollback lock " + lock_path + "; try again later");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
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
  if (fd < 0) return ErrnoError("cannot open lock file " + path, errno);
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
    int err = errno;
    if (err == EINTR) continue;
    ::close(fd);
    if (err == EWOULDBLOCK) return -1;
    return ErrnoError("cannot lock " + path, err);
  }
}

Result<bool> LockFileHeld(const std::string& path) {
  VELIN_ASSIGN(int fd, TryLockFile(path));
  if (fd < 0) return true;
  ::close(fd);
  return false;
}

void SetCloseOnExec(int fd, bool on) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC));
}

void CrashPoint(const char* step) {
  const char* at = std::getenv("VELIN_TEST_CRASH_AT");
  if (at != nullptr && std::strcmp(at, step) == 0) ::_exit(86);
}

}  // namespace velin::rollback
