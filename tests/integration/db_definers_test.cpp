// MariaDB: what the application's account cannot vouch for in a dump or a restore.
// A backup whose views and triggers another account defined (a DBA, a migration tool),
// restored as the application's account: the server wants SET USER for each such DEFINER, and
// the client, which cannot roll back, stopped half way with the tables replaced and the trigger
// and view gone. The backup records the definers; a restore that the account may not complete
// is refused before it touches anything.
#include <gtest/gtest.h>
#include <unistd.h>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

class MariadbDefinersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = my().CreateDatabase();
    const std::string pid = std::to_string(::getpid());
    limited_ = "velin_limited_" + pid;
    definer_ = "velin_definer_" + pid;
    my().Sql(db_, "CREATE USER '" + limited_ + "'@'%' IDENTIFIED BY '" + kAppPassword +
                      "'; GRANT ALL PRIVILEGES ON `" + db_ + "`.* TO '" + limited_ +
                      "'@'%'; CREATE USER '" + definer_ +
                      "'@'localhost'; GRANT ALL PRIVILEGES ON `" + db_ + "`.* TO '" + definer_ +
                      "'@'localhost';"
                      "CREATE TABLE t (id int PRIMARY KEY, v text);"
                      "INSERT INTO t VALUES (1, 'a'), (2, 'b');"
                      "CREATE DEFINER = '" +
                      definer_ + "'@'localhost' VIEW v AS SELECT * FROM t;" + "CREATE DEFINER = '" +
                      definer_ +
                      "'@'localhost' TRIGGER tr BEFORE INSERT ON t FOR EACH ROW "
                      "SET NEW.v = UPPER(NEW.v);");
  }
  void TearDown() override {
    my().Sql("", "DROP USER IF EXISTS '" + limited_ + "'@'%', '" + definer_ + "'@'localhost'");
  }
  std::string Section() const {
    return "\n[database]\ndriver = \"mysql\"\nhost = \"127.0.0.1\"\nport = " +
           std::to_string(my().port()) + "\nuser = \"" + limited_ + "\"\nname = \"" + db_ +
           "\"\npassword_env = \"VELIN_TEST_DB_PASSWORD\"\n";
  }
  static RunOptions Password() {
    RunOptions o;
    o.env["VELIN_TEST_DB_PASSWORD"] = kAppPassword;
    return o;
  }
  static MariadbServer& my() { return MariadbServer::Shared(); }
  std::string db_, limited_, definer_;
};

TEST_F(MariadbDefinersTest, ARestoreTheAccountCannotCompleteIsRefusedBeforeItStarts) {
  BackupApp app({"db"}, Section());
  RunResult made = app.Run({"backup", "create"}, Password());
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  my().Sql(db_, "INSERT INTO t VALUES (3, 'c')");
  const auto before = my().TableDigests(db_);

  RunResult refused = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, Password());
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("defined by " + definer_ + "@localhost, and " + limited_ +
                             "@% may not create them for another account"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("nothing was changed"), std::string::npos) << refused.err;
  EXPECT_EQ(my().TableDigests(db_), before) << "row 3 is still there: nothing was restored";
  EXPECT_EQ(my().Sql(db_,
                     "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE "
                     "TRIGGER_SCHEMA = DATABASE()"),
            "1\n");

  // With SET USER the same restore completes: the rows of the backup, the trigger, the view.
  my().Sql("", "GRANT SET USER ON *.* TO '" + limited_ + "'@'%'");
  RunResult restored =
      app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, Password());
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(my().Sql(db_, "SELECT COUNT(*) FROM t"), "2\n");
  EXPECT_EQ(my().Sql(db_, "SELECT COUNT(*) FROM v"), "2\n");
  my().Sql(db_, "INSERT INTO t VALUES (4, 'd')");
  EXPECT_EQ(my().Sql(db_, "SELECT v FROM t WHERE id = 4"), "D\n") << "the trigger is back";
}

// --single-transaction gives one moment for InnoDB tables only: a MyISAM or Aria table is
// dumped as it is when read. Said at every backup, naming them (MEMORY tables are not: their
// rows do not outlive a restart anyway).
TEST_F(MariadbDefinersTest, TablesWithoutTransactionsAreNamedInAWarning) {
  BackupApp app({"db"}, Section());
  RunResult quiet = app.Run({"backup", "create"}, Password());
  ASSERT_EQ(quiet.exit_code, 0) << quiet.out << quiet.err;
  EXPECT_EQ(quiet.err.find("without transactions"), std::string::npos) << quiet.err;
  my().Sql(db_,
           "CREATE TABLE legacy (id int) ENGINE = MyISAM; CREATE TABLE aria (id int) ENGINE = "
           "Aria; CREATE TABLE scratch (id int) ENGINE = MEMORY;");
  RunResult warned = app.Run({"backup", "create"}, Password());
  ASSERT_EQ(warned.exit_code, 0) << warned.out << warned.err;
  EXPECT_NE(warned.err.find("tables of an engine without transactions (aria (Aria), legacy "
                            "(MyISAM)): the dump holds each as it was when it was read"),
            std::string::npos)
      << warned.err;
  EXPECT_EQ(warned.err.find("scratch"), std::string::npos) << warned.err;
}

// A new server has none of the old one's accounts: the restore creates the view and trigger
// with a definer that does not exist, which fail when used (1449). Before, exit 0 and nothing
// said so; now a warning names the account and the CREATE USER to run.
TEST_F(MariadbDefinersTest, ADefinerTheServerHasNoAccountForIsNamedInAWarning) {
  BackupApp app({"db"}, Section());
  RunResult made = app.Run({"backup", "create"}, Password());
  ASSERT_EQ(made.exit_code, 0) << made.out << made.err;
  my().Sql("", "DROP USER '" + definer_ + "'@'localhost'; GRANT SET USER ON *.* TO '" + limited_ +
                   "'@'%'; GRANT SELECT ON mysql.user TO '" + limited_ + "'@'%'");
  RunResult restored =
      app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, Password());
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE(restored.err.find("defined by " + definer_ +
                              "@localhost, which this server has no account for"),
            std::string::npos)
      << restored.err;
  EXPECT_NE(restored.err.find("CREATE USER '" + definer_ + "'@'localhost';"), std::string::npos)
      << restored.err;
  EXPECT_EQ(my().Sql(db_, "SELECT COUNT(*) FROM t"), "2\n");

  // The account back: no warning.
  my().Sql("", "CREATE USER '" + definer_ + "'@'localhost'; GRANT ALL PRIVILEGES ON `" + db_ +
                   "`.* TO '" + definer_ + "'@'localhost'");
  RunResult again = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, Password());
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(again.err.find("which this server has no account for"), std::string::npos) << again.err;
  EXPECT_EQ(my().Sql(db_, "SELECT COUNT(*) FROM v"), "2\n");
}

}  // namespace
}  // namespace velin::testing
