// More of what the two Envs must do alike (the pattern of env_errors_test.cpp: the POSIX Env on
// a real directory and the MemEnv the engine tests trust to stand for it, on the same cases):
// renames, removals and opens refused for a name of the wrong kind, symlink loops, every call
// on a file already closed, and what a writable file does between open and close (holes,
// truncation, attributes, extended attributes). Each refusal carries POSIX's errno and names the
// path; what was there is unchanged. Then the POSIX Env alone where only a kernel can answer
// (an extended attribute too large, a fifo in a listing, pids and a missing TMPDIR), and the
// fault-injecting Env failing each path call it wraps.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "support/test_support.hpp"
#include "unit/io/env_tree.hpp"
#include "velin/io/env.hpp"
#include "velin/io/fault_injection_env.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/io/posix_env.hpp"
#include "velin/io/process_space.hpp"

namespace velin::io {
namespace {

class CovEnv : public EnvTreeTest {
 protected:
  // The tree SetUp made, unchanged.
  void ExpectTreeUnchanged() {
    EXPECT_EQ(*env_->ReadFile(P("file")), "content");
    EXPECT_EQ(*env_->ReadFile(P("dir/sub/deep")), "deep");
    EXPECT_EQ(env_->Stat(P("empty"))->type, FileType::kDirectory);
    EXPECT_EQ(*env_->ReadLink(P("link")), "file");
  }
};

TEST_P(CovEnv, RenamesAndRemovalsOfTheWrongKindFailAsPosixSays) {
  ExpectErrno(env_->RemoveFile(P("dir")), EISDIR, P("dir"));
  ExpectErrno(env_->RemoveDir(P("file")), ENOTDIR, P("file"));
  ExpectErrno(env_->RemoveDir(P("missing")), ENOENT, P("missing"));
  ExpectErrno(env_->Rename(P("dir"), P("dir/sub/inside")), EINVAL, P("dir"));
  ExpectErrno(env_->Rename(P("file"), P("empty")), EISDIR, P("file"));
  ExpectErrno(env_->Rename(P("empty"), P("file")), ENOTDIR, P("empty"));
  ExpectErrno(env_->Rename(P("empty"), P("dir")), ENOTEMPTY, P("empty"));
  ExpectErrno(env_->Rename(P("file"), P("file/x")), ENOTDIR, P("file/x"));
  ExpectErrno(env_->HardLink(P("dir"), P("dir2")), EPERM, P("dir2"));
  ExpectErrno(env_->CreateDir(P("file/x"), 0700), ENOTDIR, P("file/x"));
  ExpectErrno(env_->CreateDir(P("missing/x"), 0700), ENOENT, P("missing/x"));
  const Dir& d = *dir_;
  ExpectErrno(env_->RemoveAt(d, "file", true), ENOTDIR, P("file"));
  ExpectErrno(env_->RemoveAt(d, "dir", false), EISDIR, P("dir"));
  ExpectErrno(env_->RemoveAt(d, "dir", true), ENOTEMPTY, P("dir"));
  ExpectErrno(env_->RenameAt(d, "file", d, "empty"), EISDIR, P("file"));
  ExpectErrno(env_->HardLinkAt(d, "dir", d, "dir2"), EPERM, P("dir2"));
  ExpectTreeUnchanged();
  EXPECT_FALSE(*env_->Exists(P("dir2")));

  // What does work: a rename onto itself, over an empty directory, and over a file.
  ASSERT_TRUE(env_->Rename(P("file"), P("file")));
  ASSERT_TRUE(CreateDirs(*env_, P("moved")));
  ASSERT_TRUE(env_->Rename(P("empty"), P("moved")));
  EXPECT_FALSE(*env_->Exists(P("empty")));
  ASSERT_TRUE(WriteFileDurably(*env_, P("other"), "other"));
  ASSERT_TRUE(env_->RenameAt(d, "other", d, "file"));
  EXPECT_EQ(*env_->ReadFile(P("file")), "other");
  ASSERT_TRUE(env_->CreateDirAt(d, "moved", 0700)) << "an existing directory is fine";
}

TEST_P(CovEnv, OpensOfTheWrongKindAndSymlinkLoopsFailAsPosixSays) {
  ExpectErrno(env_->ReadFile(P("dir")), EISDIR, P("dir"));
  ExpectErrno(env_->NewWritableFile(P("dir"), {}), EISDIR, P("dir"));
  ExpectErrno(env_->NewWritableFile(P("missing/x"), {}), ENOENT, P("missing/x"));
  ExpectErrno(env_->NewRandomAccessFile(P("missing")), ENOENT, P("missing"));
  ExpectErrno(env_->OpenDir(P("file")), ENOTDIR, P("file"));
  ExpectErrno(env_->SyncDir(P("file")), ENOTDIR, P("file"));
  ExpectErrno(env_->SyncDir(P("missing")), ENOENT, P("missing"));
  ExpectErrno(env_->ReadLink(P("dir")), EINVAL, P("dir"));
  ExpectErrno(env_->Stat(P("file/x")), ENOTDIR, P("file/x"));
  ExpectErrno(env_->ListDir(P("file/x")), ENOTDIR, P("file/x"));
  EXPECT_FALSE(*env_->Exists(P("file/x"))) << "a file in the way: nothing there, no error";
  ExpectErrno(env_->ReadFile(P("loop")), ELOOP, P("loop"));
  ExpectErrno(env_->Exists(P("loop/x")), ELOOP, P("loop/x"));
  ExpectErrno(env_->Stat(P("loop/x")), ELOOP, P("loop/x"));
  const Dir& d = *dir_;
  ExpectErrno(env_->NewWritableFileAt(d, "link", {}), ELOOP, P("link"));
  ExpectErrno(env_->NewWritableFileAt(d, "dir", {}), EISDIR, P("dir"));
  ExpectErrno(env_->OpenDirAt(d, "file", false), ENOTDIR, P("file"));
  auto unfollowed = env_->OpenDirAt(d, "dirlink", false);
  ASSERT_FALSE(unfollowed);
  EXPECT_TRUE(unfollowed.error().sys_errno == ELOOP || unfollowed.error().sys_errno == ENOTDIR)
      << unfollowed.error().message;  // Linux says either, by file system
  EXPECT_NE(unfollowed.error().message.find(P("dirlink")), std::string::npos);
  ExpectErrno(env_->OpenDirAt(d, "link", true), ENOTDIR, P("link"));
  ExpectErrno(env_->SetAttributesAt(d, "link", Attributes{.mode = 0600, .set_mtime = false}),
              EOPNOTSUPP, P("link"));
  ExpectTreeUnchanged();

  // A symlink to a directory is followed when asked to.
  auto followed = env_->OpenDirAt(d, "dirlink", true);
  ASSERT_TRUE(followed) << followed.error().message;
  auto in = env_->StatAt(**followed, "sub");
  ASSERT_TRUE(in) << in.error().message;
  EXPECT_EQ(in->type, FileType::kDirectory);
  EXPECT_TRUE(CreateDirs(*env_, P("dirlink"))) << "a link to a directory is one";
  auto not_dir = CreateDirs(*env_, P("file/x"));
  ASSERT_FALSE(not_dir);
  EXPECT_EQ(not_dir.error().message, P("file") + " exists and is not a directory");
}

TEST_P(CovEnv, EveryCallOnAClosedFileIsEbadf) {
  auto file = env_->NewWritableFile(P("closed"), {});
  ASSERT_TRUE(file) << file.error().message;
  WritableFile& f = **file;
  ASSERT_TRUE(f.Append("kept"));
  ASSERT_TRUE(f.Close());
  ExpectErrno(f.Append("more"), EBADF, P("closed"));
  ExpectErrno(f.WriteAt(0, "over"), EBADF, P("closed"));
  ExpectErrno(f.Sync(), EBADF, P("closed"));
  ExpectErrno(f.Truncate(0), EBADF, P("closed"));
  ExpectErrno(f.SetXattrs({{"user.a", "1"}}), EBADF, P("closed"));
  EXPECT_EQ(*env_->ReadFile(P("closed")), "kept");
}

TEST_P(CovEnv, AWritableFileHoldsHolesTruncationAndAttributes) {
  auto file = env_->NewWritableFile(P("new"), {.mode = 0600});
  ASSERT_TRUE(file) << file.error().message;
  WritableFile& f = **file;
  ASSERT_TRUE(f.Append("hello"));
  ASSERT_TRUE(f.WriteAt(8, "xy"));  // past the end: a hole of zeros
  auto outcome = f.SetXattrs({{"user.a", "1"}, {"user.b", "2"}});
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->changed, 2u);
  EXPECT_TRUE(outcome->refused.empty());
  outcome = f.SetXattrs({{"user.b", "2"}});  // a drops, b is already so
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->changed, 1u);
  ASSERT_TRUE(f.Sync());
  EXPECT_EQ(*env_->ReadFile(P("new")), std::string("hello\0\0\0xy", 10));
  ASSERT_TRUE(f.Truncate(4));
  const int64_t mtime = 1'600'000'000'123'456'789;
  ASSERT_TRUE(f.SetAttributes(Attributes{.mode = 0640, .mtime_ns = mtime}));
  ASSERT_TRUE(f.Close());
  EXPECT_EQ(*env_->ReadFile(P("new")), "hell");
  auto st = env_->Stat(P("new"));
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->mode, 0640u);
  EXPECT_EQ(st->mtime_ns, mtime);
  auto xattrs = env_->ReadXattrs(P("new"));
  ASSERT_TRUE(xattrs) << xattrs.error().message;
  EXPECT_EQ(*xattrs, (Xattrs{{"user.b", "2"}}));
  ExpectErrno(env_->ReadXattrs(P("missing")), ENOENT, P("missing"));

  // Through descriptors: the directory's own attributes, and a file's by name.
  const Dir& d = *dir_;
  ASSERT_TRUE(env_->SetDirAttributes(d, Attributes{.mode = 0750, .set_mtime = false}));
  EXPECT_EQ(env_->Stat(root_)->mode, 0750u);
  auto dir_xattrs = env_->SetDirXattrs(d, {{"user.dir", "d"}});
  ASSERT_TRUE(dir_xattrs) << dir_xattrs.error().message;
  EXPECT_EQ(*env_->ReadXattrs(root_), (Xattrs{{"user.dir", "d"}}));
  ASSERT_TRUE(env_->SetAttributesAt(
      d, "file",
      Attributes{.set_owner = true, .uid = 0, .gid = 0, .set_mode = false, .mtime_ns = mtime}));
  EXPECT_EQ(env_->Stat(P("file"))->mtime_ns, mtime);
  ASSERT_TRUE(env_->SyncFileSystem(d));

  // Reads past the end give what is there, then nothing.
  auto reader = env_->NewRandomAccessFile(P("file"));
  ASSERT_TRUE(reader) << reader.error().message;
  char buf[16];
  EXPECT_EQ(*(*reader)->Read(4, sizeof buf, buf), 3u);
  EXPECT_EQ(std::string(buf, 3), "ent");
  EXPECT_EQ(*(*reader)->Read(100, sizeof buf, buf), 0u);
  EXPECT_EQ(*(*reader)->Size(), 7u);
}

