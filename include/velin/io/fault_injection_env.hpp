// An Env for tests that forwards to another Env and fails chosen calls: the Nth write
// (Append/WriteAt), fsync (Sync/SyncDir), rename, or file creation, with a chosen errno. This is
// how every error path of the engines is exercised: "fail write #7 with ENOSPC", then check that
// the repository still verifies. The real binary accepts the same rule through the environment:
//   VELIN_FAULT_INJECT="write:7:ENOSPC"   (op: write|sync|rename|create|any|open|symlink|
//                                          link|node, N from 1, errno: ENOSPC|EIO|EDQUOT|
//                                          EROFS|EPERM|ENOSYS|EOPNOTSUPP|EMLINK)
// followed by ":sticky" (keep failing after the Nth call) and/or, for write and any, ":short"
// (the failing write first hands half of its bytes to the file: a short write(2) and then the
// error, as when the disk fills in the middle of a write). In place of the errno a signal,
// SIGINT|SIGTERM|SIGHUP|SIGKILL|SIGSTOP, makes the Nth call send it to velin itself and then go
// through: a Ctrl-C or `systemctl stop` arriving at that very point (core/termination.hpp), a
// kill -9 there, or a run held there alive until the test sends SIGCONT.
// REQUIRES: nothing; counters are atomic, so engines may call it from several threads.
#pragma once

#include <atomic>
#include <optional>
#include <string>

#include "velin/io/env.hpp"

namespace velin::io {

// kOpen (opening a file to read it) is not one of kAny's: the write-side matrices keep their
// indices. Nor are kSymlink, kLink and kNode: a symlink, hardlink or fifo/device node made
// (each also a kCreate), so that a rule can refuse one kind of entry the way a file system
// without it does (`symlink:1:ENOSYS:sticky`: exFAT).
enum class FaultOp { kWrite, kSync, kRename, kCreate, kAny, kOpen, kSymlink, kLink, kNode };

struct FaultRule {
  FaultOp op = FaultOp::kWrite;
  uint64_t nth = 1;          // the first matching call is 1
  int error = 28;            // ENOSPC
  bool sticky = false;       // keep failing after the Nth call (a full disk stays full)
  bool short_write = false;  // a failing write first writes half of its bytes
  int signal = 0;            // instead of failing: raise this signal, then do the call
};

// Parses "write:7:ENOSPC" (optionally ":sticky", ":short" or both) or "write:7:SIGTERM";
// nullopt when malformed.
std::optional<FaultRule> ParseFaultRule(const std::string& text);

class FaultInjectionEnv : public Env {
 public:
  explicit FaultInjectionEnv(Env& base) : base_(base) {}

  void SetRule(std::optional<FaultRule> rule);
  // How many calls of each kind have been seen (to size a loop over every index).
  uint64_t Count(FaultOp op) const;
  bool Fired() const { return fired_.load(); }
  // Whether a failing write writes half of its bytes first (FaultRule::short_write).
  bool ShortWrites() const { return rule_ && rule_->short_write; }

