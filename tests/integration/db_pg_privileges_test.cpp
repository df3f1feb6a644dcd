// The real binary and PostgreSQL privileges: a restore in place gives the objects it makes
// again the backup's grants, not the default privileges the live database has gained since
// (ALTER DEFAULT PRIVILEGES), and a dump that row-level security stops says what to do
// (docs/databases.md#postgresql).
#include <gtest/gtest.h>

#include <string>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

constexpr const char* kPrivilegesPasswordEnv = "VELIN_TEST_DB_PASSWORD";

RunOptions PrivilegesPassword() {
  RunOptions o;
  o.env[kPrivilegesPasswordEnv] = kAppPassword;
  return o;
}

std::string PrivilegesPgSection(int port, const std::string& db) {
  return "\n[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nport = " +
         std::to_string(port) + "\nuser = \"app\"\nname = \"" + db + "\"\npassword_env = \"" +
         kPrivilegesPasswordEnv + "\"\n";
}

TEST(PostgresInPlaceRestore, DefaultPrivilegesAddedSinceDoNotReachTheRestoredObjects) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string db = pg.CreateDatabase();
  const std::string reader = "rd_" + db, writer = "wr_" + db;
  pg.Sql("postgres", "CREATE ROLE " + reader + " NOLOGIN");
  pg.Sql("postgres", "CREATE ROLE " + writer + " NOLOGIN");
  pg.Sql(db,
         "SET ROLE app; CREATE SCHEMA app; CREATE TABLE app.big (id int PRIMARY KEY);"
         "INSERT INTO app.big VALUES (1), (2);"
         "CREATE FUNCTION app.touch() RETURNS int LANGUAGE sql AS 'SELECT 1';");
  BackupApp app({"db"}, PrivilegesPgSection(pg.port(), db));
  ASSERT_EQ(app.Run({"backup", "create"}, PrivilegesPassword()).exit_code, 0);
  const std::string grants_sql =
      "SELECT coalesce((SELECT relacl::text FROM pg_class WHERE oid = 'app.big'::regclass), '-'),"
      "coalesce((SELECT proacl::text FROM pg_proc WHERE oid = 'app.touch'::regproc), '-')";
  const std::string backed_up = pg.Sql(db, grants_sql);

  const std::string defaults =
      "SET ROLE app; ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO " + reader +
      "; ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO " + writer + ";";
  pg.Sql(db, defaults);
  const std::string defaults_sql =
      "SELECT defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1";
  const std::string live_defaults = pg.Sql(db, defaults_sql);
  RunResult r =
      app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, PrivilegesPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(pg.Sql(db, grants_sql), backed_up);
  EXPECT_EQ(pg.Sql(db, "SELECT count(*) FROM app.big"), "2\n");
  EXPECT_EQ(pg.Sql(db, defaults_sql), live_defaults);  // the database's stay as they are

  // A backup taken with them: a table made since has the grant, and keeps it; the older one
  // still has none.
  pg.Sql(db, "SET ROLE app; CREATE TABLE app.newer (id int)");
  const std::string newer_sql =
      "SELECT relacl::text FROM pg_class WHERE oid = 'app.newer'::regclass";
  const std::string newer = pg.Sql(db, newer_sql);
  ASSERT_NE(newer.find(reader + "=r/app"), std::string::npos) << newer;
  ASSERT_EQ(app.Run({"backup", "create"}, PrivilegesPassword()).exit_code, 0);
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, PrivilegesPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(pg.Sql(db, newer_sql), newer);
  EXPECT_EQ(pg.Sql(db, grants_sql), backed_up);
  EXPECT_EQ(pg.Sql(db, defaults_sql), live_defaults);
}

TEST(PostgresRowSecurity, ADumpThatForcedRowSecurityStopsSaysWhatToDo) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string db = pg.CreateDatabase();
  pg.Sql(db,
         "SET ROLE app; CREATE TABLE rls (id int, owner text); INSERT INTO rls VALUES (1, 'x');"
         "ALTER TABLE rls ENABLE ROW LEVEL SECURITY; ALTER TABLE rls FORCE ROW LEVEL SECURITY;"
         "CREATE POLICY mine ON rls USING (owner = current_user);");
  BackupApp app({"db"}, PrivilegesPgSection(pg.port(), db));
  RunResult r = app.Run({"backup", "create"}, PrivilegesPassword());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("row-level security would hide rows of public.rls from app"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("BYPASSRLS"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("NO FORCE ROW LEVEL SECURITY"), std::string::npos) << r.err;

  // As the hint says: the backup goes through.
  pg.Sql(db, "ALTER TABLE rls NO FORCE ROW LEVEL SECURITY");
  r = app.Run({"backup", "create"}, PrivilegesPassword());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace velin::testing
