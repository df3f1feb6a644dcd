// Deploy transactions that protect the data (docs/rollback.md#data), through the real binary
// against the real PostgreSQL fixture and the toy service: `begin --backup` takes a database
// backup tagged with the transaction, a migration drops a column, and the rollback (by the
// watchdog at the deadline, by recover, by hand, or to-version --restore-data) brings the column
// and its data back; every failure path leaves the code rolled back and says how to retry.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/background_velin.hpp"
#include "support/db_servers.hpp"
#include "support/ops_http_server.hpp"
#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

const char* kPasswordEnv = "VELIN_TEST_DB_PASSWORD";

std::map<std::string, std::string> Password(const std::string& p = kAppPassword) {
  return {{kPasswordEnv, p}};
}

class RollbackDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = pg().CreateDatabase();
    pg().Sql(db_,
             "SET ROLE app; CREATE TABLE users (id int PRIMARY KEY, name text, email text);"
             "INSERT INTO users SELECT i, 'user ' || i, 'u' || i || '@example.org' "
             "FROM generate_series(1, 200) i;");
    before_ = pg().TableDigests(db_);
  }
  static PostgresServer& pg() { return PostgresServer::Shared(); }

  // [rollback] lines, then the repository and the database (port 0: the fixture's server).
  ToyAppOptions Options(const std::string& rollback, bool service = true, int port = 0,
                        const std::string& more = "") {
    ToyAppOptions o;
    o.with_service = service;
    o.extra_rollback = rollback + "\n[backup]\ninclude = [\"db\"]\ndestination = \"repo\"\n" +
                       more + "\n[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\n" +
                       "port = " + std::to_string(port == 0 ? pg().port() : port) +
                       "\nuser = \"app\"\nname = \"" + db_ + "\"\npassword_env = \"" +
                       kPasswordEnv + "\"\n";
    return o;
  }

  // v1 and v2 registered, v1 live.
  static void TwoVersions(ToyApp& app) {
    app.Build("v1");
    ASSERT_EQ(app.Velin({"rollback", "create-version", "v1"}, Password()).exit_code, 0);
    app.Build("v2");
    ASSERT_EQ(app.Velin({"rollback", "create-version", "v2"}, Password()).exit_code, 0);
    RunResult r = app.Velin({"rollback", "to-version", "v1"}, Password());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }

  // The deploy of v2: its code, then its migration, which drops a column, then a write.
  void DeployV2(ToyApp& app) {
    RunResult r = app.Velin({"rollback", "to-version", "v2"}, Password());
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    pg().Sql(db_, "SET ROLE app; ALTER TABLE users DROP COLUMN email;");
    pg().Sql(db_, "SET ROLE app; INSERT INTO users VALUES (999, 'written after begin');");
    ASSERT_NE(pg().TableDigests(db_), before_);
  }

  // The code live is v1's (after a transaction's rollback: its base, a snapshot of v1).
  static std::string LiveCode(ToyApp& app) {
    return ReadFileOrDie(app.app() + "/current/bin/VERSION");
  }

  static nlohmann::json LastTransaction(ToyApp& app) {
    auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}, Password()).out);
    nlohmann::json last;
    for (const auto& h : doc["history"]) {
      if (h["action"] == "transaction") last = h;
    }
    return last;
  }

  static nlohmann::json Backups(ToyApp& app) {
    RunResult r = app.Velin({"--json", "backup", "list"}, Password());
    return nlohmann::json::parse(r.out)["backups"];
  }

  // `list` (`backup list --json`'s backups) holds `others` backups that are not a deploy
  // transaction's, and exactly the transaction backups `want`.
  static void ExpectLeft(const nlohmann::json& list, size_t others, std::vector<std::string> want) {
    std::vector<std::string> txn_left;
    size_t not_txn = 0;
    for (const auto& b : list) {
      if (b["transaction"].is_null()) {
        ++not_txn;
      } else {
        txn_left.push_back(b["id"]);
      }
    }
    EXPECT_EQ(not_txn, others);
    std::sort(txn_left.begin(), txn_left.end());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(txn_left, want);
  }

  bool HasEmail() {
    return pg().Sql(db_,
                    "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' "
                    "AND column_name = 'email'") == "1\n";
  }

  std::string db_;
  std::map<std::string, std::string> before_;
};

