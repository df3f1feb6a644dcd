// The real binary restoring a database where it is missing: the one --database-url names on a
// new machine (PostgreSQL and MariaDB), and a PostgreSQL database whose encoding is not the
// server's default, which a new database must be made with (docs/databases.md#postgresql).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

constexpr const char* kCreatePasswordEnv = "VELIN_TEST_DB_PASSWORD";

RunOptions CreatePassword() {
  RunOptions o;
  o.env[kCreatePasswordEnv] = kAppPassword;
  return o;
}

std::string CreatePgSection(int port, const std::string& db) {
  return "\n[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nport = " +
         std::to_string(port) + "\nuser = \"app\"\nname = \"" + db + "\"\npassword_env = \"" +
         kCreatePasswordEnv + "\"\n";
}

std::string CreateMysqlSection(int port, const std::string& db) {
  return "\n[database]\ndriver = \"mysql\"\nport = " + std::to_string(port) +
         "\nuser = \"app\"\nname = \"" + db + "\"\npassword_env = \"" + kCreatePasswordEnv + "\"\n";
}

// `velin backup restore latest --only db --database-url URL --yes` from an empty directory
// with the repository alone, as on a new machine.
RunResult RestoreMissingFromUrl(const BackupApp& app, const std::string& url,
                                const std::map<std::string, std::string>& env) {
  TempDir empty;
  RunOptions o;
  o.cwd = empty.path();
  o.unset_env = {"VELIN_CONFIG", "VELIN_PASSPHRASE"};
  o.env = env;
  o.env["VELIN_REPOSITORY"] = app.repo();
  return RunVelin(
      {"backup", "restore", "latest", "--all", "--only", "db", "--database-url", url, "--yes"}, o);
}

