// The real binary and `verify --restore-test` run by an application's own database account,
// which may not create databases: the error gives the statement that lets it (and that
// statement, run as the line gives it, does) (docs/databases.md#restore-test). The same for
// `backup restore --only db --database NEW`, which creates NEW: before, that said only the
// server's words ("permission denied to create database", "Access denied").
#include <gtest/gtest.h>

#include <string>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

// The statement an error line offers "as a superuser: …;" / "as an administrator: …;".
std::string RightsStatementIn(const std::string& err, const std::string& after) {
  const size_t from = err.find(after);
  if (from == std::string::npos) return "";
  const size_t start = from + after.size();
  const size_t end = err.find(";)", start);
  if (end == std::string::npos) return "";
  return err.substr(start, end - start + 1);
}

std::string RightsSection(const std::string& driver, int port, const std::string& user,
                          const std::string& db) {
  return "\n[database]\ndriver = \"" + driver +
         "\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) + "\nuser = \"" + user +
         "\"\nname = \"" + db + "\"\npassword_env = \"" + kDbTestPasswordEnv + "\"\n";
}

// A login role that owns `db` (with a two-row table t) and may not create databases.
void GiveToRoleWithoutCreatedb(PostgresServer& pg, const std::string& db, const std::string& role) {
  pg.Sql("postgres", "CREATE ROLE " + role + " LOGIN PASSWORD '" + kAppPassword + "'");
  pg.Sql("postgres", "ALTER DATABASE " + db + " OWNER TO " + role);
  pg.Sql(db, "SET ROLE " + role + "; CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2);");
}

// An account with every right on `db` (given a two-row table t) and none elsewhere.
void GiveToAccountWithRightsOnItOnly(MariadbServer& my, const std::string& db,
                                     const std::string& account) {
  my.Sql("", "CREATE USER " + account + " IDENTIFIED BY '" + std::string(kAppPassword) +
                 "'; GRANT ALL ON " + db + ".* TO " + account);
  my.Sql(db, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);");
}

// Drops the PostgreSQL database and role a test made, also when it fails.
struct PgRoleDropped {
  PostgresServer& pg;
  std::string db, role;
  ~PgRoleDropped() {
    try {
      pg.Sql("postgres", "DROP DATABASE IF EXISTS " + db);
      pg.Sql("postgres", "DROP ROLE IF EXISTS " + role);
    } catch (...) {
    }
  }
};

TEST(RestoreTestRights, PostgresRoleWithoutCreatedbIsToldTheStatementThatLetsIt) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string db = pg.CreateDatabase();
  const std::string role = "lim_" + db;
  PgRoleDropped dropped{pg, db, role};
  GiveToRoleWithoutCreatedb(pg, db, role);
  BackupApp app({"db"}, RightsSection("postgresql", pg.port(), role, db));
  ASSERT_EQ(app.Run({"backup", "create"}, DbTestPassword()).exit_code, 0);

  RunResult refused = app.Run({"backup", "verify", "latest", "--restore-test"}, DbTestPassword());
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("permission denied to create database"), std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("--restore-test-server"), std::string::npos) << refused.err;
  const std::string statement = RightsStatementIn(refused.err, "as a superuser: ");
  ASSERT_EQ(statement, "ALTER ROLE \"" + role + "\" CREATEDB;") << refused.err;

  pg.Sql("postgres", statement);
  RunResult passed = app.Run({"backup", "verify", "latest", "--restore-test"}, DbTestPassword());
  EXPECT_EQ(passed.exit_code, 0) << passed.out << passed.err;
  EXPECT_NE(passed.out.find("Database restore test passed"), std::string::npos) << passed.out;
}

// Drops a PostgreSQL database a restore made, also when the test fails (before its owner).
struct PgNewDatabaseDropped {
  PostgresServer& pg;
  std::string db;
  ~PgNewDatabaseDropped() {
    try {
      pg.Sql("postgres", "DROP DATABASE IF EXISTS " + db);
    } catch (...) {
    }
  }
};

