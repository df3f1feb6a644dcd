// MemEnv answers as the POSIX Env does where the engines depend on it: durable writes, renames
// over files, EEXIST / ENOTEMPTY / ELOOP, directory handles that follow a renamed directory,
// hard links sharing an inode; and its clock, sleeps, processes and environment are the test's.
#include "velin/io/mem_env.hpp"

#include <gtest/gtest.h>

#include <cerrno>

namespace velin::io {
namespace {

TEST(MemEnvTest, FilesDirectoriesAndRenamesBehaveAsOnDisk) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(env, "/a/b"));
  ASSERT_TRUE(WriteFileDurably(env, "/a/b/f", "one"));
  ASSERT_TRUE(WriteFileDurably(env, "/a/b/f", "two"));  // replaced by rename
  EXPECT_EQ(*env.ReadFile("/a/b/f"), "two");
  EXPECT_GE(env.Syncs(), 4u);  // file and directory, twice
  auto listed = env.ListDir("/a/b");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);  // no temp file left behind
  EXPECT_EQ(listed->front().name, "f");

  auto exclusive = env.NewWritableFile("/a/b/f", {.exclusive = true});
  ASSERT_FALSE(exclusive);
  EXPECT_EQ(exclusive.error().sys_errno, EEXIST);
  auto not_empty = env.RemoveDir("/a/b");
  ASSERT_FALSE(not_empty);
  EXPECT_EQ(not_empty.error().sys_errno, ENOTEMPTY);
  auto missing = env.Stat("/a/nothing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().sys_errno, ENOENT);
  EXPECT_FALSE(*env.Exists("/a/b/f/under-a-file"));
  auto into_itself = env.Rename("/a", "/a/b/c");
  ASSERT_FALSE(into_itself);
  EXPECT_EQ(into_itself.error().sys_errno, EINVAL);
  ASSERT_TRUE(RemoveAll(env, "/a"));
  EXPECT_FALSE(*env.Exists("/a"));
}

TEST(MemEnvTest, SymlinksAreFollowedWherePosixFollowsThemAndRefusedByTheAtCalls) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(env, "/real/dir"));
  ASSERT_TRUE(WriteFileDurably(env, "/real/dir/f", "x"));
  ASSERT_TRUE(env.Symlink("real/dir", "/link"));
  EXPECT_EQ(*env.ReadFile("/link/f"), "x");
  EXPECT_EQ(env.Stat("/link")->type, FileType::kSymlink);  // lstat
  EXPECT_EQ(env.Stat("/link/.")->type, FileType::kDirectory);
  auto root = env.OpenDir("/");
  ASSERT_TRUE(root);
  auto through = env.OpenDirAt(**root, "link", false);
  ASSERT_FALSE(through);
  EXPECT_EQ(through.error().sys_errno, ELOOP);
  ASSERT_TRUE(env.OpenDirAt(**root, "link", true));
  auto write_through = env.NewWritableFileAt(**root, "link", {});
  ASSERT_FALSE(write_through);
  EXPECT_EQ(write_through.error().sys_errno, ELOOP);
  ASSERT_TRUE(env.Symlink("/loop", "/loop"));
  auto loop = env.ReadFile("/loop");
  ASSERT_FALSE(loop);
  EXPECT_EQ(loop.error().sys_errno, ELOOP);
}

TEST(MemEnvTest, ADirectoryHandleKeepsMeaningItsDirectoryAfterARename) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(env, "/old"));
  auto dir = env.OpenDir("/old");
  ASSERT_TRUE(dir);
  ASSERT_TRUE(env.Rename("/old", "/new"));
  auto f = env.NewWritableFileAt(**dir, "f", {});
  ASSERT_TRUE(f);
  ASSERT_TRUE((*f)->Append("moved"));
  ASSERT_TRUE((*f)->Close());
  EXPECT_EQ(*env.ReadFile("/new/f"), "moved");
  ASSERT_TRUE(env.HardLinkAt(**dir, "f", **dir, "g"));
  EXPECT_EQ(env.Stat("/new/f")->inode, env.Stat("/new/g")->inode);
  EXPECT_EQ(env.Stat("/new/g")->nlink, 2u);
  auto self = env.StatAt(**dir, ".");  // the directory itself, wherever it is now
  ASSERT_TRUE(self) << self.error().message;
  EXPECT_EQ(self->type, FileType::kDirectory);
  EXPECT_EQ(self->inode, env.Stat("/new")->inode);
}

TEST(MemEnvTest, RealPathOfIsTheDirectorysPathWithoutSymlinks) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(env, "/media/nas/uploads"));
  ASSERT_TRUE(CreateDirs(env, "/mnt"));
  ASSERT_TRUE(env.Symlink("/media/nas", "/mnt/nas"));
  auto dir = env.OpenDir("/mnt/nas/uploads");
  ASSERT_TRUE(dir);
  EXPECT_EQ(*env.RealPathOf(**dir), "/media/nas/uploads");
  ASSERT_TRUE(env.Rename("/media", "/disk"));  // wherever it is now
  EXPECT_EQ(*env.RealPathOf(**dir), "/disk/nas/uploads");
  auto root = env.OpenDir("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(*env.RealPathOf(**root), "/");
}