TEST(DatabaseUrlRestore, PostgresCreatesTheMissingDatabaseTheUrlNames) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string live = pg.CreateDatabase();
  pg.Sql(live,
         "SET ROLE app; CREATE TABLE orders (id int PRIMARY KEY, who text);"
         "INSERT INTO orders SELECT g, 'web1-' || g FROM generate_series(1, 40) g;");
  BackupApp app({"db"}, CreatePgSection(pg.port(), live));
  ASSERT_EQ(app.Run({"backup", "create"}, CreatePassword()).exit_code, 0);

  const std::string fresh = "dr" + live;  // not there: the new machine's server
  RunResult r = RestoreMissingFromUrl(
      app, "postgres://app@127.0.0.1:" + std::to_string(pg.port()) + "/" + fresh,
      {{"PGPASSWORD", kAppPassword}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(pg.TableDigests(fresh), pg.TableDigests(live));
  EXPECT_EQ(pg.Sql(fresh,
                   "SELECT pg_get_userbyid(datdba) FROM pg_database "
                   "WHERE datname = current_database()"),
            "app\n");

  // Again, now that it is there: restored in place as before.
  pg.Sql(fresh, "DELETE FROM orders WHERE id > 3");
  r = RestoreMissingFromUrl(app,
                            "postgres://app@127.0.0.1:" + std::to_string(pg.port()) + "/" + fresh,
                            {{"PGPASSWORD", kAppPassword}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(pg.TableDigests(fresh), pg.TableDigests(live));
}

TEST(DatabaseUrlRestore, MariadbCreatesTheMissingDatabaseTheUrlNames) {
  MariadbServer& my = MariadbServer::Shared();
  const std::string live = my.CreateDatabase();
  my.Sql(live,
         "CREATE TABLE orders (id int PRIMARY KEY, who text);"
         "INSERT INTO orders SELECT seq, CONCAT('web1-', seq) FROM seq_1_to_40;");
  BackupApp app({"db"}, CreateMysqlSection(my.port(), live));
  ASSERT_EQ(app.Run({"backup", "create"}, CreatePassword()).exit_code, 0);

  const std::string fresh = "dr" + live;
  RunResult r =
      RestoreMissingFromUrl(app, "mysql://app@127.0.0.1:" + std::to_string(my.port()) + "/" + fresh,
                            {{"MYSQL_PWD", kAppPassword}});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.TableDigests(fresh), my.TableDigests(live));
  my.Sql("", "DROP DATABASE " + fresh);
}

TEST(PostgresEncoding, RestoresIntoNewDatabasesKeepTheBackupsEncoding) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string db = "enc" + pg.CreateDatabase();
  // The server's default is UTF8; this database holds bytes that are no UTF8 ("caf\xe9").
  pg.Sql("postgres", "CREATE DATABASE " + db +
                         " OWNER app ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' "
                         "TEMPLATE template0");
  pg.Sql(db,
         "SET ROLE app; CREATE TABLE menu (id int PRIMARY KEY, name text);"
         "INSERT INTO menu VALUES (1, E'caf\\xe9'), (2, 'tea');");
  BackupApp app({"db"}, CreatePgSection(pg.port(), db));
  ASSERT_EQ(app.Run({"backup", "create"}, CreatePassword()).exit_code, 0);

  RunResult r = app.Run({"backup", "verify", "latest", "--restore-test"}, CreatePassword());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Database restore test passed"), std::string::npos) << r.out;
  EXPECT_EQ(pg.Sql("postgres",
                   "SELECT count(*) FROM pg_database WHERE datname LIKE 'velin_restore_test%'"),
            "0\n");

  const std::string copy = db + "_copy";
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", copy},
              CreatePassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(pg.TableDigests(copy), pg.TableDigests(db));
  EXPECT_EQ(pg.Sql("postgres",
                   "SELECT pg_encoding_to_char(encoding), datcollate FROM "
                   "pg_database WHERE datname = '" +
                       copy + "'"),
            "SQL_ASCII|C\n");

  // A restore that fails into a database it created leaves none behind (no pg_restore here).
  TempDir no_tools;
  RunOptions without = CreatePassword();
  without.env["PATH"] = no_tools.path();
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", copy + "2"}, without);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("pg_restore not found"), std::string::npos) << r.err;
  EXPECT_EQ(pg.Sql("postgres", "SELECT count(*) FROM pg_database WHERE datname = '" + copy + "2'"),
            "0\n");
}

// The database's own settings, comment and grants, which pg_restore restores only with
// --create: a database the restore makes gets them, renamed to it. Before, PUBLIC could connect
// to it again where the backup's database had REVOKE CONNECT … FROM PUBLIC.
TEST(PostgresNewDatabase, GetsTheBackupDatabasesGrantsCommentAndSettings) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string db = pg.CreateDatabase();
  const std::string reader = "rep_" + db;
  pg.Sql("postgres", "CREATE ROLE " + reader + " NOLOGIN");
  pg.Sql(db, "ALTER DATABASE " + db + " SET search_path = app, public");
  pg.Sql(db, "ALTER ROLE " + reader + " IN DATABASE " + db + " SET work_mem = '16MB'");
  pg.Sql(db, "COMMENT ON DATABASE " + db + " IS 'the shop''s DATABASE " + db + "'");
  pg.Sql(db, "REVOKE CONNECT, TEMPORARY ON DATABASE " + db + " FROM PUBLIC");
  pg.Sql(db, "GRANT CONNECT ON DATABASE " + db + " TO " + reader);
  pg.Sql(db,
         "SET ROLE app; CREATE SCHEMA app; CREATE TABLE app.big (id int PRIMARY KEY);"
         "INSERT INTO app.big VALUES (1), (2);");
  BackupApp app({"db"}, CreatePgSection(pg.port(), db));
  ASSERT_EQ(app.Run({"backup", "create"}, CreatePassword()).exit_code, 0);

  const std::string copy = db + "_new";
  RunResult r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", copy},
                        CreatePassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(pg.TableDigests(copy), pg.TableDigests(db));
  const auto acl = [&](const std::string& name) {
    return pg.Sql("postgres",
                  "SELECT array_to_string(ARRAY(SELECT a::text FROM pg_database d, "
                  "unnest(d.datacl) a WHERE d.datname = '" +
                      name + "' ORDER BY 1), ',')");
  };
  const std::string copied = acl(copy);
  EXPECT_EQ(copied.find("=Tc/"), std::string::npos) << copied;  // no grant to PUBLIC
  EXPECT_NE(copied.find(reader + "=c/"), std::string::npos) << copied;
  EXPECT_EQ(copied, acl(db));
  EXPECT_EQ(pg.Sql("postgres",
                   "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                   "WHERE datname = '" +
                       copy + "'"),
            "the shop's DATABASE " + db + "\n");
  EXPECT_EQ(pg.Sql("postgres",
                   "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting s "
                   "JOIN pg_database d ON d.oid = s.setdatabase "
                   "WHERE d.datname = '" +
                       copy + "' AND s.setrole = 0"),
            "search_path=app, public\n");
  // ALTER ROLE … IN DATABASE takes CREATEROLE, which app has not: named in a warning.
  EXPECT_NE(r.err.find("ALTER ROLE " + reader + " IN DATABASE " + copy), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace velin::testing
