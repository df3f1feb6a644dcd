// The files SQLite keeps beside a database (-journal, -wal, -shm), a backup and a restore:
// - a backup after a writer died in a transaction failed ("attempt to write a readonly
//   database"): its read-only connection cannot roll the hot journal back;
// - a hot rollback journal, which a crash in the middle of a write leaves, was replayed onto the
//   restored file at its next open: the database the restore reported as restored was damaged
//   (its old pages written into it);
// - a database in WAL mode left the -wal and -shm of velin's temporary copies behind, in
//   $TMPDIR at every backup and beside the database at every restore;
// - a database path that is a symlink (var/app.db -> the data volume) was replaced by a file of
//   mode 0777, and the database behind the link was not restored;
// - on a new machine, a database whose directory did not exist yet could not be restored;
// - a backup or restore killed before its end (kill -9, a power loss) left its temp copy of
//   the database (and side files, a journal moved aside) behind, one whole copy each time.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/test_support.hpp"
#include "velin/io/env.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

const char* kSqliteSection = "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n";

void Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "") << " in " << sql;
}

// `sql` run on `path` by a process that dies (SIGKILL) in the middle of `in_transaction`,
// after SQLite wrote some of its pages into the database file.
void CrashInTheMiddleOf(const std::string& path, const std::string& in_transaction) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) ::_exit(1);
    // A cache of 10 pages: the update spills pages into the file long before a commit.
    const std::string sql = "PRAGMA cache_size = 10; BEGIN; " + in_transaction;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) ::_exit(2);
    ::kill(::getpid(), SIGKILL);
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended with " << status;
}

std::string Query(const std::string& path, const std::string& sql) {
  return RunProgram({"sqlite3", path, sql}).out;
}

// Every name in `dir` that starts with `prefix`.
std::vector<std::string> NamesIn(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(prefix)) out.push_back(name);
  }
  return out;
}

TEST(SqliteSideFilesTest, AHotJournalOfTheOldDatabaseIsNotReplayedOntoTheRestoredOne) {
  BackupApp app({"db"}, kSqliteSection);
  const std::string path = app.root() + "/var/app.db";
  fs::create_directories(app.root() + "/var");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    Exec(db,
         "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
         "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
         "INSERT INTO t (v) SELECT printf('%.400c', 'a') FROM n;");
    sqlite3_close(db);
  }
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string backed_up = Query(path, "SELECT count(*), sum(length(v)) FROM t");
  {  // After the backup the application goes on, then dies in a write.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    Exec(db,
         "CREATE TABLE u (w TEXT); INSERT INTO u SELECT 'b' || v FROM t;"
         "DELETE FROM t WHERE id % 2 = 0;");
    sqlite3_close(db);
  }
  CrashInTheMiddleOf(path, "UPDATE t SET v = 'c' || v; UPDATE u SET w = 'd' || w;");
  ASSERT_TRUE(fs::exists(path + "-journal")) << "the crash left no hot journal";

  RunResult restored = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_FALSE(fs::exists(path + "-journal"));
  EXPECT_EQ(Query(path, "PRAGMA integrity_check"), "ok\n");
  EXPECT_EQ(Query(path, "SELECT count(*), sum(length(v)) FROM t"), backed_up);
  EXPECT_EQ(Query(path, "SELECT name FROM sqlite_master"), "t\n");
  EXPECT_TRUE(NamesIn(app.root() + "/var", ".app.db").empty()) << "no temporary is left";
}

