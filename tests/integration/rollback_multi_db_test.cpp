// Deploy transactions with several databases ([database] plus [databases.NAME], or only
// [databases.NAME]; docs/rollback.md#data), through the real binary: `begin --backup` backs up
// every database backup.include names into one snapshot tagged with the transaction, a rollback
// with --restore-data (by hand, or by the watchdog at the deadline) restores each; a second
// database that cannot be dumped fails begin with nothing changed; a restore that fails after
// the first database names which were restored, and the retry command it prints works as printed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/db_servers.hpp"
#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// [database] app/var/app.db and [databases.queue] app/var/q/queue.db, both SQLite and both in
// backup.include, with `more` lines at the end of [rollback].
ToyAppOptions RollbackMultiDbOptions(const std::string& more = "") {
  ToyAppOptions o = NoService();
  o.extra_rollback = more +
                     "\n[backup]\ninclude = [\"db\", \"db:queue\"]\ndestination = \"repo\"\n"
                     "[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n"
                     "[databases.queue]\ndriver = \"sqlite\"\npath = \"var/q/queue.db\"\n";
  return o;
}

std::string RollbackMultiDbCount(const std::string& file, const std::string& table) {
  RunResult r = RunProgram({"sqlite3", file, "SELECT count(*) FROM " + table});
  return r.exit_code == 0 ? r.out : "error: " + r.err;
}

