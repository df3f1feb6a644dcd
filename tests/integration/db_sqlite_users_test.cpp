// A SQLite database that belongs to the application's user, backed up or restored by another
// user (a backup user that is not root, or root):
// - a backup by a user that neither owns a database in WAL mode nor is root, while the
//   application is stopped (no -shm: its last connection removed it): SQLite made the -shm and
//   -wal for velin's read-only connection, owned by velin's user with the database's mode
//   (0644), and left them there: the application, started again, could no longer write its
//   database ("attempt to write a readonly database"); where velin's user may not write the
//   directory, the backup itself failed with those words;
// - a restore by root of a database whose file was gone (deleted, lost with its disk) left a
//   file of root's, mode 0644, in the application's directory: the application could only
//   read what was restored;
// - a restore by root onto a new machine, where the database's directories were missing too,
//   made them as root's: the database file made in them was root's as well, and the application
//   could not write its journal beside it;
// - a database velin's user may not read was "unable to open database file", without why;
//   a path naming a file that is not a SQLite database (another file, or a database encrypted
//   by SQLCipher) was "file is not a database", which did not say what to check.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

constexpr unsigned kSqliteUsersVelin = 65534;  // the backup user (nobody, group nogroup)
constexpr unsigned kSqliteUsersApp = 4242;     // the application's user

const char* kSqliteUsersSection = "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n";

void SqliteUsersChown(const std::string& path, unsigned uid, unsigned gid) {
  ASSERT_EQ(::lchown(path.c_str(), uid, gid), 0) << path;
}

// The whole test directory (velin.toml, the repository to be, app/) given to velin's user.
void SqliteUsersGiveToVelin(const BackupApp& app) {
  const std::string top = app.path("");
  SqliteUsersChown(top, kSqliteUsersVelin, kSqliteUsersVelin);
  for (const auto& e : fs::recursive_directory_iterator(top)) {
    SqliteUsersChown(e.path(), kSqliteUsersVelin, kSqliteUsersVelin);
  }
}

RunOptions SqliteUsersAs(const BackupApp& app, unsigned user) {
  RunOptions options;
  options.cwd = app.path("");
  options.env["HOME"] = app.path("");
  options.user = user;
  return options;
}

// `sql` run on `path` by the sqlite3 shell as `user` (root when none).
RunResult SqliteUsersQuery(const std::string& path, const std::string& sql,
                           std::optional<unsigned> user = std::nullopt) {
  RunOptions options;
  options.user = user;
  return RunProgram({"sqlite3", path, sql}, options);
}

// app/var/app.db in WAL mode with 500 rows, closed (no -wal, no -shm), the application's, of
// mode 0644, in app/var of the application's user with group `dir_group` and mode `dir_mode`.
std::string SqliteUsersStoppedWalDatabase(const BackupApp& app, unsigned dir_group,
                                          unsigned dir_mode) {
  const std::string var = app.root() + "/var";
  const std::string path = var + "/app.db";
  fs::create_directories(var);
  // The way there open to every user (mkdtemp made the top 0700).
  EXPECT_EQ(::chmod(app.path("").c_str(), 0755), 0);
  EXPECT_EQ(::chmod(app.root().c_str(), 0755), 0);
  RunResult made = SqliteUsersQuery(
      path,
      "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);"
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) "
      "INSERT INTO t (v) SELECT printf('%.100c', 'a') FROM n;");
  EXPECT_EQ(made.exit_code, 0) << made.err;
  EXPECT_FALSE(fs::exists(path + "-shm"));
  EXPECT_FALSE(fs::exists(path + "-wal"));
  SqliteUsersChown(path, kSqliteUsersApp, kSqliteUsersApp);
  EXPECT_EQ(::chmod(path.c_str(), 0644), 0);
  SqliteUsersChown(var, kSqliteUsersApp, dir_group);
  EXPECT_EQ(::chmod(var.c_str(), dir_mode), 0);
  return path;
}

// The row count of table t that the newest backup recorded.
int64_t SqliteUsersRecordedRows(const BackupApp& app) {
  nlohmann::json list = app.Json({"backup", "list"}, 0, SqliteUsersAs(app, kSqliteUsersVelin));
  if (!list.contains("backups") || list["backups"].empty()) return -1;
  const nlohmann::json tables = list["backups"].back()["streams"]["db"]["tables"];
  for (const nlohmann::json& t : tables) {
    if (t.value("name", "") == "t") return t.value("rows", int64_t{-1});
  }
  return -1;
}

