// The file-system seam. Every file access of velin's engines goes through an Env, in the
// spirit of LevelDB's Env and ninja's DiskInterface: production uses the POSIX Env, tests swap
// in a FaultInjectionEnv that fails the Nth write/fsync/rename with ENOSPC or EIO, so every
// error path can be driven. Paths are plain strings (byte strings: any name a file system
// allows, including newlines). Errors name the path and the cause.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "velin/core/error.hpp"

namespace velin::io {

enum class FileType { kRegular, kDirectory, kSymlink, kOther };

struct FileInfo {
  FileType type = FileType::kOther;
  uint32_t mode = 0;  // permission bits incl. setuid/setgid/sticky (no type bits)
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  uint64_t nlink = 0;
};

struct DirEntry {
  std::string name;
  FileType type = FileType::kOther;
};

// Owner, mode and mtime to give a file, directory or symlink (restore). A symlink takes no mode.
struct Attributes {
  bool set_owner = false;
  uint32_t uid = 0;
  uint32_t gid = 0;
  bool set_mode = true;
  uint32_t mode = 0;
  int64_t mtime_ns = 0;
};

// An open directory, for the *At calls of Env: they resolve one name inside it and never follow
// a symlink there unless told to, so a tree being written (restore) cannot be redirected out of
// its directory by a symlink someone put in its way. `path` is for messages only. Closes its
// descriptor when the last holder lets go.
class Dir {
 public:
  Dir(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~Dir();
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};
using DirPtr = std::shared_ptr<const Dir>;

// A file being written. Close() must be called and checked; the destructor closes silently.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  // Writes at an offset without moving the append position (restore writes blobs in place).
  virtual Status WriteAt(uint64_t offset, std::string_view data) = 0;
  virtual Status Sync() = 0;
  // Gives the open file its owner, mode and mtime (fchown, fchmod, futimens: on this file,
  // whatever its name points to by now). After the last write, before Close().
  virtual Status SetAttributes(const Attributes& attributes) = 0;
  virtual Status Close() = 0;
};

// Read, ReadDirect and Size may be called from several threads at once (pread).
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into buf; returns the count (0 at end of file).
  virtual Result<size_t> Read(uint64_t offset, size_t n, char* buf) const = 0;
  // The same, around the page cache where the file system allows (O_DIRECT through an aligned
  // buffer): for large reads of data nobody reads again soon (packs during restore and
  // verify). Coherent with cached writes (the kernel writes them back first).
  virtual Result<size_t> ReadDirect(uint64_t offset, size_t n, char* buf) const {
    return Read(offset, n, buf);
  }
  virtual Result<uint64_t> Size() const = 0;
};

