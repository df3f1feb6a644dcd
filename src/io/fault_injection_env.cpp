#include "velin/io/fault_injection_env.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sstream>
#include <vector>

namespace velin::io {
namespace {

class FaultyWritableFile : public WritableFile {
 public:
  FaultyWritableFile(FaultInjectionEnv& env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    if (auto e = env_.Check(FaultOp::kWrite, path_)) {
      if (env_.ShortWrites()) (void)base_->Append(data.substr(0, data.size() / 2));
      return tl::unexpected(*e);
    }
    return base_->Append(data);
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    if (auto e = env_.Check(FaultOp::kWrite, path_)) {
      if (env_.ShortWrites()) (void)base_->WriteAt(offset, data.substr(0, data.size() / 2));
      return tl::unexpected(*e);
    }
    return base_->WriteAt(offset, data);
  }
  Status Sync() override {
    if (auto e = env_.Check(FaultOp::kSync, path_)) return tl::unexpected(*e);
    return base_->Sync();
  }
  Status SetAttributes(const Attributes& attributes) override {
    return base_->SetAttributes(attributes);
  }
  Status Truncate(uint64_t size) override {
    if (auto e = env_.Check(FaultOp::kWrite, path_)) return tl::unexpected(*e);
    return base_->Truncate(size);
  }
  Result<XattrOutcome> SetXattrs(const Xattrs& xattrs) override { return base_->SetXattrs(xattrs); }
  bool unnamed() const override { return base_->unnamed(); }
  // Naming an unnamed file takes the place of a rename into place: a rename fault.
  Status LinkAt(const Dir& dir, const std::string& name) override {
    if (auto e = env_.Check(FaultOp::kRename, JoinPath(dir.path(), name))) {
      return tl::unexpected(*e);
    }
    return base_->LinkAt(dir, name);
  }
  Status Close() override { return base_->Close(); }

 private:
  FaultInjectionEnv& env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

int ErrnoFromName(const std::string& name) {
  if (name == "ENOSPC") return ENOSPC;
  if (name == "EIO") return EIO;
  if (name == "EDQUOT") return EDQUOT;
  if (name == "EROFS") return EROFS;
  if (name == "EPERM") return EPERM;  // a refusal, e.g. of linkat through /proc
  if (name == "ENOSYS") return ENOSYS;
  if (name == "EOPNOTSUPP") return EOPNOTSUPP;
  if (name == "EMLINK") return EMLINK;
  return 0;
}

int SignalFromName(const std::string& name) {
  if (name == "SIGINT") return SIGINT;
  if (name == "SIGTERM") return SIGTERM;
  if (name == "SIGHUP") return SIGHUP;
  if (name == "SIGKILL") return SIGKILL;  // a crash at that point, as kill -9
  if (name == "SIGSTOP") return SIGSTOP;  // held there, alive, until a SIGCONT
  return 0;
}

}  // namespace

std::optional<FaultRule> ParseFaultRule(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ':')) parts.push_back(part);
  if (parts.size() < 3 || parts.size() > 5) return std::nullopt;
  FaultRule rule;
  if (parts[0] == "write")
    rule.op = FaultOp::kWrite;
  else if (parts[0] == "sync")
    rule.op = FaultOp::kSync;
  else if (parts[0] == "rename")
    rule.op = FaultOp::kRename;
  else if (parts[0] == "create")
    rule.op = FaultOp::kCreate;
  else if (parts[0] == "any")
    rule.op = FaultOp::kAny;
  else if (parts[0] == "open")
    rule.op = FaultOp::kOpen;
  else if (parts[0] == "symlink")
    rule.op = FaultOp::kSymlink;
  else if (parts[0] == "link")
    rule.op = FaultOp::kLink;
  else if (parts[0] == "node")
    rule.op = FaultOp::kNode;
  else
    return std::nullopt;
  try {
    rule.nth = std::stoull(parts[1]);
  } catch (...) {
    return std::nullopt;
  }
  if (rule.nth == 0) return std::nullopt;
  rule.error = ErrnoFromName(parts[2]);
  rule.signal = SignalFromName(parts[2]);
  if (rule.error == 0 && rule.signal == 0) return std::nullopt;
  if (rule.signal != 0 && parts.size() > 3) return std::nullopt;  // a signal fires once, whole
  for (size_t i = 3; i < parts.size(); ++i) {
    bool& flag = parts[i] == "sticky" ? rule.sticky : rule.short_write;
    if ((parts[i] != "sticky" && parts[i] != "short") || flag) return std::nullopt;
    flag = true;
  }
  if (rule.short_write && rule.op != FaultOp::kWrite && rule.op != FaultOp::kAny) {
    return std::nullopt;  // only a write can be short
  }
  return rule;
}

void FaultInjectionEnv::SetRule(std::optional<FaultRule> rule) {
  rule_ = rule;
  for (auto& c : counts_) c.store(0);
  fired_.store(false);
}

uint64_t FaultInjectionEnv::Count(FaultOp op) const { return counts_[static_cast<int>(op)].load(); }

