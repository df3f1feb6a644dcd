// The production Env: POSIX system calls, errors carrying errno and the path.
#pragma once

#include <sys/stat.h>

#include "velin/io/env.hpp"

namespace velin::io {

// The first `limit` bytes of `path` (all of it when shorter), read with read(2) until its end:
// what has no size to check first (a pipe, a fifo) is read only that far. PosixEnv::ReadFile is
// it without a limit.
Result<std::string> ReadFileAtMost(const std::string& path, uint64_t limit);

class PosixEnv : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        const WriteOptions& options) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFileAt(const Dir& dir,
                                                                  const std::string& name) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Result<Xattrs> ReadXattrs(const std::string& path) override;
  Result<Xattrs> ReadXattrsAt(const Dir& dir, const std::string& name) override;
  bool StableInodes(const Dir& dir) override;
  Result<std::vector<DirEntry>> ListDir(const std::string& path) override;
  Result<std::vector<DirEntry>> ListDirAt(const Dir& dir) override;
  Result<std::string> RealPathOf(const Dir& dir) override;
  Status CreateDir(const std::string& path, uint32_t mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override;
  Status RemoveDir(const std::string& path) override;
  Status SyncDir(const std::string& path) override;
  Status Symlink(const std::string& target, const std::string& link_path) override;
  Result<std::string> ReadLink(const std::string& path) override;
  Status HardLink(const std::string& existing, const std::string& new_path) override;
  Status SetMode(const std::string& path, uint32_t mode) override;
  Status SetOwner(const std::string& path, uint32_t uid, uint32_t gid) override;
  Status SetMtime(const std::string& path, int64_t mtime_ns) override;
  Result<DirPtr> OpenDir(const std::string& path) override;
  Result<DirPtr> OpenDirAt(const Dir& dir, const std::string& name, bool follow) override;
  Status CreateDirAt(const Dir& dir, const std::string& name, uint32_t mode) override;
  Result<FileInfo> StatAt(const Dir& dir, const std::string& name) override;
  Result<std::unique_ptr<WritableFile>> NewWritableFileAt(const Dir& dir, const std::string& name,
                                                          const WriteOptions& options) override;
  Status RenameAt(const Dir& from_dir, const std::string& from, const Dir& to_dir,
                  const std::string& to) override;
  Status RemoveAt(const Dir& dir, const std::string& name, bool is_dir) override;
  Status SymlinkAt(const std::string& target, const Dir& dir, const std::string& name) override;
  Result<std::string> ReadLinkAt(const Dir& dir, const std::string& name) override;
  Status HardLinkAt(const Dir& from_dir, const std::string& from, const Dir& to_dir,
                    const std::string& to) override;
  Status SetDirAttributes(const Dir& dir, const Attributes& attributes) override;
  Result<XattrOutcome> SetDirXattrs(const Dir& dir, const Xattrs& xattrs) override;
  Status MakeNodeAt(const Dir& dir, const std::string& name, SpecialKind kind, uint32_t mode,
                    uint64_t rdev) override;
  Status SetAttributesAt(const Dir& dir, const std::string& name,
                         const Attributes& attributes) override;
  Status SyncFileSystem(const Dir& dir) override;
  std::chrono::system_clock::time_point Now() override;
  std::chrono::steady_clock::time_point SteadyNow() override;
  void SleepFor(std::chrono::nanoseconds duration) override;
  std::string HostName() override;
  ProcessIdentity ThisProcess() override;
  bool ProcessExists(int64_t pid) override;
  int64_t ProcessStartTicks(int64_t pid) override;
  void SignalProcessGroup(int64_t pgid, int sig) override;
  Result<std::string> MakeTempDir(const std::string& prefix) override;
  std::optional<std::string> GetEnv(const std::string& name) override;

  // Whether unnamed files are linked by their descriptor (AT_EMPTY_PATH, the default) or by
  // their /proc/self/fd link: the first refusal of the former turns it off for the process.
  // Tests set it to check both ways.
  static bool LinkByDescriptor();
  static void SetLinkByDescriptor(bool on);

 private:
  // The stored extended attributes of `at` (a path the calls take), named `path` in errors.
  static Result<Xattrs> XattrsOf(const char* at, const std::string& path);
  // Lists the directory open at `fd` (taken over; -1: the open failed, errno says why).
  static Result<std::vector<DirEntry>> ListOpened(int fd, const std::string& path);
};

// Converts a struct stat's fields into a FileInfo (shared with code that uses fstatat).
FileInfo FileInfoFromStat(const struct ::stat& st);

}  // namespace velin::io
