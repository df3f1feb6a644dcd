// The real binary restoring a database when something fails on the way: a restore into a
// database it created whose drop fails too (the server died mid-restore), SQLite targets that
// are not databases or are open in another process (docs/databases.md).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

RunOptions FailuresToolsOn(const TempDir& tools) {
  RunOptions o = DbTestPassword();
  o.env["PATH"] = tools.path() + ":/usr/local/bin:/usr/bin:/bin";
  return o;
}

// An executable shell script `name` in `tools`.
void FailuresFakeTool(const TempDir& tools, const std::string& name, const std::string& body) {
  WriteFile(tools / name, "#!/bin/sh\n" + body);
  ASSERT_EQ(::chmod((tools / name).c_str(), 0755), 0);
}

// A test database `live_` holding table orders, backed up by `app_`.
class RestoreIntoCreatedDatabase : public ::testing::Test {
 protected:
  // `values`: the rows, as INSERT writes them ("(1), (2)").
  void BackUpMariadbOrders(MariadbServer& my, const std::string& values) {
    live_ = my.CreateDatabase();
    my.Sql(live_, "CREATE TABLE orders (id INT PRIMARY KEY); INSERT INTO orders VALUES " + values);
    BackUp(DbTestMysqlSection(my.port(), live_));
  }
  void BackUpPostgresOrders(PostgresServer& pg, const std::string& values) {
    live_ = pg.CreateDatabase();
    pg.Sql(live_,
           "SET ROLE app; CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders "
           "VALUES " +
               values + ";");
    BackUp(DbTestPostgresSection(pg.port(), live_));
  }

  std::string live_;
  std::unique_ptr<BackupApp> app_;

 private:
  void BackUp(const std::string& section) {
    app_ = std::make_unique<BackupApp>(std::vector<std::string>{"db"}, section);
    ASSERT_EQ(app_->Run({"backup", "create"}, DbTestPassword()).exit_code, 0);
  }
};

