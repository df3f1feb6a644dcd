// The local backend's sweep of temp files left by killed writers, on a MemEnv: whether a writer
// of this process space still runs is the Env's process table, ages are the Env's clock (the
// lock object's mtime), and the temps a durable write makes carry the Env's pid and tag. The
// integration test OutputFixesTest.CreateRemovesTempFilesOfDeadWriters does the same with real
// processes through the binary.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/removal_log_env.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/io/process_space.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::storage {
namespace {

using std::chrono::seconds;

bool Exists(io::MemEnv& env, const std::string& path) {
  auto e = env.Exists(path);
  EXPECT_TRUE(e) << e.error().message;
  return e && *e;
}

TEST(LocalBackendMem, SweepsTheTempsOfDeadWritersAndOldForeignOnes) {
  io::MemEnv env;
  auto opened = LocalBackend::Open(env, "/repo", true);
  ASSERT_TRUE(opened) << opened.error().message;
  LocalBackend& backend = **opened;
  const io::ProcessIdentity self = env.ThisProcess();
  const std::string tag = io::ProcessSpaceTag(self);
  ASSERT_FALSE(tag.empty());
  env.StartProcess(2001, 7);  // a writer that still runs; 2002 ran and is gone

  ASSERT_TRUE(io::CreateDirs(env, "/repo/data/00"));
  ASSERT_TRUE(io::CreateDirs(env, "/repo/index"));
  const std::string other_old = "/repo/index/ef.tmp-2002-0badc0de-3";  // another host's
  ASSERT_TRUE(io::WriteFileDurably(env, other_old, "partial"));
  env.Advance(seconds(kStaleTempAge + 60));
  const std::string dead_writer = "/repo/data/00/00ab.tmp-2002-" + tag + "-1";
  const std::string live_writer = "/repo/data/00/00cd.tmp-2001-" + tag + "-2";
  const std::string our_writer = "/repo/data/00/00ce.tmp-" + std::to_string(self.pid) + "-" + tag +
                                 "-3";  // this process, writing now
  const std::string other_new = "/repo/index/ef.tmp-2002-0badc0de-4";
  for (const std::string& p : {dead_writer, live_writer, our_writer, other_new}) {
    ASSERT_TRUE(io::WriteFileDurably(env, p, "partial"));
  }
  ASSERT_TRUE(backend.Put("locks/l1", "lock"));  // the command's lock: the storage's clock

  auto removed = backend.RemoveStaleTemps(0, repo::TempFileLayout());
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->removed, 2u);
  EXPECT_FALSE(Exists(env, dead_writer));
  EXPECT_FALSE(Exists(env, other_old));
  EXPECT_TRUE(Exists(env, live_writer));
  EXPECT_TRUE(Exists(env, our_writer));
  EXPECT_TRUE(Exists(env, other_new));

  // The live writer ends without renaming its temp: the next sweep takes it.
  env.EndProcess(2001);
  removed = backend.RemoveStaleTemps(0, repo::TempFileLayout());
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->removed, 1u);
  EXPECT_FALSE(Exists(env, live_writer));
  EXPECT_TRUE(Exists(env, our_writer));
}

TEST(LocalBackendMem, ADurableWriteNamesItsTempByTheEnvProcess) {
  io::MemEnv env;
  io::ProcessIdentity who = env.ThisProcess();
  who.pid = 4242;
  env.SetThisProcess(who);
  ASSERT_TRUE(io::CreateDirs(env, "/d"));
  // The temp is there between the write and the rename: see it from a failing rename target.
  ASSERT_TRUE(io::CreateDirs(env, "/d/target"));  // a directory: renaming a file over it fails
  auto written = io::WriteFileDurably(env, "/d/target", "x");
  ASSERT_FALSE(written);
  // The failed write removed its temp; its name was in the error of the rename.
  EXPECT_NE(written.error().message.find("/d/target.tmp-4242-" + io::ProcessSpaceTag(who) + "-"),
            std::string::npos)
      << written.error().message;
  auto left = env.ListDir("/d");
  ASSERT_TRUE(left);
  EXPECT_EQ(left->size(), 1u);  // only the directory: no temp left behind
}

TEST(LocalBackendMem, SyncDeletesFsyncsEachDirectoryRemovedFromOnceAndKeepsWhatFailed) {
  io::MemEnv mem;
  velin::testing::RemovalLogEnv env(mem);
  auto opened = LocalBackend::Open(env, "/repo", true);
  ASSERT_TRUE(opened) << opened.error().message;
  LocalBackend& backend = **opened;
  for (const char* name : {"index/aa", "index/bb", "snapshots/cc"}) {
    ASSERT_TRUE(backend.Put(name, "x"));
  }
  ASSERT_TRUE(backend.SyncDeletes());  // nothing removed yet: nothing to do
  env.log.clear();
  ASSERT_TRUE(backend.SyncDeletes());
  EXPECT_TRUE(env.log.empty());

  ASSERT_TRUE(backend.Delete("index/aa"));
  ASSERT_TRUE(backend.Delete("index/bb"));
  ASSERT_TRUE(backend.Delete("snapshots/cc"));
  ASSERT_TRUE(backend.Delete("snapshots/missing"));  // not there: not an error, nothing to sync
  env.log.clear();
  env.SetRule(io::FaultRule{.op = io::FaultOp::kSync, .nth = 1, .error = 5});
  auto failed = backend.SyncDeletes();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().sys_errno, 5);
  env.SetRule(std::nullopt);
  env.log.clear();
  ASSERT_TRUE(backend.SyncDeletes());  // the failed directories are still owed their fsync
  EXPECT_EQ(env.log, (std::vector<std::string>{"sync /repo/index", "sync /repo/snapshots"}));
  env.log.clear();
  ASSERT_TRUE(backend.SyncDeletes());
  EXPECT_TRUE(env.log.empty());
}

