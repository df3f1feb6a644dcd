// What a `backup verify --restore-test` killed before its end (kill -9, the OOM killer) leaves
// — a temp directory holding a whole copy of the backup's files, a temporary database — is
// removed by the next restore test, and only that: a live run's, another host's and a user's
// files stay (docs/operations.md "What a killed run leaves").
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/background_velin.hpp"
#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/test_support.hpp"
#include "velin/io/env.hpp"
#include "velin/io/process_space.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// The entries of `dir` whose names start with `prefix`.
std::set<std::string> LeftoverNamesIn(const std::string& dir, const std::string& prefix) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with(prefix)) names.insert(name);
  }
  return names;
}

// A pid no process has: a child's, reaped.
pid_t ReapedChildPid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

// "<pid>-<tag>" (or with '_') as velin marks its temporaries on this host (io::WriterMark).
std::string MarkOf(int64_t pid, char separator) {
  const std::string own = io::WriterMark(io::Env::Default(), separator);
  return std::to_string(pid) + own.substr(own.find(separator));
}

// A backup of 40 files of 256 KiB: enough for a restore test to be caught in the middle.
void BackUpFortyFiles(const BackupApp& app) {
  fs::create_directories(app.root() + "/storage");
  for (int i = 0; i < 40; ++i) {
    WriteFile(app.root() + "/storage/f" + std::to_string(i), RandomData(256 << 10, i));
  }
  EXPECT_EQ(app.Run({"backup", "create"}).exit_code, 0);
}

