// A backup of a tree that users and the application keep writing: a file written while it is
// read is read once more (and named when it changes again), an entry deleted while the walk
// reads it is left out and the backup goes on, and an ENOENT that is not the entry going away
// still fails the backup.
#include <cerrno>
#include <functional>
#include <map>
#include <mutex>

#include "mem_repo.hpp"
#include "support/meddling_env.hpp"
#include "support/warning_recorder.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/io/fault_injection_env.hpp"

namespace velin::backup {
namespace {

class ArchiverChangingTreeMemTest : public MemRepoTest {
 protected:
  Result<repo::Snapshot> BackupMeddled(const std::string& strategy = "full") {
    Reopen();
    CreateOptions o;
    o.app_root = "/app";
    o.include = {"storage"};
    o.strategy = *repo::ParseStrategy(strategy);
    o.velin_version = "test";
    o.app = "shop";
    warnings_.warnings.clear();
    return CreateBackup(*repo_, meddling_, warnings_, o);
  }

  // `extra` more bytes at the end of /app/<rel>, and a later mtime.
  void Append(const std::string& rel, const std::string& extra) {
    env_.Advance(std::chrono::seconds(1));
    Put(rel, Read("/app/" + rel) + extra);
  }

  void Restore(const repo::Snapshot& snapshot) {
    Reopen();
    auto restored = RestoreSnapshot(*repo_, snapshot, env_, quiet_, {.target = "/restore"});
    ASSERT_TRUE(restored) << restored.error().message;
  }

