// The directory-descriptor calls of Env (restore's seam): a symlink at the name is never
// followed unless asked, and metadata goes to the open file or directory, not to a path.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "support/test_support.hpp"
#include "velin/io/env.hpp"
#include "velin/io/fault_injection_env.hpp"
#include "velin/io/posix_env.hpp"

namespace velin::io {
namespace {

using velin::testing::ReadFileOrDie;
using velin::testing::TempDir;
using velin::testing::WriteFile;

uint32_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(DirAt, NeverFollowsASymlinkUnlessAsked) {
  TempDir dir;
  Env& env = Env::Default();
  WriteFile(dir / "outside/secret", "keep", 0644);
  ASSERT_EQ(::symlink((dir / "outside").c_str(), (dir / "link").c_str()), 0);
  ASSERT_EQ(::symlink((dir / "outside/secret").c_str(), (dir / "file-link").c_str()), 0);
  auto root = env.OpenDir(dir.path());
  ASSERT_TRUE(root) << root.error().message;

  auto opened = env.OpenDirAt(**root, "link", false);
  ASSERT_FALSE(opened);
  EXPECT_TRUE(opened.error().sys_errno == ELOOP || opened.error().sys_errno == ENOTDIR);
  EXPECT_NE(opened.error().message.find(dir / "link"), std::string::npos);
  EXPECT_TRUE(env.OpenDirAt(**root, "link", true));

  WriteOptions wo;
  auto file = env.NewWritableFileAt(**root, "file-link", wo);
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().sys_errno, ELOOP);
  EXPECT_EQ(ReadFileOrDie(dir / "outside/secret"), "keep");

