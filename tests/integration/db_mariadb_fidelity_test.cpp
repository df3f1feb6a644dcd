// The real binary and MariaDB objects a plain dump | client round trip loses or refuses: a
// table whose default draws from a sequence (its LOCK TABLES refused the insert, and its
// default named the original database), system-versioned tables (their history), a database's
// character set (the server's default was taken), and what a restore that fails part way says
// (docs/databases.md#mariadb-mysql).
#include <gtest/gtest.h>

#include <string>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

TEST(MariadbFidelity, ATableWhoseDefaultIsASequenceRestoresWithItsRowsAndItsOwnSequence) {
  MariadbServer& my = MariadbServer::Shared();
  MariadbDatabasesDropped dbs(my);
  // A name that needs quoting, as the sequence default's qualifier.
  const std::string live = dbs.Add("shop-`x" + my.CreateDatabase());
  my.Sql("", "CREATE DATABASE " + MariadbBackquote(live));
  my.Sql(live,
         "CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1), (2);"
         "CREATE SEQUENCE s1; CREATE TABLE u (id INT DEFAULT NEXTVAL(s1), v INT);"
         "INSERT INTO u(v) VALUES (1), (2), (3);");
  BackupApp app({"db"}, DbTestMysqlSection(my.port(), live));
  RunResult r = app.Run({"backup", "create"}, DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  r = app.Run({"backup", "verify", "latest", "--restore-test"}, DbTestPassword());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  const std::string rows = "1\t1\n2\t2\n3\t3\n";
  my.Sql(live, "DELETE FROM u; DELETE FROM a");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.Sql(live, "SELECT id, v FROM u ORDER BY id"), rows);
  EXPECT_EQ(my.Sql(live, "SELECT id FROM a ORDER BY id"), "1\n2\n");

  // Under another name the restored table draws from the restored sequence, not the live one.
  const std::string copy = dbs.Add(live + "_copy");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", copy, "--yes"},
              DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.Sql(copy, "SELECT id, v FROM u ORDER BY id"), rows);
  const std::string created = my.Sql(copy, "SHOW CREATE TABLE u");
  EXPECT_NE(created.find("nextval(" + MariadbBackquote(copy) + ".`s1`)"), std::string::npos)
      << created;
  const std::string live_next = my.Sql(live, "SELECT NEXTVAL(s1)");
  my.Sql(copy, "INSERT INTO u(v) VALUES (4)");
  EXPECT_EQ(my.Sql(live, "SELECT NEXTVAL(s1)"), std::to_string(std::stoll(live_next) + 1) + "\n");
}

TEST(MariadbFidelity, ARestoreThatFailsPartWaySaysTheDatabaseIsLeftPartlyRestored) {
  MariadbServer& my = MariadbServer::Shared();
  const std::string db = my.CreateDatabase();
  MariadbDatabasesDropped dbs(my);
  dbs.Add(db);
  my.Sql(db,
         "CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1), (2);"
         "CREATE TABLE b (id int PRIMARY KEY); INSERT INTO b VALUES (3);");
  BackupApp app({"db"}, DbTestMysqlSection(my.port(), db));
  ASSERT_EQ(app.Run({"backup", "create"}, DbTestPassword()).exit_code, 0);
  // A view where the backup has table b: its DROP TABLE IF EXISTS passes, its CREATE TABLE is
  // refused, after table a was restored.
  my.Sql(db, "DELETE FROM a; DROP TABLE b; CREATE VIEW b AS SELECT 1 AS one");
  RunResult r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, DbTestPassword());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("left partly restored"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1050"), std::string::npos) << r.err;
  EXPECT_EQ(my.Sql(db, "SELECT id FROM a ORDER BY id"), "1\n2\n");  // what the message says
}

