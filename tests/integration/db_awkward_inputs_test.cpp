// The real binary with database inputs the drivers must not mix up or leak: a MariaDB password
// holding newlines and quotes, PostgreSQL and MariaDB table names holding dots, a server that is
// not there, a SQLite path that is a directory.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

const char* kAwkwardPasswordEnv = "VELIN_TEST_AWKWARD_PASSWORD";

// Every character the MariaDB option file treats specially, a line break in the middle, and
// spaces at both ends.
const std::string kAwkwardPassword = " a\"b'c\\d#e$f\\n\nghi-AWKWARDTAIL\r\tend ";

// `text` as a MariaDB string literal.
std::string AwkwardMysqlLiteral(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      default:
        out += c;
    }
  }
  return out + "'";
}

std::string AwkwardMysqlSection(int port, const std::string& db) {
  return "\n[database]\ndriver = \"mysql\"\nport = " + std::to_string(port) +
         "\nuser = \"awkward\"\nname = \"" + db + "\"\npassword_env = \"" + kAwkwardPasswordEnv +
         "\"\n[log]\nfile = \"velin.log\"\nlevel = \"debug\"\n";
}

RunOptions WithAwkwardPassword() {
  RunOptions o;
  o.env[kAwkwardPasswordEnv] = kAwkwardPassword;
  return o;
}