// The restore client "loses the server" midway: before it fails, it takes from 'app' what the
// drop of the database velin created needs, as a server gone away would refuse it. Before, the
// error said nothing of that database: MariaDB's was left half restored without a word.
TEST_F(RestoreIntoCreatedDatabase, MariadbSaysWhenTheDatabaseItCreatedIsLeft) {
  MariadbServer& my = MariadbServer::Shared();
  ASSERT_NO_FATAL_FAILURE(BackUpMariadbOrders(my, "(1), (2)"));
  TempDir tools;
  FailuresFakeTool(tools, "mariadb",
                   "[ \"$1\" = --version ] && exec /usr/bin/mariadb --version\n"
                   "/usr/bin/mariadb --no-defaults -S '" +
                       my.socket() +
                       "' -uroot -e \"REVOKE DROP ON *.* FROM 'app'@'%'\" || exit 9\n"
                       "cat >/dev/null\n"
                       "echo 'ERROR 2013 (HY000) at line 40: Lost connection to server during "
                       "query' >&2\nexit 1\n");
  struct Regrant {
    MariadbServer& my;
    ~Regrant() { my.Sql("", "GRANT ALL PRIVILEGES ON *.* TO 'app'@'%'"); }
  } regrant{my};
  const std::string fresh = "nw" + live_;
  RunResult r = app_->Run({"backup", "restore", "latest", "--database", fresh, "--yes"},
                          FailuresToolsOn(tools));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("Lost connection to server during query"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("database '" + fresh +
                       "', which this restore created, is left as the restore stopped"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("could not be dropped again: cannot drop database"), std::string::npos)
      << r.err;
  EXPECT_EQ(my.Sql("", "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '" +
                           fresh + "'"),
            "1\n");
  my.Sql("", "DROP DATABASE IF EXISTS `" + fresh + "`");
}

// A PostgreSQL restore into the existing database that fails midway (here its tool, as when
// the server is killed) says what it left: nothing changed, as the restore is one transaction.
TEST_F(RestoreIntoCreatedDatabase, PostgresFailureIntoTheLiveDatabaseSaysNothingChanged) {
  PostgresServer& pg = PostgresServer::Shared();
  ASSERT_NO_FATAL_FAILURE(BackUpPostgresOrders(pg, "(1), (2)"));
  pg.Sql(live_, "INSERT INTO orders VALUES (3)");
  TempDir tools;
  FailuresFakeTool(tools, "pg_restore",
                   "case \"$*\" in *--version*|*--list*) exec /usr/bin/pg_restore \"$@\";; esac\n"
                   "cat >/dev/null\necho 'pg_restore: error: server closed the connection "
                   "unexpectedly' >&2\nexit 1\n");
  RunResult r =
      app_->Run({"backup", "restore", "latest", "--only", "db", "--yes"}, FailuresToolsOn(tools));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("server closed the connection unexpectedly; nothing was changed: the "
                       "restore is one transaction, which did not commit"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(pg.Sql(live_, "SELECT count(*) FROM orders"), "3\n");
}

// Where the drop works, the database the failed restore created is gone and nothing more is said.
TEST_F(RestoreIntoCreatedDatabase, MariadbDropsTheDatabaseItCreatedWhenItCan) {
  MariadbServer& my = MariadbServer::Shared();
  ASSERT_NO_FATAL_FAILURE(BackUpMariadbOrders(my, "(1)"));
  TempDir tools;
  FailuresFakeTool(tools, "mariadb",
                   "[ \"$1\" = --version ] && exec /usr/bin/mariadb --version\n"
                   "cat >/dev/null\necho 'ERROR 1064 (42000) at line 3: syntax' >&2\nexit 1\n");
  const std::string fresh = "nd" + live_;
  RunResult r = app_->Run({"backup", "restore", "latest", "--database", fresh, "--yes"},
                          FailuresToolsOn(tools));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.err.find("which this restore created"), std::string::npos) << r.err;
  EXPECT_EQ(my.Sql("", "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '" +
                           fresh + "'"),
            "0\n");
}

TEST_F(RestoreIntoCreatedDatabase, PostgresSaysWhenTheDatabaseItCreatedIsLeft) {
  PostgresServer& pg = PostgresServer::Shared();
  ASSERT_NO_FATAL_FAILURE(BackUpPostgresOrders(pg, "(1), (2)"));
  const std::string fresh = "nw" + live_;
  TempDir tools;
  // Takes the database from 'app' (only its owner may drop it), then fails as a lost server.
  FailuresFakeTool(tools, "pg_restore",
                   "case \"$*\" in *--version*|*--list*) exec /usr/bin/pg_restore \"$@\";; esac\n"
                   "psql -X -q -h '" +
                       pg.socket_dir() + "' -p " + std::to_string(pg.port()) +
                       " -U postgres -d postgres -c 'ALTER DATABASE \"" + fresh +
                       "\" OWNER TO postgres' || exit 9\ncat >/dev/null\n"
                       "echo 'pg_restore: error: server closed the connection unexpectedly' "
                       ">&2\nexit 1\n");
  RunResult r = app_->Run({"backup", "restore", "latest", "--database", fresh, "--yes"},
                          FailuresToolsOn(tools));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("server closed the connection unexpectedly"), std::string::npos) << r.err;
  // One account of what is left: the restore's transaction did not commit, so the data that was
  // there is unchanged, and the database it created is left. Before, the line said "nothing was
  // changed" and "is left" both.
  EXPECT_NE(r.err.find("server closed the connection unexpectedly; the restore is one "
                       "transaction, which did not commit, so no data that was there was "
                       "changed; but database '" +
                       fresh +
                       "', which this restore created, is left, without the backup's data (it "
                       "could not be dropped again: "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("drop it (DROP DATABASE \"" + fresh + "\"), or restore into it again"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("nothing was changed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("incomplete"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("must be owner of database"), std::string::npos) << r.err;
  EXPECT_EQ(pg.Sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + fresh + "'"),
            "1\n");
  pg.Sql("postgres", "DROP DATABASE IF EXISTS \"" + fresh + "\"");
}

const char* kFailuresSqliteSection = "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n";

std::string FailuresSqliteQuery(const std::string& path, const std::string& sql) {
  return RunProgram({"sqlite3", path, sql}).out;
}

// A backed-up SQLite database holding rows 'a' and 'b'.
void FailuresSqliteBackup(const BackupApp& app) {
  std::filesystem::create_directories(app.root() + "/var");
  RunProgram({"sqlite3", app.root() + "/var/app.db",
              "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a'), ('b');"});
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
}

// An application still running on the database (here: this process, in WAL mode, a connection
// open) keeps the replaced file: the restore says so, naming the process, instead of nothing.
TEST(SqliteRestoreTarget, SaysWhichProcessStillHasTheDatabaseOpen) {
  BackupApp app({"db"}, kFailuresSqliteSection);
  FailuresSqliteBackup(app);
  const std::string path = app.root() + "/var/app.db";
  sqlite3* live = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &live), SQLITE_OK);
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close(db); }
  } closer{live};
  ASSERT_EQ(sqlite3_exec(live, "PRAGMA journal_mode = WAL; INSERT INTO t VALUES ('live');", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  RunResult r = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("warning: " + path + " is open in process " + std::to_string(::getpid())),
            std::string::npos)
      << r.err;
  EXPECT_EQ(FailuresSqliteQuery(path, "SELECT v FROM t ORDER BY v"), "a\nb\n");

  // Closed: nothing to say.
  sqlite3_close(live);
  closer.db = nullptr;
  r = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("is open in"), std::string::npos) << r.err;
}