  // Returns the error to inject for a call of kind `op`, if any. Used by wrapped files.
  std::optional<Error> Check(FaultOp op, const std::string& path);

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        const WriteOptions& options) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    if (auto e = Check(FaultOp::kOpen, path)) return tl::unexpected(*e);
    return base_.NewRandomAccessFile(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFileAt(
      const Dir& dir, const std::string& name) override {
    if (auto e = Check(FaultOp::kOpen, JoinPath(dir.path(), name))) return tl::unexpected(*e);
    return base_.NewRandomAccessFileAt(dir, name);
  }
  Result<std::string> ReadFile(const std::string& path) override { return base_.ReadFile(path); }
  Result<FileInfo> Stat(const std::string& path) override { return base_.Stat(path); }
  Result<bool> Exists(const std::string& path) override { return base_.Exists(path); }
  Result<Xattrs> ReadXattrs(const std::string& path) override { return base_.ReadXattrs(path); }
  Result<Xattrs> ReadXattrsAt(const Dir& dir, const std::string& name) override {
    return base_.ReadXattrsAt(dir, name);
  }
  bool StableInodes(const Dir& dir) override { return base_.StableInodes(dir); }
  Result<std::vector<DirEntry>> ListDir(const std::string& path) override {
    return base_.ListDir(path);
  }
  Result<std::vector<DirEntry>> ListDirAt(const Dir& dir) override { return base_.ListDirAt(dir); }
  Result<std::string> RealPathOf(const Dir& dir) override { return base_.RealPathOf(dir); }
  Status CreateDir(const std::string& path, uint32_t mode) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status RemoveFile(const std::string& path) override { return base_.RemoveFile(path); }
  Status RemoveDir(const std::string& path) override { return base_.RemoveDir(path); }
  Status SyncDir(const std::string& path) override;
  Status Symlink(const std::string& target, const std::string& link_path) override;
  Result<std::string> ReadLink(const std::string& path) override { return base_.ReadLink(path); }
  Status HardLink(const std::string& existing, const std::string& new_path) override;
  Status SetMode(const std::string& path, uint32_t mode) override {
    return base_.SetMode(path, mode);
  }
  Status SetOwner(const std::string& path, uint32_t uid, uint32_t gid) override {
    return base_.SetOwner(path, uid, gid);
  }
  Status SetMtime(const std::string& path, int64_t mtime_ns) override {
    return base_.SetMtime(path, mtime_ns);
  }
  Result<DirPtr> OpenDir(const std::string& path) override { return base_.OpenDir(path); }
  Result<DirPtr> OpenDirAt(const Dir& dir, const std::string& name, bool follow) override {
    return base_.OpenDirAt(dir, name, follow);
  }
  Status CreateDirAt(const Dir& dir, const std::string& name, uint32_t mode) override;
  Result<FileInfo> StatAt(const Dir& dir, const std::string& name) override {
    return base_.StatAt(dir, name);
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFileAt(const Dir& dir, const std::string& name,
                                                          const WriteOptions& options) override;
  Status RenameAt(const Dir& from_dir, const std::string& from, const Dir& to_dir,
                  const std::string& to) override;
  Status RemoveAt(const Dir& dir, const std::string& name, bool is_dir) override {
    return base_.RemoveAt(dir, name, is_dir);
  }
  Status SymlinkAt(const std::string& target, const Dir& dir, const std::string& name) override;
  Result<std::string> ReadLinkAt(const Dir& dir, const std::string& name) override {
    return base_.ReadLinkAt(dir, name);
  }
  Status HardLinkAt(const Dir& from_dir, const std::string& from, const Dir& to_dir,
                    const std::string& to) override;
  Status SetDirAttributes(const Dir& dir, const Attributes& attributes) override {
    return base_.SetDirAttributes(dir, attributes);
  }
  Result<XattrOutcome> SetDirXattrs(const Dir& dir, const Xattrs& xattrs) override {
    return base_.SetDirXattrs(dir, xattrs);
  }
  Status MakeNodeAt(const Dir& dir, const std::string& name, SpecialKind kind, uint32_t mode,
                    uint64_t rdev) override;
  Status SetAttributesAt(const Dir& dir, const std::string& name,
                         const Attributes& attributes) override {
    return base_.SetAttributesAt(dir, name, attributes);
  }
  Status SyncFileSystem(const Dir& dir) override { return base_.SyncFileSystem(dir); }
  std::chrono::system_clock::time_point Now() override { return base_.Now(); }
  std::chrono::steady_clock::time_point SteadyNow() override { return base_.SteadyNow(); }
  void SleepFor(std::chrono::nanoseconds duration) override { base_.SleepFor(duration); }
  std::string HostName() override { return base_.HostName(); }
  ProcessIdentity ThisProcess() override { return base_.ThisProcess(); }
  bool ProcessExists(int64_t pid) override { return base_.ProcessExists(pid); }
  int64_t ProcessStartTicks(int64_t pid) override { return base_.ProcessStartTicks(pid); }
  void SignalProcessGroup(int64_t pgid, int sig) override { base_.SignalProcessGroup(pgid, sig); }
  Result<std::string> MakeTempDir(const std::string& prefix) override {
    return base_.MakeTempDir(prefix);
  }
  std::optional<std::string> GetEnv(const std::string& name) override { return base_.GetEnv(name); }

 private:
  Env& base_;
  std::optional<FaultRule> rule_;
  std::atomic<uint64_t> counts_[9] = {};
  std::atomic<bool> fired_{false};
};

}  // namespace velin::io
