// An Env that keeps everything in memory, for engine tests that run in milliseconds (LevelDB's
// MemEnv): a tree of files, directories, symlinks and hard links with POSIX's answers (ENOENT,
// EEXIST, ENOTEMPTY, ELOOP for a symlink where *At calls refuse one, ...); a manual clock that
// SleepFor advances instead of waiting; a process table for the liveness of lock holders;
// environment variables of its own. Fsyncs change nothing and are counted.
//
// Directory handles (Dir) carry a negative descriptor naming a node of the tree, so like a real
// descriptor they keep meaning the directory they opened when it is renamed. Paths are absolute
// or taken from "/"; "." and ".." are resolved by name. Thread-safe: one mutex for all of it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "velin/io/env.hpp"

namespace velin::io {

class MemEnv : public Env {
 public:
  // The clocks start at `now` (wall) and at an arbitrary steady time; this process is pid 1000,
  // started at tick 1, on host "mem-host" with its own machine, boot and pid namespace ids.
  explicit MemEnv(
      std::chrono::system_clock::time_point now =
          std::chrono::system_clock::from_time_t(1'767'225'600));  // 2026-01-01T00:00:00Z
  ~MemEnv() override;

  // --- test controls ---
  // Moves both clocks forward (SleepFor does the same).
  void Advance(std::chrono::nanoseconds by);
  // Steps the wall clock alone, forward or back (NTP, `date -s`); the steady clock stays.
  void StepWallClock(std::chrono::nanoseconds by);
  // Everything SleepFor was asked to wait, summed (what a real Env would have slept).
  std::chrono::nanoseconds Slept() const;
  // Called after each SleepFor has advanced the clocks (on the sleeping thread, no lock held):
  // what other processes do "meanwhile" (commit a transaction, refresh a lock).
  void OnSleep(std::function<void()> hook);
  // Who ThisProcess() is; its pid is added to the process table.
  void SetThisProcess(const ProcessIdentity& identity);
  // Adds or ends a process of this process space (ProcessExists, ProcessStartTicks).
  void StartProcess(int64_t pid, int64_t start_ticks);
  void EndProcess(int64_t pid);
  void SetEnv(const std::string& name, const std::string& value);
  void UnsetEnv(const std::string& name);
  // Fsyncs of files and directories plus file-system syncs seen so far.
  uint64_t Syncs() const;
  // Whether NewWritableFileAt makes WriteOptions::unnamed files unnamed (the default, like a
  // file system with O_TMPFILE) or, like one without, named.
  void SetUnnamedFiles(bool allowed);

  // --- Env ---
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        const WriteOptions& options) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Result<std::string> ReadFile(const std::string& path) override;
  Result<FileInfo> Stat(const std::string& path) override;
  Result<bool> Exists(const std::string& path) override;
  Result<Xattrs> ReadXattrs(const std::string& path) override;
  Result<std::vector<DirEntry>> ListDir(const std::string& path) override;
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
  Result<std::string> MakeTempDir(const std::string& prefix) override;
  std::optional<std::string> GetEnv(const std::string& name) override;

  struct Node;  // mem_env.cpp
  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace velin::io
