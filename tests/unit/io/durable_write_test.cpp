#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "support/test_support.hpp"
#include "velin/io/env.hpp"
#include "velin/io/fault_injection_env.hpp"

namespace velin::io {
namespace {

using velin::testing::ReadFileOrDie;
using velin::testing::SmallTmpfs;
using velin::testing::TempDir;
using velin::testing::WriteFile;

// Nothing but `name` (no temp files) is left in `dir`.
void ExpectOnlyFile(Env& env, const std::string& dir, const std::string& name) {
  auto entries = env.ListDir(dir);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].name, name);
}

TEST(WriteFileDurably, WritesAndReplaces) {
  TempDir dir;
  Env& env = Env::Default();
  std::string path = dir / "state.json";
  ASSERT_TRUE(WriteFileDurably(env, path, "one", 0600));
  EXPECT_EQ(ReadFileOrDie(path), "one");
  ASSERT_TRUE(WriteFileDurably(env, path, "two"));
  EXPECT_EQ(ReadFileOrDie(path), "two");
  ExpectOnlyFile(env, dir.path(), "state.json");
}

TEST(WriteFileDurably, KeepsTheOldContentWhenAnyStepFails) {
  for (FaultOp op : {FaultOp::kCreate, FaultOp::kWrite, FaultOp::kSync, FaultOp::kRename}) {
    for (int err : {ENOSPC, EIO}) {
      TempDir dir;
      FaultInjectionEnv env(Env::Default());
      std::string path = dir / "state.json";
      WriteFile(path, "old");
      env.SetRule(FaultRule{op, 1, err, false});
      auto s = WriteFileDurably(env, path, "new");
      ASSERT_FALSE(s) << "op " << static_cast<int>(op);
      EXPECT_EQ(s.error().sys_errno, err);
      EXPECT_NE(s.error().message.find(dir.path()), std::string::npos) << s.error().message;
      if (op == FaultOp::kSync && !env.Fired()) continue;
      // The file is old or — only when the failure came after the rename (dir fsync) — new.
      std::string content = ReadFileOrDie(path);
      EXPECT_TRUE(content == "old" || content == "new");
      if (op != FaultOp::kSync) {
        EXPECT_EQ(content, "old");
      }
      ExpectOnlyFile(env, dir.path(), "state.json");
    }
  }
}

TEST(WriteFileDurably, DirectoryFsyncFailureIsReported) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetRule(FaultRule{FaultOp::kSync, 2, EIO, false});  // 1: file, 2: directory
  auto s = WriteFileDurably(env, dir / "f", "data");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("cannot fsync " + dir.path()), std::string::npos)
      << s.error().message;
}

// Opening a file to read it is a fault point of its own ("open"), outside "any": the write-side
// matrices over "any" keep their indices.
TEST(FaultInjectionEnv, OpensToReadAreTheirOwnFaultPoint) {
  TempDir dir;
  ASSERT_TRUE(WriteFileDurably(Env::Default(), dir / "f", "data"));
  FaultInjectionEnv env(Env::Default());
  env.SetRule(ParseFaultRule("open:2:EIO"));
  EXPECT_TRUE(env.NewRandomAccessFile(dir / "f"));
  auto second = env.NewRandomAccessFile(dir / "f");
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message.find("cannot open " + (dir / "f")), std::string::npos)
      << second.error().message;
  EXPECT_TRUE(env.NewRandomAccessFile(dir / "f"));
  EXPECT_EQ(env.Count(FaultOp::kOpen), 3u);
  EXPECT_EQ(env.Count(FaultOp::kAny), 0u);
  env.SetRule(ParseFaultRule("any:1:EIO"));
  EXPECT_TRUE(env.NewRandomAccessFile(dir / "f"));  // not an "any" operation
}

