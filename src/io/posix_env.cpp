#include "velin/io/posix_env.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/io/fault_injection_env.hpp"
#include "velin/io/time_ns.hpp"

namespace velin::io {
namespace {

// A file, directory or link that could not be made. ENOSPC also means "no inode left": a file
// system holding many small files (a node_modules of 200,000 in each release) runs out of
// inodes while `df -h` still shows free space, and strerror tells the two apart in no way.
// `dir_fd` (or, when it is -1, `dir_path`) is the directory it was to be made in.
tl::unexpected<Error> CreateError(const std::string& what, int err, int dir_fd,
                                  const std::string& dir_path) {
  struct statfs fs {};
  const bool no_inode =
      err == ENOSPC &&
      (dir_fd >= 0 ? ::fstatfs(dir_fd, &fs) : ::statfs(dir_path.c_str(), &fs)) == 0 &&
      fs.f_files > 0 && fs.f_ffree == 0;
  Error e = ErrnoError(what, err).value();
  if (no_inode) {
    e.message +=
        Tr(" (no free inodes: its file system has room for no more files, whatever space it has "
           "left; see df -i)");
  }
  return tl::unexpected(std::move(e));
}

// Writes everything of `data` at `offset` (or at the file position when offset < 0).
Status WriteAll(int fd, const std::string& path, std::string_view data, int64_t offset) {
  while (!data.empty()) {
    ssize_t n = offset < 0 ? ::write(fd, data.data(), data.size())
                           : ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(TrFormat("cannot write {}", path), errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
    if (offset >= 0) offset += n;
  }
  return Ok();
}

// A path as the kernel takes it. Linux refuses one of PATH_MAX (4,096) bytes or more
// (ENAMETOOLONG), and a tree deeper than that is no error of the user's: an uploads folder nested
// 300 levels, a mirror of another disk. Such a path is opened in pieces: its leading directories,
// under 4,000 bytes at a time, each relative to the one before (openat, O_PATH: no read
// permission needed, as for the kernel's own walk), and the rest named from the last of them
// through /proc/self/fd/N — a short path to the same file for every call, the *at-less ones
// (xattrs) too. Symlinks on the way are followed as the kernel follows them in the whole path.
// A shorter path is passed on as it is; a piece that cannot be opened leaves the whole path,
// which then fails as it always did (and without /proc mounted, a long path fails as missing).
class PathArg {
 public:
  explicit PathArg(const std::string& path) : path_(path) {
    if (path.size() < kMax) return;
    int fd = AT_FDCWD;
    size_t pos = 0;
    while (path.size() - pos >= kMax) {
      // The last slash that leaves a piece under kMax and something after it.
      const size_t slash = path.rfind('/', std::min(pos + kMax - 1, path.size() - 2));
      if (slash == std::string::npos || slash < pos) break;
      const std::string piece = path.substr(pos, slash - pos);
      const int next = ::openat(fd, piece.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd != AT_FDCWD) ::close(fd);
      fd = next;
      if (fd < 0) {  // the call gets the whole path and ENAMETOOLONG: the destructor mends it
        piece_errno_ = errno;
        return;
      }
      pos = slash + 1;
    }
    if (fd == AT_FDCWD) return;
    if (path.size() - pos >= kMax) {
      ::close(fd);
      return;
    }
    fd_ = fd;
    short_ = "/proc/self/fd/" + std::to_string(fd) + "/" + path.substr(pos);
  }
  // At the end of the call's expression: before the caller reads its errno. A piece that
  // could not be opened (missing, not a directory, unreadable) is why the call failed, and its
  // errno says so as the call's own would on a shorter path: not "File name too long".
  ~PathArg() {
    if (piece_errno_ != 0 && errno == ENAMETOOLONG) errno = piece_errno_;
    if (fd_ < 0) return;
    const int saved = errno;
    ::close(fd_);
    errno = saved;
  }
  PathArg(const PathArg&) = delete;
  PathArg& operator=(const PathArg&) = delete;

  const char* c_str() const { return fd_ >= 0 ? short_.c_str() : path_.c_str(); }

 private:
  static constexpr size_t kMax = 4000;
  const std::string& path_;
  int fd_ = -1;
  int piece_errno_ = 0;
  std::string short_;
};

// 1 MiB buffers aligned for O_DIRECT, one kept per thread: direct reads and writes come in
// long runs on the same threads, and a fresh buffer each time cost 256 page faults. A few
// more are shared between threads: a pack is opened by a backup worker and closed by the
// stream thread, so without them every pack's staging buffer was a fresh one.
constexpr size_t kDirectAlign = 4096;
constexpr size_t kDirectBufferSize = 1 << 20;
constexpr size_t kSharedDirectBuffers = 2;
thread_local char* spare_direct_buffer = nullptr;
struct SpareDirectBufferFree {
  ~SpareDirectBufferFree() { std::free(spare_direct_buffer); }
};
thread_local SpareDirectBufferFree spare_direct_buffer_free;
struct SharedDirectBuffers {
  std::mutex mu;
  std::vector<char*> buffers;
  ~SharedDirectBuffers() {
    for (char* b : buffers) std::free(b);
  }
};
SharedDirectBuffers& Shared() {
  static SharedDirectBuffers shared;
  return shared;
}

char* TakeDirectBuffer() {
  (void)&spare_direct_buffer_free;  // registers the thread's cleanup
  char* b = spare_direct_buffer;
  spare_direct_buffer = nullptr;
  if (b) return b;
  {
    SharedDirectBuffers& shared = Shared();
    std::lock_guard lock(shared.mu);
    if (!shared.buffers.empty()) {
      b = shared.buffers.back();
      shared.buffers.pop_back();
      return b;
    }
  }
  void* p = nullptr;
  return ::posix_memalign(&p, kDirectAlign, kDirectBufferSize) == 0 ? static_cast<char*>(p)
                                                                    : nullptr;
}

void ReturnDirectBuffer(char* b) {
  if (!b) return;
  (void)&spare_direct_buffer_free;  // also here: the thread may never have taken one
  if (!spare_direct_buffer) {
    spare_direct_buffer = b;
    return;
  }
  SharedDirectBuffers& shared = Shared();
  std::lock_guard lock(shared.mu);
  if (shared.buffers.size() < kSharedDirectBuffers) {
    shared.buffers.push_back(b);
  } else {
    std::free(b);
  }
}

struct timespec TimespecFromNs(int64_t ns) {
  struct timespec ts;
  ts.tv_sec = ns / 1'000'000'000;
  ts.tv_nsec = ns % 1'000'000'000;
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1'000'000'000;
    ts.tv_sec -= 1;
  }
  return ts;
}

// Owner first: chown clears the setuid and setgid bits the mode may set. On a file made by
// this process (`fresh`: no file capabilities that a chown would drop) an owner or mode it has
// already is not set again: one fstat instead of a chown and a chmod that change nothing, each
// a journalled inode update (restoring 300,000 small files as root: 4 % of the CPU;
// bench/README.md). A file with set-id bits is chowned all the same, which clears them.
Status SetFdAttributes(int fd, const std::string& path, Attributes a, bool fresh) {
  struct stat st;
  if (fresh && (a.set_owner || a.set_mode) && ::fstat(fd, &st) == 0) {
    if (st.st_uid == a.uid && st.st_gid == a.gid && (st.st_mode & 06000) == 0) {
      a.set_owner = false;
    }
    if ((st.st_mode & 07777) == (a.mode & 07777)) a.set_mode = false;
  }
  if (a.set_owner && ::fchown(fd, a.uid, a.gid) != 0) {
    return ErrnoError(TrFormat("cannot chown {}", path), errno);
  }
  if (a.set_mode && ::fchmod(fd, a.mode) != 0) {
    return ErrnoError(TrFormat("cannot set mode of {}", path), errno);
  }
  if (!a.set_mtime) return Ok();
  struct timespec times[2] = {{0, UTIME_OMIT}, TimespecFromNs(a.mtime_ns)};
  if (::futimens(fd, times) != 0)
    return ErrnoError(TrFormat("cannot set mtime of {}", path), errno);
  return Ok();
}

// A refusal of the file system or the kernel to hold one attribute (reported, not fatal).
bool IsXattrRefusal(int err) {
  return err == EPERM || err == EACCES || err == ENOTSUP || err == EOPNOTSUPP || err == EINVAL ||
         err == E2BIG || err == ERANGE || err == ENOSPC;
}

// The names in a listxattr buffer ("a\0b\0").
std::vector<std::string> SplitXattrNames(const std::string& list) {
  std::vector<std::string> names;
  for (size_t at = 0; at < list.size();) {
    size_t end = list.find('\0', at);
    if (end == std::string::npos) end = list.size();
    if (end > at) names.push_back(list.substr(at, end - at));
    at = end + 1;
  }
  return names;
}

// Calls `get(buf, size)` (a listxattr/getxattr) until the buffer is large enough; the value, or
// nullopt with errno set.
template <typename Get>
std::optional<std::string> GrowingXattrCall(Get get) {
  std::string buf;
  for (int attempt = 0; attempt < 8; ++attempt) {
    ssize_t n = get(nullptr, 0);
    if (n < 0) return std::nullopt;
    if (n == 0) return std::string();
    buf.resize(static_cast<size_t>(n));
    n = get(buf.data(), buf.size());
    if (n >= 0) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (errno != ERANGE) return std::nullopt;  // grew in between: ask again
  }
  errno = ERANGE;
  return std::nullopt;
}

Result<XattrOutcome> SetFdXattrs(int fd, const std::string& path, const Xattrs& xattrs) {
  XattrOutcome out;
  auto listed = GrowingXattrCall([&](char* b, size_t n) { return ::flistxattr(fd, b, n); });
  std::vector<std::string> have;
  if (listed) {
    have = SplitXattrNames(*listed);
  } else if (!IsXattrRefusal(errno)) {
    return ErrnoError(TrFormat("cannot list the extended attributes of {}", path), errno);
  }
  auto wanted = [&](const std::string& name) {
    auto it = std::lower_bound(xattrs.begin(), xattrs.end(), name,
                               [](const std::pair<std::string, std::string>& x,
                                  const std::string& n) { return x.first < n; });
    return it != xattrs.end() && it->first == name ? &it->second : nullptr;
  };
  for (const auto& name : have) {
    if (!IsReplacedXattr(name) || wanted(name)) continue;
    if (::fremovexattr(fd, name.c_str()) == 0) {
      out.changed++;
    } else if (errno != ENODATA) {
      if (!IsXattrRefusal(errno)) {
        return ErrnoError(TrFormat("cannot remove the extended attribute {} of {}", name, path),
                          errno);
      }
      out.refused.emplace_back(name, errno);
    }
  }
  for (const auto& [name, value] : xattrs) {
    if (!IsStoredXattr(name)) continue;
    if (std::find(have.begin(), have.end(), name) != have.end()) {
      auto current = GrowingXattrCall(
          [&, n = name.c_str()](char* b, size_t size) { return ::fgetxattr(fd, n, b, size); });
      if (current && *current == value) continue;  // already so (a label the kernel gave it)
    }
    if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) == 0) {
      out.changed++;
    } else if (IsXattrRefusal(errno)) {
      out.refused.emplace_back(name, errno);
    } else {
      return ErrnoError(TrFormat("cannot set the extended attribute {} of {}", name, path), errno);
    }
  }
  return out;
}

}  // namespace

