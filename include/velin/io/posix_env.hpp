// The production Env: POSIX system calls, errors carrying errno and the path.
#pragma once

#include <sys/stat.h>

#include "velin/io/env.hpp"

namespace velin::io {

class PosixEnv : public Env {
 public:
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        const WriteOptions& options) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Result<std::vector<DirEntry>> ListDir(const std::string& path) override;
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
  std::chrono::system_clock::time_point Now() override;
};

// Converts a struct stat's fields into a FileInfo (shared with code that uses fstatat).
FileInfo FileInfoFromStat(const struct ::stat& st);

}  // namespace velin::io