TEST(FaultInjectionEnv, FailsExactlyTheNthCallUnlessSticky) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetRule(FaultRule{FaultOp::kWrite, 3, ENOSPC, false});
  auto file = env.NewWritableFile(dir / "f", WriteOptions{});
  ASSERT_TRUE(file);
  EXPECT_TRUE((*file)->Append("a"));
  EXPECT_TRUE((*file)->Append("b"));
  auto third = (*file)->Append("c");
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().sys_errno, ENOSPC);
  EXPECT_TRUE((*file)->Append("d"));
  EXPECT_EQ(env.Count(FaultOp::kWrite), 4u);

  env.SetRule(FaultRule{FaultOp::kWrite, 2, EIO, true});
  EXPECT_TRUE((*file)->Append("e"));
  EXPECT_FALSE((*file)->Append("f"));
  EXPECT_FALSE((*file)->Append("g"));
  ASSERT_TRUE((*file)->Close());
}

TEST(FaultInjectionEnv, ParsesRules) {
  auto r = ParseFaultRule("write:7:ENOSPC");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->op, FaultOp::kWrite);
  EXPECT_EQ(r->nth, 7u);
  EXPECT_EQ(r->error, ENOSPC);
  EXPECT_FALSE(r->sticky);
  auto s = ParseFaultRule("rename:1:EIO:sticky");
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->sticky);
  auto p = ParseFaultRule("rename:1:EPERM");  // a refused link of an unnamed file
  ASSERT_TRUE(p);
  EXPECT_EQ(p->error, EPERM);
  auto sig = ParseFaultRule("any:3:SIGTERM");  // raise SIGTERM at the 3rd operation
  ASSERT_TRUE(sig);
  EXPECT_EQ(sig->op, FaultOp::kAny);
  EXPECT_EQ(sig->signal, SIGTERM);
  EXPECT_EQ(sig->error, 0);
  auto kill = ParseFaultRule("write:4:SIGKILL");  // a crash there, as kill -9
  ASSERT_TRUE(kill);
  EXPECT_EQ(kill->signal, SIGKILL);
  auto open = ParseFaultRule("open:2:EIO");  // a file opened to be read
  ASSERT_TRUE(open);
  EXPECT_EQ(open->op, FaultOp::kOpen);
  for (const char* bad : {"", "write", "write:0:EIO", "write:x:EIO", "chmod:1:EIO",
                          "write:1:EACCES", "write:1:EIO:always", "write:1:SIGSEGV",
                          "write:1:SIGTERM:sticky", "write:1:SIGINT:short"}) {
    EXPECT_FALSE(ParseFaultRule(bad)) << bad;
  }
}

// A real full disk: a 1 MiB tmpfs (root only; CI runs as root).
TEST(WriteFileDurably, RealFullDiskFailsCleanly) {
  TempDir dir;
  std::string mnt = dir / "small";
  SmallTmpfs small(mnt, "1m");  // unmounted before `dir` goes, however the test ends
  if (!small.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  Env& env = Env::Default();
  std::string path = mnt + "/big";
  ASSERT_TRUE(WriteFileDurably(env, path, "small old content"));
  auto s = WriteFileDurably(env, path, std::string(4 << 20, 'x'));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().sys_errno, ENOSPC);
  EXPECT_EQ(ReadFileOrDie(path), "small old content");
  ExpectOnlyFile(env, mnt, "big");
}

TEST(Paths, SplitAndJoin) {
  EXPECT_EQ(Dirname("a/b"), "a");
  EXPECT_EQ(Dirname("b"), ".");
  EXPECT_EQ(Dirname("/b"), "/");
  EXPECT_EQ(Basename("/x/y z"), "y z");
  EXPECT_EQ(JoinPath("/a/", "/b"), "/a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
}

TEST(Env, StatsSymlinksWithoutFollowing) {
  TempDir dir;
  Env& env = Env::Default();
  ASSERT_TRUE(env.Symlink("does-not-exist", dir / "link"));
  auto info = env.Stat(dir / "link");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->type, FileType::kSymlink);
  EXPECT_EQ(*env.ReadLink(dir / "link"), "does-not-exist");
  auto missing = env.Stat(dir / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().sys_errno, ENOENT);
  EXPECT_FALSE(*env.Exists(dir / "nope"));
}