TEST(MemEnvTest, ClockSleepsProcessesAndEnvironmentAreTheTests) {
  MemEnv env;
  const auto wall = env.Now();
  const auto steady = env.SteadyNow();
  env.SleepFor(std::chrono::hours(2));
  EXPECT_EQ(env.Now() - wall, std::chrono::hours(2));
  EXPECT_EQ(env.SteadyNow() - steady, std::chrono::hours(2));
  EXPECT_EQ(env.Slept(), std::chrono::hours(2));
  ASSERT_TRUE(WriteFileDurably(env, "/f", "x"));
  EXPECT_EQ(
      env.Stat("/f")->mtime_ns,
      std::chrono::duration_cast<std::chrono::nanoseconds>(env.Now().time_since_epoch()).count());

  const ProcessIdentity self = env.ThisProcess();
  EXPECT_TRUE(env.ProcessExists(self.pid));
  EXPECT_EQ(env.ProcessStartTicks(self.pid), self.start_ticks);
  EXPECT_FALSE(env.ProcessExists(4242));
  env.StartProcess(4242, 9);
  EXPECT_EQ(env.ProcessStartTicks(4242), 9);
  env.EndProcess(4242);
  EXPECT_EQ(env.ProcessStartTicks(4242), 0);
  EXPECT_TRUE(self.SameProcessSpace(env.ThisProcess()));

  EXPECT_FALSE(env.GetEnv("HOME"));  // not the real process's environment
  env.SetEnv("TMPDIR", "/scratch");
  auto tmp = env.MakeTempDir("velin-");
  ASSERT_TRUE(tmp) << tmp.error().message;
  EXPECT_EQ(tmp->rfind("/scratch/velin-", 0), 0u);
  EXPECT_EQ(env.Stat(*tmp)->mode, 0700u);
  EXPECT_NE(*env.MakeTempDir("velin-"), *tmp);
}

// WriteOptions::unnamed as on a file system with O_TMPFILE: the file is in no directory until
// LinkAt names it, a taken name is EEXIST and stays; with SetUnnamedFiles(false), as on one
// without, the file is made under its name.
TEST(MemEnvTest, AnUnnamedFileHasNoNameUntilLinkedAndIsNamedWhereRefused) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(env, "/d"));
  ASSERT_TRUE(WriteFileDurably(env, "/d/taken", "old"));
  auto dir = env.OpenDir("/d");
  ASSERT_TRUE(dir);
  WriteOptions wo;
  wo.mode = 0600;
  wo.unnamed = true;
  auto file = env.NewWritableFileAt(**dir, "tmp", wo);
  ASSERT_TRUE(file) << file.error().message;
  ASSERT_TRUE((*file)->unnamed());
  ASSERT_TRUE((*file)->Append("new bytes"));
  ASSERT_TRUE((*file)->SetAttributes({.mode = 0640, .mtime_ns = 7}));
  EXPECT_EQ(env.ListDir("/d")->size(), 1u);  // only "taken"
  auto refused = (*file)->LinkAt(**dir, "taken");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().sys_errno, EEXIST);
  EXPECT_EQ(*env.ReadFile("/d/taken"), "old");
  ASSERT_TRUE((*file)->LinkAt(**dir, "new"));
  EXPECT_FALSE((*file)->unnamed());
  EXPECT_EQ((*file)->LinkAt(**dir, "again").error().sys_errno, EINVAL);  // named already
  ASSERT_TRUE((*file)->Close());
  EXPECT_EQ(*env.ReadFile("/d/new"), "new bytes");
  EXPECT_EQ(env.Stat("/d/new")->mode, 0640u);
  EXPECT_EQ(env.Stat("/d/new")->mtime_ns, 7);
  EXPECT_EQ(env.Stat("/d/new")->nlink, 1u);

  // Never linked: gone with its handle, no name left.
  auto dropped = env.NewWritableFileAt(**dir, "tmp2", wo);
  ASSERT_TRUE(dropped);
  ASSERT_TRUE((*dropped)->Append("x"));
  ASSERT_TRUE((*dropped)->Close());
  EXPECT_EQ(env.ListDir("/d")->size(), 2u);  // taken, new

  env.SetUnnamedFiles(false);
  auto named = env.NewWritableFileAt(**dir, "tmp3", wo);
  ASSERT_TRUE(named);
  EXPECT_FALSE((*named)->unnamed());
  ASSERT_TRUE((*named)->Close());
  EXPECT_TRUE(*env.Exists("/d/tmp3"));

  // Named in an unnamed file's place, it is seen while written: the owner's bits alone.
  wo.mode = 0644;
  auto seen = env.NewWritableFileAt(**dir, "tmp4", wo);
  ASSERT_TRUE(seen);
  EXPECT_EQ(env.Stat("/d/tmp4")->mode, 0600u);
  ASSERT_TRUE((*seen)->SetAttributes({.mode = 0644, .mtime_ns = 7}));
  ASSERT_TRUE((*seen)->Close());
  EXPECT_EQ(env.Stat("/d/tmp4")->mode, 0644u);
}

}  // namespace
}  // namespace velin::io