TEST_P(CovEnv, WhatSucceedsSucceedsAlike) {
  // Links, owners, times and modes by path; ".." inside a path.
  ASSERT_TRUE(env_->HardLink(P("file"), P("hard")));
  EXPECT_EQ(env_->Stat(P("file"))->nlink, 2u);
  EXPECT_EQ(*env_->ReadFile(P("dir/../hard")), "content");
  ASSERT_TRUE(env_->SetOwner(P("hard"), 0, 0));
  ASSERT_TRUE(env_->SetMode(P("hard"), 0600));
  ASSERT_TRUE(env_->SetMtime(P("hard"), 42'000'000'000));
  auto st = env_->Stat(P("file"));
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->mode, 0600u) << "one inode, two names";
  EXPECT_EQ(st->mtime_ns, 42'000'000'000);
  EXPECT_EQ(st->uid, 0u);

  // Opening an existing file again (by path and by descriptor) truncates it.
  for (int by_dir = 0; by_dir < 2; ++by_dir) {
    ASSERT_TRUE(WriteFileDurably(*env_, P("again"), "old content"));
    auto f = by_dir ? env_->NewWritableFileAt(*dir_, "again", {})
                    : env_->NewWritableFile(P("again"), {});
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE((*f)->Append("new"));
    // A time before 1970 through the descriptor.
    ASSERT_TRUE((*f)->SetAttributes(Attributes{.set_mode = false, .mtime_ns = -2'500'000'000}));
    ASSERT_TRUE((*f)->Close());
    EXPECT_EQ(*env_->ReadFile(P("again")), "new");
    EXPECT_EQ(env_->Stat(P("again"))->mtime_ns, -2'500'000'000);
  }

  // Two large files written at once on one thread (each with its own direct buffer).
  const std::string big(kDirectWriteMin + 4096 + 17, 'b');
  auto a = env_->NewWritableFile(P("a"), {.direct = true});
  auto b = env_->NewWritableFile(P("b"), {.direct = true});
  ASSERT_TRUE(a && b);
  ASSERT_TRUE((*a)->Append(big));
  ASSERT_TRUE((*b)->Append(big));
  ASSERT_TRUE((*a)->Close());
  ASSERT_TRUE((*b)->Close());
  EXPECT_EQ(*env_->ReadFile(P("a")), big);
  EXPECT_EQ(*env_->ReadFile(P("b")), big);

  ASSERT_TRUE(env_->SyncFileSystem(*dir_));
  EXPECT_EQ(env_->HostName(), env_->ThisProcess().host);
  const auto before = env_->SteadyNow();
  EXPECT_GE(env_->SteadyNow(), before);
  EXPECT_GT(env_->Now(), std::chrono::system_clock::from_time_t(1'700'000'000));
}

TEST_P(CovEnv, AFileOpenedWithoutTruncationIsAppendedTo) {
  WriteOptions keep;
  keep.truncate = false;
  {
    auto f = env_->NewWritableFile(P("file"), keep);
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE((*f)->Append("+more"));
    ASSERT_TRUE((*f)->Close());
  }
  EXPECT_EQ(*env_->ReadFile(P("file")), "content+more");
  {
    auto f = env_->NewWritableFileAt(*dir_, "file", keep);
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE((*f)->Append("+at"));
    ASSERT_TRUE((*f)->Close());
  }
  EXPECT_EQ(*env_->ReadFile(P("file")), "content+more+at");
  {
    auto f = env_->NewWritableFile(P("file"), {});  // truncating, the default
    ASSERT_TRUE(f) << f.error().message;
    ASSERT_TRUE((*f)->Append("new"));
    ASSERT_TRUE((*f)->Close());
  }
  EXPECT_EQ(*env_->ReadFile(P("file")), "new");
}

INSTANTIATE_TEST_SUITE_P(BothEnvs, CovEnv, BothEnvs(), EnvCaseName);

// Sets an environment variable for one test and restores it after.
class ScopedEnvVar {
 public:
  ScopedEnvVar(const char* name, const char* value) : name_(name) {
    const char* old = ::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnvVar() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(CovPosixEnv, AnExtendedAttributeTooLargeIsRefusedNotFatal) {
  testing::TempDir dir;
  PosixEnv env;
  auto file = env.NewWritableFile(dir / "f", {});
  ASSERT_TRUE(file) << file.error().message;
  // Larger than any file system holds (XATTR_SIZE_MAX is 64 KiB): the kernel says E2BIG.
  auto outcome = (*file)->SetXattrs({{"user.big", std::string(70000, 'x')}, {"user.ok", "1"}});
  ASSERT_TRUE(outcome) << outcome.error().message;
  EXPECT_EQ(outcome->changed, 1u);
  ASSERT_EQ(outcome->refused.size(), 1u);
  EXPECT_EQ(outcome->refused[0].first, "user.big");
  EXPECT_EQ(outcome->refused[0].second, E2BIG);
  ASSERT_TRUE((*file)->Close());
  EXPECT_EQ(*env.ReadXattrs(dir / "f"), (Xattrs{{"user.ok", "1"}}));
}

TEST(CovPosixEnv, ListsEveryKindOfEntry) {
  testing::TempDir dir;
  PosixEnv env;
  ASSERT_TRUE(WriteFileDurably(env, dir / "file", "f"));
  ASSERT_TRUE(env.CreateDir(dir / "dir", 0700));
  ASSERT_TRUE(env.Symlink("file", dir / "link"));
  auto d = env.OpenDir(dir.path());
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_TRUE(env.MakeNodeAt(**d, "fifo", SpecialKind::kFifo, 0600, 0));
  auto entries = env.ListDir(dir.path());
  ASSERT_TRUE(entries) << entries.error().message;
  std::map<std::string, FileType> kinds;
  for (const DirEntry& e : *entries) kinds[e.name] = e.type;
  EXPECT_EQ(kinds, (std::map<std::string, FileType>{{"dir", FileType::kDirectory},
                                                    {"fifo", FileType::kOther},
                                                    {"file", FileType::kRegular},
                                                    {"link", FileType::kSymlink}}));
}

TEST(CovPosixEnv, ProcessesHostAndTempDirectories) {
  PosixEnv env;
  const ProcessIdentity self = env.ThisProcess();
  EXPECT_EQ(self.pid, static_cast<int64_t>(::getpid()));
  EXPECT_GT(self.start_ticks, 0);
  EXPECT_FALSE(self.boot_id.empty());
  EXPECT_EQ(self.host, env.HostName());
  EXPECT_TRUE(env.ProcessExists(self.pid));
  EXPECT_EQ(env.ProcessStartTicks(self.pid), self.start_ticks);
  // pid_max is at most 2^22: no process has this pid, and it has no start.
  EXPECT_FALSE(env.ProcessExists(1 << 23));
  EXPECT_EQ(env.ProcessStartTicks(1 << 23), 0);

  ScopedEnvVar tmp("TMPDIR", "/nonexistent-velin-tmp");
  auto made = env.MakeTempDir("velin-x-");
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().sys_errno, ENOENT);
  EXPECT_NE(made.error().message.find("cannot create /nonexistent-velin-tmp/velin-x-"),
            std::string::npos)
      << made.error().message;
}

// A process that has ended but is not reaped (a zombie: an orphan whose new parent does not
// wait for it) has ended: a switch waiting for a command a killed velin left behind must not
// wait for its zombie. Its group can be signalled while it has members.
TEST(CovPosixEnv, AZombieHasNoStartAndAGroupCanBeSignalled) {
  PosixEnv env;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setpgid(0, 0);
    ::pause();
    ::_exit(0);
  }
  ::setpgid(child, child);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (::getpgid(child) != child && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GT(env.ProcessStartTicks(child), 0);
  env.SignalProcessGroup(child, SIGKILL);
  // Not reaped yet: a zombie, which still "exists" for kill(pid, 0).
  while (env.ProcessStartTicks(child) != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(env.ProcessStartTicks(child), 0);
  EXPECT_TRUE(env.ProcessExists(child));
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
}

TEST(CovPosixEnv, ReadingADirectoryOrMakingANameWithASlashFails) {
  testing::TempDir dir;
  PosixEnv env;
  ASSERT_TRUE(env.CreateDir(dir / "d", 0700));
  auto reader = env.NewRandomAccessFile(dir / "d");  // open(2) lets a directory be opened
  ASSERT_TRUE(reader) << reader.error().message;
  char buf[8];
  auto read = (*reader)->Read(0, sizeof buf, buf);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().sys_errno, EISDIR);
  EXPECT_EQ(read.error().message.rfind("cannot read " + (dir / "d"), 0), 0u)
      << read.error().message;
  auto d = env.OpenDir(dir.path());
  ASSERT_TRUE(d);
  auto made = env.CreateDirAt(**d, "missing/x", 0700);  // one name, never a path
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().sys_errno, ENOENT);
  EXPECT_NE(made.error().message.find(dir / "missing/x"), std::string::npos);
  EXPECT_EQ(ProcessSpaceTag(), ProcessSpaceTag(Env::Default().ThisProcess()));
}

// Device nodes need CAP_MKNOD on a real disk; the MemEnv keeps their kind and number as restore
// gives them.
TEST(CovMemEnv, DeviceNodesKeepTheirKindAndNumber) {
  MemEnv env;
  ASSERT_TRUE(CreateDirs(env, "/dev-test"));
  auto d = env.OpenDir("/dev-test");
  ASSERT_TRUE(d) << d.error().message;
  ASSERT_TRUE(env.MakeNodeAt(**d, "tty", SpecialKind::kCharDevice, 0620, 0x0401));
  ASSERT_TRUE(env.MakeNodeAt(**d, "disk", SpecialKind::kBlockDevice, 0660, 0x0800));
  auto tty = env.StatAt(**d, "tty");
  auto disk = env.StatAt(**d, "disk");
  ASSERT_TRUE(tty && disk);
  EXPECT_EQ(tty->format, 0020000u);
  EXPECT_EQ(tty->rdev, 0x0401u);
  EXPECT_EQ(tty->mode, 0620u);
  EXPECT_EQ(disk->format, 0060000u);
  EXPECT_EQ(disk->rdev, 0x0800u);
  EXPECT_EQ(disk->type, FileType::kOther);
}

TEST(CovFaultInjectionEnv, WithoutARuleEveryCallPassesThroughAndEachAtCallCanFail) {
  testing::TempDir dir;
  PosixEnv posix;
  FaultInjectionEnv env(posix);
  ASSERT_TRUE(env.CreateDir(dir / "d", 0700));
  ASSERT_TRUE(env.Symlink("d", dir / "s"));
  auto f = env.NewWritableFile(dir / "d/f", {});
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_TRUE((*f)->Append("abcd"));
  ASSERT_TRUE((*f)->WriteAt(1, "X"));
  ASSERT_TRUE((*f)->SetXattrs({{"user.k", "v"}}));
  ASSERT_TRUE((*f)->SetAttributes(Attributes{.mode = 0600, .set_mtime = false}));
  ASSERT_TRUE((*f)->Close());
  ASSERT_TRUE(env.HardLink(dir / "d/f", dir / "h"));
  EXPECT_EQ(testing::ReadFileOrDie(dir / "h"), "aXcd");
  auto handle = env.OpenDir(dir / "d");
  ASSERT_TRUE(handle) << handle.error().message;
  const Dir& d = **handle;
  ASSERT_TRUE(env.CreateDirAt(d, "sub", 0700));
  ASSERT_TRUE(env.SymlinkAt("f", d, "l"));
  ASSERT_TRUE(env.HardLinkAt(d, "f", d, "g"));
  ASSERT_TRUE(env.RenameAt(d, "g", d, "g2"));
  ASSERT_TRUE(env.MakeNodeAt(d, "p", SpecialKind::kFifo, 0600, 0));
  auto at = env.NewWritableFileAt(d, "w", {});
  ASSERT_TRUE(at) << at.error().message;
  ASSERT_TRUE((*at)->Close());
  EXPECT_FALSE(env.Fired());

  struct Call {
    const char* rule;
    std::function<Status()> run;
    std::string name;
  };
  const std::vector<Call> calls = {
      {"create:1:EIO", [&] { return env.CreateDirAt(d, "x1", 0700); }, "x1"},
      {"create:1:EIO", [&] { return env.SymlinkAt("f", d, "x2"); }, "x2"},
      {"create:1:EIO", [&] { return env.HardLinkAt(d, "f", d, "x3"); }, "x3"},
      {"create:1:EIO", [&] { return env.MakeNodeAt(d, "x4", SpecialKind::kFifo, 0600, 0); }, "x4"},
      {"rename:1:EIO", [&] { return env.RenameAt(d, "f", d, "x5"); }, "x5"},
      {"create:1:EIO",
       [&]() -> Status {
         VELIN_ASSIGN(auto w, env.NewWritableFileAt(d, "x6", {}));
         return w->Close();
       },
       "x6"},
  };
  for (const Call& c : calls) {
    env.SetRule(ParseFaultRule(c.rule));
    Status s = c.run();
    ASSERT_FALSE(s) << c.rule << " " << c.name;
    EXPECT_EQ(s.error().sys_errno, EIO);
    EXPECT_NE(s.error().message.find(dir / ("d/" + std::string(c.name))), std::string::npos)
        << s.error().message;
    EXPECT_FALSE(*posix.Exists(dir / ("d/" + std::string(c.name))));
  }
  EXPECT_EQ(testing::ReadFileOrDie(dir / "d/f"), "aXcd");
}

TEST(CovFaultInjectionEnv, EachWrappedPathCallFailsWithTheRuleAndChangesNothing) {
  testing::TempDir dir;
  PosixEnv posix;
  FaultInjectionEnv env(posix);
  ASSERT_TRUE(WriteFileDurably(posix, dir / "file", "content"));
  struct Call {
    const char* rule;
    std::function<Status()> run;
    std::string path;  // named in the message
  };
  const std::vector<Call> calls = {
      {"create:1:EROFS", [&] { return env.CreateDir(dir / "d", 0700); }, dir / "d"},
      {"create:1:EROFS", [&] { return env.Symlink("file", dir / "s"); }, dir / "s"},
      {"create:1:EROFS", [&] { return env.HardLink(dir / "file", dir / "h"); }, dir / "h"},
      {"rename:1:EIO", [&] { return env.Rename(dir / "file", dir / "r"); }, dir / "r"},
      {"sync:1:EIO", [&] { return env.SyncDir(dir.path()); }, dir.path()},
      {"any:1:EDQUOT",
       [&]() -> Status {
         VELIN_ASSIGN(auto f, env.NewWritableFile(dir / "n", {}));
         return f->Close();
       },
       dir / "n"},
  };
  for (const Call& c : calls) {
    env.SetRule(ParseFaultRule(c.rule));
    Status s = c.run();
    ASSERT_FALSE(s) << c.rule << " " << c.path;
    EXPECT_TRUE(env.Fired());
    EXPECT_NE(s.error().message.find(c.path), std::string::npos) << s.error().message;
    EXPECT_EQ(s.error().sys_errno, ParseFaultRule(c.rule)->error) << s.error().message;
  }
  auto entries = posix.ListDir(dir.path());
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u) << "nothing made, nothing renamed";
  EXPECT_EQ((*entries)[0].name, "file");

  // A write at an offset can be short too; a truncation fails like a write.
  env.SetRule(ParseFaultRule("write:1:ENOSPC:short"));
  auto f = env.NewWritableFile(dir / "file", {.truncate = false});
  ASSERT_TRUE(f) << f.error().message;
  auto at = (*f)->WriteAt(2, "XXXX");
  ASSERT_FALSE(at);
  EXPECT_EQ(at.error().sys_errno, ENOSPC);
  EXPECT_EQ(testing::ReadFileOrDie(dir / "file"), "coXXent") << "half its bytes went out";
  auto cut = (*f)->Truncate(1);
  EXPECT_TRUE(cut) << "only the first write failed";
  env.SetRule(ParseFaultRule("write:1:EIO"));
  auto again = (*f)->Truncate(0);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().sys_errno, EIO);
  ASSERT_TRUE((*f)->Close());
  EXPECT_EQ(testing::ReadFileOrDie(dir / "file"), "c");

  for (const char* bad : {"write:1:EIO:sticky:sticky", "write:1:EIO:short:short",
                          "sync:1:EIO:short", "rename:1:EIO:short", "write:1:EIO:x:y:z"}) {
    EXPECT_FALSE(ParseFaultRule(bad)) << bad;
  }
  auto both = ParseFaultRule("any:2:EROFS:short:sticky");
  ASSERT_TRUE(both);
  EXPECT_TRUE(both->short_write);
  EXPECT_TRUE(both->sticky);
}

}  // namespace
}  // namespace velin::io
