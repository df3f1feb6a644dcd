// Schema levels around a switch, without a database: the level is a file in app.root that
// `migration_status` prints and `migrate_down` rewrites. What a user relies on: at most one
// command of a switch runs at a time, even after a kill -9 of velin; a migration_status that
// fails stops a switch before anything is stopped, as its --dry-run does; status and history
// show the schema level.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/background_velin.hpp"
#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// A hook's slow step: it waits while app/hold exists (at most 30 s), so that a test decides when
// it ends instead of guessing how long a velin takes to start (a sanitizer build's recover
// started after a 3 s sleep had ended, 2026-12-08).
constexpr const char* kLeftoverHold =
    "i=0; while [ -f hold ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done";

// migrate_down appends "start PID" and "end PID" (its shell's pid, the leader of its process
// group) to hook.log around a slow step, and writes the level it was given.
ToyAppOptions LeftoverLevelOptions() {
  ToyAppOptions o = NoService();
  o.extra_rollback =
      "migration_status = 'if [ -f broken ]; then echo could not connect to server >&2; exit 2; "
      "fi; cat level'\n"
      "migrate_down = 'echo \"start $$\" >> hook.log; " +
      std::string(kLeftoverHold) +
      "; echo {level} > level; "
      "echo \"end $$\" >> hook.log'\n";
  return o;
}