  Attributes a;
  a.set_mode = false;
  a.mtime_ns = 1'000'000'000LL * 1'500'000'000;
  ASSERT_TRUE(env.SetAttributesAt(**root, "file-link", a));
  struct stat st {};
  ASSERT_EQ(::stat((dir / "outside/secret").c_str(), &st), 0);
  EXPECT_NE(st.st_mtim.tv_sec, 1'500'000'000);  // the link got the time, not its target
  ASSERT_EQ(::lstat((dir / "file-link").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'500'000'000);
}

// A directory's mode is set through its descriptor: a symlink swapped in at its name later
// leaves the link's target alone.
// RealPathOf names the directory opened, by its descriptor: through symlinks on the way it is
// the path without them, and a symlink swapped after the open changes nothing (what an
// in-place restore holds a followed link to: docs/operations.md, "Symlinked data").
TEST(DirAt, RealPathOfIsTheOpenDirectorysPathWithoutSymlinks) {
  TempDir dir;
  PosixEnv env;
  char* real = ::realpath(dir.path().c_str(), nullptr);
  ASSERT_NE(real, nullptr);
  const std::string top = real;
  std::free(real);
  ASSERT_EQ(::mkdir((dir / "media").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir / "media/uploads").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir / "elsewhere").c_str(), 0755), 0);
  ASSERT_EQ(::symlink((dir / "media").c_str(), (dir / "mnt").c_str()), 0);
  auto opened = env.OpenDir(dir / "mnt/uploads");
  ASSERT_TRUE(opened) << opened.error().message;
  auto path = env.RealPathOf(**opened);
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_EQ(*path, top + "/media/uploads");
  ASSERT_EQ(::unlink((dir / "mnt").c_str()), 0);
  ASSERT_EQ(::symlink((dir / "elsewhere").c_str(), (dir / "mnt").c_str()), 0);
  path = env.RealPathOf(**opened);
  ASSERT_TRUE(path) << path.error().message;
  EXPECT_EQ(*path, top + "/media/uploads");
  // Removed: no path is told (not "… (deleted)").
  ASSERT_EQ(::rmdir((dir / "media/uploads").c_str()), 0);
  path = env.RealPathOf(**opened);
  ASSERT_FALSE(path);
  EXPECT_EQ(path.error().sys_errno, ENOENT);
}

TEST(DirAt, DirectoryAttributesGoToTheOpenDirectory) {
  TempDir dir;
  Env& env = Env::Default();
  WriteFile(dir / "victim", "v", 0644);
  auto root = env.OpenDir(dir.path());
  ASSERT_TRUE(root);
  ASSERT_TRUE(env.CreateDirAt(**root, "d", 0700));
  auto d = env.OpenDirAt(**root, "d", false);
  ASSERT_TRUE(d);
  ASSERT_TRUE(env.RenameAt(**root, "d", **root, "moved"));
  ASSERT_EQ(::symlink((dir / "victim").c_str(), (dir / "d").c_str()), 0);
  Attributes a;
  a.mode = 0711;
  a.mtime_ns = 0;
  ASSERT_TRUE(env.SetDirAttributes(**d, a));
  EXPECT_EQ(ModeOf(dir / "victim"), 0644u);
  EXPECT_EQ(ModeOf(dir / "moved"), 0711u);
}

// StatAt(dir, ".") is the open directory itself, also one its owner may not search (a restore
// looks at such a directory's mode before it gives it u+x).
TEST(DirAt, StatOfDotIsTheOpenDirectoryWithoutSearchPermission) {
  TempDir dir;
  Env& env = Env::Default();
  auto root = env.OpenDir(dir.path());
  ASSERT_TRUE(root);
  ASSERT_TRUE(env.CreateDirAt(**root, "d", 0700));
  auto d = env.OpenDirAt(**root, "d", false);
  ASSERT_TRUE(d);
  ASSERT_EQ(::chmod((dir / "d").c_str(), 0600), 0);
  auto self = env.StatAt(**d, ".");
  ASSERT_TRUE(self) << self.error().message;
  EXPECT_EQ(self->type, FileType::kDirectory);
  EXPECT_EQ(self->mode, 0600u);
  struct stat st {};
  ASSERT_EQ(::lstat((dir / "d").c_str(), &st), 0);
  EXPECT_EQ(self->inode, st.st_ino);
}

TEST(DirAt, FileAttributesAndRenameGoThroughTheDescriptors) {
  TempDir dir;
  Env& env = Env::Default();
  auto root = env.OpenDir(dir.path());
  ASSERT_TRUE(root);
  WriteOptions wo;
  wo.mode = 0600;
  wo.exclusive = true;
  auto file = env.NewWritableFileAt(**root, "tmp", wo);
  ASSERT_TRUE(file);
  ASSERT_TRUE((*file)->Append("data"));
  Attributes a;
  a.mode = 0640;
  a.mtime_ns = 1'000'000'000LL * 1'400'000'000 + 7;
  ASSERT_TRUE((*file)->SetAttributes(a));
  ASSERT_TRUE((*file)->Close());
  ASSERT_TRUE(env.RenameAt(**root, "tmp", **root, "final"));
  EXPECT_EQ(ReadFileOrDie(dir / "final"), "data");
  EXPECT_EQ(ModeOf(dir / "final"), 0640u);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "final").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'400'000'000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 7);
  ASSERT_TRUE(env.HardLinkAt(**root, "final", **root, "second"));
  ASSERT_TRUE(env.SymlinkAt("final", **root, "sym"));
  auto text = env.ReadLinkAt(**root, "sym");
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "final");
  ASSERT_TRUE(env.RemoveAt(**root, "sym", false));
  auto gone = env.StatAt(**root, "sym");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().sys_errno, ENOENT);
}

struct timespec CtimeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_ctim;
}