  testing::MeddlingEnv meddling_{env_};
  testing::WarningRecorder warnings_;
};

TEST_F(ArchiverChangingTreeMemTest, AFileWrittenDuringItsReadIsReadAgainAndKeptWhole) {
  Put("storage/upload.bin", "first half ");
  Put("storage/other.txt", "other");
  bool once = false;
  meddling_.hooks["/app/storage/upload.bin"] = [&] {
    if (!once) Append("storage/upload.bin", "second half");
    once = true;
  };
  auto snap = BackupMeddled();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_EQ(meddling_.calls["/app/storage/upload.bin"], 2) << "read once more";
  EXPECT_TRUE(warnings_.warnings.empty()) << warnings_.warnings.front();
  EXPECT_EQ(snap->stats.files_changed, 0u);
  EXPECT_EQ(snap->stats.files_read, 2u) << "one file read twice counts once";
  EXPECT_EQ(snap->stats.bytes, std::string("first half second half").size() + 5);
  Restore(*snap);
  EXPECT_EQ(Read("/restore/storage/upload.bin"), "first half second half");
  EXPECT_EQ(env_.Stat("/restore/storage/upload.bin")->mtime_ns,
            env_.Stat("/app/storage/upload.bin")->mtime_ns)
      << "recorded with the lstat of the read that is kept";
}

TEST_F(ArchiverChangingTreeMemTest, AFileThatChangesDuringBothReadsIsNamedAndReadByTheNextBackup) {
  Put("storage/logs/app.log", "line 1\n");
  int lines = 1;
  meddling_.hooks["/app/storage/logs/app.log"] = [&] {
    Append("storage/logs/app.log", "line " + std::to_string(++lines) + "\n");
  };
  auto snap = BackupMeddled("incremental");
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_EQ(meddling_.calls["/app/storage/logs/app.log"], 2) << "read twice, not more";
  ASSERT_EQ(warnings_.warnings.size(), 1u);
  EXPECT_NE(warnings_.warnings[0].find("1 file changed while it was read"), std::string::npos)
      << warnings_.warnings[0];
  EXPECT_NE(warnings_.warnings[0].find("storage/logs/app.log"), std::string::npos)
      << warnings_.warnings[0];
  EXPECT_EQ(snap->stats.files_changed, 1u);
  Restore(*snap);
  EXPECT_EQ(Read("/restore/storage/logs/app.log"), "line 1\nline 2\nline 3\n")
      << "what the second read found (the hook writes as an open begins)";

  // Recorded in the snapshot object, and the next incremental backup does not take the copy
  // for the file as it is now.
  meddling_.hooks.clear();
  Reopen();
  auto reread = repo_->LoadSnapshot(snap->id);
  ASSERT_TRUE(reread) << reread.error().message;
  EXPECT_EQ(reread->stats.files_changed, 1u);
  auto next = BackupMeddled("incremental");
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->stats.files_read, 1u) << "recorded with the lstat before its last change";
  EXPECT_EQ(next->stats.files_changed, 0u);
  Restore(*next);
  EXPECT_EQ(Read("/restore/storage/logs/app.log"), "line 1\nline 2\nline 3\n");
}

TEST_F(ArchiverChangingTreeMemTest, EntriesDeletedWhileTheWalkReadsThemAreLeftOut) {
  Put("storage/a.txt", "a");
  Put("storage/sessions/s1", "session 1");
  Put("storage/sessions/s2", "session 2");
  Put("storage/cache/x/y", "cached");
  Put("storage/z.txt", "z");
  // s1 goes between its lstat and its open; the cache directory between its listing and the
  // walk reading what it lists; s2 between the listing of sessions and its lstat.
  meddling_.Once("/app/storage/sessions/s1",
                 [&] { ASSERT_TRUE(env_.RemoveFile("/app/storage/sessions/s1")); });
  meddling_.Once("/app/storage/cache/x", [&] {
    ASSERT_TRUE(env_.RemoveFile("/app/storage/cache/x/y"));
    ASSERT_TRUE(env_.RemoveDir("/app/storage/cache/x"));
  });
  meddling_.Once("/app/storage/sessions",
                 [&] { ASSERT_TRUE(env_.RemoveFile("/app/storage/sessions/s2")); });
  auto snap = BackupMeddled();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_TRUE(warnings_.warnings.empty()) << warnings_.warnings.front();
  // s1, s2, and both y (gone at its lstat: the directory was open when it went) and x (gone
  // at the reading of its attributes).
  EXPECT_EQ(snap->stats.files_vanished, 4u);
  EXPECT_EQ(snap->stats.files, 2u) << "a.txt and z.txt";
  EXPECT_EQ(snap->stats.bytes, 2u);
  Restore(*snap);
  EXPECT_EQ(Read("/restore/storage/a.txt"), "a");
  EXPECT_EQ(Read("/restore/storage/z.txt"), "z");
  EXPECT_FALSE(*env_.Exists("/restore/storage/sessions/s1"));
  EXPECT_FALSE(*env_.Exists("/restore/storage/sessions/s2"));
  EXPECT_FALSE(*env_.Exists("/restore/storage/cache/x"));
}

TEST_F(ArchiverChangingTreeMemTest, AHardlinkWhoseFirstNameWentIsStoredWithItsContent) {
  Put("storage/a-first", "shared");
  ASSERT_TRUE(env_.HardLink("/app/storage/a-first", "/app/storage/b-second"));
  meddling_.Once("/app/storage/a-first",
                 [&] { ASSERT_TRUE(env_.RemoveFile("/app/storage/a-first")); });
  auto snap = BackupMeddled();
  ASSERT_TRUE(snap) << snap.error().message;
  EXPECT_EQ(snap->stats.files_vanished, 1u);
  Restore(*snap);
  EXPECT_EQ(Read("/restore/storage/b-second"), "shared");
}

TEST_F(ArchiverChangingTreeMemTest, AnEnoentOfSomethingElseStillFailsTheBackup) {
  Put("storage/a.txt", "a");
  io::FaultRule rule;
  rule.op = io::FaultOp::kOpen;
  rule.error = ENOENT;
  rule.sticky = true;
  meddling_.SetRule(rule);  // the file is there; its open fails all the same
  auto snap = BackupMeddled();
  ASSERT_FALSE(snap);
  EXPECT_EQ(snap.error().sys_errno, ENOENT) << snap.error().message;
  EXPECT_NE(snap.error().message.find("a.txt"), std::string::npos) << snap.error().message;
}

}  // namespace
}  // namespace velin::backup