std::optional<Error> FaultInjectionEnv::Check(FaultOp op, const std::string& path) {
  uint64_t n = counts_[static_cast<int>(op)].fetch_add(1) + 1;
  const bool in_any = op != FaultOp::kOpen && op != FaultOp::kSymlink && op != FaultOp::kLink &&
                      op != FaultOp::kNode;
  uint64_t any = in_any ? counts_[static_cast<int>(FaultOp::kAny)].fetch_add(1) + 1 : 0;
  if (!rule_) return std::nullopt;
  uint64_t seen = rule_->op == FaultOp::kAny ? any : (rule_->op == op ? n : 0);
  if (seen == 0) return std::nullopt;
  if (seen == rule_->nth || (rule_->sticky && seen > rule_->nth)) {
    fired_.store(true);
    if (rule_->signal != 0) {
      ::raise(rule_->signal);  // its handler has run when raise returns
      return std::nullopt;
    }
    static const char* kNames[] = {"write", "fsync",        "rename", "create",   "operation",
                                   "open",  "make symlink", "link",   "make node"};
    Error e;
    e.code = ExitCode::kFailed;
    e.sys_errno = rule_->error;
    e.message = std::string("cannot ") + kNames[static_cast<int>(op)] + " " + path + ": " +
                std::strerror(rule_->error);
    return e;
  }
  return std::nullopt;
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& path, const WriteOptions& options) {
  if (auto e = Check(FaultOp::kCreate, path)) return tl::unexpected(*e);
  VELIN_ASSIGN(auto base, base_.NewWritableFile(path, options));
  return std::unique_ptr<WritableFile>(
      std::make_unique<FaultyWritableFile>(*this, path, std::move(base)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFileAt(
    const Dir& dir, const std::string& name, const WriteOptions& options) {
  std::string path = JoinPath(dir.path(), name);
  if (auto e = Check(FaultOp::kCreate, path)) return tl::unexpected(*e);
  VELIN_ASSIGN(auto base, base_.NewWritableFileAt(dir, name, options));
  return std::unique_ptr<WritableFile>(
      std::make_unique<FaultyWritableFile>(*this, path, std::move(base)));
}

Status FaultInjectionEnv::CreateDirAt(const Dir& dir, const std::string& name, uint32_t mode) {
  if (auto e = Check(FaultOp::kCreate, JoinPath(dir.path(), name))) return tl::unexpected(*e);
  return base_.CreateDirAt(dir, name, mode);
}

Status FaultInjectionEnv::RenameAt(const Dir& from_dir, const std::string& from, const Dir& to_dir,
                                   const std::string& to) {
  if (auto e = Check(FaultOp::kRename, JoinPath(to_dir.path(), to))) return tl::unexpected(*e);
  return base_.RenameAt(from_dir, from, to_dir, to);
}

Status FaultInjectionEnv::SymlinkAt(const std::string& target, const Dir& dir,
                                    const std::string& name) {
  if (auto e = Check(FaultOp::kSymlink, JoinPath(dir.path(), name))) return tl::unexpected(*e);
  if (auto e = Check(FaultOp::kCreate, JoinPath(dir.path(), name))) return tl::unexpected(*e);
  return base_.SymlinkAt(target, dir, name);
}

Status FaultInjectionEnv::HardLinkAt(const Dir& from_dir, const std::string& from,
                                     const Dir& to_dir, const std::string& to) {
  if (auto e = Check(FaultOp::kLink, JoinPath(to_dir.path(), to))) return tl::unexpected(*e);
  if (auto e = Check(FaultOp::kCreate, JoinPath(to_dir.path(), to))) return tl::unexpected(*e);
  return base_.HardLinkAt(from_dir, from, to_dir, to);
}

Status FaultInjectionEnv::MakeNodeAt(const Dir& dir, const std::string& name, SpecialKind kind,
                                     uint32_t mode, uint64_t rdev) {
  if (auto e = Check(FaultOp::kNode, JoinPath(dir.path(), name))) return tl::unexpected(*e);
  if (auto e = Check(FaultOp::kCreate, JoinPath(dir.path(), name))) return tl::unexpected(*e);
  return base_.MakeNodeAt(dir, name, kind, mode, rdev);
}

Status FaultInjectionEnv::CreateDir(const std::string& path, uint32_t mode) {
  if (auto e = Check(FaultOp::kCreate, path)) return tl::unexpected(*e);
  return base_.CreateDir(path, mode);
}

Status FaultInjectionEnv::Rename(const std::string& from, const std::string& to) {
  if (auto e = Check(FaultOp::kRename, to)) return tl::unexpected(*e);
  return base_.Rename(from, to);
}

Status FaultInjectionEnv::SyncDir(const std::string& path) {
  if (auto e = Check(FaultOp::kSync, path)) return tl::unexpected(*e);
  return base_.SyncDir(path);
}

Status FaultInjectionEnv::Symlink(const std::string& target, const std::string& link_path) {
  if (auto e = Check(FaultOp::kSymlink, link_path)) return tl::unexpected(*e);
  if (auto e = Check(FaultOp::kCreate, link_path)) return tl::unexpected(*e);
  return base_.Symlink(target, link_path);
}

Status FaultInjectionEnv::HardLink(const std::string& existing, const std::string& new_path) {
  if (auto e = Check(FaultOp::kLink, new_path)) return tl::unexpected(*e);
  if (auto e = Check(FaultOp::kCreate, new_path)) return tl::unexpected(*e);
  return base_.HardLink(existing, new_path);
}

}  // namespace velin::io