bool Same(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// On a file it made (exclusive, or unnamed) SetAttributes leaves an owner and a mode the file
// has already alone: no chown or chmod, which would each update the inode (its ctime) for
// nothing. A file it did not make gets both as asked (a chown there also clears set-id bits).
TEST(DirAt, SetAttributesLeavesWhatAFileItMadeHasAlready) {
  TempDir dir;
  Env& env = Env::Default();
  auto root = env.OpenDir(dir.path());
  ASSERT_TRUE(root);
  Attributes same;
  same.set_owner = true;
  same.uid = ::geteuid();
  same.gid = ::getegid();
  same.mode = 0600;  // not touched by any umask
  same.set_mtime = false;
  auto ctime_after = [&](WriteOptions wo, const char* name, const Attributes& a) {
    auto file = env.NewWritableFileAt(**root, name, wo);
    EXPECT_TRUE(file);
    if (!file) return std::pair<bool, uint32_t>{false, 0};
    EXPECT_TRUE((*file)->Append("data"));
    if ((*file)->unnamed()) {
      EXPECT_TRUE((*file)->LinkAt(**root, name));
    }
    const struct timespec before = CtimeOf(dir / name);
    ::usleep(20'000);  // past the coarse clock's tick that stamps ctime
    EXPECT_TRUE((*file)->SetAttributes(a));
    EXPECT_TRUE((*file)->Close());
    return std::pair<bool, uint32_t>{!Same(before, CtimeOf(dir / name)), ModeOf(dir / name)};
  };
  WriteOptions made;
  made.mode = 0600;
  made.exclusive = true;
  EXPECT_EQ(ctime_after(made, "made", same), std::make_pair(false, 0600u));
  made.exclusive = false;
  made.unnamed = true;
  EXPECT_EQ(ctime_after(made, "unnamed", same), std::make_pair(false, 0600u));
  Attributes other = same;
  other.mode = 0640;
  made.unnamed = false;
  made.exclusive = true;
  EXPECT_EQ(ctime_after(made, "changed", other), std::make_pair(true, 0640u));
  WriteFile(dir / "there", "old", 0600);
  WriteOptions over;
  over.mode = 0600;
  EXPECT_EQ(ctime_after(over, "there", same), std::make_pair(true, 0600u));
}

TEST(DirAt, FaultInjectionCoversTheDescriptorCalls) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  auto root = env.OpenDir(dir.path());
  ASSERT_TRUE(root);
  env.SetRule(FaultRule{FaultOp::kCreate, 1, ENOSPC, false});
  auto file = env.NewWritableFileAt(**root, "f", WriteOptions());
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().sys_errno, ENOSPC);
  env.SetRule(FaultRule{FaultOp::kRename, 1, EIO, false});
  WriteFile(dir / "a", "a");
  auto renamed = env.RenameAt(**root, "a", **root, "b");
  ASSERT_FALSE(renamed);
  EXPECT_EQ(renamed.error().sys_errno, EIO);
}

// An unnamed file (restore's O_TMPFILE) is seen under no name until LinkAt gives it one, with all
// of its bytes, mode and mtime; a taken name (file or symlink) is EEXIST and left alone; and
// through the fault-injecting Env the link counts as a rename. Linked by the file's descriptor
// (AT_EMPTY_PATH) or, where that is refused, by its /proc/self/fd link.
void ExpectUnnamedFileAppearsWholeWhenLinked(bool by_descriptor) {
  PosixEnv::SetLinkByDescriptor(by_descriptor);
  struct Reset {
    ~Reset() { PosixEnv::SetLinkByDescriptor(true); }
  } reset;
  TempDir dir;
  Env& env = Env::Default();
  WriteFile(dir / "taken", "old", 0644);
  WriteFile(dir / "outside", "keep", 0644);
  ASSERT_EQ(::symlink((dir / "outside").c_str(), (dir / "link").c_str()), 0);
  auto root = env.OpenDir(dir.path());
  ASSERT_TRUE(root) << root.error().message;
  WriteOptions wo;
  wo.mode = 0600;
  wo.unnamed = true;
  auto file = env.NewWritableFileAt(**root, "tmp-name", wo);
  ASSERT_TRUE(file) << file.error().message;
  if (!(*file)->unnamed()) GTEST_SKIP() << "this file system has no O_TMPFILE";
  const std::string data(100'000, 'x');
  ASSERT_TRUE((*file)->Append(data));
  Attributes a;
  a.mode = 0640;
  a.mtime_ns = 1'000'000'000LL * 1'500'000'000;
  ASSERT_TRUE((*file)->SetAttributes(a));
  auto listed = env.ListDir(dir.path());
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 3u);  // taken, outside, link: nothing named yet

  for (const char* name : {"taken", "link"}) {
    auto refused = (*file)->LinkAt(**root, name);
    ASSERT_FALSE(refused) << name;
    EXPECT_EQ(refused.error().sys_errno, EEXIST) << name;
  }
  EXPECT_EQ(ReadFileOrDie(dir / "taken"), "old");
  EXPECT_EQ(ReadFileOrDie(dir / "outside"), "keep");
  ASSERT_TRUE((*file)->LinkAt(**root, "new"));
  EXPECT_FALSE((*file)->unnamed());
  ASSERT_TRUE((*file)->Close());
  EXPECT_EQ(ReadFileOrDie(dir / "new"), data);
  EXPECT_EQ(ModeOf(dir / "new"), 0640u);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "new").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1'500'000'000);
  EXPECT_EQ(st.st_nlink, 1u);

  // A named file has nothing to link.
  auto named = env.NewWritableFileAt(**root, "named", WriteOptions());
  ASSERT_TRUE(named);
  EXPECT_FALSE((*named)->unnamed());
  EXPECT_FALSE((*named)->LinkAt(**root, "other"));

  FaultInjectionEnv faulty(env);
  faulty.SetRule(FaultRule{FaultOp::kRename, 1, ENOSPC, false});
  auto unlinked = faulty.NewWritableFileAt(**root, "tmp2", wo);
  ASSERT_TRUE(unlinked);
  ASSERT_TRUE((*unlinked)->unnamed());
  ASSERT_TRUE((*unlinked)->Append("y"));
  auto failed = (*unlinked)->LinkAt(**root, "faulted");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().sys_errno, ENOSPC);
  (void)(*unlinked)->Close();
  EXPECT_NE(::access((dir / "faulted").c_str(), F_OK), 0);  // never named: nothing left behind
}