// The "must show": begin --backup, a migration that drops a column, the deadline passes
// with restore_data_on_timeout = true, and the column and its data are back (the write made
// after begin is gone, as the history says).
TEST_F(RollbackDataTest, DeadlineRestoresTheDroppedColumnAndItsData) {
  ToyApp app(Options("restore_data_on_timeout = true"));
  TwoVersions(app);
  // The deploy below must end before the deadline, also on a loaded CI machine.
  RunResult r = app.Velin({"rollback", "begin", "--backup", "--timeout", "15s"}, Password());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto st = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}, Password()).out);
  std::string txn = st["transaction"]["id"];
  std::string backup = st["transaction"]["backup"];
  EXPECT_EQ(st["transaction"]["version"], "v1");
  RunResult text = app.Velin({"rollback", "status"}, Password());
  EXPECT_NE(text.out.find("Database backup " + backup + " (taken while v1 was live)"),
            std::string::npos)
      << text.out;
  DeployV2(app);
  EXPECT_FALSE(HasEmail());

  ASSERT_TRUE(app.WaitForTransactionEnd(60));
  EXPECT_TRUE(app.WaitForVersion("v1", 15)) << app.Health();
  EXPECT_TRUE(HasEmail());
  EXPECT_EQ(pg().TableDigests(db_), before_);
  nlohmann::json h = LastTransaction(app);
  EXPECT_EQ(h["transaction"], txn);
  EXPECT_EQ(h["outcome"], "rolled back by timeout");
  EXPECT_EQ(h["backup"], backup);
  EXPECT_EQ(h["backup_version"], "v1");
  EXPECT_EQ(h["data"], "restored from backup " + backup + "; writes since begin are gone") << h;

  // The backup is listed with its transaction and version.
  nlohmann::json list = Backups(app);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], backup);
  EXPECT_EQ(list[0]["transaction"], txn);
  EXPECT_EQ(list[0]["version"], "v1");
  text = app.Velin({"backup", "list"}, Password());
  EXPECT_NE(text.out.find(txn + " (v1)"), std::string::npos) << text.out;
}