// Whether process `pid` is stopped (SIGSTOP), polled up to 60 s.
bool WaitStopped(pid_t pid) {
  for (int i = 0; i < 3000; ++i) {
    if (ProcessStopped(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// The one restore-test directory under `tmp` (its name carries its run's pid), or "".
std::string OnlyRestoreTestDir(const std::string& tmp) {
  const std::set<std::string> dirs = LeftoverNamesIn(tmp, "velin-restore-test-");
  return dirs.size() == 1 ? *dirs.begin() : "";
}

TEST(RestoreTestLeftovers, AKilledRunsDirectoryIsRemovedByTheNextRestoreTest) {
  BackupApp app({"storage"});
  BackUpFortyFiles(app);
  TempDir tmp;
  RunOptions killed;
  killed.env["TMPDIR"] = tmp.path();
  // kill -9 in the middle of restoring the files: the 20th file made.
  killed.env["VELIN_FAULT_INJECT"] = "create:20:SIGKILL";
  RunResult r = app.Run({"backup", "verify", "latest", "--restore-test"}, killed);
  ASSERT_EQ(r.exit_code, 128 + SIGKILL) << r.out << r.err;
  const std::string left = OnlyRestoreTestDir(tmp.path());
  ASSERT_NE(left, "");
  EXPECT_FALSE(fs::is_empty(tmp / left));  // a copy of restored data

  // Beside it: a user's directory and a live process's; neither is velin's to remove.
  fs::create_directory(tmp / "velin-restore-test-notes");
  const std::string live = "velin-restore-test-" + MarkOf(::getpid(), '-') + "-Ab12Cd";
  fs::create_directory(tmp / live);
  // Another host's (another tag) with a pid that runs nowhere here.
  const std::string other_host =
      "velin-restore-test-" + std::to_string(ReapedChildPid()) + "-00000000-Ab12Cd";
  fs::create_directory(tmp / other_host);

  RunOptions next;
  next.env["TMPDIR"] = tmp.path();
  r = app.Run({"backup", "verify", "latest", "--restore-test"}, next);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Removed " + (tmp / left) + ", left by a killed restore test"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(LeftoverNamesIn(tmp.path(), "velin-restore-test-"),
            (std::set<std::string>{"velin-restore-test-notes", live, other_host}));
}

// A second restore test while the first one runs (held stopped with its files half restored)
// leaves the first one's directory alone; the first then finishes and removes it itself.
TEST(RestoreTestLeftovers, ALiveRunsDirectoryIsLeftAlone) {
  BackupApp app({"storage"});
  BackUpFortyFiles(app);
  TempDir tmp;
  RunOptions held;
  held.cwd = app.path("");
  held.env["TMPDIR"] = tmp.path();
  held.env["VELIN_FAULT_INJECT"] = "create:20:SIGSTOP";
  BackgroundVelin first({"backup", "verify", "latest", "--restore-test"}, held);
  std::string dir;
  for (int i = 0; i < 3000 && dir.empty(); ++i) {
    dir = OnlyRestoreTestDir(tmp.path());
    if (dir.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_NE(dir, "");
  const pid_t pid = std::stoi(dir.substr(std::string("velin-restore-test-").size()));
  ASSERT_TRUE(WaitStopped(pid));

  RunOptions second;
  second.env["TMPDIR"] = tmp.path();
  RunResult r = app.Run({"backup", "verify", "latest", "--restore-test"}, second);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::is_directory(tmp / dir));
  EXPECT_FALSE(fs::is_empty(tmp / dir));

  first.Signal(SIGCONT);
  r = first.Finish();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(OnlyRestoreTestDir(tmp.path()), "");
}

constexpr const char* kLeftoverPasswordEnv = "VELIN_TEST_DB_PASSWORD";

std::string LeftoverPgSection(int port, const std::string& db) {
  return "\n[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nport = " +
         std::to_string(port) + "\nuser = \"app\"\nname = \"" + db + "\"\npassword_env = \"" +
         kLeftoverPasswordEnv + "\"\n";
}

std::set<std::string> TemporaryDatabases(PostgresServer& pg) {
  std::set<std::string> names;
  const std::string out = pg.Sql("postgres",
                                 "SELECT datname FROM pg_database WHERE datname LIKE "
                                 "'velin!_restore!_test!_%' ESCAPE '!'");
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    if (end > start) names.insert(out.substr(start, end - start));
    start = end + 1;
  }
  return names;
}

// kill -9 while pg_restore fills the temporary database: the next restore test drops it, and
// the pg_restore list file a killed run left in $TMPDIR goes too; another host's database, a
// live run's and a user's file of a similar name stay.
// A PostgreSQL database backed up, and a restore test of it whose pg_restore waits at a gate
// (`gate`/reached, `gate`/go) with TMPDIR = `tmp`.
class RestoreTestLeftoversPg : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = pg_.CreateDatabase();
    pg_.Sql(db_, "SET ROLE app; CREATE TABLE t (id int); INSERT INTO t VALUES (1), (2);");
    app_ = std::make_unique<BackupApp>(std::vector<std::string>{"db"},
                                       LeftoverPgSection(pg_.port(), db_));
    options_.env[kLeftoverPasswordEnv] = kAppPassword;
    ASSERT_EQ(app_->Run({"backup", "create"}, options_).exit_code, 0);
    before_ = TemporaryDatabases(pg_);
    options_.env["TMPDIR"] = tmp_.path();
    gate_ = tmp_ / "gate";
    WriteGatedTool(gate_, "pg_restore");
    gated_ = options_;
    gated_.cwd = app_->path("");
    PutFirstInPath(gated_, gate_);
  }
  // The temporary databases made since SetUp.
  std::set<std::string> NewTemporaryDatabases() {
    std::set<std::string> now = TemporaryDatabases(pg_);
    for (const std::string& name : before_) now.erase(name);
    return now;
  }

  PostgresServer& pg_ = PostgresServer::Shared();
  std::string db_;
  std::unique_ptr<BackupApp> app_;
  RunOptions options_;  // with TMPDIR
  RunOptions gated_;    // and the gate first in PATH
  std::set<std::string> before_;
  TempDir tmp_;
  std::string gate_;
};

TEST_F(RestoreTestLeftoversPg, AKilledRunsTemporaryDatabaseIsDroppedByTheNextRestoreTest) {
  PostgresServer& pg = pg_;
  BackupApp& app = *app_;
  const RunOptions& options = options_;
  const RunOptions& gated = gated_;
  const TempDir& tmp = tmp_;
  const std::string& gate = gate_;
  {
    BackgroundVelin velin({"backup", "verify", "latest", "--restore-test"}, gated);
    ASSERT_TRUE(WaitForPath(gate + "/reached"));
    velin.Signal(SIGKILL);
    ASSERT_TRUE(velin.WaitExit());
    (void)velin.Finish();
  }
  std::set<std::string> killed = NewTemporaryDatabases();
  ASSERT_EQ(killed.size(), 1u);
  WriteFile(gate + "/go", "");  // the waiting wrapper's pg_restore finds its input gone

  const std::string dead = std::to_string(ReapedChildPid());
  const std::string dead_list =
      "velin_restore_test_20250101_000000_" + MarkOf(std::stoll(dead), '_') + "_ab12.list";
  const std::string live_list =
      "velin_restore_test_20250101_000000_" + MarkOf(::getpid(), '_') + "_ab12.list";
  WriteFile(tmp / dead_list, "");
  WriteFile(tmp / live_list, "");
  WriteFile(tmp / "velin_restore_test_notes.list", "");
  const std::string other_host = "velin_restore_test_20250101_000000_" + dead + "_00000000_ab12";
  pg.Sql("postgres", "CREATE DATABASE " + other_host + " OWNER app");

  RunResult r = app.Run({"backup", "verify", "latest", "--restore-test"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Dropped " + *killed.begin() + ", left by a killed restore test"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(NewTemporaryDatabases(), std::set<std::string>{other_host});
  EXPECT_EQ(LeftoverNamesIn(tmp.path(), "velin_restore_test_"),
            (std::set<std::string>{live_list, "velin_restore_test_notes.list"}));
  pg.Sql("postgres", "DROP DATABASE " + other_host);
}

// SIGTERM (systemd stopping the timer's unit, Ctrl-C) while pg_restore fills the temporary
// database: velin stops at once, says so, exits 128+15 and leaves nothing behind for the next
// run to find, neither the database nor a file in $TMPDIR.
TEST_F(RestoreTestLeftoversPg, ASignalledRestoreTestDropsItsTemporaryDatabaseItself) {
  BackgroundVelin velin({"backup", "verify", "latest", "--restore-test"}, gated_);
  ASSERT_TRUE(WaitForPath(gate_ + "/reached"));
  EXPECT_EQ(NewTemporaryDatabases().size(), 1u);
  velin.Signal(SIGTERM);
  ASSERT_TRUE(velin.WaitExit());  // the gate still closed: velin does not wait for the tool
  RunResult r = velin.Finish();
  WriteFile(gate_ + "/go", "");
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.out << r.err;
  EXPECT_NE(r.err.find("SIGTERM"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("passed"), std::string::npos) << r.out;
  EXPECT_EQ(NewTemporaryDatabases(), std::set<std::string>{}) << r.out << r.err;
  EXPECT_EQ(LeftoverNamesIn(tmp_.path(), "velin_restore_test_"), std::set<std::string>{})
      << r.out << r.err;
  // And the next one runs whole, with nothing to clean up.
  RunResult next = app_->Run({"backup", "verify", "latest", "--restore-test"}, options_);
  EXPECT_EQ(next.exit_code, 0) << next.out << next.err;
  EXPECT_EQ(next.out.find("left by a killed restore test"), std::string::npos) << next.out;
}

// The same on MariaDB: a temporary database of a dead run of this host is dropped, another
// host's and a live run's stay.
TEST(RestoreTestLeftovers, ADeadRunsTemporaryMariadbDatabaseIsDropped) {
  MariadbServer& my = MariadbServer::Shared();
  const std::string db = my.CreateDatabase();
  my.Sql(db, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2);");
  BackupApp app({"db"}, "\n[database]\ndriver = \"mysql\"\nport = " + std::to_string(my.port()) +
                            "\nuser = \"app\"\nname = \"" + db + "\"\npassword_env = \"" +
                            kLeftoverPasswordEnv + "\"\n");
  RunOptions options;
  options.env[kLeftoverPasswordEnv] = kAppPassword;
  ASSERT_EQ(app.Run({"backup", "create"}, options).exit_code, 0);
  const std::string dead = std::to_string(ReapedChildPid());
  const std::string stamp = "velin_restore_test_20250101_000000_";
  const std::string dead_db = stamp + MarkOf(std::stoll(dead), '_') + "_ab12";
  const std::string live_db = stamp + MarkOf(::getpid(), '_') + "_ab12";
  const std::string other_host = stamp + dead + "_00000000_ab12";
  for (const std::string& name : {dead_db, live_db, other_host}) {
    my.Sql("", "CREATE DATABASE `" + name + "`");
  }
  RunResult r = app.Run({"backup", "verify", "latest", "--restore-test"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string left =
      my.Sql("",
             "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE "
             "'velin!_restore!_test!_2025%' ESCAPE '!' ORDER BY 1");
  EXPECT_TRUE(left == live_db + "\n" + other_host + "\n" ||
              left == other_host + "\n" + live_db + "\n")
      << left;
  for (const std::string& name : {live_db, other_host}) my.Sql("", "DROP DATABASE `" + name + "`");
}

// A SQLite backup restore-tested.
void RestoreTestHeaderBackUpSqlite(const BackupApp& app) {
  fs::create_directories(app.root() + "/var");
  RunProgram({"sqlite3", app.root() + "/var/app.db",
              "CREATE TABLE t (v TEXT); INSERT INTO t SELECT hex(randomblob(500)) FROM (WITH "
              "RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000) SELECT x "
              "FROM c);"});
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
}

// What a restore test that cannot restore (no $TMPDIR, or a full one) prints: its one error line
// naming the place, a non-zero exit, and no table header with nothing under it (before, the
// header came first).
void ExpectRestoreTestFailsWithoutHeader(const BackupApp& app, const std::string& tmpdir) {
  RunOptions options;
  options.env["TMPDIR"] = tmpdir;
  RunResult r = app.Run({"backup", "verify", "latest", "--restore-test"}, options);
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("recorded"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("restored"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("error: "), r.err.rfind("error: ")) << r.err;  // one error line
  EXPECT_NE(r.err.find(tmpdir), std::string::npos) << r.err;
}

TEST(RestoreTestHeader, NotPrintedWhenTmpdirIsMissing) {
  BackupApp app({"db"}, "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n");
  RestoreTestHeaderBackUpSqlite(app);
  TempDir tmp;
  ExpectRestoreTestFailsWithoutHeader(app, tmp.path() + "/missing");
}

TEST(RestoreTestHeader, NotPrintedWhenTmpdirIsFull) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  BackupApp app({"db"}, "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n");
  RestoreTestHeaderBackUpSqlite(app);
  TempDir tmp;
  const std::string tiny = tmp.path() + "/tiny";
  fs::create_directory(tiny);
  ASSERT_EQ(RunProgram({"mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", tiny}).exit_code, 0);
  struct Unmount {
    std::string dir;
    ~Unmount() { RunProgram({"umount", dir}); }
  } unmount{tiny};
  // Full: what a filler could write fills it.
  RunProgram({"sh", "-c", "dd if=/dev/zero of='" + tiny + "/fill' bs=4k 2>/dev/null; true"});
  ExpectRestoreTestFailsWithoutHeader(app, tiny);
}

}  // namespace
}  // namespace velin::testing
