// An SQLite database inside a backup.include directory (Rails 8's storage/production.sqlite3
// beside storage/ uploads; Laravel's database/database.sqlite): the backup stored it twice, as
// the consistent "db" stream and as a raw copy of the live file, its -wal and -shm, read at
// different moments while the application wrote. That copy mixed pages of different moments
// (a running writer: "database disk image is malformed" in 5 of 8 backups here), every backup
// warned that the -wal changed while it was read, `restore --target` gave the user that copy
// as the database, and an in-place `restore --only storage` wrote it over the live one. Once the
// dump succeeded the walk leaves the database's files out; a failed dump
// (--continue-on-error) keeps them, the only copy then; without "db" in backup.include they are
// files like any other.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "support/backup_fixture.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

const char* kLiveFilesSqlite = "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n";

void ExecLiveFiles(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "") << " in " << sql;
}

// The paths (relative to app.root) of the latest backup's files.
std::set<std::string> LiveFilesBackedUp(const BackupApp& app) {
  const nlohmann::json listed = app.Json({"backup", "ls", "latest", "--recursive"});
  std::set<std::string> paths;
  const nlohmann::json entries = listed.value("entries", nlohmann::json::array());
  for (const auto& entry : entries) paths.insert(entry.value("path", ""));
  return paths;
}

