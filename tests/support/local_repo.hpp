// A fresh local repository in a temp dir, opened with its index loaded: the start of engine
// tests that back up through the library rather than the binary.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "support/test_support.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::testing {

struct LocalRepo {
  TempDir dir;
  std::unique_ptr<storage::LocalBackend> backend;
  std::unique_ptr<repo::Repository> repo;
  LocalRepo() {
    backend = std::move(*storage::LocalBackend::Open(io::Env::Default(), dir / "repo", true));
    repo = std::move(*repo::Repository::Open(*backend, true));
    EXPECT_TRUE(repo->LoadIndex());
  }
};

}  // namespace velin::testing