// The password reaches mariadb-dump and the mariadb client whole: backup, restore and the
// restore test pass (a raw newline in the option file cut it, and its second line was read as
// an option: "unknown option '--ghi-AWKWARDTAIL…'").
TEST(MysqlAwkwardPasswordTest, BackupRestoreAndRestoreTestPass) {
  MariadbServer& my = MariadbServer::Shared();
  const std::string db = my.CreateDatabase();
  my.Sql("", "CREATE OR REPLACE USER 'awkward'@'%' IDENTIFIED BY " +
                 AwkwardMysqlLiteral(kAwkwardPassword) + "; GRANT ALL ON *.* TO 'awkward'@'%'");
  my.Sql(db, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT seq FROM seq_1_to_40;");
  BackupApp app({"db"}, AwkwardMysqlSection(my.port(), db));
  RunResult r = app.Run({"backup", "create"}, WithAwkwardPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  my.Sql(db, "DELETE FROM t WHERE id > 3");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, WithAwkwardPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.Sql(db, "SELECT COUNT(*) FROM t"), "40\n");
  r = app.Run({"backup", "verify", "latest", "--restore-test"}, WithAwkwardPassword());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

// A dump tool whose message repeats a line of the password (as mariadb-dump did when the
// password's second line became an option): no line of it reaches the error or the log.
TEST(MysqlAwkwardPasswordTest, NoLineOfThePasswordReachesTheErrorOrTheLog) {
  MariadbServer& my = MariadbServer::Shared();
  const std::string db = my.CreateDatabase();
  my.Sql("", "CREATE OR REPLACE USER 'awkward'@'%' IDENTIFIED BY " +
                 AwkwardMysqlLiteral(kAwkwardPassword) + "; GRANT ALL ON *.* TO 'awkward'@'%'");
  BackupApp app({"db"}, AwkwardMysqlSection(my.port(), db));
  TempDir tools;
  // Writes each line of the password into its messages, as an option parser would.
  WriteFile(tools / "messages",
            "mariadb-dump: unknown option '--" +
                kAwkwardPassword.substr(0, kAwkwardPassword.find('\n')) +
                "'\nmariadb-dump: unknown option '--ghi-AWKWARDTAIL\r\tend '\n");
  WriteFile(tools / "mariadb-dump",
            "#!/bin/sh\n[ \"$1\" = --version ] && exec /usr/bin/mariadb-dump --version\n"
            "cat '" +
                (tools / "messages") + "' >&2\nexit 2\n");
  ASSERT_EQ(::chmod((tools / "mariadb-dump").c_str(), 0755), 0);
  RunOptions o = WithAwkwardPassword();
  o.env["PATH"] = tools.path() + ":/usr/local/bin:/usr/bin:/bin";
  RunResult r = app.Run({"backup", "create"}, o);
  ASSERT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("mariadb-dump failed (exit code 2)"), std::string::npos) << r.err;
  const std::string everything = r.out + r.err + ReadFileOrDie(app.path("velin.log"));
  for (const char* fragment : {"AWKWARDTAIL", "d#e$f", "\tend"}) {
    EXPECT_EQ(everything.find(fragment), std::string::npos) << fragment << "\n" << everything;
  }
}

std::string DottedPostgresSection(int port, const std::string& db) {
  return "\n[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nport = " +
         std::to_string(port) + "\nuser = \"app\"\nname = \"" + db +
         "\"\npassword_env = \"VELIN_TEST_DB_PASSWORD\"\n";
}

RunOptions WithDottedAppPassword() {
  RunOptions o;
  o.env["VELIN_TEST_DB_PASSWORD"] = kAppPassword;
  return o;
}

// Schema a with table "b.c" and schema "a.b" with table c were both recorded as a.b.c: listed
// twice with the rows of both, and the restore test failed a good backup (exit 4).
TEST(PostgresDottedNamesTest, TablesWhoseNamesHoldADotStayApart) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string db = pg.CreateDatabase();
  pg.Sql(db,
         "SET ROLE app; CREATE SCHEMA a; CREATE SCHEMA \"a.b\"; CREATE TABLE a.\"b.c\"(x int);"
         "INSERT INTO a.\"b.c\" SELECT generate_series(1, 5); CREATE TABLE \"a.b\".c(x int);"
         "INSERT INTO \"a.b\".c SELECT generate_series(1, 7);"
         "CREATE TABLE a.\"q\"\"t\"(x int); INSERT INTO a.\"q\"\"t\" VALUES (1), (2);");
  BackupApp app({"db"}, DottedPostgresSection(pg.port(), db));
  RunResult r = app.Run({"backup", "create"}, WithDottedAppPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = app.Run({"backup", "ls", "latest", "db"}, WithDottedAppPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("table a.\"b.c\": 5 rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("table \"a.b\".c: 7 rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("table a.\"q\"\"t\": 2 rows"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("a.b.c"), std::string::npos) << r.out;
  r = app.Run({"backup", "verify", "latest", "--restore-test"}, WithDottedAppPassword());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // A restore over the live database replaces each of them by its own rows.
  pg.Sql(db, "DELETE FROM a.\"b.c\"; INSERT INTO \"a.b\".c VALUES (8)");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, WithDottedAppPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(pg.Sql(db,
                   "SELECT (SELECT count(*) FROM a.\"b.c\") || ' ' || "
                   "(SELECT count(*) FROM \"a.b\".c)"),
            "5 7\n");
}

// MariaDB keys a table by its name alone within the database: a dot in it is no separator.
TEST(MysqlDottedNamesTest, TablesWhoseNamesHoldADotStayApart) {
  MariadbServer& my = MariadbServer::Shared();
  const std::string db = my.CreateDatabase();
  my.Sql(db,
         "CREATE TABLE `a.b` (x int); INSERT INTO `a.b` SELECT seq FROM seq_1_to_5;"
         "CREATE TABLE `a` (x int); INSERT INTO `a` SELECT seq FROM seq_1_to_7;");
  BackupApp app({"db"}, "\n[database]\ndriver = \"mysql\"\nport = " + std::to_string(my.port()) +
                            "\nuser = \"app\"\nname = \"" + db +
                            "\"\npassword_env = \"VELIN_TEST_DB_PASSWORD\"\n");
  RunResult r = app.Run({"backup", "create"}, WithDottedAppPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = app.Run({"backup", "ls", "latest", "db"}, WithDottedAppPassword());
  EXPECT_NE(r.out.find("table a.b: 5 rows"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("table a: 7 rows"), std::string::npos) << r.out;
  r = app.Run({"backup", "verify", "latest", "--restore-test"}, WithDottedAppPassword());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

// A server that is not there: said as PostgreSQL's is, not "Can't connect to server on
// '127.0.0.1' (115)".
TEST(MysqlAwkwardPasswordTest, AServerThatIsNotThereIsSaidSo) {
  const int port = FreeLoopbackPort();
  BackupApp app({"db"}, AwkwardMysqlSection(port, "shop"));
  RunResult r = app.Run({"backup", "create"}, WithAwkwardPassword());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("database 'shop' at 127.0.0.1:" + std::to_string(port) +
                       ": cannot connect (is the server running and accepting TCP/IP "
                       "connections?)"),
            std::string::npos)
      << r.err;
  const std::string everything = r.out + r.err + ReadFileOrDie(app.path("velin.log"));
  EXPECT_EQ(everything.find("AWKWARDTAIL"), std::string::npos) << everything;
}

}  // namespace
}  // namespace velin::testing