TEST(SqliteLiveFilesTest, TheDatabaseInAnIncludedDirectoryIsStoredOnceAsItsDump) {
  BackupApp app({"db", "var"}, kLiveFilesSqlite);
  const std::string path = app.root() + "/var/app.db";
  fs::create_directories(app.root() + "/var");
  WriteFile(app.root() + "/var/notes.txt", "kept\n");
  // The application, running: a database in WAL mode whose log holds committed transactions
  // not yet copied into the file (its -wal and -shm beside it).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ExecLiveFiles(db,
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
                "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
                "INSERT INTO t (v) VALUES ('a'), ('b'), ('c');");
  ASSERT_TRUE(fs::exists(path + "-wal"));
  ASSERT_TRUE(fs::exists(path + "-shm"));

  RunResult made = app.Run({"backup", "create"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  EXPECT_NE((made.out + made.err)
                .find("the database's own files are left out of the files (var/app.db, "
                      "var/app.db-shm, var/app.db-wal)"),
            std::string::npos)
      << made.out << made.err;
  const std::set<std::string> files = LiveFilesBackedUp(app);
  EXPECT_TRUE(files.contains("var/notes.txt")) << "the rest of the directory is backed up";
  for (const char* name : {"var/app.db", "var/app.db-wal", "var/app.db-shm"}) {
    EXPECT_FALSE(files.contains(name)) << name << " was stored as a file too";
  }

  // --target: the files, and the database at its place among them from its dump (whole, no
  // raw -wal beside it), as the app stood; --json names where it went.
  RunResult target = app.Run({"backup", "restore", "latest", "--target", app.path("t"), "--json"});
  ASSERT_EQ(target.exit_code, 0) << target.out << target.err;
  EXPECT_EQ(nlohmann::json::parse(target.out).value("database", ""), app.path("t/var/app.db"))
      << target.out;
  EXPECT_EQ(ReadFileOrDie(app.path("t/var/notes.txt")), "kept\n");
  EXPECT_EQ(RunProgram({"sqlite3", app.path("t/var/app.db"),
                        "PRAGMA integrity_check; SELECT group_concat(v) FROM t"})
                .out,
            "ok\na,b,c\n");
  EXPECT_FALSE(fs::exists(app.path("t/var/app.db-wal")));
  // Part of the files aside (--only var): the database is not among them, and a note says so.
  RunResult part =
      app.Run({"backup", "restore", "latest", "--target", app.path("p"), "--only", "var"});
  ASSERT_EQ(part.exit_code, 0) << part.out << part.err;
  EXPECT_EQ(ReadFileOrDie(app.path("p/var/notes.txt")), "kept\n");
  EXPECT_FALSE(fs::exists(app.path("p/var/app.db")));
  EXPECT_NE((part.out + part.err)
                .find("the backup's database is not restored under --target (only files are): "
                      "restore it with --only db --database FILE"),
            std::string::npos)
      << part.out << part.err;

  // In place: the database from its dump, whole.
  ExecLiveFiles(db, "DELETE FROM t;");
  sqlite3_close(db);
  RunResult restored = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(
      RunProgram({"sqlite3", path, "PRAGMA integrity_check; SELECT group_concat(v) FROM t"}).out,
      "ok\na,b,c\n");
  EXPECT_EQ(ReadFileOrDie(app.root() + "/var/notes.txt"), "kept\n");
}

// An include that holds nothing but the database (var/ of a small app): no warning of an empty
// include, and `backup status` does not call the backup one that saved nothing.
TEST(SqliteLiveFilesTest, AnIncludeHoldingOnlyTheDatabaseIsNotCalledEmpty) {
  BackupApp app({"db", "var"}, kLiveFilesSqlite);
  fs::create_directories(app.root() + "/var");
  RunProgram({"sqlite3", app.root() + "/var/app.db",
              "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"});
  RunResult made = app.Run({"backup", "create"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  EXPECT_EQ(made.err.find("holds no files"), std::string::npos) << made.err;
  EXPECT_FALSE(LiveFilesBackedUp(app).contains("var/app.db"));
  RunResult status = app.Run({"backup", "status"});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  // An include that is empty indeed still says so.
  BackupApp empty({"db", "other"}, kLiveFilesSqlite);
  fs::create_directories(empty.root() + "/var");
  fs::create_directories(empty.root() + "/other");
  RunProgram({"sqlite3", empty.root() + "/var/app.db", "CREATE TABLE t (v TEXT);"});
  made = empty.Run({"backup", "create"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  EXPECT_NE(made.err.find("backup.include 'other' holds no files"), std::string::npos) << made.err;
  EXPECT_EQ(empty.Run({"backup", "status"}).exit_code, 1);
}

// A database path that is a symlink: SQLite keeps its side files beside the file it leads to,
// which is left out; the link itself is stored as a link.
TEST(SqliteLiveFilesTest, ASymlinkedDatabaseLeavesOutTheFileBehindTheLink) {
  BackupApp app({"db", "var", "data"}, kLiveFilesSqlite);
  fs::create_directories(app.root() + "/var");
  fs::create_directories(app.root() + "/data");
  RunProgram({"sqlite3", app.root() + "/data/real.db",
              "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"});
  WriteFile(app.root() + "/data/other.bin", "x");
  fs::create_symlink("../data/real.db", app.root() + "/var/app.db");
  RunResult made = app.Run({"backup", "create"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  const std::set<std::string> files = LiveFilesBackedUp(app);
  EXPECT_TRUE(files.contains("var/app.db")) << "the link";
  EXPECT_TRUE(files.contains("data/other.bin"));
  EXPECT_FALSE(files.contains("data/real.db"));
}

// The dump failed (a damaged database) and --continue-on-error committed the files: the raw
// copy is then the only one, and is kept.
TEST(SqliteLiveFilesTest, AFailedDumpKeepsTheDatabaseFiles) {
  BackupApp app({"db", "var"}, kLiveFilesSqlite);
  const std::string path = app.root() + "/var/app.db";
  fs::create_directories(app.root() + "/var");
  RunProgram({"sqlite3", path,
              "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX tv ON t (v);"
              "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
              "INSERT INTO t (v) SELECT printf('%.100c', 'a') || i FROM n;"});
  // Garbage in the middle of the file: pages of the table and its index.
  std::string bytes = ReadFileOrDie(path);
  ASSERT_GT(bytes.size(), 40960u);
  for (size_t i = 8192; i < 40960; i += 97) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  WriteFile(path, bytes);
  RunResult made = app.Run({"backup", "create", "--continue-on-error"});
  EXPECT_EQ(made.exit_code, 1) << made.out << made.err;
  EXPECT_NE(made.err.find("damaged"), std::string::npos) << made.err;
  EXPECT_TRUE(LiveFilesBackedUp(app).contains("var/app.db"));
  // Restored in place it is written (the only copy), with a warning that it may be torn.
  WriteFile(path, "replaced");
  RunResult restored = app.Run({"backup", "restore", "latest", "--only", "var", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(ReadFileOrDie(path), bytes);
  EXPECT_NE((restored.out + restored.err)
                .find("the database's own files (var/app.db) are restored from the copy the "
                      "backup read while the application wrote, and the backup holds no usable "
                      "dump of the database: the copy may be torn"),
            std::string::npos)
      << restored.out << restored.err;
}

// The velin.toml of a BackupApp with include = ["db", "var"] and the SQLite database at
// `database_path` under app.root `root`.
void WriteRawCopyConfig(const BackupApp& app, const std::string& root,
                        const std::string& database_path) {
  WriteFile(app.path("velin.toml"),
            "[app]\nroot = \"" + root +
                "\"\n[backup]\ninclude = [\"db\", \"var\"]\ndestination = \"repo\"\n"
                "[database]\ndriver = \"sqlite\"\npath = \"" +
                database_path + "\"\n");
}

std::string RawCopyRows(const std::string& path) {
  return RunProgram({"sqlite3", path, "SELECT group_concat(v) FROM t"}).out;
}

// A backup holding both the dump and a raw copy of the live database file (as every backup made
// before 2026-12-07 did; made here by backing up with another database configured): an in-place
// `restore --only var` wrote that copy, read while the application wrote, over the live database.
// It is left out with a note now; named exactly (--only var/app.db) it is written, with a warning.
TEST(SqliteLiveFilesTest, ARawCopyOfTheDatabaseIsNotRestoredOverTheLiveOne) {
  BackupApp app({"db", "var"});
  const std::string path = app.root() + "/var/app.db";
  fs::create_directories(app.root() + "/var");
  fs::create_directories(app.root() + "/other");
  WriteFile(app.root() + "/var/notes.txt", "kept\n");
  RunProgram({"sqlite3", path, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a'), ('b');"});
  fs::copy_file(path, app.root() + "/other/app.db");
  WriteRawCopyConfig(app, "app", "other/app.db");
  RunResult made = app.Run({"backup", "create"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  ASSERT_TRUE(LiveFilesBackedUp(app).contains("var/app.db"));
  WriteRawCopyConfig(app, "app", "var/app.db");
  RunProgram({"sqlite3", path, "INSERT INTO t VALUES ('c');"});
  WriteFile(app.root() + "/var/notes.txt", "changed\n");

  RunResult part = app.Run({"backup", "restore", "latest", "--only", "var", "--yes"});
  ASSERT_EQ(part.exit_code, 0) << part.out << part.err;
  EXPECT_EQ(ReadFileOrDie(app.root() + "/var/notes.txt"), "kept\n");
  EXPECT_EQ(RawCopyRows(path), "a,b,c\n") << "the live database was overwritten";
  EXPECT_NE((part.out + part.err)
                .find("the backup's copy of the database's own files (var/app.db) is left out: "
                      "read while the application wrote, it may be torn; the backup holds the "
                      "database as 'db', one consistent copy: restore it with --only db"),
            std::string::npos)
      << part.out << part.err;
  // --include of its directory, without --only: the files and then the database, from its dump
  // (not from the raw copy).
  RunResult included = app.Run({"backup", "restore", "latest", "--include", "var", "--yes"});
  ASSERT_EQ(included.exit_code, 0) << included.out << included.err;
  EXPECT_EQ(RawCopyRows(path), "a,b\n");
  EXPECT_NE((included.out + included.err)
                .find("the backup's copy of the database's own files (var/app.db) is left out: "
                      "the database is restored from its dump, one consistent copy"),
            std::string::npos)
      << included.out << included.err;
  RunProgram({"sqlite3", path, "INSERT INTO t VALUES ('c');"});
  // --target: the database from its dump, not the raw copy, and no raw copy beside it.
  RunResult aside = app.Run({"backup", "restore", "latest", "--target", app.path("t"), "--json"});
  ASSERT_EQ(aside.exit_code, 0) << aside.out << aside.err;
  EXPECT_EQ(RawCopyRows(app.path("t/var/app.db")), "a,b\n");
  // Named exactly: written, with a warning.
  RunResult named = app.Run({"backup", "restore", "latest", "--only", "var/app.db", "--yes"});
  ASSERT_EQ(named.exit_code, 0) << named.out << named.err;
  EXPECT_EQ(RawCopyRows(path), "a,b\n");
  EXPECT_NE((named.out + named.err)
                .find("the database's own files (var/app.db) are restored as named, from the "
                      "copy the backup read while the application wrote: it may be torn"),
            std::string::npos)
      << named.out << named.err;
}

// The database reached through a symlink (a symlinked app.root, the database's directory
// configured through a link): the walk compared paths as written, so it stored the live file as
// well as the dump, and restore --target gave a note instead of the database.
TEST(SqliteLiveFilesTest, TheDatabaseIsLeftOutThroughSymlinkedPaths) {
  BackupApp app({"db", "var"});
  const std::string path = app.root() + "/var/app.db";
  fs::create_directories(app.root() + "/var");
  WriteFile(app.root() + "/var/notes.txt", "kept\n");
  RunProgram({"sqlite3", path, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"});
  // app.root a link to the app, the database named by its real path.
  fs::create_directory_symlink("app", app.path("current"));
  WriteRawCopyConfig(app, "current", path);
  RunResult made = app.Run({"backup", "create"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  std::set<std::string> files = LiveFilesBackedUp(app);
  EXPECT_TRUE(files.contains("var/notes.txt"));
  EXPECT_FALSE(files.contains("var/app.db")) << "stored as a file too";
  RunResult aside = app.Run({"backup", "restore", "latest", "--target", app.path("t"), "--json"});
  ASSERT_EQ(aside.exit_code, 0) << aside.out << aside.err;
  EXPECT_EQ(nlohmann::json::parse(aside.out).value("database", ""), app.path("t/var/app.db"))
      << aside.out;
  EXPECT_EQ(RawCopyRows(app.path("t/var/app.db")), "a\n");
  // The database's directory configured through a link inside app.root.
  fs::create_directory_symlink("var", app.root() + "/data");
  WriteRawCopyConfig(app, "app", "data/app.db");
  made = app.Run({"backup", "create"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  files = LiveFilesBackedUp(app);
  EXPECT_FALSE(files.contains("var/app.db")) << "stored as a file too";
  EXPECT_TRUE(files.contains("var/notes.txt"));
  EXPECT_EQ(app.Run({"backup", "status"}).exit_code, 0);
}

// Without "db" in backup.include the database is backed up as the files the user listed.
TEST(SqliteLiveFilesTest, WithoutTheDumpTheDatabaseFileIsAFileLikeAnyOther) {
  BackupApp app({"var"}, kLiveFilesSqlite);
  const std::string path = app.root() + "/var/app.db";
  fs::create_directories(app.root() + "/var");
  RunProgram({"sqlite3", path, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"});
  RunResult made = app.Run({"backup", "create"});
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  EXPECT_TRUE(LiveFilesBackedUp(app).contains("var/app.db"));
}

// A writer that keeps its write transaction open longer than the 60 s a backup waits: the
// error said "backup: database is locked" alone, not who held it nor that velin had waited.
TEST(SqliteLiveFilesTest, ALockHeldLongerThanTheWaitNamesItsHolder) {
  BackupApp app({"db"}, kLiveFilesSqlite);
  const std::string path = app.root() + "/var/app.db";
  fs::create_directories(app.root() + "/var");
  RunProgram({"sqlite3", path, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"});
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t writer = ::fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    ::close(ready[0]);
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) ::_exit(1);
    if (sqlite3_exec(db, "BEGIN EXCLUSIVE; UPDATE t SET v = 'b';", nullptr, nullptr, nullptr) !=
        SQLITE_OK) {
      ::_exit(2);
    }
    (void)!::write(ready[1], "x", 1);
    ::sleep(300);
    ::_exit(0);
  }
  ::close(ready[1]);
  char byte = 0;
  const bool locked = ::read(ready[0], &byte, 1) == 1;
  ::close(ready[0]);
  RunResult made;
  if (locked) made = app.Run({"backup", "create"});
  ::kill(writer, SIGKILL);
  ::waitpid(writer, nullptr, 0);
  ASSERT_TRUE(locked) << "the writer did not take its lock";
  EXPECT_EQ(made.exit_code, 1) << made.out << made.err;
  EXPECT_NE(made.err.find("backup: database is locked: process " + std::to_string(writer) +
                          " (velin_integrat"),
            std::string::npos)
      << made.err;
  EXPECT_NE(made.err.find("held a lock on it for the 60 s velin waited"), std::string::npos)
      << made.err;
}

}  // namespace
}  // namespace velin::testing
