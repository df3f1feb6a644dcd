// What a PostgreSQL database holds that belongs to the server, not to the application's user:
// - roles: a backup restored onto a server that lacks the roles its objects are granted to (a
//   new server after the old one was lost; a restore-test server) failed at the first GRANT
//   naming one. The backup records the roles (pg_shdepend); a restore creates the missing ones
//   without login, or, when the user may not, says which and how, before anything;
// - extensions a superuser installed (pgcrypto, citext): a restore by the application's user
//   failed at once ("must be owner of extension citext"), since --clean drops them. They are
//   now left as they are.
#include <gtest/gtest.h>
#include <unistd.h>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

const char* kRolesPasswordEnv = "VELIN_TEST_DB_PASSWORD";

RunOptions RolesPassword() {
  RunOptions o;
  o.env[kRolesPasswordEnv] = kAppPassword;
  return o;
}

class PostgresRolesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = pg().CreateDatabase();
    role_ = "velin_reader_" + std::to_string(::getpid());
    pg().Sql("postgres", "CREATE ROLE " + role_ + " NOLOGIN");
    pg().Sql(db_,
             "SET ROLE app; CREATE TABLE users (id int PRIMARY KEY, name text);"
             "INSERT INTO users SELECT i, 'user ' || i FROM generate_series(1, 50) i;"
             "GRANT SELECT ON users TO " +
                 role_ + ";");
  }
  void TearDown() override {
    pg().Sql("postgres", "ALTER ROLE app NOCREATEROLE");
    DropRole();
  }
  // The role gone from the server, as on a new one (its grants first).
  void DropRole() {
    pg().Sql("postgres", "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + role_ +
                             "') THEN EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM " +
                             role_ + "'; END IF; END $$;");
    pg().Sql(db_, "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + role_ +
                      "') THEN EXECUTE 'DROP OWNED BY " + role_ + "'; END IF; END $$;");
    pg().Sql("postgres", "DROP ROLE IF EXISTS " + role_);
  }
  std::string Section() const {
    return "\n[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nport = " +
           std::to_string(pg().port()) + "\nuser = \"app\"\nname = \"" + db_ +
           "\"\npassword_env = \"" + kRolesPasswordEnv + "\"\n";
  }
  static PostgresServer& pg() { return PostgresServer::Shared(); }
  std::string db_;
  std::string role_;
};

TEST_F(PostgresRolesTest, AMissingRoleIsNamedBeforeAnythingOrCreatedWithoutLogin) {
  BackupApp app({"db"}, Section());
  ASSERT_EQ(app.Run({"backup", "create"}, RolesPassword()).exit_code, 0);
  nlohmann::json list = app.Json({"backup", "list"}, 0, RolesPassword());
  ASSERT_EQ(list["backups"].size(), 1u);
  const std::string id = list["backups"][0]["id"];

  DropRole();
  const auto before = pg().TableDigests(db_);
  // The app's user may not create roles: the restore test and the restore say which role and
  // the SQL, exit 2, and leave the server as it was (no role, no temporary database).
  RunResult test = app.Run({"backup", "verify", id, "--restore-test"}, RolesPassword());
  EXPECT_EQ(test.exit_code, 2) << test.out << test.err;
  EXPECT_NE(test.err.find("roles this server does not have (" + role_ + ")"), std::string::npos)
      << test.err;
  EXPECT_NE(test.err.find("run `CREATE ROLE \"" + role_ + "\";`"), std::string::npos) << test.err;
  RunResult restore = app.Run({"backup", "restore", id, "--only", "db", "--yes"}, RolesPassword());
  EXPECT_EQ(restore.exit_code, 2) << restore.out << restore.err;
  EXPECT_NE(restore.err.find("nothing was changed"), std::string::npos) << restore.err;
  EXPECT_EQ(pg().Sql("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = '" + role_ + "'"),
            "0\n");
  EXPECT_EQ(pg().Sql("postgres",
                     "SELECT count(*) FROM pg_database WHERE datname LIKE 'velin_restore_test%'"),
            "0\n");
  EXPECT_EQ(pg().TableDigests(db_), before);

  // With CREATEROLE the role comes back without login, said in a warning, and its grant too.
  pg().Sql("postgres", "ALTER ROLE app CREATEROLE");
  RunResult restored = app.Run({"backup", "restore", id, "--only", "db", "--yes"}, RolesPassword());
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE(restored.err.find("created the roles " + role_ + " (without login and password)"),
            std::string::npos)
      << restored.err;
  EXPECT_EQ(
      pg().Sql("postgres", "SELECT rolcanlogin FROM pg_roles WHERE rolname = '" + role_ + "'"),
      "f\n");
  EXPECT_EQ(pg().Sql(db_, "SELECT has_table_privilege('" + role_ + "', 'users', 'SELECT')"), "t\n");
  EXPECT_EQ(pg().TableDigests(db_), before);
  RunResult again = app.Run({"backup", "verify", id, "--restore-test"}, RolesPassword());
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(again.err.find("created the roles"), std::string::npos) << "nothing is missing now";
}

TEST_F(PostgresRolesTest, ExtensionsASuperuserInstalledStayAndTheRestoreCompletes) {
  pg().Sql(db_, "CREATE EXTENSION citext; CREATE EXTENSION pgcrypto;");
  pg().Sql(db_,
           "SET ROLE app; CREATE TABLE tags (name citext PRIMARY KEY, h bytea);"
           "INSERT INTO tags VALUES ('Ruby', digest('Ruby', 'sha256')), ('Go', NULL);");
  BackupApp app({"db"}, Section());
  ASSERT_EQ(app.Run({"backup", "create"}, RolesPassword()).exit_code, 0);
  const auto before = pg().TableDigests(db_);
  pg().Sql(db_, "DELETE FROM tags; DROP TABLE users;");

  RunResult restored =
      app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, RolesPassword());
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(pg().TableDigests(db_), before);
  EXPECT_EQ(pg().Sql(db_, "SELECT count(*) FROM tags WHERE name = 'ruby'"), "1\n")
      << "citext compares as before";
  EXPECT_EQ(pg().Sql(db_,
                     "SELECT string_agg(extname || ':' || extowner::regrole::text, ',' ORDER BY "
                     "extname) FROM pg_extension WHERE extname <> 'plpgsql'"),
            "citext:postgres,pgcrypto:postgres\n");
  RunResult tested = app.Run({"backup", "verify", "latest", "--restore-test"}, RolesPassword());
  EXPECT_EQ(tested.exit_code, 0) << tested.out << tested.err;
}

}  // namespace
}  // namespace velin::testing
