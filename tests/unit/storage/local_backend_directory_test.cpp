// A directory where an object of a local repository belongs (made by hand, or left by a copy
// that went wrong) is no object: Stat and the reads say the object is missing, and storing the
// object (a pack's data stored again comes out under the same name) removes an empty one. One
// holding files is left alone, and the store fails naming it.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "velin/io/posix_env.hpp"
#include "velin/storage/backend.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::storage {
namespace {

class LocalBackendDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = env_.MakeTempDir("velin-dir-object-");
    ASSERT_TRUE(dir) << dir.error().message;
    root_ = *dir;
    auto opened = LocalBackend::Open(env_, root_ + "/repo", true);
    ASSERT_TRUE(opened) << opened.error().message;
    backend_ = std::move(*opened);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  io::PosixEnv env_;
  std::string root_;
  std::unique_ptr<LocalBackend> backend_;
};

TEST_F(LocalBackendDirectoryTest, ADirectoryInAnObjectsPlaceIsMissingAndGivesWayWhenEmpty) {
  const std::string name = "data/ab/ab01";
  const std::string path = root_ + "/repo/" + name;
  std::filesystem::create_directories(path);

  auto stat = backend_->Stat(name);
  ASSERT_TRUE(stat) << stat.error().message;
  EXPECT_FALSE(stat->has_value());
  auto whole = backend_->Get(name);
  ASSERT_FALSE(whole);
  EXPECT_TRUE(IsNotFound(whole.error())) << whole.error().message;
  auto range = backend_->GetRange(name, 0, 4);
  ASSERT_FALSE(range);
  EXPECT_TRUE(IsNotFound(range.error())) << range.error().message;

  // Committed by a writer (packs) and by Put (the other objects).
  auto writer = backend_->NewObjectWriter("data/ab");
  ASSERT_TRUE(writer) << writer.error().message;
  ASSERT_TRUE((*writer)->Append("pack"));
  auto committed = (*writer)->Commit(name);
  ASSERT_TRUE(committed) << committed.error().message;
  EXPECT_EQ(*backend_->Get(name), "pack");
  std::filesystem::remove(path);
  std::filesystem::create_directories(root_ + "/repo/snapshots/s1");
  ASSERT_TRUE(backend_->Put("snapshots/s1", "snapshot"));
  EXPECT_EQ(*backend_->Get("snapshots/s1"), "snapshot");
}

TEST_F(LocalBackendDirectoryTest, ADirectoryHoldingFilesIsLeftAloneAndNamed) {
  const std::string name = "data/cd/cd01";
  const std::string path = root_ + "/repo/" + name;
  std::filesystem::create_directories(path);
  {
    std::FILE* f = std::fopen((path + "/keep.txt").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("someone's", f);
    std::fclose(f);
  }
  auto writer = backend_->NewObjectWriter("data/cd");
  ASSERT_TRUE(writer) << writer.error().message;
  ASSERT_TRUE((*writer)->Append("pack"));
  auto committed = (*writer)->Commit(name);
  ASSERT_FALSE(committed);
  EXPECT_NE(
      committed.error().message.find("cannot store " + path + ": a directory is in its place"),
      std::string::npos)
      << committed.error().message;
  EXPECT_TRUE(std::filesystem::exists(path + "/keep.txt"));
  auto put = backend_->Put(name, "pack");
  ASSERT_FALSE(put);
  EXPECT_TRUE(std::filesystem::exists(path + "/keep.txt"));
}

}  // namespace
}  // namespace velin::storage
