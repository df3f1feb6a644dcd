// Paths longer than Linux's PATH_MAX (4,096 bytes): the kernel refuses them whole
// (ENAMETOOLONG), so a backup of a tree nested past it failed at the first such directory. The
// POSIX Env opens such a path in pieces (posix_env.cpp, PathArg) and every path call works on
// it as on a short one — and as the MemEnv, which has no such limit, answers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "unit/io/env_tree.hpp"
#include "velin/io/env.hpp"

namespace velin::io {
namespace {

class LongPathTest : public EnvTreeTest {
 protected:
  // root_/dir/ then 60 directories of 200 bytes each: ~12,000 bytes, three pieces' worth.
  std::string MakeDeepDir() {
    std::string path = P("dir");
    for (int i = 0; i < 60; ++i) {
      path += "/" + std::to_string(i) + std::string(197, 'n');
      auto made = env_->CreateDir(path, 0755);
      EXPECT_TRUE(made) << made.error().message;
    }
    return path;
  }
};

TEST_P(LongPathTest, EveryPathCallWorksPastPathMax) {
  const std::string deep = MakeDeepDir();
  ASSERT_GT(deep.size(), 12000u);
  const std::string file = deep + "/file";
  ASSERT_TRUE(WriteFileDurably(*env_, file, "deep content"));
  auto read = env_->ReadFile(file);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, "deep content");
  auto opened = env_->NewRandomAccessFile(file);
  ASSERT_TRUE(opened) << opened.error().message;
  char buf[4] = {};
  auto n = (*opened)->Read(5, 4, buf);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(std::string(buf, *n), "cont");

  auto info = env_->Stat(file);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->type, FileType::kRegular);
  EXPECT_EQ(info->size, 12u);
  EXPECT_TRUE(*env_->Exists(file));
  EXPECT_FALSE(*env_->Exists(deep + "/missing"));
  ExpectErrno(env_->ReadFile(deep + "/missing"), ENOENT, deep + "/missing");

  ASSERT_TRUE(env_->Symlink("file", deep + "/link"));
  auto target = env_->ReadLink(deep + "/link");
  ASSERT_TRUE(target) << target.error().message;
  EXPECT_EQ(*target, "file");
  EXPECT_EQ(env_->Stat(deep + "/link")->type, FileType::kSymlink);  // not followed
  ASSERT_TRUE(env_->HardLink(file, deep + "/hard"));
  ASSERT_TRUE(env_->Rename(deep + "/hard", deep + "/renamed"));
  EXPECT_EQ(*env_->ReadFile(deep + "/renamed"), "deep content");
  ASSERT_TRUE(env_->SetMode(file, 0600));
  ASSERT_TRUE(env_->SetMtime(file, 1'300'000'000'000'000'000));
  info = env_->Stat(file);
  EXPECT_EQ(info->mode, 0600u);
  EXPECT_EQ(info->mtime_ns, 1'300'000'000'000'000'000);
  auto xattrs = env_->ReadXattrs(file);
  ASSERT_TRUE(xattrs) << xattrs.error().message;

  auto listed = env_->ListDir(deep);
  ASSERT_TRUE(listed) << listed.error().message;
  std::vector<std::string> names;
  for (const DirEntry& e : *listed) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"file", "link", "renamed"}));
  auto dir = env_->OpenDir(deep);
  ASSERT_TRUE(dir) << dir.error().message;
  auto at = env_->StatAt(**dir, "file");
  ASSERT_TRUE(at) << at.error().message;
  EXPECT_EQ(at->size, 12u);
  ASSERT_TRUE(env_->SyncDir(deep));

  ASSERT_TRUE(env_->RemoveFile(deep + "/renamed"));
  EXPECT_FALSE(*env_->Exists(deep + "/renamed"));
  ASSERT_TRUE(env_->RemoveFile(deep + "/link"));
  ASSERT_TRUE(env_->RemoveFile(file));
  ASSERT_TRUE(env_->RemoveDir(deep));
  EXPECT_FALSE(*env_->Exists(deep));
  ASSERT_TRUE(RemoveAll(*env_, P("dir")));  // the rest of the chain, by path
  EXPECT_FALSE(*env_->Exists(P("dir")));
}

TEST_P(LongPathTest, ADeepPathThroughASymlinkResolvesAsTheKernelWould) {
  const std::string deep = MakeDeepDir();
  ASSERT_TRUE(WriteFileDurably(*env_, deep + "/file", "x"));
  // root_/dirlink -> dir: the same deep file through the link, the link in the path's first
  // piece.
  const std::string via_link = P("dirlink") + deep.substr(P("dir").size()) + "/file";
  auto read = env_->ReadFile(via_link);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, "x");
}

TEST_P(LongPathTest, AMissingOrFileDirectoryFarUpIsSaidAsOnAShortPath) {
  // Past PATH_MAX the kernel says only "File name too long"; a call on a long path under a
  // directory that is missing or is a file says what a short one would.
  const std::string deep = MakeDeepDir();
  const std::string tail = deep.substr(P("dir").size());
  const std::string missing = P("gone") + tail + "/file";
  ExpectErrno(env_->ReadFile(missing), ENOENT, missing);
  ExpectErrno(env_->Stat(missing), ENOENT, missing);
  ExpectErrno(env_->ListDir(P("gone") + tail), ENOENT, P("gone") + tail);
  ExpectErrno(env_->CreateDir(P("gone") + tail + "/new", 0755), ENOENT, P("gone") + tail + "/new");
  ASSERT_TRUE(WriteFileDurably(*env_, P("plain"), "a file"));
  const std::string under_file = P("plain") + tail + "/file";
  ExpectErrno(env_->ReadFile(under_file), ENOTDIR, under_file);
  ExpectErrno(env_->RemoveFile(under_file), ENOTDIR, under_file);
}

INSTANTIATE_TEST_SUITE_P(BothEnvs, LongPathTest, BothEnvs(), EnvCaseName);

}  // namespace
}  // namespace velin::io