struct WriteOptions {
  uint32_t mode = 0644;
  bool exclusive = false;  // fail with EEXIST when the file exists (O_EXCL)
  bool truncate = true;
  // Large, write-once files (packs, big restored files): write around the page cache
  // (O_DIRECT through an aligned staging buffer; the unaligned tail goes through the cache).
  // Saves the CPU of filling the cache (on VMs, several times the copy itself) and leaves the
  // application's cached data alone. Falls back to normal writes where the file system refuses
  // O_DIRECT. Append-only: WriteAt() switches the file back to normal writes.
  bool direct = false;
};
// Files at least this large are written with WriteOptions::direct by velin's engines.
inline constexpr uint64_t kDirectWriteMin = 1 << 20;

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX Env. When VELIN_FAULT_INJECT is set (tests of the real binary),
  // it is wrapped in a FaultInjectionEnv configured from that variable
  // (see fault_injection_env.hpp for the syntax).
  static Env& Default();

  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                const WriteOptions& options) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  // The whole file.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;

  // lstat: a symlink is reported as kSymlink, not followed.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  // Like Stat but a missing path is `false`, not an error.
  virtual Result<bool> Exists(const std::string& path) = 0;
  // Entries other than "." and "..", unsorted.
  virtual Result<std::vector<DirEntry>> ListDir(const std::string& path) = 0;

  virtual Status CreateDir(const std::string& path, uint32_t mode) = 0;  // EEXIST is ok
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  virtual Status RemoveDir(const std::string& path) = 0;
  virtual Status SyncDir(const std::string& path) = 0;

  virtual Status Symlink(const std::string& target, const std::string& link_path) = 0;
  virtual Result<std::string> ReadLink(const std::string& path) = 0;
  virtual Status HardLink(const std::string& existing, const std::string& new_path) = 0;

  // Metadata, never following a symlink at `path` (lchown, utimensat AT_SYMLINK_NOFOLLOW).
  virtual Status SetMode(const std::string& path, uint32_t mode) = 0;
  virtual Status SetOwner(const std::string& path, uint32_t uid, uint32_t gid) = 0;
  virtual Status SetMtime(const std::string& path, int64_t mtime_ns) = 0;

  // Directory handles (restore). OpenDir follows `path` (an absolute directory the user chose);
  // OpenDirAt opens `name` in `dir` and, unless `follow`, fails with ELOOP or ENOTDIR where that
  // is a symlink (O_NOFOLLOW). The other *At calls never follow a symlink at `name`.
  virtual Result<DirPtr> OpenDir(const std::string& path) = 0;
  virtual Result<DirPtr> OpenDirAt(const Dir& dir, const std::string& name, bool follow) = 0;
  virtual Status CreateDirAt(const Dir& dir, const std::string& name,
                             uint32_t mode) = 0;                                 // EEXIST ok
  virtual Result<FileInfo> StatAt(const Dir& dir, const std::string& name) = 0;  // lstat
  // Always O_NOFOLLOW: a symlink at `name` is refused (ELOOP), not written through.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFileAt(const Dir& dir,
                                                                  const std::string& name,
                                                                  const WriteOptions& options) = 0;
  virtual Status RenameAt(const Dir& from_dir, const std::string& from, const Dir& to_dir,
                          const std::string& to) = 0;
  virtual Status RemoveAt(const Dir& dir, const std::string& name, bool is_dir) = 0;
  virtual Status SymlinkAt(const std::string& target, const Dir& dir, const std::string& name) = 0;
  virtual Result<std::string> ReadLinkAt(const Dir& dir, const std::string& name) = 0;
  virtual Status HardLinkAt(const Dir& from_dir, const std::string& from, const Dir& to_dir,
                            const std::string& to) = 0;
  // The directory itself (fchown, fchmod, futimens on its descriptor).
  virtual Status SetDirAttributes(const Dir& dir, const Attributes& attributes) = 0;
  // The entry `name` in `dir`, not following a symlink (owner and mtime only for a symlink).
  virtual Status SetAttributesAt(const Dir& dir, const std::string& name,
                                 const Attributes& attributes) = 0;

  // Wall-clock now. VELIN_NOW (an ISO-8601 UTC time) fixes it, for tests of time rules.
  virtual std::chrono::system_clock::time_point Now() = 0;
};

// Eight hex digits naming this process space: host, machine id, boot and pid namespace. Two
// processes with the same tag can see each other's pids (kill(pid, 0)); after a reboot, on
// another host or in another container the tag differs. "" when /proc tells nothing.
const std::string& ProcessSpaceTag();

// Writes `data` to `path` so that after a crash the file is either old or new, never torn:
// temp file in the same directory ("<path>.tmp-<pid>-<ProcessSpaceTag>-<random>", so that a
// later run can tell a dead writer's leftover from a live writer's file), fsync, rename over
// `path`, fsync the directory.
Status WriteFileDurably(Env& env, const std::string& path, std::string_view data,
                        uint32_t mode = 0644);

// Creates `path` and missing parents (like mkdir -p).
Status CreateDirs(Env& env, const std::string& path, uint32_t mode = 0755);

// Removes `path` and everything below it; a missing path is fine.
Status RemoveAll(Env& env, const std::string& path);

// The directory part of a path ("a/b" -> "a", "b" -> ".", "/b" -> "/").
std::string Dirname(const std::string& path);
// The last component ("a/b" -> "b").
std::string Basename(const std::string& path);
// Joins with exactly one '/'.
std::string JoinPath(std::string_view a, std::string_view b);

}  // namespace velin::io