// A file that is not unnamed has its name already: EINVAL, as linkat(2) of a named file's
// descriptor would say about a second first name.
Status WritableFile::LinkAt(const Dir& dir, const std::string& name) {
  return ErrnoError(TrFormat("cannot create {}", JoinPath(dir.path(), name)), EINVAL);
}

namespace {

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, bool direct, bool fresh, bool unnamed = false)
      : path_(std::move(path)), fd_(fd), fresh_(fresh), unnamed_(unnamed) {
    if (direct) StartDirect();
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
    ReturnDirectBuffer(staging_);
  }

  Status Append(std::string_view data) override {
    if (!staging_) return WriteAll(fd_, path_, data, -1);
    while (!data.empty()) {
      size_t take = std::min(data.size(), kStagingSize - staged_);
      std::memcpy(staging_ + staged_, data.data(), take);
      staged_ += take;
      data.remove_prefix(take);
      if (staged_ == kStagingSize) {
        VELIN_ASSIGN(bool direct_ok, WriteAligned());
        if (!direct_ok) VELIN_TRY(EndDirect());
        if (!staging_) return WriteAll(fd_, path_, data, -1);
      }
    }
    return Ok();
  }

  Status WriteAt(uint64_t offset, std::string_view data) override {
    VELIN_TRY(EndDirect());
    return WriteAll(fd_, path_, data, static_cast<int64_t>(offset));
  }

  Status Sync() override {
    VELIN_TRY(EndDirect());
    if (::fdatasync(fd_) != 0) return ErrnoError(TrFormat("cannot fsync {}", path_), errno);
    return Ok();
  }

  Status SetAttributes(const Attributes& a) override {
    VELIN_TRY(EndDirect());  // every byte written: a later write would move the mtime
    return SetFdAttributes(fd_, path_, a, fresh_);
  }

  Status Truncate(uint64_t size) override {
    VELIN_TRY(EndDirect());
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      return ErrnoError(TrFormat("cannot set the size of {}", path_), errno);
    }
    return Ok();
  }

  Result<XattrOutcome> SetXattrs(const Xattrs& xattrs) override {
    VELIN_TRY(EndDirect());
    return SetFdXattrs(fd_, path_, xattrs);
  }

  bool unnamed() const override { return unnamed_; }

  // linkat of the open file by its descriptor (AT_EMPTY_PATH: root, or since Linux 6.10 the
  // file's opener), else by its /proc/self/fd link (a path lookup through procfs: 6 % more
  // system time per small file restored); the new name is not followed: an existing one,
  // symlink or not, is EEXIST and left alone.
  Status LinkAt(const Dir& dir, const std::string& name) override {
    if (!unnamed_ || fd_ < 0) return WritableFile::LinkAt(dir, name);
    std::string to = JoinPath(dir.path(), name);
    VELIN_TRY(EndDirect());
    int rc = -1;
    if (PosixEnv::LinkByDescriptor()) {
      rc = ::linkat(fd_, "", dir.fd(), name.c_str(), AT_EMPTY_PATH);
      // Refused (ENOENT: no CAP_DAC_READ_SEARCH on an older kernel; EPERM, EINVAL: a security
      // module, a kernel without it): by /proc/self/fd from now on.
      if (rc != 0 && (errno == ENOENT || errno == EPERM || errno == EINVAL)) {
        PosixEnv::SetLinkByDescriptor(false);
      } else if (rc != 0) {
        return ErrnoError(TrFormat("cannot create {}", to), errno);
      }
    }
    const std::string self = "/proc/self/fd/" + std::to_string(fd_);
    if (rc != 0 &&
        ::linkat(AT_FDCWD, self.c_str(), dir.fd(), name.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      return ErrnoError(TrFormat("cannot create {}", to), errno);
    }
    unnamed_ = false;
    path_ = std::move(to);
    return Ok();
  }

  Status Close() override {
    Status ended = fd_ >= 0 ? EndDirect() : Ok();
    int fd = fd_;
    fd_ = -1;
    if (fd >= 0 && ::close(fd) != 0 && ended)
      return ErrnoError(TrFormat("cannot close {}", path_), errno);
    return ended;
  }

 private:
  static constexpr size_t kStagingSize = kDirectBufferSize;

  // Direct mode needs the file system's consent (fcntl refuses O_DIRECT where it is not
  // supported, e.g. older tmpfs) and an aligned buffer; without either, normal writes.
  void StartDirect() {
    int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_DIRECT) != 0) return;
    staging_ = TakeDirectBuffer();
    if (!staging_) (void)::fcntl(fd_, F_SETFL, flags);
  }

  // Writes the aligned part of the staging buffer with O_DIRECT and keeps the rest staged.
  // False (nothing lost) when the file system refused the direct write.
  Result<bool> WriteAligned() {
    size_t aligned = staged_ - staged_ % kDirectAlign;
    size_t done = 0;
    bool direct_ok = true;
    while (done < aligned) {
      ssize_t n = ::pwrite(fd_, staging_ + done, aligned - done, static_cast<off_t>(offset_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EINVAL) {
        direct_ok = false;
        break;
      }
      if (n < 0) return ErrnoError(TrFormat("cannot write {}", path_), errno);
      done += static_cast<size_t>(n);
      offset_ += static_cast<uint64_t>(n);
      if (done % kDirectAlign != 0) {  // a short write left the file position unaligned
        direct_ok = false;
        break;
      }
    }
    staged_ -= done;
    std::memmove(staging_, staging_ + done, staged_);
    return direct_ok;
  }

  // Back to normal writes: the aligned part goes out directly, the staged tail through the
  // cache, and the file position ends where the data ends.
  Status EndDirect() {
    if (!staging_) return Ok();
    Status st = Ok();
    if (staged_ >= kDirectAlign) {
      auto written = WriteAligned();
      if (!written) st = tl::unexpected(written.error());
    }
    int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0) (void)::fcntl(fd_, F_SETFL, flags & ~O_DIRECT);
    if (st) {
      st = WriteAll(fd_, path_, std::string_view(staging_, staged_), static_cast<int64_t>(offset_));
    }
    offset_ += staged_;
    staged_ = 0;
    ReturnDirectBuffer(staging_);
    staging_ = nullptr;
    VELIN_TRY(st);
    if (::lseek(fd_, static_cast<off_t>(offset_), SEEK_SET) < 0) {
      return ErrnoError(TrFormat("cannot seek in {}", path_), errno);
    }
    return Ok();
  }

  std::string path_;
  int fd_;
  bool fresh_;               // made by this open (O_TMPFILE or O_EXCL)
  bool unnamed_;             // O_TMPFILE, not linked yet
  char* staging_ = nullptr;  // direct mode while set
  size_t staged_ = 0;
  uint64_t offset_ = 0;  // where the staged bytes go
};

