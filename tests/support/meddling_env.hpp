// An Env that runs a test's hook when the walk opens, lists, lstats or reads a link at a path: the
// application (or someone hostile) writing, deleting or swapping an entry at that very moment.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "velin/io/fault_injection_env.hpp"

namespace velin::testing {

// Forwards to its base Env and, when the walk opens a file or a directory (the hook first) or
// lists a directory by path (the hook after the listing) at a path that has a hook, runs it.
class MeddlingEnv : public io::FaultInjectionEnv {
 public:
  using FaultInjectionEnv::FaultInjectionEnv;
  Result<std::unique_ptr<io::RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    Meddle(path);
    return FaultInjectionEnv::NewRandomAccessFile(path);
  }
  Result<std::unique_ptr<io::RandomAccessFile>> NewRandomAccessFileAt(
      const io::Dir& dir, const std::string& name) override {
    Meddle(io::JoinPath(dir.path(), name));
    return FaultInjectionEnv::NewRandomAccessFileAt(dir, name);
  }
  Result<std::vector<io::DirEntry>> ListDir(const std::string& path) override {
    auto listed = FaultInjectionEnv::ListDir(path);
    Meddle(path);
    return listed;
  }
  Result<std::vector<io::DirEntry>> ListDirAt(const io::Dir& dir) override {
    auto listed = FaultInjectionEnv::ListDirAt(dir);
    Meddle(dir.path());
    return listed;
  }
  Result<io::Xattrs> ReadXattrs(const std::string& path) override {
    MeddleXattrs(path);
    return FaultInjectionEnv::ReadXattrs(path);
  }
  Result<io::Xattrs> ReadXattrsAt(const io::Dir& dir, const std::string& name) override {
    MeddleXattrs(io::JoinPath(dir.path(), name));
    return FaultInjectionEnv::ReadXattrsAt(dir, name);
  }
  Result<io::DirPtr> OpenDir(const std::string& path) override {
    MeddleDir(path);
    return FaultInjectionEnv::OpenDir(path);
  }
  Result<io::DirPtr> OpenDirAt(const io::Dir& dir, const std::string& name, bool follow) override {
    MeddleDir(io::JoinPath(dir.path(), name));
    return FaultInjectionEnv::OpenDirAt(dir, name, follow);
  }
  Result<io::FileInfo> Stat(const std::string& path) override {
    auto info = FaultInjectionEnv::Stat(path);
    MeddleStat(path);
    return info;
  }
  Result<io::FileInfo> StatAt(const io::Dir& dir, const std::string& name) override {
    auto info = FaultInjectionEnv::StatAt(dir, name);
    MeddleStat(io::JoinPath(dir.path(), name));
    return info;
  }
  Result<std::string> ReadLink(const std::string& path) override {
    auto text = FaultInjectionEnv::ReadLink(path);
    std::lock_guard lock(mu_);
    if (auto it = readlink_hooks.find(path); it != readlink_hooks.end()) it->second();
    return text;
  }
  // `hook` at the first open or listing of `path` only.
  void Once(const std::string& path, std::function<void()> hook) {
    hooks[path] = [this, path, hook] {
      if (calls[path] == 1) hook();
    };
  }
  std::map<std::string, std::function<void()>> hooks;
  std::map<std::string, std::function<void()>> open_dir_hooks;  // before each opening of it
  std::map<std::string, std::function<void()>> xattr_hooks;     // before each read of its xattrs
  std::map<std::string, std::function<void()>> stat_hooks;      // after each lstat of it
  std::map<std::string, std::function<void()>> readlink_hooks;  // after each readlink of it
  std::map<std::string, int> calls;

 private:
  void Meddle(const std::string& path) {
    std::lock_guard lock(mu_);  // the walk and the lister's thread
    ++calls[path];
    if (auto it = hooks.find(path); it != hooks.end()) it->second();
  }
  void MeddleXattrs(const std::string& path) {
    std::lock_guard lock(mu_);
    if (auto it = xattr_hooks.find(path); it != xattr_hooks.end()) it->second();
  }
  void MeddleStat(const std::string& path) {
    std::lock_guard lock(mu_);
    if (auto it = stat_hooks.find(path); it != stat_hooks.end()) it->second();
  }
  void MeddleDir(const std::string& path) {
    std::lock_guard lock(mu_);
    if (auto it = open_dir_hooks.find(path); it != open_dir_hooks.end()) it->second();
  }
  std::recursive_mutex mu_;
};

}  // namespace velin::testing
