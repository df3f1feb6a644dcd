// The operating-system seam. Everything velin's engines touch of the machine goes through an
// Env, in the spirit of LevelDB's Env and ninja's DiskInterface: files and directories, the
// wall and monotonic clocks, sleeps, the identity of this host and process, whether another
// process still runs, temp directories and environment variables. Production uses the POSIX
// Env; tests swap in a FaultInjectionEnv that fails the Nth write/fsync/rename with ENOSPC or
// EIO, so every error path can be driven, or a MemEnv (mem_env.hpp): files in memory, a manual
// clock that sleeps advance, a process table, so engine tests run in milliseconds. Paths are plain
// strings (byte strings: any name a file system allows, including newlines). Errors name the path
// and the cause.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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
  uint32_t format = 0;  // the S_IFMT bits (tells the kinds of kOther apart: fifo, device, socket)
  uint64_t rdev = 0;    // a device node's number
  uint64_t blocks = 0;  // 512-byte blocks allocated (fewer than the size needs: sparse)
};

// Whether two stats are of the same file: device and inode, and the type (a fifo made in place
// of a file just removed may get its inode number). Where inode numbers are not `stable` (a FUSE
// or SMB mount may number a file anew once the kernel forgot it: Env::StableInodes), the type
// alone.
inline bool SameFile(const FileInfo& a, const FileInfo& b, bool stable = true) {
  return a.type == b.type && (!stable || (a.device == b.device && a.inode == b.inode));
}

// Extended attributes (name, value), sorted by name. velin stores the namespaces
// IsStoredXattr() accepts: user.*, security.* (SELinux labels, file capabilities) and the POSIX
// ACLs system.posix_acl_access / system.posix_acl_default; not trusted.* (root-only, used by
// overlayfs and the like) nor other system.* names (docs/cli.md, "What a backup keeps").
using Xattrs = std::vector<std::pair<std::string, std::string>>;
bool IsStoredXattr(std::string_view name);
// The stored names a restore also removes when the backup does not have them (an ACL the
// file inherited from its directory): user.* and the ACLs; security.* it only sets, since the
// kernel labels every new file.
bool IsReplacedXattr(std::string_view name);

// What setting a file's extended attributes did: how many it set or removed, and those the
// file system or the kernel refused (name, errno: EPERM, EACCES, ENOTSUP, EINVAL, E2BIG,
// ERANGE, ENOSPC), which a restore reports and goes on.
struct XattrOutcome {
  uint64_t changed = 0;
  std::vector<std::pair<std::string, int>> refused;
};

// The kinds of node MakeNodeAt creates.
enum class SpecialKind { kFifo, kCharDevice, kBlockDevice };

struct DirEntry {
  std::string name;
  FileType type = FileType::kOther;
};

// Who a process is, on any machine: enough to tell whether another process runs in this very
// process space (same host, machine, boot and pid namespace) and, if so, whether a pid still
// names the same process (its start time). Written into repository lock objects.
struct ProcessIdentity {
  std::string host;
  std::string machine_id;  // /etc/machine-id; "" when unknown
  std::string boot_id;     // /proc/sys/kernel/random/boot_id; "" when unknown
  std::string pid_ns;      // /proc/self/ns/pid ("pid:[4026531836]"); "" when unknown
  int64_t pid = 0;
  int64_t start_ticks = 0;  // the process's start time (clock ticks since boot); 0 unknown

  // True when `other` runs where a pid of ours means the same process (not just the same name).
  bool SameProcessSpace(const ProcessIdentity& other) const;
};

