// `backup restore --only db --database NAME` with the real binary: NAME being the configured
// database (under another spelling too) or another one that holds tables is replaced only after
// the question the in-place restore asks (no terminal and no --yes: exit 2; "n": exit 6); a
// missing or empty one needs none. SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/pty_run.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

constexpr const char* kQuestionPasswordEnv = "VELIN_TEST_DB_PASSWORD";

RunOptions QuestionPassword() {
  RunOptions o;
  o.env[kQuestionPasswordEnv] = kAppPassword;
  return o;
}

std::string QuestionSqliteRows(const std::string& file) {
  return RunProgram({"sqlite3", file, "SELECT group_concat(v) FROM t"}).out;
}

TEST(DatabaseRestoreQuestion, SqliteAsksBeforeReplacingTheConfiguredOrAFileWithData) {
  BackupApp app({"db", "storage"}, "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n");
  const std::string var = app.root() + "/var";
  std::filesystem::create_directories(var);
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  RunProgram({"sqlite3", var + "/app.db", "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"});
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  RunProgram({"sqlite3", var + "/app.db", "INSERT INTO t VALUES ('added since');"});
  RunProgram(
      {"sqlite3", var + "/other.db", "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('o');"});
  std::filesystem::create_symlink("app.db", var + "/link.db");

  // The configured file, by its name and through a symlink; another file with data.
  for (const std::string name : {"var/app.db", "./var//app.db", "var/link.db", "var/other.db"}) {
    RunResult r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", name});
    EXPECT_EQ(r.exit_code, 2) << name << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("with the one from backup"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("no terminal to ask; pass --yes"), std::string::npos) << r.err;
  }
  EXPECT_EQ(QuestionSqliteRows(var + "/app.db"), "a,added since\n");
  EXPECT_EQ(QuestionSqliteRows(var + "/other.db"), "o\n");
  RunResult named =
      app.Run({"backup", "restore", "latest", "--only", "db", "--database", "var/app.db"});
  EXPECT_NE(named.err.find("Replace database '" + var + "/app.db' with the one from backup"),
            std::string::npos)
      << named.err;

  // Answering no at a terminal: exit 6, nothing changed.
  RunOptions tty;
  tty.cwd = app.path("");
  tty.env = {{"LANG", "C"}, {"TERM", "xterm"}};
  tty.stdin_data = "n\n";
  RunResult no = RunVelinInPty(
      {"backup", "restore", "latest", "--only", "db", "--database", "var/other.db"}, tty);
  EXPECT_EQ(no.exit_code, 6) << no.out << no.err;
  EXPECT_EQ(QuestionSqliteRows(var + "/other.db"), "o\n");

  // A whole in-place restore names the file --database replaces in its one question.
  RunResult whole = app.Run({"backup", "restore", "latest", "--database", "var/other.db"});
  EXPECT_EQ(whole.exit_code, 2) << whole.out << whole.err;
  EXPECT_NE(whole.err.find("and replace database '" + var + "/other.db'"), std::string::npos)
      << whole.err;
  EXPECT_EQ(QuestionSqliteRows(var + "/other.db"), "o\n");

  // Missing or empty: nothing to lose, no question.
  WriteFile(var + "/empty.db", "");
  for (const std::string name : {"var/new.db", "var/empty.db"}) {
    RunResult r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", name});
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.out << r.err;
    EXPECT_EQ(QuestionSqliteRows(app.root() + "/" + name), "a\n") << name;
  }
  // --yes answers it.
  RunResult yes = app.Run(
      {"backup", "restore", "latest", "--only", "db", "--database", "var/other.db", "--yes"});
  EXPECT_EQ(yes.exit_code, 0) << yes.out << yes.err;
  EXPECT_EQ(QuestionSqliteRows(var + "/other.db"), "a\n");
}

// --database with a backup that holds no database (or whose dump failed): refused at once, not
// after a question about replacing NAME and after the files were written.
TEST(DatabaseRestoreQuestion, ABackupWithoutADatabaseIsRefusedBeforeTheQuestionAndTheFiles) {
  BackupApp app({"storage"}, "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n");
  std::filesystem::create_directories(app.root() + "/var");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  RunProgram({"sqlite3", app.root() + "/var/other.db",
              "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('o');"});
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  for (const bool yes : {false, true}) {
    std::vector<std::string> args = {"backup",       "restore",  "latest",       "--database",
                                     "var/other.db", "--target", app.path("out")};
    if (yes) args.push_back("--yes");
    RunResult r = app.Run(args);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("holds no database"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("Replace"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(app.path("out"))) << yes;
  }
  EXPECT_EQ(QuestionSqliteRows(app.root() + "/var/other.db"), "o\n");
}

TEST(DatabaseRestoreQuestion, PostgresAsksBeforeReplacingTheConfiguredOrADatabaseWithTables) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string db = pg.CreateDatabase();
  pg.Sql(db, "SET ROLE app; CREATE TABLE t (v text); INSERT INTO t VALUES ('a');");
  BackupApp app({"db"}, "\n[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nport = " +
                            std::to_string(pg.port()) + "\nuser = \"app\"\nname = \"" + db +
                            "\"\npassword_env = \"" + kQuestionPasswordEnv + "\"\n");
  ASSERT_EQ(app.Run({"backup", "create"}, QuestionPassword()).exit_code, 0);
  pg.Sql(db, "INSERT INTO t VALUES ('added since');");
  const std::string full = pg.CreateDatabase();
  pg.Sql(full, "SET ROLE app; CREATE SCHEMA s; CREATE TABLE s.kept (v text);");
  const std::string empty = pg.CreateDatabase();

  for (const std::string& name : {db, full}) {
    RunResult r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", name},
                          QuestionPassword());
    EXPECT_EQ(r.exit_code, 2) << name << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("with the one from backup"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("no terminal to ask; pass --yes"), std::string::npos) << r.err;
  }
  EXPECT_EQ(pg.Sql(db, "SELECT string_agg(v, ',' ORDER BY v) FROM t"), "a,added since\n");
  EXPECT_EQ(pg.Sql(full, "SELECT count(*) FROM s.kept"), "0\n");

  for (const std::string& name : {empty, db + "_missing"}) {
    RunResult r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", name},
                          QuestionPassword());
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.out << r.err;
    EXPECT_EQ(pg.Sql(name, "SELECT string_agg(v, ',') FROM t"), "a\n") << name;
  }
  RunResult yes =
      app.Run({"backup", "restore", "latest", "--only", "db", "--database", full, "--yes"},
              QuestionPassword());
  EXPECT_EQ(yes.exit_code, 0) << yes.out << yes.err;
  EXPECT_EQ(pg.Sql(full, "SELECT string_agg(v, ',') FROM t"), "a\n");
}

}  // namespace
}  // namespace velin::testing
