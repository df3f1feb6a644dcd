// The rollback engine exactly when things go wrong, through the real binary: a crash matrix
// (every VELIN_TEST_CRASH_AT point of the switch and the transaction × healthy / unhealthy
// target × version / snapshot × inside / outside a transaction, then `recover`), the saved live
// config of a switch to a snapshot, watchdog liveness that a zombie or a reused pid cannot fool,
// and start/stop commands that hang.
//
// The service is a sleep-free toy: `start` writes the release's VERSION to app/running, `stop`
// removes it, the health check passes when app/running names the live release and the release
// has no BROKEN marker. Unhealthy targets fail at once (health_timeout 100ms).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;
using Files = std::map<std::string, std::string>;  // relative path -> content

constexpr const char* kToyService =
    "start = \"cat current/bin/VERSION > running\"\n"
    "stop = \"rm -f running\"\n"
    "health = \"test -f running && test ! -e current/bin/BROKEN && cmp -s running "
    "current/bin/VERSION\"\n";

ToyAppOptions FastToy(const std::string& more = "") {
  ToyAppOptions o;
  o.with_service = false;
  o.health_timeout = "100ms";
  o.extra_rollback = std::string(kToyService) + more;
  return o;
}

// Configured config paths of the toy: .env and the directory config/.
void UseConfigDir(ToyApp& app) {
  std::string toml = ReadFileOrDie(app.config());
  toml.replace(toml.find("config = [\".env\"]"), 17, "config = [\".env\", \"config\"]");
  WriteFile(app.config(), toml);
}

void WriteConfig(ToyApp& app, const Files& files) {
  fs::remove_all(app.app() + "/config");
  fs::remove(app.app() + "/.env");
  for (const auto& [rel, content] : files) WriteFile(app.app() + "/" + rel, content);
}

Files LiveConfig(ToyApp& app) {
  Files out;
  if (fs::exists(app.app() + "/.env")) out[".env"] = ReadFileOrDie(app.app() + "/.env");
  if (fs::exists(app.app() + "/config")) {
    for (const auto& e : fs::recursive_directory_iterator(app.app() + "/config")) {
      if (!e.is_regular_file()) continue;
      out[fs::relative(e.path(), app.app()).string()] = ReadFileOrDie(e.path().string());
    }
  }
  return out;
}

nlohmann::json Json(ToyApp& app, std::vector<std::string> args) {
  args.insert(args.begin(), "--json");
  RunResult r = app.Velin(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

// Leftovers of an unfinished write or switch anywhere below `dir`.
std::vector<std::string> TempFiles(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.find(".velin-") != std::string::npos || name.find(".tmp-") != std::string::npos ||
        name == "switch.json") {
      found.push_back(e.path().string());
    }
  }
  return found;
}

// `current` is a complete release, the service runs it and is healthy.
void ExpectLiveAndHealthy(ToyApp& app, const std::string& version, const std::string& where) {
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), version + "\n") << where;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/lib.dat").size(), 64u * 1024) << where;
  EXPECT_FALSE(fs::exists(app.app() + "/current/bin/BROKEN")) << where;
  ASSERT_TRUE(fs::exists(app.app() + "/running")) << where << ": the service is not running";
  EXPECT_EQ(ReadFileOrDie(app.app() + "/running"), version + "\n") << where;
  EXPECT_TRUE(TempFiles(app.root()).empty()) << where << ": " << TempFiles(app.root())[0];
}

int CountSwitches(const nlohmann::json& history, const std::string& action, const std::string& to) {
  int n = 0;
  for (const auto& h : history["history"]) n += h["action"] == action && h["to"] == to ? 1 : 0;
  return n;
}

const Files kLiveV1 = {{".env", "MODE=v1\n"}, {"config/app.ini", "a=1\n"}};
const Files kLiveEdited = {{".env", "MODE=edited-live\n"}, {"config/app.ini", "a=2\n"}};
const Files kSnapshot = {{".env", "MODE=snapshot\n"},
                         {"config/app.ini", "snap=1\n"},
                         {"config/extra.ini", "only in the snapshot\n"}};

