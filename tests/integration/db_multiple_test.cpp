// The real binary with more than one database per config ([database] plus [databases.NAME],
// "db:NAME" in backup.include; docs/databases.md#several-databases): each is dumped into its
// own stream, listed, restored (all of them, or one with --only db:NAME) and restore-tested; one
// that fails fails the create, naming it.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

// The tables of an app with two SQLite databases: [database] var/app.db and
// [databases.queue] var/queue.db, both listed, with the files of "storage".
const char* kMultiDbTwoSqlite =
    "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n"
    "[databases.queue]\ndriver = \"sqlite\"\npath = \"var/queue.db\"\n";

std::string MultiDbDump(const std::string& file) {
  return RunProgram({"sqlite3", file, ".dump"}).out;
}

void MultiDbSql(const std::string& file, const std::string& sql) {
  RunResult r = RunProgram({"sqlite3", file, sql});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// Two SQLite databases, no server: create → ls/list show both streams → both changed, an
// in-place restore gives both back → one changed, --only db:queue gives back that one alone →
// verify --restore-test tests each.
TEST(MultiDbTest, TwoSqliteDatabasesAreBackedUpRestoredAndTestedEach) {
  BackupApp app({"db", "db:queue", "storage"}, kMultiDbTwoSqlite);
  std::filesystem::create_directories(app.root() + "/var");
  std::filesystem::create_directories(app.root() + "/storage");
  WriteFile(app.root() + "/storage/a.txt", "a");
  const std::string main_db = app.root() + "/var/app.db";
  const std::string queue_db = app.root() + "/var/queue.db";
  MultiDbSql(main_db,
             "CREATE TABLE users (id INTEGER, name TEXT); INSERT INTO users VALUES "
             "(1, 'ann'), (2, 'bob');");
  MultiDbSql(queue_db,
             "CREATE TABLE jobs (id INTEGER, body TEXT); INSERT INTO jobs VALUES "
             "(1, 'mail'), (2, 'thumb'), (3, 'index');");
  const std::string main_before = MultiDbDump(main_db);
  const std::string queue_before = MultiDbDump(queue_db);
  ASSERT_EQ(app.Run({"backup", "init", "--encryption", "none"}).exit_code, 0);

  RunResult r = app.Run({"backup", "create"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Database backup created"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Database 'db:queue' backup created"), std::string::npos) << r.out;

  r = app.Run({"backup", "ls", "latest"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("db  database stream"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("db:queue  database stream"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("table jobs: 3 rows"), std::string::npos) << r.out;
  // The queue's live file is in its dump, not copied among the files while written.
  r = app.Run({"backup", "ls", "latest", "var"});
  EXPECT_EQ(r.out.find("queue.db"), std::string::npos) << r.out;

  nlohmann::json list = app.Json({"backup", "list"});
  ASSERT_EQ(list["backups"].size(), 1u) << list.dump();
  const nlohmann::json& streams = list["backups"][0]["streams"];
  EXPECT_EQ(streams["db"]["driver"], "sqlite") << streams.dump();
  EXPECT_EQ(streams["db:queue"]["driver"], "sqlite") << streams.dump();
  EXPECT_EQ(streams["db:queue"]["tables"][0]["rows"], 3) << streams.dump();

  // Both changed; the whole backup in place gives both back.
  MultiDbSql(main_db, "DELETE FROM users; CREATE TABLE junk (x);");
  MultiDbSql(queue_db, "DELETE FROM jobs WHERE id > 1;");
  r = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(MultiDbDump(main_db), main_before);
  EXPECT_EQ(MultiDbDump(queue_db), queue_before);

  // --only db:queue restores that one and leaves [database] as it is.
  MultiDbSql(main_db, "INSERT INTO users VALUES (3, 'cy');");
  const std::string main_changed = MultiDbDump(main_db);
  MultiDbSql(queue_db, "DELETE FROM jobs;");
  r = app.Run({"backup", "restore", "latest", "--only", "db:queue", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(MultiDbDump(queue_db), queue_before);
  EXPECT_EQ(MultiDbDump(main_db), main_changed);
  EXPECT_NE(r.out.find("Database restored into " + queue_db), std::string::npos) << r.out;

  // --only db:queue --database FILE: a copy beside it.
  r = app.Run(
      {"backup", "restore", "latest", "--only", "db:queue", "--database", "var/copy.db", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(MultiDbDump(app.root() + "/var/copy.db"), queue_before);

  r = app.Run({"backup", "verify", "latest", "--restore-test"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Database restore test passed: 1 table"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Restore test of database 'db:queue' passed: 1 table"), std::string::npos)
      << r.out;
  nlohmann::json verified = app.Json({"backup", "verify", "latest", "--restore-test"});
  const std::string id = list["backups"][0]["id"];
  EXPECT_EQ(verified["restore_test"][id]["databases"]["db:queue"]["ok"], true) << verified.dump();
  EXPECT_EQ(verified["restore_test"][id]["database"]["ok"], true) << verified.dump();

  // Under --target the files go aside with every SQLite database inside app.root, each at its
  // place from its dump (before, the queue was only named); the live ones are left alone.
  MultiDbSql(queue_db, "DELETE FROM jobs;");
  r = app.Run({"backup", "restore", "latest", "--target", app.path("aside")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ((r.out + r.err).find("is not restored under --target"), std::string::npos)
      << r.out << r.err;
  EXPECT_EQ(MultiDbDump(app.path("aside/var/app.db")), main_before);
  EXPECT_EQ(MultiDbDump(app.path("aside/var/queue.db")), queue_before);
  EXPECT_EQ(ReadFileOrDie(app.path("aside/storage/a.txt")), "a");
  EXPECT_EQ(RunProgram({"sqlite3", queue_db, "SELECT count(*) FROM jobs"}).out, "0\n");
  nlohmann::json aside = app.Json({"backup", "restore", "latest", "--target", app.path("aside2")});
  EXPECT_EQ(aside["databases"], nlohmann::json::array({"db", "db:queue"})) << aside.dump();
  EXPECT_EQ(aside["database"], app.path("aside2/var/app.db")) << aside.dump();
  EXPECT_EQ(MultiDbDump(app.path("aside2/var/queue.db")), queue_before);
}

// --continue-on-error and a [databases.NAME] SQLite file that cannot be dumped: the backup keeps
// the copy of its file read while written, and restoring it warns that it may be torn, as for
// [database] (before, it came back without a word); the other database comes from its dump.
TEST(MultiDbTest, AFailedNamedDumpsOwnFileComesBackWithTheTornWarning) {
  BackupApp app({"db", "db:queue", "var"}, kMultiDbTwoSqlite);
  std::filesystem::create_directories(app.root() + "/var");
  const std::string main_db = app.root() + "/var/app.db";
  MultiDbSql(main_db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  const std::string main_before = MultiDbDump(main_db);
  WriteFile(app.root() + "/var/queue.db", std::string(4096, 'Q'));  // no SQLite header
  ASSERT_EQ(app.Run({"backup", "init", "--encryption", "none"}).exit_code, 0);
  RunResult r = app.Run({"backup", "create", "--continue-on-error"});
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;

  r = app.Run({"backup", "restore", "latest", "--target", app.path("aside")});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("the own files of database 'db:queue' (var/queue.db) are restored from "
                       "the copy the backup read while the application wrote, and the backup "
                       "holds no usable dump of it: the copy may be torn"),
            std::string::npos)
      << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(app.path("aside/var/queue.db")), std::string(4096, 'Q'));
  EXPECT_EQ(MultiDbDump(app.path("aside/var/app.db")), main_before);
  EXPECT_NE((r.out + r.err).find("the backup's database 'db:queue' is not restored under --target"),
            std::string::npos)
      << r.out << r.err;

  // In place the same warning; [database]'s file comes from its dump, not from a copy; the
  // queue's missing dump still ends the restore in its error (exit 4).
  MultiDbSql(main_db, "DELETE FROM t;");
  r = app.Run({"backup", "restore", "latest", "--yes"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("holds no usable dump of database 'db:queue'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the own files of database 'db:queue' (var/queue.db) are restored from "
                       "the copy"),
            std::string::npos)
      << r.out << r.err;
  EXPECT_EQ(MultiDbDump(main_db), main_before);
}

// --database (and --database-url) say where one database goes: on a backup of two, without
// --only, which one is asked for, and nothing is changed.
TEST(MultiDbTest, DatabaseFlagNeedsOnlyWhenTheBackupHoldsSeveral) {
  BackupApp app({"db", "db:queue"}, kMultiDbTwoSqlite);
  std::filesystem::create_directories(app.root() + "/var");
  MultiDbSql(app.root() + "/var/app.db", "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  MultiDbSql(app.root() + "/var/queue.db", "CREATE TABLE q (x); INSERT INTO q VALUES (1);");
  ASSERT_EQ(app.Run({"backup", "init", "--encryption", "none"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  RunResult r = app.Run({"backup", "restore", "latest", "--database", "var/other.db", "--yes"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--database names where one database goes, and backup "), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("(db, db:queue): choose it with --only"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(app.root() + "/var/other.db"));
  // A velin.toml without the table a backup's database needs: refused before anything.
  WriteFile(app.path("velin.toml"),
            "[app]\nroot = \"app\"\n[backup]\ninclude = [\"db\"]\ndestination = \"repo\"\n"
            "[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n");
  MultiDbSql(app.root() + "/var/app.db", "DELETE FROM t;");
  r = app.Run({"backup", "restore", "latest", "--yes"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("holds database 'db:queue', and " + app.path("velin.toml") +
                       " has no [databases.queue] section"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(RunProgram({"sqlite3", app.root() + "/var/app.db", "SELECT count(*) FROM t"}).out,
            "0\n");
}

// A second database that cannot be dumped (its file is missing) fails the create in one line
// naming it; no snapshot is taken as good.
TEST(MultiDbTest, AFailingSecondDatabaseFailsTheCreateNamingIt) {
  BackupApp app({"db", "db:queue"}, kMultiDbTwoSqlite);
  std::filesystem::create_directories(app.root() + "/var");
  MultiDbSql(app.root() + "/var/app.db", "CREATE TABLE t (x); INSERT INTO t VALUES (1);");
  ASSERT_EQ(app.Run({"backup", "init", "--encryption", "none"}).exit_code, 0);
  RunResult r = app.Run({"backup", "create"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("source 'db:queue': database '" + app.root() +
                       "/var/queue.db': the file does not exist"),
            std::string::npos)
      << r.err;
  nlohmann::json list = app.Json({"backup", "list"});
  EXPECT_EQ(list["backups"].size(), 0u) << list.dump();
}

// The config: [databases.NAME] is checked and shown like [database]; "db:NAME" without its
// table is an error naming it, a table not listed a warning.
TEST(MultiDbTest, ConfigCheckShowsAndChecksNamedDatabases) {
  BackupApp app({"db:queue"}, "\n[databases.queue]\ndriver = \"sqlite\"\npath = \"var/q.db\"\n");
  RunResult r = app.Run({"config", "check"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("databases.queue.path = \"" + app.root() + "/var/q.db\""), std::string::npos)
      << r.out;
  // Not a path of the app: no "does not exist" about it.
  EXPECT_EQ(r.err.find("db:queue"), std::string::npos) << r.err;
  nlohmann::json j = app.Json({"config", "check"});
  EXPECT_EQ(j["config"]["databases"]["queue"]["driver"], "sqlite") << j.dump();

  BackupApp typo({"db:queu"}, "\n[databases.queue]\ndriver = \"sqlite\"\npath = \"var/q.db\"\n");
  r = typo.Run({"config", "check"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("names \"db:queu\" but there is no [databases.queu] section (did you "
                       "mean 'queue'?)"),
            std::string::npos)
      << r.err;

  BackupApp unlisted({"storage"},
                     "\n[databases.cache]\ndriver = \"sqlite\"\npath = \"var/c.db\"\n");
  std::filesystem::create_directories(unlisted.root() + "/storage");
  r = unlisted.Run({"config", "check"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("[databases.cache] is configured but backup.include does not name "
                       "\"db:cache\""),
            std::string::npos)
      << r.err;

  BackupApp bad_key({"db:queue"}, "\n[databases.queue]\ndriver = \"sqlite\"\npth = \"q.db\"\n");
  r = bad_key.Run({"config", "check"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("unknown key 'pth' in [databases.queue] (did you mean 'path'?)"),
            std::string::npos)
      << r.err;

  BackupApp no_path({"db:queue"}, "\n[databases.queue]\ndriver = \"sqlite\"\n");
  r = no_path.Run({"config", "check"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("[databases.queue] with driver \"sqlite\" needs key 'path'"),
            std::string::npos)
      << r.err;

  BackupApp bad_name({"db"}, "\n[databases.Queue]\ndriver = \"sqlite\"\npath = \"q.db\"\n");
  r = bad_name.Run({"config", "check"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("[databases.Queue]: a database's name is 1 to 32 of a-z"), std::string::npos)
      << r.err;
}

// A PostgreSQL [database] and a SQLite [databases.queue]: both in one backup, both restored
// after both changed, the queue alone with --only db:queue, each restore-tested; a second
// PostgreSQL database with a wrong password fails the create naming it.
TEST(MultiDbTest, PostgresAndSqliteInOneBackup) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string db = pg.CreateDatabase();
  pg.Sql(db,
         "SET ROLE app; CREATE TABLE orders (id int PRIMARY KEY, total numeric);"
         "INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 200) g;");
  BackupApp app({"db", "db:queue"},
                DbTestPostgresSection(pg.port(), db) +
                    "[databases.queue]\ndriver = \"sqlite\"\npath = \"var/queue.db\"\n");
  std::filesystem::create_directories(app.root() + "/var");
  const std::string queue_db = app.root() + "/var/queue.db";
  MultiDbSql(queue_db, "CREATE TABLE jobs (id INTEGER); INSERT INTO jobs VALUES (1), (2);");
  const auto pg_before = pg.TableDigests(db);
  const std::string queue_before = MultiDbDump(queue_db);
  ASSERT_EQ(app.Run({"backup", "init", "--encryption", "none"}).exit_code, 0);
  RunResult r = app.Run({"backup", "create"}, DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  r = app.Run({"backup", "ls", "latest"}, DbTestPassword());
  EXPECT_NE(r.out.find("db  database stream"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("postgresql '" + db + "'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("db:queue  database stream"), std::string::npos) << r.out;

  pg.Sql(db, "DELETE FROM orders WHERE id > 10;");
  MultiDbSql(queue_db, "DELETE FROM jobs;");
  r = app.Run({"backup", "restore", "latest", "--yes"}, DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(pg.TableDigests(db), pg_before);
  EXPECT_EQ(MultiDbDump(queue_db), queue_before);

  pg.Sql(db, "DELETE FROM orders WHERE id > 20;");
  const auto pg_changed = pg.TableDigests(db);
  MultiDbSql(queue_db, "DELETE FROM jobs;");
  r = app.Run({"backup", "restore", "latest", "--only", "db:queue", "--yes"}, DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(MultiDbDump(queue_db), queue_before);
  EXPECT_EQ(pg.TableDigests(db), pg_changed);

  r = app.Run({"backup", "verify", "latest", "--restore-test"}, DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Database restore test passed: 1 table"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Restore test of database 'db:queue' passed"), std::string::npos) << r.out;
  // --restore-test-server names the server's database's server; the SQLite one is tested as is.
  r = app.Run({"backup", "verify", "latest", "--restore-test", "--restore-test-server",
               "127.0.0.1:" + std::to_string(pg.port())},
              DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Restore test of database 'db:queue' passed"), std::string::npos) << r.out;

  // A second PostgreSQL database whose password is wrong: the create fails, naming it.
  const std::string other = pg.CreateDatabase();
  BackupApp wrong({"db", "db:orders"},
                  DbTestPostgresSection(pg.port(), db) +
                      "[databases.orders]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\n"
                      "port = " +
                      std::to_string(pg.port()) + "\nuser = \"app\"\nname = \"" + other +
                      "\"\npassword_env = \"VELIN_TEST_MULTIDB_WRONG\"\n");
  ASSERT_EQ(wrong.Run({"backup", "init", "--encryption", "none"}).exit_code, 0);
  RunOptions options = DbTestPassword();
  options.env["VELIN_TEST_MULTIDB_WRONG"] = "not-the-password";
  r = wrong.Run({"backup", "create"}, options);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("db:orders"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("database '" + other + "' at 127.0.0.1:" + std::to_string(pg.port()) +
                       ": password authentication failed"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(wrong.Json({"backup", "list"})["backups"].size(), 0u);
}

}  // namespace
}  // namespace velin::testing
