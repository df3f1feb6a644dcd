// The real binary and MariaDB's client side: a database whose name starts with a dash (read as
// options by mariadb-dump before), and the password in ~/.my.cnf (docs/databases.md).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

constexpr const char* kClientPasswordEnv = "VELIN_TEST_DB_PASSWORD";

RunOptions ClientPassword() {
  RunOptions o;
  o.env[kClientPasswordEnv] = kAppPassword;
  return o;
}

std::string ClientMysqlSection(int port, const std::string& db, bool with_password = true) {
  return "\n[database]\ndriver = \"mysql\"\nport = " + std::to_string(port) +
         "\nuser = \"app\"\nname = \"" + db + "\"\n" +
         (with_password ? std::string("password_env = \"") + kClientPasswordEnv + "\"\n" : "");
}

TEST(MariadbOddNames, ADatabaseWhoseNameStartsWithADashIsBackedUpAndRestored) {
  MariadbServer& my = MariadbServer::Shared();
  const std::string db = "-s" + my.CreateDatabase();
  my.Sql("", "CREATE DATABASE `" + db + "`");
  my.Sql(db, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2), (3);");
  BackupApp app({"db"}, ClientMysqlSection(my.port(), db));
  RunResult r = app.Run({"backup", "create"}, ClientPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto before = my.TableDigests(db);
  my.Sql(db, "DELETE FROM t WHERE id > 1");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, ClientPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.TableDigests(db), before);
  r = app.Run({"backup", "verify", "latest", "--restore-test"}, ClientPassword());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  my.Sql("", "DROP DATABASE `" + db + "`");
}

TEST(MariadbOptionFile, ThePasswordInMyCnfServesVelinAndItsTools) {
  MariadbServer& my = MariadbServer::Shared();
  const std::string db = my.CreateDatabase();
  my.Sql(db, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);");
  TempDir home;
  WriteFile(home / ".my.cnf", std::string("[client]\npassword=\"") + kAppPassword + "\"\n", 0600);
  BackupApp app({"db"}, ClientMysqlSection(my.port(), db, false));
  RunOptions o;
  o.env["HOME"] = home.path();
  o.unset_env = {"MYSQL_PWD"};
  RunResult r = app.Run({"backup", "create"}, o);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  my.Sql(db, "DELETE FROM t");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, o);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.Sql(db, "SELECT count(*) FROM t"), "2\n");
}

}  // namespace
}  // namespace velin::testing