void RollbackMultiDbSql(const std::string& file, const std::string& sql) {
  RunResult r = RunProgram({"sqlite3", file, sql});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

class RollbackMultiDbTest : public ::testing::Test {
 protected:
  // Both databases filled, the repository made, v1 and v2 registered and v1 live.
  static void Prepare(ToyApp& app) {
    std::filesystem::create_directories(app.app() + "/var/q");
    RollbackMultiDbSql(app.app() + "/var/app.db",
                       "CREATE TABLE users (id INTEGER); INSERT INTO users VALUES (1), (2);");
    RollbackMultiDbSql(app.app() + "/var/q/queue.db",
                       "CREATE TABLE jobs (id INTEGER); INSERT INTO jobs VALUES (1), (2), (3);");
    RunResult r = app.Velin({"backup", "init", "--encryption", "none"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
    ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
    r = app.Velin({"rollback", "to-version", "v1"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  // The deploy of v2, then writes to both databases.
  static void DeployV2(ToyApp& app) {
    RunResult r = app.Velin({"rollback", "to-version", "v2"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    RollbackMultiDbSql(app.app() + "/var/app.db", "DELETE FROM users;");
    RollbackMultiDbSql(app.app() + "/var/q/queue.db", "DELETE FROM jobs;");
  }

  static nlohmann::json Backups(ToyApp& app) {
    return nlohmann::json::parse(app.Velin({"--json", "backup", "list"}).out)["backups"];
  }

  static nlohmann::json LastTransaction(ToyApp& app) {
    auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}).out);
    nlohmann::json last;
    for (const auto& h : doc["history"]) {
      if (h["action"] == "transaction") last = h;
    }
    return last;
  }

  static std::string LiveCode(ToyApp& app) {
    return ReadFileOrDie(app.app() + "/current/bin/VERSION");
  }
};

// begin --backup takes one snapshot of both databases, each stream tagged with the transaction;
// rollback --restore-data brings both back.
TEST_F(RollbackMultiDbTest, BeginBacksUpEveryDatabaseAndTheRollbackRestoresEach) {
  ToyApp app(RollbackMultiDbOptions());
  Prepare(app);
  RunResult r = app.Velin({"rollback", "begin", "--backup", "--timeout", "10m"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto st = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}).out);
  const std::string txn = st["transaction"]["id"];
  const std::string backup = st["transaction"]["backup"];
  nlohmann::json list = Backups(app);
  ASSERT_EQ(list.size(), 1u) << list.dump();
  EXPECT_EQ(list[0]["id"], backup);
  EXPECT_EQ(list[0]["transaction"], txn);
  for (const char* source : {"db", "db:queue"}) {
    ASSERT_TRUE(list[0]["streams"].contains(source)) << list.dump();
    EXPECT_EQ(list[0]["streams"][source]["transaction"], txn) << list.dump();
    EXPECT_EQ(list[0]["streams"][source]["version"], "v1") << list.dump();
  }
  DeployV2(app);

  r = app.Velin({"--yes", "rollback", "rollback", "--restore-data"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(LiveCode(app), "v1\n");
  EXPECT_EQ(RollbackMultiDbCount(app.app() + "/var/app.db", "users"), "2\n");
  EXPECT_EQ(RollbackMultiDbCount(app.app() + "/var/q/queue.db", "jobs"), "3\n");
  EXPECT_EQ(LastTransaction(app)["data"],
            "restored from backup " + backup + "; writes since begin are gone");
}

// The second database cannot be dumped: begin fails naming it, and nothing is recorded (no
// transaction, no backup, the live version as it was).
TEST_F(RollbackMultiDbTest, ASecondDatabaseThatCannotBeDumpedFailsBeginWithNothingChanged) {
  ToyApp app(RollbackMultiDbOptions());
  Prepare(app);
  std::filesystem::remove(app.app() + "/var/q/queue.db");
  RunResult r = app.Velin({"rollback", "begin", "--backup", "--timeout", "10m"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("transaction not opened, nothing was changed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("db:queue"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("queue.db': the file does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(app.state() + "/transaction.json"));
  EXPECT_EQ(Backups(app).size(), 0u);
  EXPECT_EQ(LiveCode(app), "v1\n");
}

// The restore of the second database fails after the first was restored: the code is rolled
// back all the same, one line names what was restored and what not, exit 1; the retry command it
// prints, run as printed in a shell, restores what is left (and leaves the first alone).
TEST_F(RollbackMultiDbTest, AFailedSecondRestoreNamesWhatWasRestoredAndTheRetryWorksAsPrinted) {
  ToyApp app(RollbackMultiDbOptions());
  Prepare(app);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--backup", "--timeout", "10m"}).exit_code, 0);
  const std::string backup = nlohmann::json::parse(
      app.Velin({"--json", "rollback", "status"}).out)["transaction"]["backup"];
  DeployV2(app);
  // The queue's directory is a file now: its restore cannot write there.
  const std::string queue_dir = app.app() + "/var/q";
  std::filesystem::rename(queue_dir, app.root() + "/q-aside");
  WriteFile(queue_dir, "not a directory\n");

  RunResult r = app.Velin({"--yes", "rollback", "rollback", "--restore-data"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(LiveCode(app), "v1\n");
  EXPECT_EQ(RollbackMultiDbCount(app.app() + "/var/app.db", "users"), "2\n");
  EXPECT_NE(r.err.find("[databases.queue]: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(restored: db; not restored: db:queue)"), std::string::npos) << r.err;
  const std::string prefix = "retry with: ";
  const size_t at = r.err.find(prefix);
  ASSERT_NE(at, std::string::npos) << r.err;
  std::string command = r.err.substr(at + prefix.size());
  command = command.substr(0, command.find('\n'));
  EXPECT_EQ(command, "velin backup restore " + backup + " --only db:queue --yes");
  nlohmann::json h = LastTransaction(app);
  EXPECT_NE(h["data"].get<std::string>().find("(restored: db; not restored: db:queue)"),
            std::string::npos)
      << h;

  // Mended, and the command run as printed, from the app's directory, with velin on PATH.
  std::filesystem::remove(queue_dir);
  std::filesystem::rename(app.root() + "/q-aside", queue_dir);
  RollbackMultiDbSql(app.app() + "/var/app.db", "INSERT INTO users VALUES (3);");  // since
  RunOptions shell;
  shell.cwd = app.root();
  const std::string bin = std::filesystem::path(VelinBinary()).parent_path().string();
  shell.env["PATH"] = bin + ":" + std::string(std::getenv("PATH") ? std::getenv("PATH") : "");
  r = RunProgram({"sh", "-c", command}, shell);
  ASSERT_EQ(r.exit_code, 0) << command << "\n" << r.out << r.err;
  EXPECT_EQ(RollbackMultiDbCount(app.app() + "/var/q/queue.db", "jobs"), "3\n");
  EXPECT_EQ(RollbackMultiDbCount(app.app() + "/var/app.db", "users"), "3\n");  // left alone
}

// A snapshot holding [database] alone (taken before db:queue was backed up, as the velin before
// did): the check before the rollback passes, and its database is restored, the queue named as
// staying. One that holds a database velin.toml no longer has is refused before anything
// changes.
TEST_F(RollbackMultiDbTest, ASnapshotOfTheMainDatabaseAloneStillRestoresAndTheCheckCoversEach) {
  ToyAppOptions options = RollbackMultiDbOptions();
  const std::string both = "include = [\"db\", \"db:queue\"]";
  options.extra_rollback.replace(options.extra_rollback.find(both), both.size(),
                                 "include = [\"db\"]");
  ToyApp app(options);
  Prepare(app);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--backup", "--timeout", "10m"}).exit_code, 0);
  nlohmann::json list = Backups(app);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_FALSE(list[0]["streams"].contains("db:queue")) << list.dump();
  DeployV2(app);
  std::string toml = ReadFileOrDie(app.config());
  toml.replace(toml.find("include = [\"db\"]"), 16, both);
  WriteFile(app.config(), toml);

  RunResult r = app.Velin({"--yes", "rollback", "rollback", "--restore-data"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(LiveCode(app), "v1\n");
  EXPECT_EQ(RollbackMultiDbCount(app.app() + "/var/app.db", "users"), "2\n");
  EXPECT_EQ(RollbackMultiDbCount(app.app() + "/var/q/queue.db", "jobs"), "0\n");
  EXPECT_NE(r.err.find("holds no dump of [databases.queue]"), std::string::npos) << r.err;

  // Now a snapshot of both, and velin.toml without [databases.queue]: refused, nothing changed.
  ASSERT_EQ(app.Velin({"rollback", "begin", "--backup", "--timeout", "10m"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  toml = ReadFileOrDie(app.config());
  toml.replace(toml.find(both), both.size(), "include = [\"db\"]");
  toml.erase(toml.find("[databases.queue]"));
  WriteFile(app.config(), toml);
  r = app.Velin({"--yes", "rollback", "rollback", "--restore-data"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("holds database 'db:queue'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no [databases.queue] section"), std::string::npos) << r.err;
  EXPECT_EQ(LiveCode(app), "v2\n");
  EXPECT_TRUE(std::filesystem::exists(app.state() + "/transaction.json"));
}

// No [database] at all: a PostgreSQL [databases.orders] (its password in its own password_env)
// and a SQLite [databases.queue]. begin --backup backs up both, and the watchdog restores both at
// the deadline (restore_data_on_timeout), with the password it was handed.
TEST_F(RollbackMultiDbTest, OnlyNamedDatabasesAreRestoredByTheWatchdogAtTheDeadline) {
  PostgresServer& pg = PostgresServer::Shared();
  const std::string db = pg.CreateDatabase();
  pg.Sql(db,
         "SET ROLE app; CREATE TABLE orders (id int PRIMARY KEY, total numeric);"
         "INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 50) g;");
  const auto pg_before = pg.TableDigests(db);
  ToyAppOptions options = NoService();
  options.extra_rollback =
      "restore_data_on_timeout = true\n"
      "\n[backup]\ninclude = [\"db:orders\", \"db:queue\"]\ndestination = \"repo\"\n"
      "[databases.orders]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nport = " +
      std::to_string(pg.port()) + "\nuser = \"app\"\nname = \"" + db +
      "\"\npassword_env = \"VELIN_TEST_ORDERS_PW\"\n"
      "[databases.queue]\ndriver = \"sqlite\"\npath = \"var/q/queue.db\"\n";
  ToyApp app(options);
  const std::map<std::string, std::string> env = {{"VELIN_TEST_ORDERS_PW", kAppPassword}};
  std::filesystem::create_directories(app.app() + "/var/q");
  const std::string queue = app.app() + "/var/q/queue.db";
  RollbackMultiDbSql(queue, "CREATE TABLE jobs (id INTEGER); INSERT INTO jobs VALUES (1), (2);");
  ASSERT_EQ(app.Velin({"backup", "init", "--encryption", "none"}, env).exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}, env).exit_code, 0);

  RunResult r = app.Velin({"rollback", "begin", "--backup", "--timeout", "20s"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string backup = nlohmann::json::parse(
      app.Velin({"--json", "rollback", "status"}, env).out)["transaction"]["backup"];
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}, env).exit_code, 0);
  pg.Sql(db, "SET ROLE app; DELETE FROM orders WHERE id > 5;");
  RollbackMultiDbSql(queue, "DELETE FROM jobs;");

  ASSERT_TRUE(app.WaitForTransactionEnd(90));
  EXPECT_EQ(LiveCode(app), "v1\n");
  EXPECT_EQ(pg.TableDigests(db), pg_before);
  EXPECT_EQ(RollbackMultiDbCount(queue, "jobs"), "2\n");
  nlohmann::json h = LastTransaction(app);
  EXPECT_EQ(h["outcome"], "rolled back by timeout") << h;
  EXPECT_EQ(h["data"], "restored from backup " + backup + "; writes since begin are gone") << h;
}

}  // namespace
}  // namespace velin::testing