class PosixRandomAccessFile : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override {
    ::close(fd_);
    if (direct_fd_ >= 0) ::close(direct_fd_);
  }

  Result<size_t> ReadDirect(uint64_t offset, size_t n, char* buf) const override {
    constexpr uint64_t kAlign = kDirectAlign;
    constexpr size_t kPiece = kDirectBufferSize;  // the bounce buffer: small for any n
    // Once, even when several threads share this file (LocalBackend keeps packs open).
    std::call_once(direct_once_, [this] {
      direct_fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
      if (direct_fd_ < 0) direct_fd_ = -2;  // refused: normal reads from now on
    });
    if (direct_fd_ < 0 || n == 0) return Read(offset, n, buf);
    struct Return {
      void operator()(char* p) const { ReturnDirectBuffer(p); }
    };
    std::unique_ptr<char, Return> bounce(TakeDirectBuffer());
    if (!bounce) return Read(offset, n, buf);
    size_t done = 0;
    while (done < n) {
      const uint64_t pos = offset + done;
      const uint64_t start = pos & ~(kAlign - 1);
      const size_t skip = static_cast<size_t>(pos - start);
      const size_t want = std::min(n - done, kPiece - skip);
      const size_t span = (skip + want + kAlign - 1) / kAlign * kAlign;
      size_t got = 0;
      while (got < span) {
        ssize_t r =
            ::pread(direct_fd_, bounce.get() + got, span - got, static_cast<off_t>(start + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EINVAL) {  // refused at read time: the rest the normal way
          VELIN_ASSIGN(size_t rest, Read(pos, n - done, buf + done));
          return done + rest;
        }
        if (r < 0) return ErrnoError(TrFormat("cannot read {}", path_), errno);
        if (r == 0) break;
        got += static_cast<size_t>(r);
        if (got % kAlign != 0) break;  // the end of the file
      }
      const size_t have = got > skip ? std::min(want, got - skip) : 0;
      std::memcpy(buf + done, bounce.get() + skip, have);
      done += have;
      if (have < want) break;  // the end of the file
    }
    return done;
  }

  Result<size_t> Read(uint64_t offset, size_t n, char* buf) const override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, buf + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoError(TrFormat("cannot read {}", path_), errno);
      }
      if (r == 0) break;
      done += static_cast<size_t>(r);
    }
    return done;
  }

  Result<uint64_t> Size() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoError(TrFormat("cannot stat {}", path_), errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<FileInfo> Stat() const override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoError(TrFormat("cannot stat {}", path_), errno);
    return FileInfoFromStat(st);
  }

  void WillNeed(uint64_t offset, uint64_t length) const override {
    (void)::posix_fadvise(fd_, static_cast<off_t>(offset), static_cast<off_t>(length),
                          POSIX_FADV_WILLNEED);
  }

  std::optional<Hole> NextHole(uint64_t offset) const override {
    // The descriptor's position moves; every read here is a pread, which does not use it.
    const off_t begin = ::lseek(fd_, static_cast<off_t>(offset), SEEK_HOLE);
    if (begin < 0) return std::nullopt;  // past the end, or no SEEK_HOLE here
    struct stat st;
    if (::fstat(fd_, &st) != 0 || begin >= st.st_size) return std::nullopt;  // the end's
    off_t end = ::lseek(fd_, begin, SEEK_DATA);
    if (end < 0) {
      if (errno != ENXIO) return std::nullopt;
      end = st.st_size;  // a hole up to the end of the file
    }
    if (end <= begin) return std::nullopt;
    return Hole{.begin = static_cast<uint64_t>(begin), .end = static_cast<uint64_t>(end)};
  }

 private:
  std::string path_;
  int fd_;
  mutable std::once_flag direct_once_;
  mutable int direct_fd_ = -1;  // opened on the first ReadDirect; -2: refused
};

