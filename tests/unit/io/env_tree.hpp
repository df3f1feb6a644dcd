// The fixture of the tests that hold the two Envs to the same answers (env_errors_test.cpp,
// cov_env_test.cpp): the POSIX Env on a real temp directory and the MemEnv the engine tests
// trust to stand for it, each given the same small tree.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "velin/io/env.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/io/posix_env.hpp"

namespace velin::io {

struct EnvCase {
  const char* name;
  std::function<std::unique_ptr<Env>()> make;
};

// Under root_: file ("content"), dir/sub/deep ("deep"), empty/, link -> file, dirlink -> dir,
// loop -> loop (a symlink to itself); dir_ is root_ opened.
class EnvTreeTest : public ::testing::TestWithParam<EnvCase> {
 protected:
  void SetUp() override {
    env_ = GetParam().make();
    auto dir = env_->MakeTempDir("velin-env-tree-");
    ASSERT_TRUE(dir) << dir.error().message;
    root_ = *dir;
    ASSERT_TRUE(WriteFileDurably(*env_, P("file"), "content"));
    ASSERT_TRUE(CreateDirs(*env_, P("dir/sub")));
    ASSERT_TRUE(WriteFileDurably(*env_, P("dir/sub/deep"), "deep"));
    ASSERT_TRUE(CreateDirs(*env_, P("empty")));
    ASSERT_TRUE(env_->Symlink("file", P("link")));
    ASSERT_TRUE(env_->Symlink("dir", P("dirlink")));
    ASSERT_TRUE(env_->Symlink("loop", P("loop")));
    auto handle = env_->OpenDir(root_);
    ASSERT_TRUE(handle) << handle.error().message;
    dir_ = *handle;
  }
  void TearDown() override {
    dir_.reset();
    if (env_ && !root_.empty()) (void)RemoveAll(*env_, root_);
  }

  std::string P(const std::string& rel) const { return root_ + "/" + rel; }

  // The call failed with `err`, exit code 1, and its message names `path`.
  template <typename T>
  void ExpectErrno(const Result<T>& r, int err, const std::string& path) {
    ASSERT_FALSE(r.has_value()) << "succeeded on " << path;
    EXPECT_EQ(r.error().sys_errno, err) << r.error().message;
    EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().code, ExitCode::kFailed) << r.error().message;
  }

  std::unique_ptr<Env> env_;
  std::string root_;
  DirPtr dir_;
};

inline auto BothEnvs() {
  return ::testing::Values(EnvCase{"posix", [] { return std::make_unique<PosixEnv>(); }},
                           EnvCase{"mem", [] { return std::make_unique<MemEnv>(); }});
}

inline std::string EnvCaseName(const ::testing::TestParamInfo<EnvCase>& info) {
  return info.param.name;
}

}  // namespace velin::io
