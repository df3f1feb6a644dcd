// A repository and an application tree in a MemEnv, for engine tests of the archiver, the
// restorer and the pruner that run in milliseconds: no disk, no real sleeps, a manual clock.
#pragma once

#include <gtest/gtest.h>

#include "velin/backup/archiver.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::backup {

class MemRepoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = storage::LocalBackend::Open(env_, "/repo", true);
    ASSERT_TRUE(b) << b.error().message;
    backend_ = std::move(*b);
    auto r = repo::Repository::Open(*backend_, true, keys_);
    ASSERT_TRUE(r) << r.error().message;
    Reopen();
    ASSERT_TRUE(io::CreateDirs(env_, "/app/storage"));
  }

  void Reopen() {
    auto r = repo::Repository::Open(*backend_, false, keys_);
    ASSERT_TRUE(r) << r.error().message;
    repo_ = std::move(*r);
    ASSERT_TRUE(repo_->LoadIndex());
  }

  // Writes `data` to /app/<rel> (parents created) with `mode`.
  void Put(const std::string& rel, const std::string& data, uint32_t mode = 0644) {
    const std::string path = "/app/" + rel;
    ASSERT_TRUE(io::CreateDirs(env_, io::Dirname(path)));
    auto f = env_.NewWritableFile(path, {.mode = mode});
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE((*f)->Append(data));
    ASSERT_TRUE((*f)->Close());
  }

  std::string Read(const std::string& path) {
    auto text = env_.ReadFile(path);
    EXPECT_TRUE(text) << text.error().message;
    return text ? *text : "";
  }

  // A backup as `velin backup create` makes it: on a freshly opened repository.
  Result<repo::Snapshot> Backup(const std::string& strategy = "full",
                                std::vector<std::string> exclude = {}) {
    Reopen();
    CreateOptions o;
    o.app_root = "/app";
    o.include = {"storage"};
    o.exclude = std::move(exclude);
    o.strategy = *repo::ParseStrategy(strategy);
    o.codec = repo::Codec::kZstd;
    o.velin_version = "test";
    o.app = "shop";
    return CreateBackup(*repo_, env_, quiet_, o);
  }

  io::MemEnv env_;
  NullReporter quiet_;
  repo::RepoKeyOptions keys_;  // a subclass's SetUp may ask for an encrypted repository first
  std::unique_ptr<storage::LocalBackend> backend_;
  std::unique_ptr<repo::Repository> repo_;
};

}  // namespace velin::backup