TEST(RestoreTestRights, PostgresRestoreIntoANewNameWithoutCreatedbIsToldTheStatementThatLetsIt) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string db = pg.CreateDatabase();
  const std::string role = "lim_" + db;
  PgRoleDropped dropped{pg, db, role};
  const std::string copy = db + "_copy";
  PgNewDatabaseDropped copy_dropped{pg, copy};
  GiveToRoleWithoutCreatedb(pg, db, role);
  BackupApp app({"db"}, RightsSection("postgresql", pg.port(), role, db));
  ASSERT_EQ(app.Run({"backup", "create"}, DbTestPassword()).exit_code, 0);

  const std::vector<std::string> restore = {"backup", "restore",    "latest", "--only",
                                            "db",     "--database", copy,     "--yes"};
  RunResult refused = app.Run(restore, DbTestPassword());
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("cannot create database '" + copy +
                             "': permission denied to create database: a restore into a "
                             "database that does not exist creates it"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("or create it for the user first (as a superuser: CREATE DATABASE \"" +
                             copy + "\" OWNER \"" + role + "\";)"),
            std::string::npos)
      << refused.err;
  const std::string statement = RightsStatementIn(refused.err, "as a superuser: ");
  ASSERT_EQ(statement, "ALTER ROLE \"" + role + "\" CREATEDB;") << refused.err;

  pg.Sql("postgres", statement);
  RunResult passed = app.Run(restore, DbTestPassword());
  EXPECT_EQ(passed.exit_code, 0) << passed.out << passed.err;
  EXPECT_EQ(pg.Sql(copy, "SELECT count(*) FROM t"), "2\n");
  EXPECT_NE(passed.out.find("Database restored into '" + copy +
                            "' at 127.0.0.1:" + std::to_string(pg.port()) + "\n"),
            std::string::npos)
      << passed.out;
}

// Drops the MariaDB account a test made, also when it fails.
struct MariadbAccountDropped {
  MariadbServer& my;
  std::string account;
  ~MariadbAccountDropped() {
    try {
      my.Sql("", "DROP USER IF EXISTS " + account);
    } catch (...) {
    }
  }
};

TEST(RestoreTestRights, MariadbAccountWithRightsOnItsDatabaseOnlyIsToldTheGrantThatLetsIt) {
  MariadbServer& my = MariadbServer::Shared();
  MariadbDatabasesDropped databases(my);
  const std::string db = databases.Add(my.CreateDatabase());
  const std::string user = "lim_" + db;
  const std::string account = "'" + user + "'@'%'";
  MariadbAccountDropped dropped{my, account};
  GiveToAccountWithRightsOnItOnly(my, db, account);
  BackupApp app({"db"}, RightsSection("mysql", my.port(), user, db));
  ASSERT_EQ(app.Run({"backup", "create"}, DbTestPassword()).exit_code, 0);

  RunResult refused = app.Run({"backup", "verify", "latest", "--restore-test"}, DbTestPassword());
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("Access denied"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--restore-test-server"), std::string::npos) << refused.err;
  const std::string statement = RightsStatementIn(refused.err, "as an administrator: ");
  ASSERT_EQ(statement, "GRANT ALL ON `velin\\_restore\\_test\\_%`.* TO " + account + ";")
      << refused.err;

  my.Sql("", statement);
  RunResult passed = app.Run({"backup", "verify", "latest", "--restore-test"}, DbTestPassword());
  EXPECT_EQ(passed.exit_code, 0) << passed.out << passed.err;
  EXPECT_NE(passed.out.find("Database restore test passed"), std::string::npos) << passed.out;
}

TEST(RestoreTestRights, MariadbRestoreIntoANewNameWithRightsOnItsDatabaseOnlyIsToldTheGrant) {
  MariadbServer& my = MariadbServer::Shared();
  MariadbDatabasesDropped databases(my);
  const std::string db = databases.Add(my.CreateDatabase());
  const std::string copy = databases.Add(db + "_copy");
  const std::string user = "lim_" + db;
  const std::string account = "'" + user + "'@'%'";
  MariadbAccountDropped dropped{my, account};
  GiveToAccountWithRightsOnItOnly(my, db, account);
  BackupApp app({"db"}, RightsSection("mysql", my.port(), user, db));
  ASSERT_EQ(app.Run({"backup", "create"}, DbTestPassword()).exit_code, 0);

  const std::vector<std::string> restore = {"backup", "restore",    "latest", "--only",
                                            "db",     "--database", copy,     "--yes"};
  RunResult refused = app.Run(restore, DbTestPassword());
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("cannot create database '" + copy + "': Access denied"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("a restore into a database that does not exist creates it"),
            std::string::npos)
      << refused.err;
  // The grant names that database only: its _ escaped, not a wildcard.
  std::string pattern;
  for (char c : copy) pattern += c == '_' ? std::string("\\_") : std::string(1, c);
  const std::string statement = RightsStatementIn(refused.err, "as an administrator: ");
  ASSERT_EQ(statement, "GRANT ALL ON `" + pattern + "`.* TO " + account + ";") << refused.err;

  my.Sql("", statement);
  RunResult passed = app.Run(restore, DbTestPassword());
  EXPECT_EQ(passed.exit_code, 0) << passed.out << passed.err;
  EXPECT_EQ(my.Sql(copy, "SELECT count(*) FROM t"), "2\n");
  EXPECT_NE(passed.out.find("Database restored into '" + copy +
                            "' at 127.0.0.1:" + std::to_string(my.port()) + "\n"),
            std::string::npos)
      << passed.out;
}

}  // namespace
}  // namespace velin::testing