// Owner, mode and mtime to give a file, directory or symlink (restore). A symlink takes no mode.
struct Attributes {
  bool set_owner = false;
  uint32_t uid = 0;
  uint32_t gid = 0;
  bool set_mode = true;
  uint32_t mode = 0;
  bool set_mtime = true;
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
  // whatever its name points to by now). After the last write, before Close(). On a file this
  // call made (unnamed or `exclusive`), an owner or mode it has already is left as it is.
  virtual Status SetAttributes(const Attributes& attributes) = 0;
  // Sets the file's size (ftruncate): a file that ends in a hole (sparse restore).
  virtual Status Truncate(uint64_t size) = 0;
  // Makes the file's stored extended attributes `xattrs` (fsetxattr on this file): sets those
  // that differ, removes IsReplacedXattr() ones it has and `xattrs` lacks. Refusals are in the
  // outcome, not errors; an I/O error is an error.
  virtual Result<XattrOutcome> SetXattrs(const Xattrs& xattrs) = 0;
  // True for a file made with WriteOptions::unnamed that has no name yet.
  virtual bool unnamed() const { return false; }
  // Gives an unnamed file the name `name` in `dir`, all of it at once (linkat): after the last
  // write and SetAttributes, before Close(). A taken name (a file, a symlink: never followed)
  // is EEXIST and stays as it was; a file that has a name already is EINVAL.
  virtual Status LinkAt(const Dir& dir, const std::string& name);
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
  // What the open file is now (fstat): size, times, inode, ...
  virtual Result<FileInfo> Stat() const = 0;
  // A hint that [offset, offset + length) will be read soon: the kernel may start reading it
  // from the disk now (posix_fadvise WILLNEED; nothing where there is no such thing).
  virtual void WillNeed(uint64_t offset, uint64_t length) const {
    (void)offset;
    (void)length;
  }
  // The first hole at or after `offset`, [begin, end) (lseek SEEK_HOLE, SEEK_DATA): bytes that
  // read as zeros without being stored. None when the rest of the file is data or the file
  // system does not tell (nothing then is a hole). What the file was when asked: a write may
  // fill it meanwhile, as any byte may change while it is read.
  struct Hole {
    uint64_t begin = 0;
    uint64_t end = 0;
  };
  virtual std::optional<Hole> NextHole(uint64_t offset) const {
    (void)offset;
    return std::nullopt;
  }
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
  // NewWritableFileAt only: where the file system allows (O_TMPFILE), the file is made without
  // a name in the directory (`name` only names it in messages) and WritableFile::LinkAt names it
  // once complete: it is never seen half written under any name, and a process killed or a
  // machine crashing before leaves no name behind (the kernel frees the inode; fsck after a
  // crash). Where the file system refuses (O_TMPFILE: EOPNOTSUPP on NFS or vfat, EISDIR before
  // Linux 3.11) or /proc is not mounted, it is made under `name` as usual (`exclusive` and
  // `truncate` apply then); WritableFile::unnamed() tells which. An unnamed file is made with
  // `mode`, a named one in its place with only mode's owner bits: no one else can open it
  // while it is written (SetAttributes gives it its mode).
  bool unnamed = false;
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
  // `name` in `dir`, not following a symlink there (ELOOP).
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFileAt(const Dir& dir,
                                                                          const std::string& name);
  // The whole file.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;

  // lstat: a symlink is reported as kSymlink, not followed.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  // Like Stat but a missing path is `false`, not an error.
  virtual Result<bool> Exists(const std::string& path) = 0;
  // The stored extended attributes (IsStoredXattr) of `path`, not following a symlink there
  // (llistxattr, lgetxattr); none where the file system has none.
  virtual Result<Xattrs> ReadXattrs(const std::string& path) = 0;
  // The same of `name` in `dir` (whatever the directory's path names by now). The default reads
  // dir.path()/name.
  virtual Result<Xattrs> ReadXattrsAt(const Dir& dir, const std::string& name);
  // Whether the file system `dir` is on keeps a file's inode number while the file exists: not
  // FUSE (without use_ino a file gets a new number once the kernel forgot it) nor SMB.
  virtual bool StableInodes(const Dir& dir);
  // Entries other than "." and "..", unsorted.
  virtual Result<std::vector<DirEntry>> ListDir(const std::string& path) = 0;
  // The same of the directory open as `dir` (whatever its path names by now). The default
  // lists dir.path().
  virtual Result<std::vector<DirEntry>> ListDirAt(const Dir& dir);
  // The path of the directory open as `dir`, as it is named now, with no symlink in it: where a
  // symlink followed to it led (docs/operations.md, "Symlinked data"). Taken from the
  // descriptor, not from dir.path(), so no swap of a symlink on the way can make it name
  // another directory; ENOENT once the directory was removed.
  virtual Result<std::string> RealPathOf(const Dir& dir) = 0;

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
                             uint32_t mode) = 0;  // EEXIST ok
  // lstat of `name` in `dir`; "." is `dir` itself (fstat: no search permission on it needed).
  virtual Result<FileInfo> StatAt(const Dir& dir, const std::string& name) = 0;
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
  // WritableFile::SetXattrs for the directory itself (on its descriptor).
  virtual Result<XattrOutcome> SetDirXattrs(const Dir& dir, const Xattrs& xattrs) = 0;
  // A fifo or device node `name` in `dir` (mknodat; EEXIST is an error). A device node needs
  // root (CAP_MKNOD): EPERM otherwise.
  virtual Status MakeNodeAt(const Dir& dir, const std::string& name, SpecialKind kind,
                            uint32_t mode, uint64_t rdev) = 0;
  // The entry `name` in `dir`, not following a symlink (owner and mtime only for a symlink;
  // also the mode of a fifo or device node, which velin never opens).
  virtual Status SetAttributesAt(const Dir& dir, const std::string& name,
                                 const Attributes& attributes) = 0;

  // Flushes the file system holding `dir` (syncfs): after a restore of many files, one call
  // instead of an fsync per file.
  virtual Status SyncFileSystem(const Dir& dir) = 0;

  // Wall-clock now. VELIN_NOW (an ISO-8601 UTC time) fixes it, for tests of time rules.
  virtual std::chrono::system_clock::time_point Now() = 0;
  // Monotonic now, for deadlines and durations (never jumps with the wall clock).
  virtual std::chrono::steady_clock::time_point SteadyNow() = 0;
  // Waits `duration` (a MemEnv advances its clocks instead).
  virtual void SleepFor(std::chrono::nanoseconds duration) = 0;

  // This host's name ("unknown" when it has none).
  virtual std::string HostName() = 0;
  // This process: host, machine, boot, pid namespace, pid and start time.
  virtual ProcessIdentity ThisProcess() = 0;
  // Whether a process `pid` exists in this pid namespace (kill(pid, 0) not failing with
  // ESRCH: a process of another user counts as existing).
  virtual bool ProcessExists(int64_t pid) = 0;
  // The start time of process `pid` (clock ticks since boot); 0 when it is gone (a zombie,
  // ended and not yet reaped by its parent, counts as gone) or unknown.
  virtual int64_t ProcessStartTicks(int64_t pid) = 0;
  // Sends `sig` to every process of the process group `pgid` (kill(-pgid, sig)); nothing when
  // there is none. Only for a group velin itself started (a switch's command it recorded).
  virtual void SignalProcessGroup(int64_t pgid, int sig) {
    (void)pgid;
    (void)sig;
  }

  // A new private (0700) directory under $TMPDIR (else /tmp) whose name starts with `prefix`.
  virtual Result<std::string> MakeTempDir(const std::string& prefix) = 0;
  // The environment variable `name`; nullopt when unset. The one place velin reads its
  // environment (below io, core::GetEnvironment is the same reader).
  virtual std::optional<std::string> GetEnv(const std::string& name) = 0;
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
// The name of such a temp file for `path`: "<path>.tmp-<pid>-<ProcessSpaceTag>-<random>".
std::string TempPathFor(Env& env, const std::string& path);
// The end of such a write, for a caller that wrote `file` (at `temp`) itself: fsync, close,
// rename over `path`, fsync the directory. A failure before the rename removes the temp file.
Status RenameIntoPlaceDurably(Env& env, WritableFile& file, const std::string& temp,
                              const std::string& path);