FileType TypeFromMode(mode_t mode) {
  if (S_ISREG(mode)) return FileType::kRegular;
  if (S_ISDIR(mode)) return FileType::kDirectory;
  if (S_ISLNK(mode)) return FileType::kSymlink;
  return FileType::kOther;
}

std::string FirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return "";
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  return line;
}

std::string PidNamespace() {
  char buf[128] = {};
  const ssize_t n = ::readlink("/proc/self/ns/pid", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// Parses VELIN_NOW ("2026-11-25T14:30:00Z") once.
std::optional<std::chrono::system_clock::time_point> FixedNow() {
  static const std::optional<std::chrono::system_clock::time_point> kFixed = [] {
    std::optional<std::chrono::system_clock::time_point> out;
    const std::optional<std::string> text = GetEnvironment("VELIN_NOW");
    if (!text || text->empty()) return out;
    std::tm tm{};
    if (::strptime(text->c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return out;
    out = std::chrono::system_clock::from_time_t(::timegm(&tm));
    return out;
  }();
  return kFixed;
}

}  // namespace

FileInfo FileInfoFromStat(const struct ::stat& st) {
  FileInfo info;
  info.type = TypeFromMode(st.st_mode);
  info.mode = st.st_mode & 07777;
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime_ns = TimeNsFrom(st.st_mtim.tv_sec, st.st_mtim.tv_nsec);  // clamped: time_ns.hpp
  info.ctime_ns = TimeNsFrom(st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
  info.inode = st.st_ino;
  info.device = st.st_dev;
  info.nlink = st.st_nlink;
  info.format = st.st_mode & S_IFMT;
  info.rdev = st.st_rdev;
  info.blocks = static_cast<uint64_t>(st.st_blocks);
  return info;
}

bool IsStoredXattr(std::string_view name) {
  return name.starts_with("user.") || name.starts_with("security.") ||
         name == "system.posix_acl_access" || name == "system.posix_acl_default";
}

bool IsReplacedXattr(std::string_view name) {
  return name.starts_with("user.") || name == "system.posix_acl_access" ||
         name == "system.posix_acl_default";
}

Result<Xattrs> PosixEnv::ReadXattrs(const std::string& path) {
  const PathArg arg(path);
  return XattrsOf(arg.c_str(), path);
}

Result<Xattrs> PosixEnv::ReadXattrsAt(const Dir& dir, const std::string& name) {
  // The l*xattr calls take no directory descriptor: the directory's /proc/self/fd link leads to
  // the directory open, whatever its path names by now, and the last name is not followed.
  static const bool proc_fd = ::access("/proc/self/fd", F_OK) == 0;
  const std::string path = JoinPath(dir.path(), name);
  if (!proc_fd) return ReadXattrs(path);
  return XattrsOf(("/proc/self/fd/" + std::to_string(dir.fd()) + "/" + name).c_str(), path);
}

Result<Xattrs> PosixEnv::XattrsOf(const char* at, const std::string& path) {
  Xattrs out;
  struct {
    const char* value;
    const char* c_str() const { return value; }
  } arg{at};
  auto listed =
      GrowingXattrCall([&](char* b, size_t n) { return ::llistxattr(arg.c_str(), b, n); });
  if (!listed) {
    if (errno == ENOTSUP || errno == EOPNOTSUPP) return out;  // the file system has none
    return ErrnoError(TrFormat("cannot list the extended attributes of {}", path), errno);
  }
  for (auto& name : SplitXattrNames(*listed)) {
    if (!IsStoredXattr(name)) continue;
    auto value = GrowingXattrCall([&, n = name.c_str()](char* b, size_t size) {
      return ::lgetxattr(arg.c_str(), n, b, size);
    });
    if (!value) {
      if (errno == ENODATA) continue;  // removed since the listing
      return ErrnoError(TrFormat("cannot read the extended attribute {} of {}", name, path), errno);
    }
    out.emplace_back(std::move(name), std::move(*value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// A file opened without truncation keeps what it holds and Append() writes after it, as in the
// MemEnv (the descriptor started at offset 0, so the first Append overwrote the file's start).
// Closes `fd` on failure.
Status AppendAfterWhatIsThere(int fd, const std::string& path, const WriteOptions& options) {
  if (options.truncate || ::lseek(fd, 0, SEEK_END) >= 0) return Ok();
  const int err = errno;
  ::close(fd);
  return ErrnoError(TrFormat("cannot seek to the end of {}", path), err);
}

}  // namespace

Result<std::unique_ptr<WritableFile>> PosixEnv::NewWritableFile(const std::string& path,
                                                                const WriteOptions& options) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
  if (options.exclusive) flags |= O_EXCL;
  if (options.truncate) flags |= O_TRUNC;
  int fd = ::open(PathArg(path).c_str(), flags, options.mode);
  if (fd < 0) {
    const int err = errno;
    return CreateError(TrFormat("cannot create {}", path), err, -1, Dirname(path));
  }
  VELIN_TRY(AppendAfterWhatIsThere(fd, path, options));
  // Direct writes append from offset 0: only for files that start empty.
  bool direct = options.direct && options.truncate;
  return std::make_unique<PosixWritableFile>(path, fd, direct, options.exclusive);
}

Result<std::unique_ptr<RandomAccessFile>> PosixEnv::NewRandomAccessFile(const std::string& path) {
  int fd = ::open(PathArg(path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(TrFormat("cannot open {}", path), errno);
  return std::make_unique<PosixRandomAccessFile>(path, fd);
}

Result<std::unique_ptr<RandomAccessFile>> PosixEnv::NewRandomAccessFileAt(const Dir& dir,
                                                                          const std::string& name) {
  const std::string path = JoinPath(dir.path(), name);
  // O_NONBLOCK: a fifo put where a file was (between a listing and this open) does not block
  // the open until a writer comes; the caller's fstat tells it is not that file. Cleared for
  // the reads.
  int fd = ::openat(dir.fd(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return ErrnoError(TrFormat("cannot open {}", path), errno);
  (void)::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return std::make_unique<PosixRandomAccessFile>(path, fd);
}

Result<std::string> ReadFileAtMost(const std::string& path, uint64_t limit) {
  int fd = ::open(PathArg(path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(TrFormat("cannot open {}", path), errno);
  std::string data;
  char buf[65536];
  while (data.size() < limit) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(sizeof buf, limit - data.size()));
    ssize_t n = ::read(fd, buf, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoError(TrFormat("cannot read {}", path), err);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return data;
}

Result<std::string> PosixEnv::ReadFile(const std::string& path) {
  return ReadFileAtMost(path, std::numeric_limits<uint64_t>::max());
}

Result<FileInfo> PosixEnv::Stat(const std::string& path) {
  struct stat st;
  if (::lstat(PathArg(path).c_str(), &st) != 0) {
    return ErrnoError(TrFormat("cannot stat {}", path), errno);
  }
  return FileInfoFromStat(st);
}

Result<bool> PosixEnv::Exists(const std::string& path) {
  struct stat st;
  if (::lstat(PathArg(path).c_str(), &st) == 0) return true;
  if (errno == ENOENT || errno == ENOTDIR) return false;
  return ErrnoError(TrFormat("cannot stat {}", path), errno);
}

Result<std::vector<DirEntry>> PosixEnv::ListDir(const std::string& path) {
  // Its own statement: PathArg mends errno when it goes, at the end of the expression.
  const int fd = ::open(PathArg(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return ListOpened(fd, path);
}

Result<std::vector<DirEntry>> PosixEnv::ListDirAt(const Dir& dir) {
  // A description of its own: readdir's position is not shared with `dir`.
  return ListOpened(::openat(dir.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), dir.path());
}

Result<std::string> PosixEnv::RealPathOf(const Dir& dir) {
  const std::string what = TrFormat("cannot tell where directory {} is", dir.path());
  struct stat self {};
  if (::fstat(dir.fd(), &self) != 0) return ErrnoError(what, errno);
  // Removed: /proc would give its last path with " (deleted)" after it.
  if (self.st_nlink == 0) return ErrnoError(what, ENOENT);
  // The kernel's name of the open directory; where /proc is not mounted, the path's own with its
  // symlinks resolved. Either is taken only when it names this very directory now (a directory
  // has one path; one renamed meanwhile, or out of this process's view, is not told).
  std::vector<std::string> candidates;
  const std::string proc = "/proc/self/fd/" + std::to_string(dir.fd());
  for (std::string buf(4096, '\0'); buf.size() <= (1u << 20); buf.resize(buf.size() * 4)) {
    const ssize_t n = ::readlink(proc.c_str(), buf.data(), buf.size());
    if (n < 0) break;
    if (static_cast<size_t>(n) < buf.size()) {
      candidates.push_back(buf.substr(0, n));
      break;
    }
  }
  if (char* real = ::realpath(PathArg(dir.path()).c_str(), nullptr)) {
    candidates.emplace_back(real);
    std::free(real);
  }
  for (const std::string& path : candidates) {
    struct stat there {};
    if (path.starts_with("/") && ::stat(PathArg(path).c_str(), &there) == 0 &&
        there.st_dev == self.st_dev && there.st_ino == self.st_ino) {
      return path;
    }
  }
  return ErrnoError(what, ENOENT);
}

Result<std::vector<DirEntry>> PosixEnv::ListOpened(int fd, const std::string& path) {
  DIR* dir = fd < 0 ? nullptr : ::fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    return ErrnoError(TrFormat("cannot list {}", path), err);
  }
  std::vector<DirEntry> entries;
  errno = 0;
  while (struct dirent* e = ::readdir(dir)) {
    std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    DirEntry entry;
    entry.name = std::string(name);
    switch (e->d_type) {
      case DT_REG:
        entry.type = FileType::kRegular;
        break;
      case DT_DIR:
        entry.type = FileType::kDirectory;
        break;
      case DT_LNK:
        entry.type = FileType::kSymlink;
        break;
      case DT_UNKNOWN: {
        struct stat st;
        entry.type = ::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
                         ? TypeFromMode(st.st_mode)
                         : FileType::kOther;
        break;
      }
      default:
        entry.type = FileType::kOther;
    }
    entries.push_back(std::move(entry));
    errno = 0;  // a failed fstatat above is no failure of readdir's
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return ErrnoError(TrFormat("cannot list {}", path), err);
  return entries;
}

Status PosixEnv::CreateDir(const std::string& path, uint32_t mode) {
  if (::mkdir(PathArg(path).c_str(), mode) != 0 && errno != EEXIST) {
    const int err = errno;
    return CreateError(TrFormat("cannot create directory {}", path), err, -1, Dirname(path));
  }
  return Ok();
}

Status PosixEnv::Rename(const std::string& from, const std::string& to) {
  if (::rename(PathArg(from).c_str(), PathArg(to).c_str()) != 0) {
    return ErrnoError(TrFormat("cannot rename {} to {}", from, to), errno);
  }
  return Ok();
}

Status PosixEnv::RemoveFile(const std::string& path) {
  if (::unlink(PathArg(path).c_str()) != 0) {
    return ErrnoError(TrFormat("cannot remove {}", path), errno);
  }
  return Ok();
}

Status PosixEnv::RemoveDir(const std::string& path) {
  if (::rmdir(PathArg(path).c_str()) != 0)
    return ErrnoError(TrFormat("cannot remove directory {}", path), errno);
  return Ok();
}

Status PosixEnv::SyncDir(const std::string& path) {
  int fd = ::open(PathArg(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(TrFormat("cannot open directory {}", path), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError(TrFormat("cannot fsync directory {}", path), err);
  return Ok();
}

Status PosixEnv::Symlink(const std::string& target, const std::string& link_path) {
  if (::symlink(target.c_str(), PathArg(link_path).c_str()) != 0) {
    const int err = errno;
    return CreateError(TrFormat("cannot create symlink {}", link_path), err, -1,
                       Dirname(link_path));
  }
  return Ok();
}

Result<std::string> PosixEnv::ReadLink(const std::string& path) {
  const PathArg arg(path);
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlink(arg.c_str(), buf.data(), buf.size());
    if (n < 0) return ErrnoError(TrFormat("cannot read symlink {}", path), errno);
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    buf.resize(buf.size() * 2);
  }
}

Status PosixEnv::HardLink(const std::string& existing, const std::string& new_path) {
  if (::link(PathArg(existing).c_str(), PathArg(new_path).c_str()) != 0) {
    const int err = errno;
    return CreateError(TrFormat("cannot link {} to {}", new_path, existing), err, -1,
                       Dirname(new_path));
  }
  return Ok();
}

Status PosixEnv::SetMode(const std::string& path, uint32_t mode) {
  if (::fchmodat(AT_FDCWD, PathArg(path).c_str(), mode, 0) != 0) {
    return ErrnoError(TrFormat("cannot set mode of {}", path), errno);
  }
  return Ok();
}

Status PosixEnv::SetOwner(const std::string& path, uint32_t uid, uint32_t gid) {
  if (::lchown(PathArg(path).c_str(), uid, gid) != 0)
    return ErrnoError(TrFormat("cannot chown {}", path), errno);
  return Ok();
}

Status PosixEnv::SetMtime(const std::string& path, int64_t mtime_ns) {
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = mtime_ns / 1'000'000'000;
  times[1].tv_nsec = mtime_ns % 1'000'000'000;
  if (times[1].tv_nsec < 0) {
    times[1].tv_nsec += 1'000'000'000;
    times[1].tv_sec -= 1;
  }
  if (::utimensat(AT_FDCWD, PathArg(path).c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(TrFormat("cannot set mtime of {}", path), errno);
  }
  return Ok();
}

Dir::~Dir() {
  if (fd_ >= 0) ::close(fd_);
}

Result<DirPtr> PosixEnv::OpenDir(const std::string& path) {
  int fd = ::open(PathArg(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(TrFormat("cannot open directory {}", path), errno);
  return std::make_shared<const Dir>(fd, path);
}

Result<DirPtr> PosixEnv::OpenDirAt(const Dir& dir, const std::string& name, bool follow) {
  std::string path = JoinPath(dir.path(), name);
  int fd = ::openat(dir.fd(), name.c_str(),
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0) return ErrnoError(TrFormat("cannot open directory {}", path), errno);
  return std::make_shared<const Dir>(fd, std::move(path));
}

Status PosixEnv::CreateDirAt(const Dir& dir, const std::string& name, uint32_t mode) {
  if (::mkdirat(dir.fd(), name.c_str(), mode) != 0 && errno != EEXIST) {
    const int err = errno;
    return CreateError(TrFormat("cannot create directory {}", JoinPath(dir.path(), name)), err,
                       dir.fd(), dir.path());
  }
  return Ok();
}

Result<FileInfo> PosixEnv::StatAt(const Dir& dir, const std::string& name) {
  struct stat st;
  // "." is the directory itself: fstat needs no search permission on it (a restore stats a
  // directory without u+x before it gives it that: OpenRealDir).
  const int failed = name == "." ? ::fstat(dir.fd(), &st)
                                 : ::fstatat(dir.fd(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW);
  if (failed != 0) {
    return ErrnoError(TrFormat("cannot stat {}", JoinPath(dir.path(), name)), errno);
  }
  return FileInfoFromStat(st);
}

namespace {
std::atomic<bool> link_by_descriptor{true};
}  // namespace

bool PosixEnv::LinkByDescriptor() { return link_by_descriptor.load(std::memory_order_relaxed); }

void PosixEnv::SetLinkByDescriptor(bool on) {
  link_by_descriptor.store(on, std::memory_order_relaxed);
}

Result<std::unique_ptr<WritableFile>> PosixEnv::NewWritableFileAt(const Dir& dir,
                                                                  const std::string& name,
                                                                  const WriteOptions& options) {
  std::string path = JoinPath(dir.path(), name);
  bool direct = options.direct && options.truncate;
  // Unnamed files are linked by their /proc/self/fd link: without /proc, named ones. Without
  // O_EXCL, which would forbid the link. A refusal (EOPNOTSUPP: a file system without
  // O_TMPFILE, e.g. NFS or vfat; EISDIR: a kernel before 3.11) or any other error: a named file
  // as usual, whose creation then reports a real error itself.
  static const bool kProcFd = ::access("/proc/self/fd", X_OK) == 0;
  if (options.unnamed && kProcFd) {
    int fd = ::openat(dir.fd(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, options.mode);
    if (fd >= 0) {
      return std::make_unique<PosixWritableFile>(std::move(path), fd, direct, true, true);
    }
  }
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
  if (options.exclusive) flags |= O_EXCL;
  if (options.truncate) flags |= O_TRUNC;
  // Named instead of unnamed: seen under its name while it is written, so the owner's alone.
  const uint32_t mode = options.unnamed ? options.mode & 0700 : options.mode;
  int fd = ::openat(dir.fd(), name.c_str(), flags, mode);
  if (fd < 0) {
    const int err = errno;
    return CreateError(TrFormat("cannot create {}", path), err, dir.fd(), dir.path());
  }
  VELIN_TRY(AppendAfterWhatIsThere(fd, path, options));
  return std::make_unique<PosixWritableFile>(std::move(path), fd, direct, options.exclusive);
}

Status PosixEnv::RenameAt(const Dir& from_dir, const std::string& from, const Dir& to_dir,
                          const std::string& to) {
  if (::renameat(from_dir.fd(), from.c_str(), to_dir.fd(), to.c_str()) != 0) {
    return ErrnoError(TrFormat("cannot rename {} to {}", JoinPath(from_dir.path(), from),
                               JoinPath(to_dir.path(), to)),
                      errno);
  }
  return Ok();
}

Status PosixEnv::RemoveAt(const Dir& dir, const std::string& name, bool is_dir) {
  if (::unlinkat(dir.fd(), name.c_str(), is_dir ? AT_REMOVEDIR : 0) != 0) {
    return ErrnoError(TrFormat("cannot remove {}", JoinPath(dir.path(), name)), errno);
  }
  return Ok();
}

Status PosixEnv::SymlinkAt(const std::string& target, const Dir& dir, const std::string& name) {
  if (::symlinkat(target.c_str(), dir.fd(), name.c_str()) != 0) {
    const int err = errno;
    return CreateError(TrFormat("cannot create symlink {}", JoinPath(dir.path(), name)), err,
                       dir.fd(), dir.path());
  }
  return Ok();
}

Result<std::string> PosixEnv::ReadLinkAt(const Dir& dir, const std::string& name) {
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dir.fd(), name.c_str(), buf.data(), buf.size());
    if (n < 0)
      return ErrnoError(TrFormat("cannot read symlink {}", JoinPath(dir.path(), name)), errno);
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    buf.resize(buf.size() * 2);
  }
}

Status PosixEnv::HardLinkAt(const Dir& from_dir, const std::string& from, const Dir& to_dir,
                            const std::string& to) {
  if (::linkat(from_dir.fd(), from.c_str(), to_dir.fd(), to.c_str(), 0) != 0) {
    const int err = errno;
    return CreateError(TrFormat("cannot link {} to {}", JoinPath(to_dir.path(), to),
                                JoinPath(from_dir.path(), from)),
                       err, to_dir.fd(), to_dir.path());
  }
  return Ok();
}

Status PosixEnv::SetDirAttributes(const Dir& dir, const Attributes& attributes) {
  return SetFdAttributes(dir.fd(), dir.path(), attributes, false);
}

Result<XattrOutcome> PosixEnv::SetDirXattrs(const Dir& dir, const Xattrs& xattrs) {
  return SetFdXattrs(dir.fd(), dir.path(), xattrs);
}

Status PosixEnv::MakeNodeAt(const Dir& dir, const std::string& name, SpecialKind kind,
                            uint32_t mode, uint64_t rdev) {
  mode_t type = kind == SpecialKind::kFifo         ? S_IFIFO
                : kind == SpecialKind::kCharDevice ? S_IFCHR
                                                   : S_IFBLK;
  dev_t dev = kind == SpecialKind::kFifo ? 0 : static_cast<dev_t>(rdev);
  if (::mknodat(dir.fd(), name.c_str(), type | (mode & 07777), dev) != 0) {
    const int err = errno;
    return CreateError(TrFormat("cannot create {}", JoinPath(dir.path(), name)), err, dir.fd(),
                       dir.path());
  }
  return Ok();
}

Status PosixEnv::SetAttributesAt(const Dir& dir, const std::string& name, const Attributes& a) {
  std::string path = JoinPath(dir.path(), name);
  if (a.set_owner && ::fchownat(dir.fd(), name.c_str(), a.uid, a.gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(TrFormat("cannot chown {}", path), errno);
  }
  if (a.set_mode && ::fchmodat(dir.fd(), name.c_str(), a.mode, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(TrFormat("cannot set mode of {}", path), errno);
  }
  if (!a.set_mtime) return Ok();
  struct timespec times[2] = {{0, UTIME_OMIT}, TimespecFromNs(a.mtime_ns)};
  if (::utimensat(dir.fd(), name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoError(TrFormat("cannot set mtime of {}", path), errno);
  }
  return Ok();
}

std::chrono::system_clock::time_point PosixEnv::Now() {
  if (auto fixed = FixedNow()) return *fixed;
  return std::chrono::system_clock::now();
}

Status PosixEnv::SyncFileSystem(const Dir& dir) {
  if (::syncfs(dir.fd()) != 0) return ErrnoError(TrFormat("syncfs {}", dir.path()), errno);
  return Ok();
}

std::chrono::steady_clock::time_point PosixEnv::SteadyNow() {
  return std::chrono::steady_clock::now();
}

void PosixEnv::SleepFor(std::chrono::nanoseconds duration) {
  std::this_thread::sleep_for(duration);
}

std::string PosixEnv::HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

// What cannot change while a process lives (machine, boot, pid namespace, start time) is read
// once per pid (a forked child reads its own); the host name is asked each time. Temp file
// names ask on every durable write.
ProcessIdentity PosixEnv::ThisProcess() {
  static std::mutex mu;
  static std::optional<ProcessIdentity> known;
  const auto pid = static_cast<int64_t>(::getpid());
  ProcessIdentity p;
  {
    std::lock_guard lock(mu);
    if (!known || known->pid != pid) {
      ProcessIdentity k;
      k.machine_id = FirstLine("/etc/machine-id");
      if (k.machine_id.empty()) k.machine_id = FirstLine("/var/lib/dbus/machine-id");
      k.boot_id = FirstLine("/proc/sys/kernel/random/boot_id");
      k.pid_ns = PidNamespace();
      k.pid = pid;
      k.start_ticks = ProcessStartTicks(pid);
      known = k;
    }
    p = *known;
  }
  p.host = HostName();
  return p;
}

bool PosixEnv::ProcessExists(int64_t pid) {
  return !(::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH);
}

// Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. Together
// with the pid it names one process of one boot.
int64_t PosixEnv::ProcessStartTicks(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');  // the command name may hold spaces and ')'
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {  // field 3 is the first after the name
    if (!(fields >> field)) return 0;
    // Field 3, the state: a zombie (Z) or a dying one (X) has ended; only its parent's wait
    // is missing, which may never come (an orphan reparented to a PID 1 that does not reap).
    if (i == 3 && (field == "Z" || field == "X")) return 0;
  }
  try {
    return std::stoll(field);
  } catch (const std::exception&) {
    return 0;
  }
}

void PosixEnv::SignalProcessGroup(int64_t pgid, int sig) {
  if (pgid > 1) ::kill(-static_cast<pid_t>(pgid), sig);
}

Result<std::string> PosixEnv::MakeTempDir(const std::string& prefix) {
  std::optional<std::string> tmp = GetEnv("TMPDIR");
  std::string templ = (tmp && !tmp->empty() ? *tmp : std::string("/tmp")) + "/" + prefix + "XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return ErrnoError(TrFormat("cannot create {}", templ), errno);
  }
  return templ;
}

std::optional<std::string> PosixEnv::GetEnv(const std::string& name) {
  return GetEnvironment(name);
}

Result<std::unique_ptr<RandomAccessFile>> Env::NewRandomAccessFileAt(const Dir& dir,
                                                                     const std::string& name) {
  return NewRandomAccessFile(JoinPath(dir.path(), name));
}

Result<std::vector<DirEntry>> Env::ListDirAt(const Dir& dir) { return ListDir(dir.path()); }

Result<Xattrs> Env::ReadXattrsAt(const Dir& dir, const std::string& name) {
  return ReadXattrs(JoinPath(dir.path(), name));
}

bool Env::StableInodes(const Dir&) { return true; }

bool PosixEnv::StableInodes(const Dir& dir) {
  struct statfs fs {};
  if (::fstatfs(dir.fd(), &fs) != 0) return true;
  switch (static_cast<uint64_t>(fs.f_type)) {
    case 0x65735546:  // FUSE
    case 0xFF534D42:  // CIFS
    case 0xFE534D42:  // SMB2
    case 0x517B:      // SMB
      return false;
    default:
      return true;
  }
}

Env& Env::Default() {
  static PosixEnv posix;
  static Env* env = []() -> Env* {
    const std::optional<std::string> rule_text = GetEnvironment("VELIN_FAULT_INJECT");
    if (!rule_text || rule_text->empty()) return &posix;
    static FaultInjectionEnv faulty(posix);
    faulty.SetRule(ParseFaultRule(*rule_text));
    return &faulty;
  }();
  return *env;
}

}  // namespace velin::io