// Names in the repository's directories that are temp files ("*.tmp-*").
std::vector<std::string> Temps(io::Env& env, const std::string& dir) {
  std::vector<std::string> out;
  auto entries = env.ListDir(dir);
  if (!entries) return out;
  for (const io::DirEntry& e : *entries) {
    const std::string path = io::JoinPath(dir, e.name);
    if (e.type == io::FileType::kDirectory) {
      for (auto& t : Temps(env, path)) out.push_back(std::move(t));
    } else if (e.name.find(".tmp-") != std::string::npos) {
      out.push_back(path);
    }
  }
  return out;
}

TEST(LocalBackendMem, AnObjectWriterShowsNothingBeforeCommitAndAllAfter) {
  io::MemEnv env;
  auto opened = LocalBackend::Open(env, "/repo", true);
  ASSERT_TRUE(opened) << opened.error().message;
  LocalBackend& backend = **opened;
  auto writer = backend.NewObjectWriter("data");
  ASSERT_TRUE(writer) << writer.error().message;
  ASSERT_TRUE(*writer);
  const std::string a(3 << 20, 'a');
  ASSERT_TRUE((*writer)->Append(a));
  ASSERT_TRUE((*writer)->Append("tail"));
  // Under way: a temp file of this process in data/, which no listing shows and a sweep leaves.
  auto listed = backend.List("data/");
  ASSERT_TRUE(listed);
  EXPECT_TRUE(listed->empty());
  const auto temps = Temps(env, "/repo");
  ASSERT_EQ(temps.size(), 1u);
  EXPECT_EQ(temps[0].rfind("/repo/data/object.tmp-" + std::to_string(env.ThisProcess().pid), 0), 0u)
      << temps[0];
  auto swept = backend.RemoveStaleTemps(0, repo::TempFileLayout());
  ASSERT_TRUE(swept);
  EXPECT_EQ(swept->removed, 0u);
  // Named into a subdirectory that did not exist yet.
  ASSERT_TRUE((*writer)->Commit("data/ab/abcdef"));
  writer->reset();
  auto got = backend.Get("data/ab/abcdef");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, a + "tail");
  EXPECT_TRUE(Temps(env, "/repo").empty());
  listed = backend.List("data/");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "data/ab/abcdef");
}

TEST(LocalBackendMem, AnObjectWriterLeftOrFailedLeavesNoTempAndNoObject) {
  io::MemEnv mem;
  velin::testing::RemovalLogEnv env(mem);
  auto opened = LocalBackend::Open(env, "/repo", true);
  ASSERT_TRUE(opened) << opened.error().message;
  LocalBackend& backend = **opened;
  {  // dropped without a commit (a failed run)
    auto writer = backend.NewObjectWriter("data");
    ASSERT_TRUE(writer && *writer);
    ASSERT_TRUE((*writer)->Append("partial"));
  }
  EXPECT_TRUE(Temps(env, "/repo").empty());
  // Each step of the put fails once: the write, the fsync, the rename.
  for (io::FaultOp op : {io::FaultOp::kWrite, io::FaultOp::kSync, io::FaultOp::kRename}) {
    auto writer = backend.NewObjectWriter("data");
    ASSERT_TRUE(writer && *writer);
    env.SetRule(io::FaultRule{.op = op, .nth = 1, .error = 28});
    Status st = (*writer)->Append(std::string(2 << 20, 'b'));
    if (st) st = (*writer)->Commit("data/cd/cdef");
    env.SetRule(std::nullopt);
    ASSERT_FALSE(st) << static_cast<int>(op);
    EXPECT_EQ(st.error().sys_errno, 28) << st.error().message;
    writer->reset();
    EXPECT_TRUE(Temps(env, "/repo").empty()) << static_cast<int>(op);
    auto there = backend.Stat("data/cd/cdef");
    ASSERT_TRUE(there);
    EXPECT_FALSE(there->has_value()) << static_cast<int>(op);
  }
  // The name of a rejected key never reaches the file system.
  auto writer = backend.NewObjectWriter("data");
  ASSERT_TRUE(writer && *writer);
  EXPECT_FALSE((*writer)->Commit("../outside"));
}

}  // namespace
}  // namespace velin::storage