// v1 live (config kLiveV1), target "t" registered (a version, or a snapshot with config
// kSnapshot; BROKEN when unhealthy), then the live config edited by hand to kLiveEdited.
void SetUpDeploy(ToyApp& app, bool healthy, bool snapshot) {
  UseConfigDir(app);
  WriteConfig(app, kLiveV1);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  app.Build("t", !healthy);
  if (snapshot) WriteConfig(app, kSnapshot);
  r = app.Velin({"rollback", snapshot ? "create-snapshot" : "create-version", "t"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  WriteConfig(app, kLiveEdited);
}

// The same, built once per (healthy, snapshot) and copied: the matrix runs it 28 times each.
void CopyDeploySetUp(ToyApp& app, bool healthy, bool snapshot) {
  static std::map<std::pair<bool, bool>, std::unique_ptr<ToyApp>> templates;
  auto& tmpl = templates[{healthy, snapshot}];
  if (!tmpl) {
    tmpl = std::make_unique<ToyApp>(FastToy());
    SetUpDeploy(*tmpl, healthy, snapshot);
  }
  UseConfigDir(app);
  fs::remove_all(app.app());
  RunResult r = RunProgram({"cp", "-a", tmpl->app(), tmpl->state(), app.root()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // `current` links to the release by its absolute path.
  fs::remove(app.app() + "/current");
  fs::create_directory_symlink(app.state() + "/releases/v1", app.app() + "/current");
}

struct CrashCase {
  std::string point;
  bool healthy;
  bool snapshot;
  bool in_txn;
};

std::string CaseName(const ::testing::TestParamInfo<CrashCase>& info) {
  std::string name = info.param.point + (info.param.healthy ? "_healthy" : "_unhealthy") +
                     (info.param.snapshot ? "_snapshot" : "_version") +
                     (info.param.in_txn ? "_txn" : "_plain");
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

const std::vector<std::string> kSwitchPoints = {
    "switch-intent",   "switch-config-saving", "switch-stopped",  "switch-temp-link",
    "switch-renamed",  "switch-synced",        "switch-registry", "switch-config",
    "switch-migrated", "switch-started",       "switch-back",     "switch-history"};
const std::vector<std::string> kTxnPoints = {"begin-saved", "commit-saved", "txn-rolling-back",
                                             "txn-history"};

std::vector<CrashCase> AllCrashCases() {
  std::vector<CrashCase> out;
  for (bool healthy : {true, false}) {
    for (bool snapshot : {false, true}) {
      for (const auto& p : kSwitchPoints) {
        for (bool in_txn : {false, true}) out.push_back({p, healthy, snapshot, in_txn});
      }
      for (const auto& p : kTxnPoints) out.push_back({p, healthy, snapshot, true});
    }
  }
  return out;
}

class RollbackCrashMatrixTest : public ::testing::TestWithParam<CrashCase> {};

// Runs the deploy (outside: to-version t; inside: begin, to-version t, then commit or a
// rollback) with the crash point armed for every command until one crashes, then `recover`,
// checks the state, runs the rest of the deploy without the crash, and checks the end state.
TEST_P(RollbackCrashMatrixTest, RecoverEndsOnAHealthyCompleteReleaseWithItsConfig) {
  const CrashCase& c = GetParam();
  ToyApp app(FastToy());
  CopyDeploySetUp(app, c.healthy, c.snapshot);
  if (HasFatalFailure()) return;
  bool rollback_at_end = c.point == "txn-rolling-back" || c.point == "txn-history";
  std::vector<std::vector<std::string>> steps;
  if (c.in_txn) steps.push_back({"rollback", "begin", "--timeout", "1h", "--reason", "deploy"});
  steps.push_back({"rollback", "to-version", "t"});
  if (c.in_txn) steps.push_back({"rollback", rollback_at_end ? "rollback" : "commit"});

  // What each step ends in when nothing crashes.
  auto expected_exit = [&](size_t i) { return steps[i][1] == "to-version" && !c.healthy ? 5 : 0; };
  const std::string deployed = c.healthy ? "t" : "v1";
  const Files deployed_config = c.healthy && c.snapshot ? kSnapshot : kLiveEdited;

  size_t crashed = steps.size();
  for (size_t i = 0; i < steps.size(); ++i) {
    RunResult r = app.Velin(steps[i], {{"VELIN_TEST_CRASH_AT", c.point}});
    if (r.exit_code == 86) {
      crashed = i;
      break;
    }
    ASSERT_EQ(r.exit_code, expected_exit(i)) << steps[i][1] << ": " << r.out << r.err;
  }
  // A crash point of the switch is reached by every switch except these.
  bool reachable = !(c.point == "switch-back" && c.healthy) &&
                   !(c.point == "switch-config-saving" && !c.snapshot);
  if (c.point.rfind("switch-", 0) == 0 && reachable) {
    EXPECT_EQ(crashed, c.in_txn ? 1u : 0u) << "the crash point was not reached";
  }

  RunResult r = app.Velin({"rollback", "recover"});
  bool recovers_deploy = crashed < steps.size() && steps[crashed][1] == "to-version";
  int recover_exit = recovers_deploy && !c.healthy ? 5 : 0;
  ASSERT_EQ(r.exit_code, recover_exit) << r.out << r.err;

  // Right after recover.
  std::string live_after = "v1";
  Files config_after = kLiveEdited;
  if (crashed == steps.size() || steps[crashed][1] != "begin") {
    live_after = deployed;
    config_after = deployed_config;
  }
  if (crashed < steps.size() && steps[crashed][1] == "rollback") {
    live_after = "v1";  // the transaction's base: v1's release with the live config at begin
    config_after = kLiveEdited;
  }
  if (crashed == steps.size() && rollback_at_end) {
    live_after = "v1";
    config_after = kLiveEdited;
  }
  ExpectLiveAndHealthy(app, live_after, "after recover");
  EXPECT_EQ(LiveConfig(app), config_after);
  auto history = Json(app, {"rollback", "history"});
  ASSERT_TRUE(history.is_object());
  if (crashed >= (c.in_txn ? 1u : 0u)) {
    EXPECT_EQ(CountSwitches(history, "switch", "t"), 1) << history.dump();
    for (const auto& h : history["history"]) {
      if (h["to"] == "t") {
        EXPECT_EQ(h["from"], "v1") << history.dump();
      }
    }
  }

  // The rest of the deploy, without the crash.
  for (size_t i = crashed + 1; i < steps.size(); ++i) {
    r = app.Velin(steps[i]);
    ASSERT_EQ(r.exit_code, expected_exit(i)) << steps[i][1] << ": " << r.out << r.err;
  }
  bool ends_on_base = c.in_txn && rollback_at_end;
  ExpectLiveAndHealthy(app, ends_on_base ? "v1" : deployed, "at the end");
  EXPECT_EQ(LiveConfig(app), ends_on_base ? kLiveEdited : deployed_config);
  history = Json(app, {"rollback", "history"});
  EXPECT_EQ(CountSwitches(history, "switch", "t"), 1) << history.dump();
  if (c.in_txn) {
    EXPECT_EQ(CountSwitches(history, "transaction", ""), 1) << history.dump();
    EXPECT_EQ(history["history"].back()["outcome"],
              ends_on_base ? "rolled back by hand" : "committed");
  }
  EXPECT_FALSE(fs::exists(app.state() + "/transaction.json"));
}

INSTANTIATE_TEST_SUITE_P(AllPoints, RollbackCrashMatrixTest, ::testing::ValuesIn(AllCrashCases()),
                         CaseName);

// Defect 1 of issue 14: recover after a crash in a switch to a broken release goes back to the
// recorded `from`, running and healthy, with one history entry v1 → t.
TEST(RollbackRecoverTest, RecoverOfAnInterruptedSwitchToABrokenReleaseEndsOnFrom) {
  ToyApp app(FastToy());
  SetUpDeploy(app, /*healthy=*/false, /*snapshot=*/false);
  RunResult r =
      app.Velin({"rollback", "to-version", "t"}, {{"VELIN_TEST_CRASH_AT", "switch-renamed"}});
  ASSERT_EQ(r.exit_code, 86) << r.err;
  EXPECT_EQ(app.Current(), "t");
  r = app.Velin({"rollback", "recover"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_NE(r.err.find("switched back to v1 (healthy)"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v1");
  ExpectLiveAndHealthy(app, "v1", "after recover");
  auto history = Json(app, {"rollback", "history"});
  ASSERT_EQ(CountSwitches(history, "switch", "t"), 1) << history.dump();
  EXPECT_EQ(history["history"].back()["from"], "v1");
  EXPECT_EQ(history["history"].back()["to"], "t");
  EXPECT_FALSE(fs::exists(app.state() + "/switch.json"));
}

// A transaction rolled back while one of its deploy switches is interrupted: that switch is
// undone first (its saved config comes back), then the base is switched to; both recorded once.
TEST(RollbackRecoverTest, RollbackOfATransactionUndoesItsInterruptedSwitch) {
  ToyApp app(FastToy());
  SetUpDeploy(app, /*healthy=*/true, /*snapshot=*/true);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", "1h"}).exit_code, 0);
  RunResult r =
      app.Velin({"rollback", "to-version", "t"}, {{"VELIN_TEST_CRASH_AT", "switch-config"}});
  ASSERT_EQ(r.exit_code, 86) << r.err;
  EXPECT_EQ(LiveConfig(app), kSnapshot);
  r = app.Velin({"rollback", "rollback"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ExpectLiveAndHealthy(app, "v1", "after the rollback");
  EXPECT_EQ(LiveConfig(app), kLiveEdited);
  auto history = Json(app, {"rollback", "history"});
  ASSERT_EQ(CountSwitches(history, "switch", "t"), 1) << history.dump();
  EXPECT_EQ(CountSwitches(history, "transaction", ""), 1) << history.dump();
  EXPECT_EQ(history["history"].back()["outcome"], "rolled back by hand");
}

// Defect 2: a failed switch to a snapshot puts the live config from before back, byte for byte
// (a file only the snapshot had is removed again); the saved copy stays under the state dir.
TEST(RollbackSavedConfigTest, FailedHealthCheckPutsTheLiveConfigBack) {
  ToyApp app(FastToy());
  SetUpDeploy(app, /*healthy=*/false, /*snapshot=*/true);
  RunResult r = app.Velin({"rollback", "to-version", "t"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_EQ(LiveConfig(app), kLiveEdited);
  EXPECT_FALSE(fs::exists(app.app() + "/config/extra.ini"));
  ExpectLiveAndHealthy(app, "v1", "after the switch back");
  auto list = Json(app, {"rollback", "list"});
  ASSERT_EQ(list["saved_configs"].size(), 1u) << list.dump();
  std::string saved = list["saved_configs"][0];
  EXPECT_EQ(saved.rfind(app.state() + "/saved-config/", 0), 0u) << saved;
  EXPECT_EQ(ReadFileOrDie(saved + "/.env"), kLiveEdited.at(".env"));
}

// The first switch ever (no `current` yet) has no version to go back to; the config still does.
TEST(RollbackSavedConfigTest, FailedFirstSwitchStillPutsTheLiveConfigBack) {
  ToyApp app(FastToy());
  UseConfigDir(app);
  app.Build("t", /*broken=*/true);
  WriteConfig(app, kSnapshot);
  ASSERT_EQ(app.Velin({"rollback", "create-snapshot", "t"}).exit_code, 0);
  WriteConfig(app, kLiveEdited);
  RunResult r = app.Velin({"rollback", "to-version", "t"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("nothing to switch back to; the configuration from before was put back"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(LiveConfig(app), kLiveEdited);
}

TEST(RollbackSavedConfigTest, FailedMigrateDownPutsTheLiveConfigBackAndExits1) {
  ToyApp app(FastToy("migration_status = \"cat level\"\nmigrate_down = \"exit 3\"\n"));
  UseConfigDir(app);
  WriteFile(app.app() + "/level", "1\n");
  app.Build("t");
  WriteConfig(app, kSnapshot);
  ASSERT_EQ(app.Velin({"rollback", "create-snapshot", "t"}).exit_code, 0);
  WriteFile(app.app() + "/level", "2\n");
  WriteConfig(app, kLiveV1);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  WriteConfig(app, kLiveEdited);
  RunResult r = app.Velin({"rollback", "to-version", "t"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("rollback.migrate_down command failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("switched back to v1 (healthy)"), std::string::npos) << r.err;
  EXPECT_EQ(LiveConfig(app), kLiveEdited);
  ExpectLiveAndHealthy(app, "v1", "after the switch back");
}

TEST(RollbackSavedConfigTest, SuccessfulSwitchKeepsTheSavedCopyAndSaysWhere) {
  ToyApp app(FastToy());
  SetUpDeploy(app, /*healthy=*/true, /*snapshot=*/true);
  RunResult r = app.Velin({"rollback", "to-version", "t"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(LiveConfig(app), kSnapshot);
  size_t at = r.out.find("is kept in " + app.state() + "/saved-config/");
  ASSERT_NE(at, std::string::npos) << r.out;
  std::string saved = r.out.substr(r.out.find(app.state(), at));
  saved = saved.substr(0, saved.find('\n'));
  EXPECT_EQ(ReadFileOrDie(saved + "/.env"), kLiveEdited.at(".env"));
  EXPECT_EQ(ReadFileOrDie(saved + "/config/app.ini"), kLiveEdited.at("config/app.ini"));
  r = app.Velin({"rollback", "list"});
  EXPECT_NE(r.out.find("Saved live configuration: " + saved), std::string::npos) << r.out;
}

// Defect 7 (switch path): when the switch back fails too, the exit code is 1, not 5.
TEST(RollbackRecoverTest, SwitchBackThatFailsTooExits1) {
  ToyApp app(FastToy());
  SetUpDeploy(app, /*healthy=*/false, /*snapshot=*/false);
  WriteFile(app.state() + "/releases/v1/bin/BROKEN", "1\n");  // fault: v1 breaks as well
  RunResult r = app.Velin({"rollback", "to-version", "t"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("switching back to v1 failed too"), std::string::npos) << r.err;
}

// Defect 7: a failing stop changes nothing, and says so (no "switching back … failed too").
TEST(RollbackRecoverTest, FailingStopChangesNothing) {
  ToyApp app(FastToy());
  SetUpDeploy(app, /*healthy=*/true, /*snapshot=*/true);
  std::string toml = ReadFileOrDie(app.config());
  toml.replace(toml.find("stop = \"rm -f running\""), 22, "stop = \"exit 7\"");
  WriteFile(app.config(), toml);
  RunResult r = app.Velin({"rollback", "to-version", "t"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("nothing was changed (still v1)"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("failed too"), std::string::npos) << r.err;
  EXPECT_EQ(LiveConfig(app), kLiveEdited);
  ExpectLiveAndHealthy(app, "v1", "after the failed stop");
}

// Waits until `pred` holds or `seconds` pass.
template <typename Pred>
bool WaitFor(Pred pred, double seconds) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// Defect 6: a start that never returns is ended (its whole process group) after start_timeout,
// then the switch goes back; a stop that hangs ends the same way with nothing changed.
TEST(RollbackTimeoutTest, HangingStartIsKilledAndTheSwitchGoesBack) {
  ToyApp app(FastToy("start_timeout = \"1s\"\n"));
  SetUpDeploy(app, /*healthy=*/true, /*snapshot=*/false);
  std::string toml = ReadFileOrDie(app.config());
  std::string start = "start = \"cat current/bin/VERSION > running\"";
  toml.replace(toml.find(start), start.size(),
               "start = \"cat current/bin/VERSION > running; "
               "if grep -qx t running; then (trap '' TERM; sleep 60) & echo $! > hung.pid; wait; "
               "fi\"");
  WriteFile(app.config(), toml);
  auto began = std::chrono::steady_clock::now();
  RunResult r = app.Velin({"rollback", "to-version", "t"});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("rollback.start command did not finish within 1s"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("switched back to v1 (healthy)"), std::string::npos) << r.err;
  EXPECT_LT(secs, 30.0);
  long hung = ReadPidFile(app.app() + "/hung.pid");
  ASSERT_GT(hung, 0);
  EXPECT_TRUE(WaitFor([&] { return ::kill(static_cast<pid_t>(hung), 0) != 0; }, 5))
      << "the start's process group survived";
  ExpectLiveAndHealthy(app, "v1", "after the switch back");
}

// A start that launches the service in the background (`./server &`) hands it the output pipe
// velin reads. velin waited for that pipe to close, so a start that had done its job "did not
// finish within" start_timeout and the switch went back. Must show: the switch is done when
// the start command itself ends (fast, exit 0, the start's own output in the log), and the
// daemon is left running.
TEST(RollbackTimeoutTest, AStartThatLeavesADaemonHoldingItsOutputIsDone) {
  ToyApp app(FastToy("start_timeout = \"3s\"\n"));
  SetUpDeploy(app, /*healthy=*/true, /*snapshot=*/false);
  std::string toml = ReadFileOrDie(app.config());
  std::string start = "start = \"cat current/bin/VERSION > running\"";
  toml.replace(toml.find(start), start.size(),
               "start = \"cat current/bin/VERSION > running; echo launching; "
               "(exec sleep 60) & echo $! > daemon.pid\"");
  WriteFile(app.config(), toml);
  auto began = std::chrono::steady_clock::now();
  RunResult r = app.Velin({"rollback", "to-version", "t"});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  long daemon = ReadPidFile(app.app() + "/daemon.pid");
  ASSERT_GT(daemon, 0);
  const bool alive = ::kill(static_cast<pid_t>(daemon), 0) == 0;
  ::kill(static_cast<pid_t>(daemon), SIGKILL);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.err.find("did not finish"), std::string::npos) << r.err;
  EXPECT_LT(secs, 2.5) << "waited for the daemon's pipe";
  EXPECT_TRUE(alive) << "the daemon the start launched was killed";
  ExpectLiveAndHealthy(app, "t", "after the switch");
}

TEST(RollbackTimeoutTest, HangingStopIsKilledAndNothingChanges) {
  ToyApp app(FastToy("stop_timeout = \"1s\"\n"));
  SetUpDeploy(app, /*healthy=*/true, /*snapshot=*/false);
  std::string toml = ReadFileOrDie(app.config());
  toml.replace(toml.find("stop = \"rm -f running\""), 22, "stop = \"sleep 60\"");
  WriteFile(app.config(), toml);
  RunResult r = app.Velin({"rollback", "to-version", "t"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("rollback.stop command did not finish within 1s"), std::string::npos)
      << r.err;
  EXPECT_EQ(app.Current(), "v1");
}

// Defect 3: begin, deploy t, then the watchdog is made to look alive to kill(pid, 0) although
// it is not; recover must re-arm it and the deadline must roll back with no further command.
void ExpectReArmedAndRolledBackAtDeadline(ToyApp& app, const std::string& where) {
  RunResult r = app.Velin({"rollback", "recover"});
  ASSERT_EQ(r.exit_code, 0) << where << ": " << r.err;
  EXPECT_NE(r.out.find("its watchdog was re-armed"), std::string::npos) << where << ": " << r.out;
  // No velin command from here on: the re-armed watchdog rolls back at the deadline.
  bool rolled_back = WaitFor([&] { return !fs::exists(app.state() + "/transaction.json"); }, 30);
  ASSERT_TRUE(rolled_back) << where << ": nothing rolled back at the deadline";
  ExpectLiveAndHealthy(app, "v1", where);
  EXPECT_EQ(LiveConfig(app), kLiveEdited) << where;
  auto history = Json(app, {"rollback", "history"});
  EXPECT_EQ(history["history"].back()["outcome"], "rolled back by timeout") << where;
}

void BeginAndDeploy(ToyApp& app) {
  SetUpDeploy(app, /*healthy=*/true, /*snapshot=*/false);
  // 5 s: the deploy and the recover after it must come before the deadline, also on a loaded
  // machine (the re-armed watchdog's real wait for it is the point of these tests).
  ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", "5s"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "t"}).exit_code, 0);
}

TEST(RollbackWatchdogTest, ZombieWatchdogIsReArmed) {
  // This process adopts the orphaned watchdog and does not reap it: once killed it stays a
  // zombie, which kill(pid, 0) reports as alive.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  {
    ToyApp app(FastToy());
    BeginAndDeploy(app);
    pid_t watchdog = static_cast<pid_t>(WatchdogPid(app.state()));
    ASSERT_GT(watchdog, 0);
    ASSERT_EQ(::kill(watchdog, SIGKILL), 0);
    siginfo_t info{};
    ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(watchdog), &info, WEXITED | WNOWAIT), 0);
    ASSERT_EQ(::kill(watchdog, 0), 0) << "not a zombie";
    ExpectReArmedAndRolledBackAtDeadline(app, "zombie");
    ::waitpid(watchdog, nullptr, 0);
  }
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {  // the re-armed watchdog, once it ended
  }
}

TEST(RollbackWatchdogTest, UnrelatedProcessAtTheWatchdogPidIsNoWatchdog) {
  ToyApp app(FastToy());
  BeginAndDeploy(app);
  KillPid(WatchdogPid(app.state()));
  // The recorded pid now belongs to an unrelated live process (as after a reboot).
  pid_t unrelated = ::fork();
  if (unrelated == 0) {
    ::execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ASSERT_GT(unrelated, 0);
  std::string txn = ReadFileOrDie(app.state() + "/transaction.json");
  static const std::regex kPid("\"watchdog_pid\":\\s*[0-9]+");
  WriteFile(app.state() + "/transaction.json",
            std::regex_replace(txn, kPid, "\"watchdog_pid\": " + std::to_string(unrelated)));
  ASSERT_EQ(WatchdogPid(app.state()), unrelated);
  ExpectReArmedAndRolledBackAtDeadline(app, "reused pid");
  EXPECT_EQ(::kill(unrelated, 0), 0) << "velin must not have touched the unrelated process";
  ::kill(unrelated, SIGKILL);
  ::waitpid(unrelated, nullptr, 0);
}

}  // namespace
}  // namespace velin::testing