// --database naming a file that is not a database (a mistyped path) is refused, the file kept;
// an empty file, or a database, is replaced as before.
TEST(SqliteRestoreTarget, AnotherFileThatIsNoDatabaseIsNotReplaced) {
  BackupApp app({"db"}, kFailuresSqliteSection);
  FailuresSqliteBackup(app);
  WriteFile(app.root() + "/config.php", "<?php return ['db' => 'var/app.db'];\n");
  RunResult r = app.Run({"backup", "restore", "latest", "--database", "config.php", "--yes"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("restoring into '" + app.root() +
                       "/config.php': the file there is not a SQLite database"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("nothing was changed"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.root() + "/config.php"), "<?php return ['db' => 'var/app.db'];\n");

  WriteFile(app.root() + "/empty.db", "");
  r = app.Run({"backup", "restore", "latest", "--database", "empty.db", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(FailuresSqliteQuery(app.root() + "/empty.db", "SELECT v FROM t ORDER BY v"), "a\nb\n");
  RunProgram({"sqlite3", app.root() + "/empty.db", "DELETE FROM t"});
  r = app.Run({"backup", "restore", "latest", "--database", "empty.db", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(FailuresSqliteQuery(app.root() + "/empty.db", "SELECT v FROM t ORDER BY v"), "a\nb\n");
}

// A failure restoring into another file names that file, not only the configured database.
TEST(SqliteRestoreTarget, AFailureNamesTheFileRestoredInto) {
  BackupApp app({"db"}, kFailuresSqliteSection);
  FailuresSqliteBackup(app);
  std::filesystem::create_directories(app.root() + "/elsewhere/app.db");  // a directory
  RunResult r = app.Run({"backup", "restore", "latest", "--database", "elsewhere/app.db", "--yes"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("restoring into '" + app.root() + "/elsewhere/app.db': "), std::string::npos)
      << r.err;
  EXPECT_EQ(TempFilesUnder(app.root()), std::vector<std::string>());
}

// --only db with --target (and no --database): the database is not restored in place over
// the live one, as it was with --yes (the hint for a database-only backup with --target led
// there); without --target it is, as before.
TEST(SqliteRestoreTarget, OnlyDbWithTargetDoesNotRestoreInPlace) {
  BackupApp app({"db"}, kFailuresSqliteSection);
  FailuresSqliteBackup(app);
  const std::string path = app.root() + "/var/app.db";
  RunProgram({"sqlite3", path, "INSERT INTO t VALUES ('live');"});
  TempDir aside;
  RunResult r =
      app.Run({"backup", "restore", "latest", "--only", "db", "--target", aside / "db", "--yes"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--only db restores none: the database would be restored in place, over "
                       "database '" +
                       path + "'"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(FailuresSqliteQuery(path, "SELECT v FROM t ORDER BY v"), "a\nb\nlive\n");

  r = app.Run({"backup", "restore", "latest", "--only", "db", "--target", aside / "db",
               "--database", "copy.db", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(FailuresSqliteQuery(app.root() + "/copy.db", "SELECT v FROM t ORDER BY v"), "a\nb\n");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(FailuresSqliteQuery(path, "SELECT v FROM t ORDER BY v"), "a\nb\n");
}

}  // namespace
}  // namespace velin::testing
