// An Env for tests that logs removals and directory fsyncs, in order ("rm PATH", "sync DIR"),
// and fails calls as a FaultInjectionEnv: for checking that one removal is durable before
// another begins (prune's old index objects before their packs).
#pragma once

#include <cerrno>
#include <mutex>
#include <string>
#include <vector>

#include "velin/io/fault_injection_env.hpp"

namespace velin::testing {

class RemovalLogEnv : public io::FaultInjectionEnv {
 public:
  using io::FaultInjectionEnv::FaultInjectionEnv;
  Status RemoveFile(const std::string& path) override {
    Add("rm " + path);
    return io::FaultInjectionEnv::RemoveFile(path);
  }
  Status SyncDir(const std::string& path) override {
    if (Add("sync " + path)) {
      return tl::unexpected(Error{.code = ExitCode::kFailed,
                                  .message = "fsync " + path + ": injected EIO",
                                  .sys_errno = EIO});
    }
    return io::FaultInjectionEnv::SyncDir(path);
  }
  std::vector<std::string> log;  // read it when no call runs
  // Fails (EIO) the fsync of this directory when a file in it was removed since its last one.
  std::string fail_sync_after_rm;

 private:
  // Logs `entry`; true when it is an fsync to fail.
  bool Add(std::string entry) {
    std::lock_guard lock(mu_);
    log.push_back(std::move(entry));
    const std::string& e = log.back();
    if (fail_sync_after_rm.empty() || e != "sync " + fail_sync_after_rm) return false;
    for (auto it = log.rbegin() + 1; it != log.rend(); ++it) {
      if (*it == e) return false;
      if (it->rfind("rm " + fail_sync_after_rm + "/", 0) == 0) return true;
    }
    return false;
  }
  std::mutex mu_;
};

}  // namespace velin::testing
