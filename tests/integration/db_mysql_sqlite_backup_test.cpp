// The real binary with a MariaDB server and a SQLite file: backup, damage the live database,
// restore, identical; verify --restore-test passes and drops its temporary database.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "support/background_velin.hpp"
#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/pty_run.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

RunOptions WithAppPassword() {
  RunOptions o;
  o.env["VELIN_TEST_DB_PASSWORD"] = kAppPassword;
  return o;
}

// The [database] table for `db` on the shared MariaDB server, as user app.
std::string MysqlSection(const MariadbServer& my, const std::string& db) {
  return "\n[database]\ndriver = \"mysql\"\nport = " + std::to_string(my.port()) +
         "\nuser = \"app\"\nname = \"" + db + "\"\npassword_env = \"VELIN_TEST_DB_PASSWORD\"\n";
}

TEST(MysqlBackupTest, BackupDamageRestoreVerify) {
  MariadbServer& my = MariadbServer::Shared();
  std::string db = my.CreateDatabase();
  my.Sql(db,
         "CREATE TABLE users (id int PRIMARY KEY, name text);"
         "INSERT INTO users SELECT seq, CONCAT('user ', seq) FROM seq_1_to_300;"
         "CREATE TABLE notes (id int AUTO_INCREMENT PRIMARY KEY, body blob);"
         "INSERT INTO notes (body) VALUES (X'00FF'), ('it''s');");
  BackupApp app({"db"}, MysqlSection(my, db));
  RunResult r = app.Run({"backup", "create"}, WithAppPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Database backup created"), std::string::npos);
  auto before = my.TableDigests(db);

  my.Sql(db, "DELETE FROM users WHERE id > 7; DROP TABLE notes;");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, WithAppPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.TableDigests(db), before);
  // The database by its name and its server (not "into database 'shop' at …").
  EXPECT_NE(r.out.find("Database restored into '" + db +
                       "' at 127.0.0.1:" + std::to_string(my.port()) + "\n"),
            std::string::npos)
      << r.out;

  r = app.Run({"backup", "verify", "latest", "--restore-test"}, WithAppPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("users"), std::string::npos);
  EXPECT_NE(r.out.find("Database restore test passed: 2 tables"), std::string::npos) << r.out;
  EXPECT_EQ(my.Sql("", "SHOW DATABASES LIKE 'velin_restore_test%'"), "");

  nlohmann::json list = app.Json({"backup", "list"}, 0, WithAppPassword());
  const nlohmann::json& meta = list["backups"][0]["streams"]["db"];
  EXPECT_EQ(meta["driver"], "mysql");
  EXPECT_EQ(meta["dump_tool"], "mariadb-dump");
  EXPECT_EQ(meta["tables"][1]["rows"], 300);
  EXPECT_EQ(list.dump().find(kAppPassword), std::string::npos);
}