TEST(SqliteUsersTest, ABackupOfAStoppedAppsWalDatabaseLeavesNothingTheAppCannotWrite) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (files of two other users)";
  BackupApp app({"db"}, kSqliteUsersSection);
  SqliteUsersGiveToVelin(app);
  // velin's user is in the directory's group, which may write it (as SQLite needs).
  const std::string path = SqliteUsersStoppedWalDatabase(app, kSqliteUsersVelin, 0775);
  ASSERT_EQ(app.Run({"backup", "init"}, SqliteUsersAs(app, kSqliteUsersVelin)).exit_code, 0);

  RunResult made = app.Run({"backup", "create"}, SqliteUsersAs(app, kSqliteUsersVelin));
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  EXPECT_FALSE(fs::exists(path + "-shm")) << "velin's user's -shm, which the app cannot write";
  EXPECT_FALSE(fs::exists(path + "-wal"));
  EXPECT_EQ(SqliteUsersRecordedRows(app), 500);

  // The application, started again, writes its database.
  RunResult wrote =
      SqliteUsersQuery(path, "INSERT INTO t (v) VALUES ('after the backup')", kSqliteUsersApp);
  EXPECT_EQ(wrote.exit_code, 0) << wrote.err;
  EXPECT_EQ(SqliteUsersQuery(path, "SELECT count(*) FROM t").out, "501\n");
}

TEST(SqliteUsersTest, AStoppedAppsWalDatabaseInADirectoryVelinMayNotWriteIsBackedUp) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (files of two other users)";
  BackupApp app({"db"}, kSqliteUsersSection);
  SqliteUsersGiveToVelin(app);
  const std::string path = SqliteUsersStoppedWalDatabase(app, kSqliteUsersApp, 0755);
  ASSERT_EQ(app.Run({"backup", "init"}, SqliteUsersAs(app, kSqliteUsersVelin)).exit_code, 0);

  RunResult made = app.Run({"backup", "create"}, SqliteUsersAs(app, kSqliteUsersVelin));
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  EXPECT_EQ(made.err.find("readonly"), std::string::npos) << made.err;
  EXPECT_EQ(SqliteUsersRecordedRows(app), 500);
  RunResult restored =
      app.Run({"backup", "restore", "latest", "--only", "db", "--database", "copy.db", "--yes"},
              SqliteUsersAs(app, kSqliteUsersVelin));
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  const std::string copy = app.root() + "/copy.db";
  EXPECT_EQ(SqliteUsersQuery(copy, "PRAGMA integrity_check; SELECT count(*) FROM t").out,
            "ok\n500\n");
}

TEST(SqliteUsersTest, AWalDatabaseTheAppHasOpenIsBackedUpWithWhatItsLogHolds) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (files of two other users)";
  BackupApp app({"db"}, kSqliteUsersSection);
  SqliteUsersGiveToVelin(app);
  const std::string path = SqliteUsersStoppedWalDatabase(app, kSqliteUsersApp, 0755);
  ASSERT_EQ(app.Run({"backup", "init"}, SqliteUsersAs(app, kSqliteUsersVelin)).exit_code, 0);
  // The application runs: its connection keeps the -shm, and a row it committed is still only
  // in the -wal (no checkpoint). This process stands in for it (as root, SQLite gives the -shm
  // and -wal it makes the database's owner, as the application's own would be).
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "PRAGMA wal_autocheckpoint = 0;"
                         "INSERT INTO t (v) VALUES ('only in the log');",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_TRUE(fs::exists(path + "-shm"));

  RunResult made = app.Run({"backup", "create"}, SqliteUsersAs(app, kSqliteUsersVelin));
  sqlite3_close(db);
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  EXPECT_EQ(SqliteUsersRecordedRows(app), 501);
}