TEST(SqliteSideFilesTest, ABackupAfterAWriterDiedRollsItsTransactionBack) {
  BackupApp app({"db"}, kSqliteSection);
  const std::string path = app.root() + "/var/app.db";
  fs::create_directories(app.root() + "/var");
  RunProgram({"sqlite3", path,
              "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
              "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
              "INSERT INTO t (v) SELECT printf('%.400c', 'a') FROM n;"});
  CrashInTheMiddleOf(path, "UPDATE t SET v = 'c' || v; DELETE FROM t WHERE id > 10;");
  ASSERT_TRUE(fs::exists(path + "-journal")) << "the crash left no hot journal";

  RunResult made = app.Run({"backup", "create"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  EXPECT_FALSE(fs::exists(path + "-journal")) << "rolled back as the next writer would";
  RunResult restored = app.Run(
      {"backup", "restore", "latest", "--only", "db", "--database", "var/copy.db", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  const std::string copy = app.root() + "/var/copy.db";
  EXPECT_EQ(Query(copy, "PRAGMA integrity_check"), "ok\n");
  EXPECT_EQ(Query(copy, "SELECT count(*), sum(v LIKE 'c%') FROM t"), "3000|0\n")
      << "the database as it was before the transaction that died";
}

TEST(SqliteSideFilesTest, AWalDatabaseLeavesNoSideFilesOfVelinsCopies) {
  BackupApp app({"db"}, kSqliteSection);
  const std::string path = app.root() + "/var/app.db";
  fs::create_directories(app.root() + "/var");
  const std::string tmp = app.path("tmp");
  fs::create_directories(tmp);
  RunOptions options;
  options.env["TMPDIR"] = tmp;
  RunProgram({"sqlite3", path,
              "PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"});
  ASSERT_EQ(Query(path, "PRAGMA journal_mode"), "wal\n");
  ASSERT_EQ(app.Run({"backup", "create"}, options).exit_code, 0);
  RunResult tested = app.Run({"backup", "verify", "latest", "--restore-test"}, options);
  EXPECT_EQ(tested.exit_code, 0) << tested.out << tested.err;
  RunProgram({"sqlite3", path, "DELETE FROM t;"});
  RunResult restored = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, options);
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(Query(path, "SELECT v FROM t"), "a\n");
  EXPECT_EQ(Query(path, "PRAGMA journal_mode"), "wal\n") << "the database keeps its mode";
  EXPECT_TRUE(NamesIn(tmp, "").empty()) << NamesIn(tmp, "").front();
  EXPECT_TRUE(NamesIn(app.root() + "/var", ".app.db").empty())
      << NamesIn(app.root() + "/var", ".app.db").front();

  // A damaged old database with a log beside it is replaced without being read.
  RunProgram({"sqlite3", path, "INSERT INTO t VALUES ('b');"});
  WriteFile(path, RandomData(4096, 7));
  WriteFile(path + "-wal", RandomData(8192, 8));
  restored = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, options);
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(Query(path, "SELECT v FROM t"), "a\n");
  EXPECT_FALSE(fs::exists(path + "-wal"));
}

TEST(SqliteSideFilesTest, ASymlinkedDatabaseIsRestoredWhereTheLinkLeads) {
  BackupApp app({"db"}, kSqliteSection);
  fs::create_directories(app.root() + "/var");
  fs::create_directories(app.path("volume"));
  const std::string real = app.path("volume/real.db");
  RunProgram({"sqlite3", real, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"});
  fs::permissions(real, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  fs::create_symlink("../../volume/real.db", app.root() + "/var/app.db");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  RunProgram({"sqlite3", real, "DELETE FROM t;"});

  RunResult restored = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_TRUE(fs::is_symlink(app.root() + "/var/app.db"));
  EXPECT_EQ(Query(real, "SELECT v FROM t"), "a\n");
  EXPECT_EQ(fs::status(real).permissions(),
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_TRUE(NamesIn(app.path("volume"), ".real.db").empty());

  // A link to nowhere (the volume's file lost): the file is made where the link leads.
  fs::remove(real);
  restored = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_TRUE(fs::is_symlink(app.root() + "/var/app.db"));
  EXPECT_EQ(Query(real, "SELECT v FROM t"), "a\n");
}

// The application's user may write the database's directory (SQLite needs it), so it can put a
// symlink in the database's place. A restore (as root) wrote the database where that link led:
// into /root/.ssh/authorized_keys, whose lines a row may hold. A link another user made is
// followed only where it stays below app.root; a backup refuses it too.
TEST(SqliteSideFilesTest, ASymlinkAnotherUserMadeOutOfTheAppIsNotWrittenThrough) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (a symlink of another owner)";
  BackupApp app({"db"}, kSqliteSection);
  const std::string path = app.root() + "/var/app.db";
  fs::create_directories(app.root() + "/var");
  RunProgram({"sqlite3", path, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"});
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  fs::create_directories(app.path("root/.ssh"));
  const std::string keys = app.path("root/.ssh/authorized_keys");
  WriteFile(keys, "ssh-ed25519 AAAA admin\n", 0600);
  auto link = [&](const std::string& target) {
    fs::remove(path);
    fs::create_symlink(target, path);
    ASSERT_EQ(::lchown(path.c_str(), 65534, static_cast<gid_t>(-1)), 0);
  };
  link(keys);
  const std::string named = path + " is a symbolic link to " + keys +
                            " that user 65534 made, which leads out of " + app.root();
  RunResult restored = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"});
  EXPECT_EQ(restored.exit_code, 1) << restored.out << restored.err;
  EXPECT_NE(restored.err.find(named), std::string::npos) << restored.err;
  EXPECT_EQ(ReadFileOrDie(keys), "ssh-ed25519 AAAA admin\n");
  EXPECT_TRUE(NamesIn(app.path("root/.ssh"), ".").empty());
  RunResult backup = app.Run({"backup", "create"});
  EXPECT_EQ(backup.exit_code, 1) << backup.out << backup.err;
  EXPECT_NE(backup.err.find(named), std::string::npos) << backup.err;
  // config check says so before the day of the restore.
  RunResult check = app.Run({"config", "check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.err.find("database.path: " + named), std::string::npos) << check.err;
  EXPECT_NE(check.err.find("; a restore or switch refuses it"), std::string::npos) << check.err;

  // One that stays below app.root is followed as before.
  fs::create_directories(app.root() + "/data");
  link("../data/app.db");
  restored = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_TRUE(fs::is_symlink(path));
  EXPECT_EQ(Query(app.root() + "/data/app.db", "SELECT v FROM t"), "a\n");
  check = app.Run({"config", "check"});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.err.find("refuses it"), std::string::npos) << check.err;
}

TEST(SqliteSideFilesTest, ADatabaseWhoseDirectoryIsGoneIsRestoredIntoANewOne) {
  BackupApp app({"db"}, "\n[database]\ndriver = \"sqlite\"\npath = \"var/db/app.db\"\n");
  const std::string path = app.root() + "/var/db/app.db";
  fs::create_directories(app.root() + "/var/db");
  RunProgram({"sqlite3", path, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"});
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  fs::remove_all(app.root() + "/var");
  RunResult restored = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(Query(path, "SELECT v FROM t"), "a\n");
}

// What a backup and a restore killed before their end leave (their temp copy and its side
// files, named with the dead velin's pid and process space), beside the database and in the
// temp dir: the next restore and the next backup remove them. A live writer's files (this
// test's pid) and those of another process space (another host, before a reboot) stay.
TEST(SqliteSideFilesTest, WhatAKilledBackupOrRestoreLeftIsRemovedByTheNextOne) {
  BackupApp app({"db"}, kSqliteSection);
  const std::string var = app.root() + "/var";
  const std::string path = var + "/app.db";
  fs::create_directories(var);
  const std::string tmp = app.path("tmp");
  fs::create_directories(tmp);
  RunOptions options;
  options.env["TMPDIR"] = tmp;
  RunProgram({"sqlite3", path, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"});
  pid_t dead = ::fork();
  ASSERT_GE(dead, 0);
  if (dead == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  const std::string tag = io::ProcessSpaceTag();
  ASSERT_FALSE(tag.empty());
  auto writer = [&](pid_t pid, const std::string& space) {
    return ".tmp-" + std::to_string(pid) + "-" + space + "-42";
  };
  const std::vector<std::string> left_beside = {".app.db" + writer(dead, tag),
                                                ".app.db" + writer(dead, tag) + "-journal-replaced",
                                                ".app.db" + writer(dead, tag) + "-wal"};
  const std::vector<std::string> left_in_tmp = {"velin-sqlite-copy" + writer(dead, tag),
                                                "velin-sqlite-copy" + writer(dead, tag) + "-wal",
                                                "velin-sqlite-copy" + writer(dead, tag) + "-shm"};
  const std::vector<std::string> kept_beside = {".app.db" + writer(::getpid(), tag),
                                                ".app.db" + writer(dead, "0badc0de")};
  const std::vector<std::string> kept_in_tmp = {"velin-sqlite-copy" + writer(::getpid(), tag),
                                                "velin-sqlite-copy" + writer(dead, "0badc0de")};
  for (const auto& name : left_beside) WriteFile(var + "/" + name, RandomData(4096, 1));
  for (const auto& name : kept_beside) WriteFile(var + "/" + name, RandomData(4096, 2));
  for (const auto& name : left_in_tmp) WriteFile(tmp + "/" + name, RandomData(4096, 3));
  for (const auto& name : kept_in_tmp) WriteFile(tmp + "/" + name, RandomData(4096, 4));

  ASSERT_EQ(app.Run({"backup", "create"}, options).exit_code, 0);
  for (const auto& name : left_in_tmp) EXPECT_FALSE(fs::exists(tmp + "/" + name)) << name;
  for (const auto& name : kept_in_tmp) EXPECT_TRUE(fs::exists(tmp + "/" + name)) << name;
  RunProgram({"sqlite3", path, "DELETE FROM t;"});
  RunResult r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Query(path, "SELECT v FROM t"), "a\n");
  for (const auto& name : left_beside) EXPECT_FALSE(fs::exists(var + "/" + name)) << name;
  for (const auto& name : kept_beside) EXPECT_TRUE(fs::exists(var + "/" + name)) << name;
  std::vector<std::string> beside = NamesIn(var, ".app.db");
  std::sort(beside.begin(), beside.end());
  std::vector<std::string> want = kept_beside;
  std::sort(want.begin(), want.end());
  EXPECT_EQ(beside, want) << "the restore's own temp files are gone too";
}

}  // namespace
}  // namespace velin::testing