TEST(MariadbFidelity, SystemVersionedTablesKeepTheirHistory) {
  MariadbServer& my = MariadbServer::Shared();
  const std::string db = my.CreateDatabase();
  MariadbDatabasesDropped dbs(my);
  dbs.Add(db);
  my.Sql(db,
         "CREATE TABLE vers (id INT PRIMARY KEY, v INT) WITH SYSTEM VERSIONING;"
         "INSERT INTO vers VALUES (1, 1), (2, 2); UPDATE vers SET v = v + 10;"
         "CREATE TABLE vm (id INT, v INT) ENGINE=MyISAM WITH SYSTEM VERSIONING;"
         "INSERT INTO vm VALUES (1, 1); UPDATE vm SET v = 5;"
         "CREATE TABLE plain (id INT); INSERT INTO plain VALUES (7);");
  const std::string history_sql =
      "SELECT id, v, row_start, row_end FROM vers FOR SYSTEM_TIME ALL ORDER BY 1, 3;"
      "SELECT id, v, row_start, row_end FROM vm FOR SYSTEM_TIME ALL ORDER BY 1, 3";
  const std::string history = my.Sql(db, history_sql);
  BackupApp app({"db"}, DbTestMysqlSection(my.port(), db));
  RunResult r = app.Run({"backup", "create"}, DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The MyISAM one is named by the warning about engines without transactions.
  EXPECT_NE(r.err.find("vm (MyISAM)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("history"), std::string::npos) << r.err;
  const nlohmann::json list = app.Json({"backup", "list"}, 0, DbTestPassword());
  const nlohmann::json& stream = list["backups"][0]["streams"]["db"];
  EXPECT_EQ(stream["history_tables"], nlohmann::json({"vers", "vm"})) << stream.dump();
  EXPECT_EQ(stream["tables"],
            nlohmann::json::parse(R"([{"name": "plain", "rows": 1}, {"name": "vers", "rows": 4},
                                      {"name": "vm", "rows": 2}])"))
      << stream.dump();

  r = app.Run({"backup", "verify", "latest", "--restore-test"}, DbTestPassword());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  const std::string copy = dbs.Add(db + "_copy");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", copy, "--yes"},
              DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.Sql(copy, history_sql), history);

  my.Sql(db, "DELETE FROM vers; DELETE HISTORY FROM vers; DELETE FROM vm");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.Sql(db, history_sql), history);
}

TEST(MariadbFidelity, ADatabaseTheRestoreCreatesHasTheBackupsCharacterSet) {
  MariadbServer& my = MariadbServer::Shared();
  MariadbDatabasesDropped dbs(my);
  // The test server's default is latin1.
  const std::string db = dbs.Add("cs" + my.CreateDatabase());
  my.Sql("", "CREATE DATABASE " + db + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
  my.Sql(db,
         "CREATE FUNCTION f2(s VARCHAR(20)) RETURNS VARCHAR(20) DETERMINISTIC RETURN s;"
         "CREATE TABLE t (id int PRIMARY KEY, s varchar(20));"
         "INSERT INTO t VALUES (1, CONVERT(UNHEX('636166C3A920F09F9880') USING utf8mb4));");
  BackupApp app({"db"}, DbTestMysqlSection(my.port(), db));
  ASSERT_EQ(app.Run({"backup", "create"}, DbTestPassword()).exit_code, 0);
  const nlohmann::json list = app.Json({"backup", "list"}, 0, DbTestPassword());
  const nlohmann::json& stream = list["backups"][0]["streams"]["db"];
  EXPECT_EQ(stream.value("character_set", ""), "utf8mb4") << stream.dump();
  EXPECT_EQ(stream.value("collation", ""), "utf8mb4_unicode_ci") << stream.dump();

  const std::string copy = dbs.Add(db + "_copy");
  RunResult r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", copy},
                        DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.Sql("",
                   "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
                   "information_schema.SCHEMATA WHERE SCHEMA_NAME = '" +
                       copy + "'"),
            "utf8mb4\tutf8mb4_unicode_ci\n");
  EXPECT_EQ(my.Sql(copy, "SELECT HEX(f2(s)) FROM t"), my.Sql(db, "SELECT HEX(s) FROM t"));
}

}  // namespace
}  // namespace velin::testing