// The database password in PGPASSWORD (no password_env): a secret no hook gets, but the
// watchdog does, and restores with it at the deadline.
TEST_F(RollbackDataTest, TheWatchdogRestoresWithThePasswordOfPgpassword) {
  ToyAppOptions options = Options("restore_data_on_timeout = true", /*service=*/false);
  const std::string named = "password_env = \"" + std::string(kPasswordEnv) + "\"\n";
  ASSERT_NE(options.extra_rollback.find(named), std::string::npos);
  options.extra_rollback.erase(options.extra_rollback.find(named), named.size());
  ToyApp app(options);
  const std::map<std::string, std::string> env = {{"PGPASSWORD", kAppPassword}};
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1"}, env).exit_code, 0);
  app.Build("v2");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v2"}, env).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}, env).exit_code, 0);
  RunResult r = app.Velin({"rollback", "begin", "--backup", "--timeout", "10s"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = app.Velin({"rollback", "to-version", "v2"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  pg().Sql(db_, "SET ROLE app; ALTER TABLE users DROP COLUMN email;");
  ASSERT_TRUE(app.WaitForTransactionEnd(60));
  EXPECT_TRUE(HasEmail());
  EXPECT_EQ(pg().TableDigests(db_), before_);
  nlohmann::json h = LastTransaction(app);
  EXPECT_EQ(h["outcome"], "rolled back by timeout");
  EXPECT_EQ(h["data"].get<std::string>().rfind("restored from backup", 0), 0u) << h;
}

// Without restore_data_on_timeout the data stays as it is, and the history says so.
TEST_F(RollbackDataTest, DeadlineWithoutRestoreKeepsTheWritesAndSaysSo) {
  ToyApp app(Options("", /*service=*/false));
  TwoVersions(app);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--backup", "--timeout", "10s"}, Password()).exit_code,
            0);
  DeployV2(app);
  ASSERT_TRUE(app.WaitForTransactionEnd(60));
  EXPECT_FALSE(HasEmail());
  nlohmann::json h = LastTransaction(app);
  EXPECT_EQ(h["outcome"], "rolled back by timeout");
  EXPECT_EQ(h["data"].get<std::string>().rfind("kept: writes since begin stay", 0), 0u) << h;
}

// The backup fails (the database server is down): begin exits 1 and nothing changed.
TEST_F(RollbackDataTest, BeginFailsWithNothingChangedWhenTheBackupFails) {
  ToyApp app(Options("backup_on_begin = true", /*service=*/false, FreeLoopbackPort()));
  TwoVersions(app);
  std::string registry = ReadFileOrDie(app.state() + "/registry.json");
  std::string history = ReadFileOrDie(app.state() + "/history.jsonl");
  std::filesystem::remove(app.app() + "/bin/lib.dat");  // live files differ: a base would be taken
  RunResult r = app.Velin({"rollback", "begin", "--timeout", "1m"}, Password());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("transaction not opened, nothing was changed: database backup"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("connection refused"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(app.state() + "/transaction.json"));
  EXPECT_EQ(ReadFileOrDie(app.state() + "/registry.json"), registry);
  EXPECT_EQ(ReadFileOrDie(app.state() + "/history.jsonl"), history);
  EXPECT_EQ(app.Current(), "v1");

  // Without a [database] backed up, --backup is a usage error.
  ToyApp plain(NoService());
  ASSERT_EQ(plain.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(plain.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  r = plain.Velin({"rollback", "begin", "--backup"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(std::filesystem::exists(plain.state() + "/transaction.json"));
}

// CI cancels the deploy job (SIGTERM) while begin's database backup dumps: the backup stops at
// once (pg_dump killed), no transaction is opened, nothing changed; velin ends by SIGTERM.
TEST_F(RollbackDataTest, ASignalDuringBeginsBackupStopsItWithNothingChanged) {
  ToyApp app(Options("backup_on_begin = true", /*service=*/false));
  TwoVersions(app);
  const std::string registry = ReadFileOrDie(app.state() + "/registry.json");
  const std::string history = ReadFileOrDie(app.state() + "/history.jsonl");
  const std::string gate = app.root() + "/gate";
  WriteGatedTool(gate, "pg_dump");
  RunOptions options;
  options.cwd = app.root();
  options.env = Password();
  PutFirstInPath(options, gate);
  BackgroundVelin velin({"--config", app.config(), "rollback", "begin", "--timeout", "1m"},
                        options);
  ASSERT_TRUE(WaitForPath(gate + "/reached"));
  velin.Signal(SIGTERM);
  ASSERT_TRUE(velin.WaitExit());  // the gate stays closed: velin does not wait for pg_dump
  RunResult r = velin.Finish();
  WriteFile(gate + "/go", "");
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.out << r.err;
  EXPECT_NE(r.err.find("transaction not opened, nothing was changed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("backup interrupted by SIGTERM; nothing was committed"), std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(app.state() + "/transaction.json"));
  EXPECT_EQ(ReadFileOrDie(app.state() + "/registry.json"), registry);
  EXPECT_EQ(ReadFileOrDie(app.state() + "/history.jsonl"), history);
  EXPECT_EQ(app.Current(), "v1");
}

// rollback --restore-data: refused without a terminal and without --yes (nothing changed);
// with --yes the code goes back and the database too. Then to-version --restore-data at-version
// brings back the data of the last backup taken while v1 was live.
TEST_F(RollbackDataTest, RollbackByHandAndToVersionRestoreTheData) {
  ToyApp app(Options("", /*service=*/false));
  TwoVersions(app);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--backup", "--timeout", "5m"}, Password()).exit_code,
            0);
  DeployV2(app);
  RunResult r = app.Velin({"rollback", "rollback", "--restore-data"}, Password());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("pass --yes"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v2");
  EXPECT_TRUE(std::filesystem::exists(app.state() + "/transaction.json"));

  r = app.Velin({"--yes", "rollback", "rollback", "--restore-data"}, Password());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Database restored"), std::string::npos) << r.out;
  EXPECT_EQ(LiveCode(app), "v1\n");
  EXPECT_EQ(pg().TableDigests(db_), before_);
  nlohmann::json h = LastTransaction(app);
  EXPECT_EQ(h["outcome"], "rolled back by hand");
  std::string backup = h["backup"];

  // v2 deployed and committed; later, back to v1 with the data of v1's time.
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}, Password()).exit_code, 0);
  pg().Sql(db_, "SET ROLE app; ALTER TABLE users DROP COLUMN email;");
  r = app.Velin({"rollback", "to-version", "v1", "--restore-data", "at-version"}, Password());
  EXPECT_EQ(r.exit_code, 2) << r.err;  // asks; no terminal
  EXPECT_EQ(app.Current(), "v2");
  r = app.Velin({"--yes", "rollback", "to-version", "v2", "--restore-data", "at-version"},
                Password());
  EXPECT_EQ(r.exit_code, 2) << r.err;  // v2 was never live at a begin --backup
  EXPECT_NE(r.err.find("no database backup was taken while v2 was live"), std::string::npos)
      << r.err;
  r = app.Velin({"--yes", "rollback", "to-version", "v1", "--restore-data", "at-version"},
                Password());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(app.Current(), "v1");
  EXPECT_EQ(pg().TableDigests(db_), before_);
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}, Password()).out);
  EXPECT_EQ(doc["history"].back()["data"], "restored from backup " + backup) << doc;
  // A backup id that does not exist: refused before anything changes.
  r = app.Velin({"--yes", "rollback", "to-version", "v2", "--restore-data", "20990101-0000-full"},
                Password());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(app.Current(), "v1");
}

// v2's migration adds a table with a foreign key to one the backup holds (before, no restore
// of v1's backup could drop that table's key): the rollback restores the data, keeps the new
// table's rows, makes its key again NOT VALID, and says so.
TEST_F(RollbackDataTest, AMigrationThatAddsATableWithAForeignKeyRollsBack) {
  ToyApp app(Options("", /*service=*/false));
  TwoVersions(app);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--backup", "--timeout", "5m"}, Password()).exit_code,
            0);
  RunResult r = app.Velin({"rollback", "to-version", "v2"}, Password());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  pg().Sql(db_,
           "SET ROLE app; CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL "
           "REFERENCES users (id)); INSERT INTO orders VALUES (1, 7);"
           "UPDATE users SET name = 'renamed' WHERE id = 7;");
  r = app.Velin({"--yes", "rollback", "rollback", "--restore-data"}, Password());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("made again NOT VALID: public.orders (orders_user_id_fkey)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(LiveCode(app), "v1\n");
  EXPECT_EQ(pg().TableDigests(db_)["public.users"], before_.at("public.users"));
  EXPECT_EQ(pg().Sql(db_, "SELECT * FROM orders"), "1|7\n");
  EXPECT_EQ(pg().Sql(db_, "SELECT convalidated FROM pg_constraint WHERE contype = 'f'"), "f\n");
  EXPECT_EQ(LastTransaction(app)["outcome"], "rolled back by hand");
}

// The restore fails during the rollback (the database refuses the password): the code rollback
// completes, the service starts on the old code, the failure is in the history, exit 1 with the
// command that retries it; that command then brings the data back.
TEST_F(RollbackDataTest, RestoreFailureStillRollsBackTheCodeAndNamesTheRetry) {
  ToyApp app(Options(""));
  TwoVersions(app);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--backup", "--timeout", "5m"}, Password()).exit_code,
            0);
  DeployV2(app);
  RunResult r =
      app.Velin({"--yes", "rollback", "rollback", "--restore-data"}, Password("wrong-password"));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(LiveCode(app), "v1\n");
  EXPECT_EQ(app.Health(), "version=v1");
  size_t retry = r.err.find("retry with: velin backup restore ");
  ASSERT_NE(retry, std::string::npos) << r.err;
  EXPECT_NE(r.err.find("password authentication failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("wrong-password"), std::string::npos);
  nlohmann::json h = LastTransaction(app);
  EXPECT_EQ(h["outcome"], "rolled back by hand");
  EXPECT_NE(h["data"].get<std::string>().find("failed: "), std::string::npos) << h;
  EXPECT_FALSE(HasEmail());

  std::string cmd = r.err.substr(retry + std::string("retry with: ").size());
  cmd = cmd.substr(0, cmd.find('\n'));
  std::vector<std::string> args;
  for (size_t pos = 0; pos < cmd.size();) {
    size_t sp = cmd.find(' ', pos);
    args.push_back(cmd.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos));
    pos = sp == std::string::npos ? cmd.size() : sp + 1;
  }
  ASSERT_EQ(args.front(), "velin");
  args.erase(args.begin());
  r = app.Velin(args, Password());
  ASSERT_EQ(r.exit_code, 0) << cmd << "\n" << r.out << r.err;
  EXPECT_EQ(pg().TableDigests(db_), before_);
}

// The watchdog died (reboot) and recover finishes the expired transaction; it crashes once in
// the middle of the restore, and the next recover restores again and finishes. Recover sends the
// rollback-timeout notification the watchdog would have sent.
TEST_F(RollbackDataTest, RecoverFinishesARestoreInterruptedByACrashAndNotifies) {
  OpsHttpServer server;
  ToyApp app(Options("restore_data_on_timeout = true", /*service=*/false, 0,
                     "\n[notify]\nwebhook_url = \"" + server.url() +
                         "/hook\"\nevents = [\"rollback-timeout\"]\n"));
  TwoVersions(app);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--backup", "--timeout", "10m"}, Password()).exit_code,
            0);
  KillPid(WatchdogPid(app.state()));
  DeployV2(app);
  // The recovers run an hour later (VELIN_NOW), past the deadline: no sleep over a short one.
  const std::map<std::string, std::string> later = ClockAhead(std::chrono::hours(1), Password());
  std::map<std::string, std::string> crash = later;
  crash["VELIN_TEST_CRASH_AT"] = "switch-data-restored";
  RunResult r = app.Velin({"rollback", "recover"}, crash);
  EXPECT_EQ(r.exit_code, 86) << r.out << r.err;
  EXPECT_TRUE(std::filesystem::exists(app.state() + "/switch.json"));
  pg().Sql(db_, "SET ROLE app; DROP TABLE users;");  // whatever the crash left behind

  r = app.Velin({"rollback", "recover"}, later);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(LiveCode(app), "v1\n");
  EXPECT_EQ(pg().TableDigests(db_), before_);
  EXPECT_FALSE(std::filesystem::exists(app.state() + "/switch.json"));
  nlohmann::json h = LastTransaction(app);
  EXPECT_EQ(h["outcome"], "rolled back by timeout");
  EXPECT_EQ(h["data"].get<std::string>().rfind("restored from backup", 0), 0u) << h;

  auto requests = server.WaitForRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["event"], "rollback-timeout");
  EXPECT_EQ(body["outcome"], "success");
  EXPECT_NE(body["summary"].get<std::string>().find("rolled back by timeout"), std::string::npos)
      << body;
  EXPECT_NE(body["summary"].get<std::string>().find("database restored"), std::string::npos)
      << body;
}

// Transaction backups have their own retention rule: backup.keep_last never forgets them, and
// rollback.keep_transaction_backups keeps the last N of them.
TEST_F(RollbackDataTest, TransactionBackupsAreKeptByTheirOwnRule) {
  ToyApp app(Options("keep_transaction_backups = 2", /*service=*/false, 0,
                     "keep_last = 1\nprune_after_create = false\n"));
  TwoVersions(app);
  std::vector<std::string> txn_backups;
  for (int i = 0; i < 3; ++i) {
    RunResult r =
        app.Velin({"--json", "rollback", "begin", "--backup", "--timeout", "5m"}, Password());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    txn_backups.push_back(nlohmann::json::parse(r.out)["backup"]);
    ASSERT_EQ(app.Velin({"rollback", "commit"}, Password()).exit_code, 0);
  }
  for (int i = 0; i < 2; ++i) {
    RunResult r = app.Velin({"backup", "create"}, Password());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ASSERT_EQ(Backups(app).size(), 5u);
  RunResult r = app.Velin({"--json", "backup", "forget"}, Password());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json list = Backups(app);
  ExpectLeft(list, 1, {txn_backups[1], txn_backups[2]});
}

// With no keep_*/retention_days rule (the default), the maintenance after `backup create` still
// applies keep_transaction_backups (docs/rollback.md, "Retention"): transaction backups used to
// pile up, while `backup forget` forgot them under a warning that every backup was kept.
TEST_F(RollbackDataTest, TransactionBackupsBeyondTheirRuleGoAfterCreateWithNoOtherRule) {
  ToyApp app(Options("keep_transaction_backups = 2", /*service=*/false));
  TwoVersions(app);
  std::vector<std::string> txn_backups;
  for (int i = 0; i < 3; ++i) {
    RunResult r =
        app.Velin({"--json", "rollback", "begin", "--backup", "--timeout", "5m"}, Password());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    txn_backups.push_back(nlohmann::json::parse(r.out)["backup"]);
    ASSERT_EQ(app.Velin({"rollback", "commit"}, Password()).exit_code, 0);
  }
  ASSERT_EQ(Backups(app).size(), 3u);
  RunResult created = app.Velin({"backup", "create"}, Password());
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  ExpectLeft(Backups(app), 1, {txn_backups[1], txn_backups[2]});

  // forget agrees, and does not claim that every backup is kept.
  RunResult forget = app.Velin({"backup", "forget", "--dry-run"}, Password());
  ASSERT_EQ(forget.exit_code, 0) << forget.out << forget.err;
  EXPECT_NE((forget.out + forget.err).find("except deploy transactions' backups beyond the last 2"),
            std::string::npos)
      << forget.out << forget.err;
  EXPECT_EQ(Backups(app).size(), 3u);
}

// [notify]'s restore-test-failed: verify --restore-test whose restore cannot run (its server is
// down) sends it, with the error.
TEST_F(RollbackDataTest, FailedRestoreTestIsNotified) {
  OpsHttpServer server;
  ToyApp app(Options("", /*service=*/false, 0,
                     "\n[notify]\nwebhook_url = \"" + server.url() +
                         "/hook\"\nevents = [\"restore-test-failed\"]\n"));
  ASSERT_EQ(app.Velin({"backup", "create"}, Password()).exit_code, 0);
  RunResult r = app.Velin({"backup", "verify", "latest", "--restore-test", "--restore-test-server",
                           "127.0.0.1:" + std::to_string(FreeLoopbackPort())},
                          Password());
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  auto requests = server.WaitForRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["event"], "restore-test-failed");
  EXPECT_NE(body["outcome"], "success");
  EXPECT_NE(body["error"].get<std::string>().find("connection refused"), std::string::npos) << body;
}

}  // namespace
}  // namespace velin::testing