// A restore that waits for a table's metadata lock (the application's open transaction, here a
// client of the same user) says which session holds it and what to do; it goes on when the
// transaction ends.
TEST(MysqlBackupTest, ARestoreThatWaitsForALockSaysWhoHoldsIt) {
  MariadbServer& my = MariadbServer::Shared();
  std::string db = my.CreateDatabase();
  my.Sql(db, "CREATE TABLE users (id int PRIMARY KEY); INSERT INTO users VALUES (1), (2);");
  BackupApp app({"db"}, MysqlSection(my, db));
  ASSERT_EQ(app.Run({"backup", "create"}, WithAppPassword()).exit_code, 0);
  my.Sql(db, "DELETE FROM users");
  const std::string client = "MYSQL_PWD='" + std::string(kAppPassword) +
                             "' mariadb --protocol=tcp -h 127.0.0.1 -P " +
                             std::to_string(my.port()) + " -u app " + db;
  std::thread holder([&] {
    int rc = std::system(("(echo 'BEGIN; SELECT count(*) FROM users;'; sleep 14; echo COMMIT) | " +
                          client + " > /dev/null")
                             .c_str());
    (void)rc;
  });
  std::string id;
  for (int i = 0; i < 500 && id.empty(); ++i) {
    id = my.Sql("", "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'app' AND DB = '" +
                        db + "' AND COMMAND = 'Sleep'");
    if (id.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  RunResult r =
      app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, WithAppPassword());
  holder.join();
  ASSERT_FALSE(id.empty());
  id.pop_back();  // the newline
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // app has PROCESS here: the session is named as the one whose transaction is open.
  EXPECT_NE(r.err.find("the restore waits for a table's metadata lock, which an open transaction "
                       "holds: session " +
                       id + " (user app, Sleep for "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(" s, its transaction open for "), std::string::npos) << r.err;
  // It waits with the dump's first statement (users is its only table): nothing is changed yet.
  EXPECT_NE(r.err.find("end the session (KILL " + id +
                       "); a signal stops the restore while it waits, before it changed "
                       "anything"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(my.Sql(db, "SELECT count(*) FROM users"), "2\n");
}

// A session of the application (here a client of the same user) with an open transaction on a
// table: until `go` exists. Ended (go written, the client joined) when it goes out of scope.
class MysqlLockHolderForSignalTest {
 public:
  MysqlLockHolderForSignalTest(const MariadbServer& my, const std::string& db,
                               const std::string& go)
      : go_(go) {
    const std::string client = "MYSQL_PWD='" + std::string(kAppPassword) +
                               "' mariadb --protocol=tcp -h 127.0.0.1 -P " +
                               std::to_string(my.port()) + " -u app " + db;
    thread_ = std::thread([client, go] {
      int rc = std::system(("(echo 'BEGIN; SELECT count(*) FROM users;'; while [ ! -e '" + go +
                            "' ]; do sleep 0.1; done; echo COMMIT) | " + client + " > /dev/null")
                               .c_str());
      (void)rc;
    });
  }
  ~MysqlLockHolderForSignalTest() { End(); }
  void End() {
    if (!thread_.joinable()) return;
    WriteFile(go_, "");
    thread_.join();
  }

 private:
  std::string go_;
  std::thread thread_;
};

// The first row `sql` gives on `my`, polled every 20 ms up to `tries` times; "" when none came.
std::string MysqlPolledRow(MariadbServer& my, const std::string& sql, int tries) {
  std::string row;
  for (int i = 0; i < tries && row.empty(); ++i) {
    row = my.Sql("", sql);
    if (row.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return row;
}

// The lock holder's idle session in `db` (its id), once it is there.
std::string MysqlHolderSession(MariadbServer& my, const std::string& db, int tries = 500) {
  return MysqlPolledRow(my,
                        "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'app' AND "
                        "DB = '" +
                            db + "' AND COMMAND = 'Sleep'",
                        tries);
}

// A session in `db` waiting for a lock (the restore's), once there is one.
std::string MysqlLockWaiter(MariadbServer& my, const std::string& db, int tries = 1500) {
  return MysqlPolledRow(my,
                        "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '" + db +
                            "' AND STATE LIKE 'Waiting for%lock%'",
                        tries);
}

// The two lock-wait stop tests' set-up: `db` backed up, then changed by `change`; a session of
// the application holds a lock on its tables; a restore (--only db) of the backup is started and
// seen waiting for that lock. Members end in reverse: velin (killed unless finished), the holder.
struct MysqlRestoreWaitingOnLock {
  MysqlRestoreWaitingOnLock(MariadbServer& my, const std::string& db, const std::string& change)
      : app({"db"}, MysqlSection(my, db)) {
    Start(my, db, change);
  }
  void Start(MariadbServer& my, const std::string& db, const std::string& change) {
    ASSERT_EQ(app.Run({"backup", "create"}, WithAppPassword()).exit_code, 0);
    my.Sql(db, change);
    holder.emplace(my, db, app.path("holder-go"));
    holder_id = MysqlHolderSession(my, db);
    ASSERT_FALSE(holder_id.empty());
    RunOptions options = WithAppPassword();
    options.cwd = app.path("");
    velin.emplace(std::vector<std::string>{"backup", "restore", "latest", "--only", "db", "--yes"},
                  options);
    ASSERT_FALSE(MysqlLockWaiter(my, db).empty()) << "the restore never waited for the lock";
  }
  BackupApp app;
  std::optional<MysqlLockHolderForSignalTest> holder;
  std::string holder_id;
  std::optional<BackgroundVelin> velin;
};

// SIGTERM while the restore waits for a table's metadata lock (which a year could not end:
// lock_wait_timeout) stops it within seconds, by the signal, with one line saying what state the
// database is in; the client's session is ended on the server too, so the DROP TABLE it waited
// with never runs once the lock comes free. Before, the signal waited with the restore.
TEST(MysqlBackupTest, ASignalStopsARestoreThatWaitsForALock) {
  MariadbServer& my = MariadbServer::Shared();
  std::string db = my.CreateDatabase();
  my.Sql(db, "CREATE TABLE users (id int PRIMARY KEY); INSERT INTO users VALUES (1), (2);");
  MysqlRestoreWaitingOnLock waiting(my, db, "DELETE FROM users; INSERT INTO users VALUES (7)");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const auto signalled = std::chrono::steady_clock::now();
  waiting.velin->Signal(SIGTERM);
  ASSERT_TRUE(waiting.velin->WaitExit());
  const auto took = std::chrono::steady_clock::now() - signalled;
  RunResult r = waiting.velin->Finish();
  EXPECT_LT(took, std::chrono::seconds(8));
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.out << r.err;
  // It waited with the dump's first statement (the DROP TABLE of users, its only table): no
  // statement had changed anything, and the line says so (before, "partly restored" always).
  EXPECT_NE(
      r.err.find("restore interrupted by SIGTERM while it waited for a lock in database '" + db +
                 "'; nothing was changed (it waited with the restore's first statement): "
                 "restore again once the lock is free"),
      std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("partly restored"), std::string::npos) << r.err;
  // No session of the restore is left waiting; the application's is untouched.
  EXPECT_EQ(MysqlLockWaiter(my, db, 1), "");
  EXPECT_EQ(MysqlHolderSession(my, db, 1), waiting.holder_id);
  waiting.holder->End();
  // Once the lock came free nothing ran: the table is as the application left it.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(my.Sql(db, "SELECT id FROM users"), "7\n");

  // Running it again repairs it.
  r = waiting.app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, WithAppPassword());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.Sql(db, "SELECT count(*) FROM users"), "2\n");
}

// As above, but the restore waits at its second table (users; accounts, first in the dump, is
// restored by then): the stop says the database is left partly restored, and it is.
TEST(MysqlBackupTest, ASignalAfterATableWasRestoredSaysPartlyRestored) {
  MariadbServer& my = MariadbServer::Shared();
  std::string db = my.CreateDatabase();
  my.Sql(db,
         "CREATE TABLE accounts (id int PRIMARY KEY); INSERT INTO accounts VALUES (1), (2), (3);"
         "CREATE TABLE users (id int PRIMARY KEY); INSERT INTO users VALUES (1), (2);");
  MysqlRestoreWaitingOnLock waiting(
      my, db, "DELETE FROM accounts; DELETE FROM users; INSERT INTO users VALUES (7)");
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  waiting.velin->Signal(SIGTERM);
  ASSERT_TRUE(waiting.velin->WaitExit());
  RunResult r = waiting.velin->Finish();
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.out << r.err;
  EXPECT_NE(r.err.find("restore interrupted by SIGTERM while it waited for a lock in database '" +
                       db + "'; the database is left partly restored"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("restore again to repair it"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("nothing was changed"), std::string::npos) << r.err;
  waiting.holder->End();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(my.Sql(db, "SELECT count(*) FROM accounts"), "3\n");  // restored before the wait
  EXPECT_EQ(my.Sql(db, "SELECT id FROM users"), "7\n");           // as the application left it
}

// The mariadb client applies statements as they come and cannot roll back: SIGTERM or Ctrl-C
// during a restore waits for its end (stopped midway, the database would be half restored),
// then ends velin. The client waits at a gate (a wrapper first in PATH) while velin is signalled.
TEST(MysqlBackupTest, ASignalDuringARestoreWaitsForTheRestoreToEnd) {
  MariadbServer& my = MariadbServer::Shared();
  std::string db = my.CreateDatabase();
  my.Sql(db,
         "CREATE TABLE users (id int PRIMARY KEY, name text);"
         "INSERT INTO users SELECT seq, CONCAT('user ', seq) FROM seq_1_to_20000;"
         "CREATE TABLE orders (id int PRIMARY KEY, user_id int, total int);"
         "INSERT INTO orders SELECT seq, seq % 97, seq * 3 FROM seq_1_to_20000;");
  BackupApp app({"db"}, MysqlSection(my, db));
  RunResult r = app.Run({"backup", "create"}, WithAppPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto before = my.TableDigests(db);
  my.Sql(db, "DELETE FROM users WHERE id > 7; DROP TABLE orders;");

  const std::string gate = app.path("gate");
  WriteGatedTool(gate, "mariadb");
  RunOptions options = WithAppPassword();
  options.cwd = app.path("");
  PutFirstInPath(options, gate);
  BackgroundVelin velin({"backup", "restore", "latest", "--only", "db", "--yes"}, options);
  ASSERT_TRUE(WaitForPath(gate + "/reached"));
  velin.Signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(velin.Running());
  WriteFile(gate + "/go", "");
  r = velin.Finish();
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.out << r.err;
  EXPECT_NE(r.err.find("warning: SIGTERM received: the restore of database '" + db +
                       "' finishes first, then velin stops"),
            std::string::npos)
      << r.err;
  // Whole, not half restored (compared quietly: a failure would print 40,000 rows).
  auto after = my.TableDigests(db);
  EXPECT_EQ(after.size(), before.size());
  EXPECT_TRUE(after == before) << "the database differs from the backup after the restore";
}

TEST(SqliteBackupTest, BackupDamageRestoreVerifyKeepsTheFileMode) {
  BackupApp app({"db", "var/uploads"},
                "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n");
  std::string path = app.root() + "/var/app.db";
  std::filesystem::create_directories(app.root() + "/var/uploads");
  WriteFile(app.root() + "/var/uploads/logo.png", "png");
  RunProgram({"sqlite3", path,
              "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); "
              "INSERT INTO t (v) VALUES ('a'), ('b'), ('c');"});
  ::chmod(path.c_str(), 0600);
  std::string before = RunProgram({"sqlite3", path, ".dump"}).out;

  RunResult r = app.Run({"backup", "create"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  RunProgram({"sqlite3", path, "DELETE FROM t; CREATE TABLE junk (x);"});
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(RunProgram({"sqlite3", path, ".dump"}).out, before);
  // The file (it said "into database '/…/var/app.db'").
  EXPECT_NE(r.out.find("Database restored into " + path + "\n"), std::string::npos) << r.out;
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", "var/copy.db"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Database restored into " + app.root() + "/var/copy.db\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(RunProgram({"sqlite3", app.root() + "/var/copy.db", ".dump"}).out, before);

  r = app.Run({"backup", "verify", "latest", "--restore-test"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Database restore test passed: 1 table, row count matches"),
            std::string::npos)
      << r.out;
  // Per table: words off a terminal (cron mails, logs), symbols only on one; the status column
  // as wide as its widest word ("differs").
  EXPECT_NE(r.out.find("  ok       t "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("✓"), std::string::npos) << r.out;
  // -q: nothing on success, the table included (a monthly cron job mailed it every time).
  r = app.Run({"-q", "backup", "verify", "latest", "--restore-test"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  RunOptions in_app;
  in_app.cwd = app.path("");
  in_app.env = {{"LANG", "C"}, {"TERM", "xterm"}};
  RunResult tty = RunVelinInPty({"backup", "verify", "latest", "--restore-test"}, in_app);
  ASSERT_EQ(tty.exit_code, 0) << tty.out << tty.err;
  EXPECT_NE(tty.out.find("  ✓  t "), std::string::npos) << tty.out;

  // A full in-place restore brings back the files and the database together.
  RunProgram({"sqlite3", path, "DELETE FROM t;"});
  WriteFile(app.root() + "/var/uploads/logo.png", "changed");
  r = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(app.root() + "/var/uploads/logo.png"), "png");
  EXPECT_EQ(RunProgram({"sqlite3", path, ".dump"}).out, before);
}

// A backup of only the database restores with the plain disaster-recovery command.
TEST(SqliteBackupTest, DatabaseOnlyBackupRestoresWithThePlainCommand) {
  BackupApp app({"db"}, "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n");
  std::string path = app.root() + "/var/app.db";
  std::filesystem::create_directories(app.root() + "/var");
  RunProgram({"sqlite3", path, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a'), ('b');"});
  std::string before = RunProgram({"sqlite3", path, ".dump"}).out;
  RunResult r = app.Run({"backup", "create"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  RunProgram({"sqlite3", path, "DELETE FROM t;"});

  r = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(RunProgram({"sqlite3", path, ".dump"}).out, before);

  // --target has no files to take: one clear line pointing to --only db.
  r = app.Run({"backup", "restore", "latest", "--target", app.path("elsewhere")});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("--only db"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace velin::testing