TEST(FaultInjectionEnv, AShortWriteHandsOverHalfItsBytesThenFails) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default());
  env.SetRule(FaultRule{FaultOp::kWrite, 2, ENOSPC, false, true});
  auto file = env.NewWritableFile(dir / "f", WriteOptions{});
  ASSERT_TRUE(file);
  ASSERT_TRUE((*file)->Append("first "));
  auto second = (*file)->Append("abcdefgh");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().sys_errno, ENOSPC);
  EXPECT_EQ(second.error().message, "cannot write " + dir / "f" + ": No space left on device");
  env.SetRule(FaultRule{FaultOp::kWrite, 1, EIO, false, true});
  EXPECT_FALSE((*file)->WriteAt(2, "XYZW"));
  ASSERT_TRUE((*file)->Close());
  EXPECT_EQ(ReadFileOrDie(dir / "f"), "fiXYt abcd");
}

// A write that gets part of its bytes in and then fails (a short write(2) followed by ENOSPC
// or EIO) at any write of WriteFileDurably, small or large (O_DIRECT) data: the old content
// stays, and the half-written temporary is gone.
TEST(WriteFileDurably, AShortWriteNeverLeavesAHalfFile) {
  for (size_t size : {size_t{10}, size_t{3 << 20}}) {
    for (uint64_t nth = 1; nth <= 3; ++nth) {
      TempDir dir;
      FaultInjectionEnv env(Env::Default());
      const std::string path = dir / "state";
      WriteFile(path, "old");
      env.SetRule(FaultRule{FaultOp::kWrite, nth, nth % 2 ? ENOSPC : EIO, false, true});
      auto s = WriteFileDurably(env, path, std::string(size, 'n'));
      if (!env.Fired()) {  // fewer writes than nth: the whole file was written
        ASSERT_TRUE(s) << s.error().message;
        EXPECT_EQ(ReadFileOrDie(path).size(), size);
        continue;
      }
      ASSERT_FALSE(s) << size << " " << nth;
      EXPECT_EQ(ReadFileOrDie(path), "old");
      ExpectOnlyFile(env, dir.path(), "state");
    }
  }
}

TEST(FaultInjectionEnv, ParsesShortWriteRules) {
  auto r = ParseFaultRule("write:3:EIO:short");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->short_write);
  EXPECT_FALSE(r->sticky);
  auto both = ParseFaultRule("any:2:ENOSPC:sticky:short");
  ASSERT_TRUE(both);
  EXPECT_TRUE(both->short_write && both->sticky);
  for (const char* bad : {"sync:1:EIO:short", "write:1:EIO:short:short", "write:1:EIO:sticky:x"}) {
    EXPECT_FALSE(ParseFaultRule(bad)) << bad;
  }
}

// Real short writes: past RLIMIT_FSIZE, write(2) writes what fits and returns the short count,
// and the next write fails with EFBIG. WriteFileDurably's loop takes the short count, then the
// error, and leaves the old file and no temporary — through the page cache and with O_DIRECT.
// (The limit is set in a child process of the test only.)
TEST(WriteFileDurablyDeathTest, RealShortWritesPastTheFileSizeLimitFailCleanly) {
  for (size_t size : {size_t{300000}, size_t{3 << 20}}) {
    TempDir dir;
    const std::string path = dir / "state";
    WriteFile(path, "old");
    EXPECT_EXIT(
        {
          ::signal(SIGXFSZ, SIG_IGN);
          rlimit lim{};
          ::getrlimit(RLIMIT_FSIZE, &lim);
          lim.rlim_cur = size / 2 + 123;  // not a multiple of the direct I/O alignment
          ::setrlimit(RLIMIT_FSIZE, &lim);
          auto s = WriteFileDurably(Env::Default(), path, std::string(size, 'n'));
          if (s) std::exit(1);
          std::fprintf(stderr, "%s\n", s.error().message.c_str());
          std::exit(s.error().sys_errno == EFBIG ? 0 : 2);
        },
        ::testing::ExitedWithCode(0), "cannot write .*: File too large");
    EXPECT_EQ(ReadFileOrDie(path), "old") << size;
    ExpectOnlyFile(Env::Default(), dir.path(), "state");
  }
}

}  // namespace
}  // namespace velin::io