TEST(SqliteUsersTest, ARestoreByRootOfADeletedDatabaseGivesItToTheOwnerOfItsDirectory) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (a directory of another user)";
  BackupApp app({"db"}, kSqliteUsersSection);
  // The application's directory, its group (the web server's) may write it.
  const std::string path = SqliteUsersStoppedWalDatabase(app, kSqliteUsersApp + 1, 0775);
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  ASSERT_TRUE(fs::remove(path));  // the database is lost

  RunResult restored = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kSqliteUsersApp);
  EXPECT_EQ(st.st_gid, kSqliteUsersApp + 1);
  EXPECT_EQ(st.st_mode & 07777, 0664u);
  RunResult wrote =
      SqliteUsersQuery(path, "INSERT INTO t (v) VALUES ('after the restore')", kSqliteUsersApp);
  EXPECT_EQ(wrote.exit_code, 0) << wrote.err;
  EXPECT_EQ(SqliteUsersQuery(path, "SELECT count(*) FROM t").out, "501\n");
}

TEST(SqliteUsersTest, ARestoreByRootIntoMissingDirectoriesGivesThemToTheOwnerOfTheirParent) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (directories of another user)";
  BackupApp app({"db"}, "\n[database]\ndriver = \"sqlite\"\npath = \"var/data/app.db\"\n");
  const std::string var = app.root() + "/var";
  const std::string path = var + "/data/app.db";
  fs::create_directories(var + "/data");
  EXPECT_EQ(::chmod(app.path("").c_str(), 0755), 0);  // mkdtemp made the top 0700
  RunResult made = SqliteUsersQuery(
      path, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('a');");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  // A new machine: app.root is there, the application's (its group the web server's); var/
  // and all below it are not.
  fs::remove_all(var);
  SqliteUsersChown(app.root(), kSqliteUsersApp, kSqliteUsersApp + 1);
  EXPECT_EQ(::chmod(app.root().c_str(), 0755), 0);

  RunResult restored = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE(restored.out.find("Database restored into " + path + "\n"), std::string::npos)
      << restored.out;
  for (const std::string& made_here : {var, var + "/data", path}) {
    struct stat st {};
    ASSERT_EQ(::lstat(made_here.c_str(), &st), 0) << made_here;
    EXPECT_EQ(st.st_uid, kSqliteUsersApp) << made_here;
    EXPECT_EQ(st.st_gid, kSqliteUsersApp + 1) << made_here;
  }
  // What was there is left as it was.
  struct stat top {};
  ASSERT_EQ(::lstat(app.path("").c_str(), &top), 0);
  EXPECT_EQ(top.st_uid, 0u);
  // The application writes its database (and the journal beside it).
  RunResult wrote = SqliteUsersQuery(path, "INSERT INTO t (v) VALUES ('b')", kSqliteUsersApp);
  EXPECT_EQ(wrote.exit_code, 0) << wrote.err;
  EXPECT_EQ(SqliteUsersQuery(path, "SELECT count(*) FROM t").out, "2\n");
}

TEST(SqliteUsersTest, ADatabaseVelinsUserMayNotReadSaysWhy) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (a file of another user)";
  BackupApp app({"db"}, kSqliteUsersSection);
  SqliteUsersGiveToVelin(app);
  const std::string path = SqliteUsersStoppedWalDatabase(app, kSqliteUsersApp, 0755);
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_EQ(app.Run({"backup", "init"}, SqliteUsersAs(app, kSqliteUsersVelin)).exit_code, 0);

  RunResult made = app.Run({"backup", "create"}, SqliteUsersAs(app, kSqliteUsersVelin));
  EXPECT_EQ(made.exit_code, 1) << made.out << made.err;
  EXPECT_NE(made.err.find("database '" + path +
                          "': cannot open: unable to open database file: "
                          "Permission denied"),
            std::string::npos)
      << made.err;
}

TEST(SqliteUsersTest, AFileThatIsNotASqliteDatabaseSaysWhatItMayBe) {
  BackupApp app({"db"}, kSqliteUsersSection);
  fs::create_directories(app.root() + "/var");
  // What SQLCipher writes: no header in clear, every page encrypted.
  WriteFile(app.root() + "/var/app.db", RandomData(16384, 7));
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);

  RunResult made = app.Run({"backup", "create"});
  EXPECT_EQ(made.exit_code, 1) << made.out << made.err;
  EXPECT_NE(made.err.find("database '" + app.root() +
                          "/var/app.db': backup: the file is not a SQLite database (it does not "
                          "begin with SQLite's header): another kind of file, or a database "
                          "encrypted by SQLCipher or SEE, which velin cannot read; check "
                          "database.path"),
            std::string::npos)
      << made.err;
}

}  // namespace
}  // namespace velin::testing
