// The real binary restoring with `--database NAME` on a server whose messages are German
// (lc_messages): whether NAME is missing is asked of the server's catalog, not read from its
// error's English words. Before, a missing database on such a server was taken for one that may
// hold data: the restore asked (without a terminal: exit 2). A database holding tables is still
// asked about. The server's lc_messages is set for this test's own server process (each test
// runs in its own process, with its own server) and set back at the end, also on failure.
#include <gtest/gtest.h>

#include <string>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

// PostgreSQL speaking German until it goes out of scope (ALTER SYSTEM, reloaded: new sessions,
// the connection's own startup errors among them). `german` false: the locale is missing.
struct GermanPostgres {
  explicit GermanPostgres(PostgresServer& pg) : pg(pg) {
    try {
      pg.Sql("postgres", "ALTER SYSTEM SET lc_messages = 'de_DE.UTF-8'");
      pg.Sql("postgres", "SELECT pg_reload_conf()");
      german = true;
    } catch (const std::runtime_error&) {
    }
  }
  ~GermanPostgres() {
    try {
      pg.Sql("postgres", "ALTER SYSTEM RESET lc_messages");
      pg.Sql("postgres", "SELECT pg_reload_conf()");
    } catch (...) {
    }
  }
  // What a connection to the missing database `name` is told.
  std::string MissingError(const std::string& name) {
    try {
      pg.Sql(name, "SELECT 1");
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }
  PostgresServer& pg;
  bool german = false;
};

// MariaDB speaking German until it goes out of scope (SET GLOBAL lc_messages, as it was after).
struct GermanMariadb {
  explicit GermanMariadb(MariadbServer& my) : my(my) {
    try {
      before = my.Sql("", "SELECT @@GLOBAL.lc_messages");
      while (!before.empty() && before.back() == '\n') before.pop_back();
      my.Sql("", "SET GLOBAL lc_messages = 'de_DE'");
      german = true;
    } catch (const std::runtime_error&) {
    }
  }
  ~GermanMariadb() {
    if (!german) return;
    try {
      my.Sql("", "SET GLOBAL lc_messages = '" + before + "'");
    } catch (...) {
    }
  }
  std::string MissingError(const std::string& name) {
    try {
      my.Sql(name, "SELECT 1");
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  }
  MariadbServer& my;
  std::string before;
  bool german = false;
};

TEST(DatabaseRestoreLocale, PostgresSpeakingGermanRestoresIntoAMissingDatabaseUnasked) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string live = pg.CreateDatabase();
  pg.Sql(live,
         "SET ROLE app; CREATE TABLE orders (id int PRIMARY KEY, who text);"
         "INSERT INTO orders SELECT g, 'web-' || g FROM generate_series(1, 30) g;");
  BackupApp app({"db"}, DbTestPostgresSection(pg.port(), live));
  ASSERT_EQ(app.Run({"backup", "create"}, DbTestPassword()).exit_code, 0);

  GermanPostgres german(pg);
  if (!german.german) GTEST_SKIP() << "no de_DE.UTF-8 locale (scripts/deps/locale.sh makes it)";
  const std::string copy = live + "_kopie";
  const std::string said = german.MissingError(copy);
  ASSERT_NE(said.find("existiert nicht"), std::string::npos) << said;  // German indeed

  // Missing: made by the restore, nothing to ask (no terminal, no --yes: asking is exit 2).
  RunResult r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", copy},
                        DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(pg.TableDigests(copy), pg.TableDigests(live));

  // There with tables: asked about as before.
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", copy},
              DbTestPassword());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

TEST(DatabaseRestoreLocale, MariadbSpeakingGermanRestoresIntoAMissingDatabaseUnasked) {
  MariadbServer& my = MariadbServer::Shared();
  MariadbDatabasesDropped dbs(my);
  const std::string live = my.CreateDatabase();
  my.Sql(live,
         "CREATE TABLE orders (id INT PRIMARY KEY, who TEXT);"
         "INSERT INTO orders VALUES (1, 'web-1'), (2, 'web-2'), (3, 'web-3');");
  BackupApp app({"db"}, DbTestMysqlSection(my.port(), live));
  ASSERT_EQ(app.Run({"backup", "create"}, DbTestPassword()).exit_code, 0);

  GermanMariadb german(my);
  ASSERT_TRUE(german.german);
  const std::string copy = dbs.Add(live + "_kopie");
  const std::string said = german.MissingError(copy);
  ASSERT_NE(said.find("Unbekannte Datenbank"), std::string::npos) << said;  // German indeed

  RunResult r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", copy},
                        DbTestPassword());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.TableDigests(copy), my.TableDigests(live));

  r = app.Run({"backup", "restore", "latest", "--only", "db", "--database", copy},
              DbTestPassword());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

}  // namespace
}  // namespace velin::testing