std::string LeftoverRead(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> LeftoverLines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(LeftoverRead(path));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// v1 made at level 1, v2 at level 2; v2 live.
void LeftoverTwoLevels(ToyApp& app) {
  WriteFile(app.app() + "/level", "1\n");
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  WriteFile(app.app() + "/level", "2\n");
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

// Kills (SIGKILL) the process groups named by hook.log's "start PID" lines when the test ends,
// passed or failed: a migrate_down left running by the killed velin.
class LeftoverHookGroups {
 public:
  explicit LeftoverHookGroups(std::string log) : log_(std::move(log)) {}
  ~LeftoverHookGroups() {
    for (const std::string& line : LeftoverLines(log_)) {
      if (line.rfind("start ", 0) == 0)
        ::kill(-static_cast<pid_t>(std::stol(line.substr(6))), SIGKILL);
    }
  }
  LeftoverHookGroups(const LeftoverHookGroups&) = delete;
  LeftoverHookGroups& operator=(const LeftoverHookGroups&) = delete;

 private:
  std::string log_;
};

// The lines of hook.log alternate "start PID" and "end PID" of the same PID: never two of the
// logged commands at once.
void LeftoverExpectNoOverlap(const std::string& log) {
  const std::vector<std::string> lines = LeftoverLines(log);
  ASSERT_FALSE(lines.empty());
  ASSERT_EQ(lines.size() % 2, 0u) << LeftoverRead(log);
  for (size_t i = 0; i < lines.size(); i += 2) {
    ASSERT_EQ(lines[i].rfind("start ", 0), 0u) << LeftoverRead(log);
    EXPECT_EQ(lines[i + 1], "end " + lines[i].substr(6)) << LeftoverRead(log);
  }
}

// Runs velin `args` with app/hold in place, kills it (-9) once the held command logged its
// start, then runs `rollback recover` while the orphan still holds: a second start within 12 s
// is the overlap (recover did not wait). Then the hold is lifted, and *r is recover's result.
// 12 s, not 3: a sanitizer build's recover, beside other tests, took more than 3 s to start and
// found the orphan gone already.
void LeftoverKillThenRecover(ToyApp& app, const std::vector<std::string>& args, RunResult* r) {
  const std::string log = app.app() + "/hook.log", hold = app.app() + "/hold";
  WriteFile(hold, "");
  RunOptions options;
  options.cwd = app.root();
  std::vector<std::string> argv = {"--config", app.config()};
  argv.insert(argv.end(), args.begin(), args.end());
  BackgroundVelin velin(argv, options);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (LeftoverLines(log).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(LeftoverLines(log).size(), 1u) << LeftoverRead(log);
  velin.Signal(SIGKILL);
  ASSERT_TRUE(velin.WaitExit());
  velin.Finish();

  BackgroundVelin recover({"--config", app.config(), "rollback", "recover"}, options);
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(12);
  while (LeftoverLines(log).size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::unlink(hold.c_str());
  ASSERT_TRUE(recover.WaitExit());
  *r = recover.Finish();
}

// velin killed with kill -9 while migrate_down runs: the command goes on alone (an orphan), and
// a `recover` started at once ran a second migrate_down beside it (start, start, end, end).
// Now recover waits for the one recorded in switch.json, then continues the switch.
TEST(RollbackSchemaLeftoversTest, RecoverWaitsForTheMigrateDownAKilledVelinLeftRunning) {
  ToyApp app(LeftoverLevelOptions());
  LeftoverTwoLevels(app);
  const std::string log = app.app() + "/hook.log";
  LeftoverHookGroups cleanup(log);
  RunResult r;
  LeftoverKillThenRecover(app, {"rollback", "to-version", "v1"}, &r);
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("rollback.migrate_down (process "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("still runs: waiting for it to end"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v1");
  EXPECT_EQ(LeftoverRead(app.app() + "/level"), "1\n");
  // Never two at once: each start is followed by its own end before the next start.
  LeftoverExpectNoOverlap(log);
}

// A transaction's rollback killed with kill -9 while a slow before_switch hook ran: the hook went
// on alone, and a `recover` started at once ran the rollback, and so a second before_switch,
// beside it (start A, start B, end A, end B). Now the hook is in command.json before it runs,
// and recover waits for it first.
TEST(RollbackSchemaLeftoversTest, RecoverWaitsForTheBeforeSwitchHookAKilledVelinLeftRunning) {
  ToyAppOptions o = NoService();
  o.extra_rollback = "\n[hooks]\nbefore_switch = 'echo \"start $$\" >> hook.log; " +
                     std::string(kLeftoverHold) + "; echo \"end $$\" >> hook.log'\n";
  ToyApp app(o);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  RunResult begun = app.Velin({"rollback", "begin"});
  ASSERT_EQ(begun.exit_code, 0) << begun.out << begun.err;
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  const std::string log = app.app() + "/hook.log";
  ::unlink(log.c_str());
  LeftoverHookGroups cleanup(log);
  RunResult r;
  LeftoverKillThenRecover(app, {"rollback", "rollback"}, &r);
  if (::testing::Test::HasFatalFailure()) return;
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The transaction's watchdog, which also sees its velin gone, may take the state lock first
  // (a sanitizer build's recover starts slowly): it waits for the hook and rolls back, and
  // recover then finds nothing to do. Either way the hooks never overlap (below).
  if (r.out.find("Nothing to recover") == std::string::npos) {
    EXPECT_NE(r.err.find("hooks.before_switch (process "), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.err.find("still runs: waiting for it to end"), std::string::npos) << r.err;
  }
  EXPECT_NE(app.Current(), "v2");  // rolled back to the transaction's base
  LeftoverExpectNoOverlap(log);
}

// A migration_status that fails (the database is down) made --dry-run fail, while the switch
// itself went on with the level recorded for v2: it stopped, ran migrate_down on that guess,
// then failed on the check after it and went back to v2 on the schema migrate_down had left.
// Now both fail the same way, before anything is stopped or migrated.
TEST(RollbackSchemaLeftoversTest, AFailingMigrationStatusStopsTheSwitchBeforeAnythingAsTheDryRun) {
  ToyApp app(LeftoverLevelOptions());
  LeftoverTwoLevels(app);
  WriteFile(app.app() + "/broken", "");
  const std::string said =
      "rollback.migration_status command failed (exit code 2): could not connect to server";

  RunResult plan = app.Velin({"rollback", "to-version", "v1", "--dry-run"});
  EXPECT_EQ(plan.exit_code, 1) << plan.out << plan.err;
  EXPECT_NE(plan.err.find(said), std::string::npos) << plan.err;

  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("switch to v1: " + said + "; nothing was changed (still v2)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(app.Current(), "v2");
  EXPECT_EQ(LeftoverRead(app.app() + "/level"), "2\n");
  EXPECT_EQ(LeftoverRead(app.app() + "/hook.log"), "") << "migrate_down ran";
  EXPECT_FALSE(std::ifstream(app.state() + "/switch.json").good());
}

// `status` and `history` said nothing of the schema: now status shows the live level (and the
// level recorded for the current version, when it differs), history the level each switch left.
TEST(RollbackSchemaLeftoversTest, StatusAndHistoryShowTheSchemaLevel) {
  ToyApp app(LeftoverLevelOptions());
  LeftoverTwoLevels(app);
  RunResult back = app.Velin({"rollback", "to-version", "v1"});
  ASSERT_EQ(back.exit_code, 0) << back.out << back.err;

  // Without --schema-level, the lines a deploy script compares (contrib/ci/deploy.sh), and no
  // command run.
  WriteFile(app.app() + "/broken", "");
  RunResult status = app.Velin({"rollback", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.out, "Current: v1\nNo open transaction\n");
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}).out);
  EXPECT_FALSE(doc.contains("schema_level")) << doc.dump();
  EXPECT_EQ(doc["recorded_schema_level"], "1") << doc.dump();
  ASSERT_EQ(::unlink((app.app() + "/broken").c_str()), 0);

  status = app.Velin({"rollback", "status", "--schema-level"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.out, "Current: v1\nNo open transaction\nSchema level: 1\n");
  doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "status", "--schema-level"}).out);
  EXPECT_EQ(doc["schema_level"], "1") << doc.dump();
  EXPECT_EQ(doc["recorded_schema_level"], "1") << doc.dump();
  EXPECT_TRUE(doc["schema_level_error"].is_null()) << doc.dump();

  // The schema moved under v1 (a migration run by hand): both levels are shown.
  WriteFile(app.app() + "/level", "3\n");
  status = app.Velin({"rollback", "status", "--schema-level"});
  EXPECT_NE(status.out.find("Schema level: 3 (v1 was recorded at 1)"), std::string::npos)
      << status.out;
  // The database cannot be asked: status still answers, and says why the level is unknown.
  WriteFile(app.app() + "/broken", "");
  status = app.Velin({"rollback", "status", "--schema-level"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("Schema level: unknown (rollback.migration_status command failed "
                            "(exit code 2): could not connect to server)"),
            std::string::npos)
      << status.out;
  doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "status", "--schema-level"}).out);
  EXPECT_TRUE(doc["schema_level"].is_null()) << doc.dump();
  EXPECT_NE(doc["schema_level_error"].get<std::string>().find("could not connect"),
            std::string::npos);

  RunResult history = app.Velin({"rollback", "history"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_NE(history.out.find("v2 -> v1: switched  [schema level 1]"), std::string::npos)
      << history.out;
  EXPECT_NE(history.out.find("v1 -> v2: switched  [schema level 2]"), std::string::npos)
      << history.out;
  doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}).out);
  ASSERT_FALSE(doc["history"].empty());
  EXPECT_EQ(doc["history"].back()["schema_level"], "1") << doc.dump();
}

}  // namespace
}  // namespace velin::testing