// Creates `path` and missing parents (like mkdir -p).
Status CreateDirs(Env& env, const std::string& path, uint32_t mode = 0755);

// Removes `path` and everything below it; a missing path is fine. Below `path`'s directory
// nothing is followed: each directory is listed and emptied through its own descriptor, opened
// without following a symlink (RemoveAllAt), so that a directory swapped for a symlink meanwhile
// (by whoever may write the tree) loses the link, not what it leads to.
Status RemoveAll(Env& env, std::string path);
// The same for `name` in `dir`.
Status RemoveAllAt(Env& env, const Dir& dir, const std::string& name);

// How OpenDirBeneath treats what it meets on the way.
struct BeneathOptions {
  bool create = false;   // makes a missing directory
  uint32_t mode = 0755;  // of a directory it makes
  // Run as root: a directory it makes gets the owner and group of the one it is made in (so of
  // the nearest that existed), not root's; directories that existed are left as they are.
  bool owner_of_parent = false;
};
// The directory `rel` below `root` (which is trusted and followed), opened part by part through
// the descriptor of the one before, never following a symlink by path. A symlink on the way is
// followed (by its text, "a/../b" is "b") where it leads below `root`, or wherever it leads when
// root or velin's own user (geteuid) owns it; one of another owner leading out of `root` is
// refused: velin, run as root on a tree its deploy user or application writes, must not write
// through such a link into /etc. The descriptor names the directory found even when its path
// changes after.
Result<DirPtr> OpenDirBeneath(Env& env, const std::string& root, const std::string& rel,
                              const BeneathOptions& options = {});
// The entry `rel` below `root` as its directory (open, reached as OpenDirBeneath reaches one)
// and its name there; a symlink there is followed by the same rule, so the name is never a
// symlink of another user that leads out of `root` (it may be missing: `create` makes its
// directories, not it). For a file velin replaces (a SQLite database): the directory stays the
// one found however its path changes after.
struct BeneathEntry {
  DirPtr dir;
  std::string name;
};
Result<BeneathEntry> OpenEntryBeneath(Env& env, const std::string& root, const std::string& rel,
                                      const BeneathOptions& options = {});

// The directory part of a path ("a/b" -> "a", "b" -> ".", "/b" -> "/").
std::string Dirname(const std::string& path);
// The last component ("a/b" -> "b").
std::string Basename(const std::string& path);
// Joins with exactly one '/'.
std::string JoinPath(std::string_view a, std::string_view b);
// `path` without empty and "." components ("storage/uploads/", "./storage//uploads" ->
// "storage/uploads"); an absolute path stays one ("/" in front). ".." is kept as it is.
std::string CleanPath(const std::string& path);
// The absolute `path` with "." and ".." resolved by its text alone, and no empty parts
// ("/a/./b/../c" -> "/a/c"): where it leads when no symlink is on the way.
std::string LexicalPath(const std::string& path);

}  // namespace velin::io