TEST(DirAt, AnUnnamedFileAppearsWholeWhenLinkedByItsDescriptor) {
  ExpectUnnamedFileAppearsWholeWhenLinked(true);
}

TEST(DirAt, AnUnnamedFileAppearsWholeWhenLinkedThroughProc) {
  ExpectUnnamedFileAppearsWholeWhenLinked(false);
}

// The archiver's read-ahead opens files by name in their directory: the file itself, never
// what a symlink at the name points to, and the hint to read ahead changes nothing read. The
// same through a FaultInjectionEnv (it forwards), and the generic Env's own version (by path)
// for the envs that have no descriptors (MemEnv).
TEST(DirAt, FilesOpenedForReadingByNameAreNeverSymlinksAndReadWhole) {
  TempDir dir;
  Env& env = Env::Default();
  const std::string data(3 * 1024 * 1024 + 5, 'r');
  WriteFile(dir / "data", data, 0644);
  WriteFile(dir / "outside", "secret", 0644);
  ASSERT_EQ(::symlink((dir / "outside").c_str(), (dir / "link").c_str()), 0);
  auto root = env.OpenDir(dir.path());
  ASSERT_TRUE(root) << root.error().message;
  FaultInjectionEnv faulty(env);
  for (Env* e : {&env, static_cast<Env*>(&faulty)}) {
    auto file = e->NewRandomAccessFileAt(**root, "data");
    ASSERT_TRUE(file) << file.error().message;
    (*file)->WillNeed(0, 4 << 20);
    std::string back(data.size() + 10, '\0');
    auto n = (*file)->Read(0, back.size(), back.data());
    ASSERT_TRUE(n) << n.error().message;
    back.resize(*n);
    EXPECT_EQ(back, data);

    auto link = e->NewRandomAccessFileAt(**root, "link");
    ASSERT_FALSE(link);
    EXPECT_EQ(link.error().sys_errno, ELOOP);
    EXPECT_NE(link.error().message.find(dir / "link"), std::string::npos);
    auto missing = e->NewRandomAccessFileAt(**root, "missing");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().sys_errno, ENOENT);
  }
  auto generic = env.Env::NewRandomAccessFileAt(**root, "data");  // by path
  ASSERT_TRUE(generic) << generic.error().message;
  EXPECT_EQ((*generic)->Size().value_or(0), data.size());
}

}  // namespace
}  // namespace velin::io
