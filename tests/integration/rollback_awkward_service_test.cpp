// A switch with awkward application commands: a failed version that has ended by itself when
// the switch goes back (a pid file's `kill` then fails), a health check slower than 10 s, and a
// `stop` that does not stop the old version (docs/rollback.md, "What the commands are told").
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// The newest entry of `rollback history --json` (an empty object when there is none).
nlohmann::json AwkwardLastHistoryEntry(ToyApp& app) {
  RunResult history = app.Velin({"--json", "rollback", "history"});
  EXPECT_EQ(history.exit_code, 0) << history.err;
  const nlohmann::json doc = nlohmann::json::parse(history.out, nullptr, false);
  if (!doc.is_object() || !doc.contains("history") || !doc["history"].is_array() ||
      doc["history"].empty()) {
    ADD_FAILURE() << "no history: " << history.out;
    return nlohmann::json::object();
  }
  return doc["history"].back();
}

std::string AwkwardPython3() {
  return ::access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

// The pid file's entry of a process that is gone: no pid is this high (pid_max is at most 2^22),
// so `kill` fails at once, whenever the init process reaps a crashed one.
constexpr const char* kGonePid = "99999999";

// v2 crashes at its start: its pid file names a process that is gone. Every other version starts
// the toy server. `stop` kills the pid file's process and fails when it is gone, as `kill` and
// `pkill` do.
std::map<std::string, std::string> CrashingV2Commands(const ToyApp& app) {
  const std::string server = "nohup " + AwkwardPython3() + " current/bin/server.py " +
                             std::to_string(app.port()) + " >server.log 2>&1 </dev/null &";
  return {{"VELIN_ROLLBACK_STOP", "kill $(cat server.pid)"},
          {"VELIN_ROLLBACK_START", "if grep -q v2 current/bin/VERSION; then echo " +
                                       std::string(kGonePid) + " > server.pid; else " + server +
                                       " echo $! > server.pid; fi"}};
}

TEST(RollbackAwkwardServiceTest, AFailedVersionThatEndedItselfIsLeftWhenItsStopFails) {
  ToyAppOptions options;
  options.health_timeout = "4s";
  ToyApp app(options);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}, {{"VELIN_ROLLBACK_HEALTH_TIMEOUT", "8s"}})
                .exit_code,
            0);
  ASSERT_EQ(app.Health(), "version=v1");

  // v2's process is gone when the switch goes back: its `stop` fails, and the switch back goes
  // on (before, it ended there: v2 linked, nothing running, exit 1).
  RunResult r = app.Velin({"rollback", "to-version", "v2"}, CrashingV2Commands(app));
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_NE(r.err.find("switched back to v1 (healthy); rollback.stop had failed on the way: "
                       "rollback.stop command failed (exit code "),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("switching back to v1 all the same"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v1");
  EXPECT_TRUE(app.WaitForVersion("v1", 10)) << app.Health();

  const std::string outcome = AwkwardLastHistoryEntry(app).value("outcome", std::string());
  EXPECT_NE(outcome.find("health check failed; switched back to v1 (healthy)"), std::string::npos)
      << outcome;
}

// Each attempt of the health check may take the time left of health_timeout: one that takes
// 11 s passes within 25s (before, every attempt was cut at 10 s and it never passed).
TEST(RollbackAwkwardServiceTest, AHealthCheckSlowerThanTenSecondsPassesWithinHealthTimeout) {
  ToyAppOptions options = NoService();
  options.health_timeout = "25s";
  options.extra_rollback = "health = \"sleep 11\"\n";
  ToyApp app(options);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  const auto start = std::chrono::steady_clock::now();
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Health check passed"), std::string::npos) << r.out;
  EXPECT_LT(seconds, 24.0);
}

// A deploy that crashed after its switch: the transaction's rollback finds its process gone, and
// its `stop` fails. The rollback goes on (before, it ended there, "nothing was changed": the
// transaction closed as "rollback failed" with the crashed version linked and nothing running).
TEST(RollbackAwkwardServiceTest, TheRollbackOfACrashedDeployGoesOnWhenItsStopFails) {
  ToyApp app;
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "begin", "--timeout", "10m", "--reason", "deploy v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(app.Health(), "version=v2");

  // v2 crashes; its pid file stays, naming a process that is gone.
  app.KillServer();
  WriteFile(app.app() + "/server.pid", std::string(kGonePid) + "\n");

  r = app.Velin({"rollback", "rollback", "--reason", "v2 crashed"},
                {{"VELIN_ROLLBACK_STOP", "kill $(cat server.pid)"}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("rolling back to "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("all the same (the version being left may have ended already)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(app.Current(), "v2");
  EXPECT_TRUE(app.WaitForVersion("v1", 10)) << app.Health();
  RunResult status = app.Velin({"rollback", "status"});
  EXPECT_NE(status.out.find("No open transaction"), std::string::npos) << status.out;
}

// A health URL that answers 200 and then streams (server-sent events, an endless body) passes
// at its status line: the body is not read. Before, the attempt read it until its time was up,
// and the check failed ("last: timed out").
TEST(RollbackAwkwardServiceTest, AHealthUrlWithAnEndlessBodyPassesAtItsStatus) {
  TempDir server_dir;
  WriteFile(
      server_dir / "stream.py",
      "import socket, sys\n"
      "s = socket.socket()\n"
      "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
      "s.bind(('127.0.0.1', int(sys.argv[1])))\n"
      "s.listen(16)\n"
      "while True:\n"
      "    c, _ = s.accept()\n"
      "    try:\n"
      "        c.recv(65536)\n"
      "        c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Type: text/event-stream\\r\\n\\r\\n')\n"
      "        while True:\n"
      "            c.sendall(b'data: ok\\n\\n' * 512)\n"
      "    except OSError:\n"
      "        pass\n"
      "    finally:\n"
      "        c.close()\n");
  const int port = FreePort();
  ToyAppOptions options = NoService();
  options.health_timeout = "20s";
  options.extra_rollback = "start = \"nohup " + AwkwardPython3() + " " +
                           (server_dir / "stream.py") + " " + std::to_string(port) +
                           " >/dev/null 2>&1 </dev/null & echo $! > server.pid\"\n"
                           "health = \"http://127.0.0.1:" +
                           std::to_string(port) + "/events\"\n";
  ToyApp app(options);  // its destructor kills server.pid's process
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  const auto start = std::chrono::steady_clock::now();
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Health check passed"), std::string::npos) << r.out;
  EXPECT_LT(seconds, 15.0);
}

// The `health` line of docs/rollback.md's example that confirms the version, as written there,
// with the example's address replaced by the toy app's.
std::string AwkwardDocsVersionHealth(const ToyApp& app) {
  const std::string docs = ReadFileOrDie(SourceDir() + "/docs/rollback.md");
  size_t at = docs.find("### What the commands are told");
  EXPECT_NE(at, std::string::npos);
  if (at == std::string::npos) return "";
  const std::string fence = "```toml\n[rollback]\nhealth = '";
  at = docs.find(fence, at);
  EXPECT_NE(at, std::string::npos);
  if (at == std::string::npos) return "";
  at += fence.size();
  const size_t end = docs.find("'\n```", at);
  EXPECT_NE(end, std::string::npos);
  if (end == std::string::npos) return "";
  std::string health = docs.substr(at, end - at);
  const std::string example = "127.0.0.1:8080";
  const size_t host = health.find(example);
  EXPECT_NE(host, std::string::npos) << health;
  if (host == std::string::npos) return "";
  return health.replace(host, example.size(), "127.0.0.1:" + std::to_string(app.port()));
}

// `stop` exits 0 without stopping v2, which keeps its port: v1's server cannot bind it. The
// docs' health check compares the version that answers with $VELIN_VERSION, so the switch is
// not taken for done: it goes back to v2 (exit 5). Before, the commands were not told the
// version, and a check that did not look passed against v2: "Rolled back to v1", exit 0.
TEST(RollbackAwkwardServiceTest, TheDocsHealthCheckSeesThatTheOldVersionStillAnswers) {
  ToyApp app;
  const std::string health = AwkwardDocsVersionHealth(app);
  ASSERT_FALSE(health.empty());
  const std::map<std::string, std::string> checked{{"VELIN_ROLLBACK_HEALTH", health}};
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v2"}, checked);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;  // the check passes on the version it expects
  ASSERT_EQ(app.Health(), "version=v2");
  // v2's server outlives the switch below (its pid file is overwritten): killed here, always.
  struct KillOnExit {
    long pid;
    ~KillOnExit() { KillPid(pid); }
  } v2_server{ReadPidFile(app.app() + "/server.pid")};
  ASSERT_GT(v2_server.pid, 1);

  std::map<std::string, std::string> no_stop = checked;
  no_stop["VELIN_ROLLBACK_STOP"] = "true";
  no_stop["VELIN_ROLLBACK_HEALTH_TIMEOUT"] = "3s";
  r = app.Velin({"rollback", "to-version", "v1"}, no_stop);
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_EQ(r.out.find("Rolled back to v1"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("health check did not pass within 3s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("switched back to v2 (healthy)"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v2");
  EXPECT_EQ(app.Health(), "version=v2");
}

// stop, start and health are told which version the step goes to, its release and the version
// it leaves; going back, those of that direction.
TEST(RollbackAwkwardServiceTest, TheServiceCommandsAreToldTheVersionOfTheirStep) {
  ToyAppOptions options = NoService();
  options.health_timeout = "2s";
  const std::string record =
      " \\\"$VELIN_VERSION|$VELIN_FROM_VERSION|$VELIN_RELEASE_DIR|$VELIN_ROLLBACK_LEVEL\\\"";
  options.extra_rollback = "stop = \"echo stop" + record + " >> told.txt\"\n" +
                           "start = \"echo start" + record + " >> told.txt\"\n" +
                           "health = \"echo health" + record +
                           " >> told.txt; test ! -e current/bin/BROKEN\"\n";
  ToyApp app(options);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  app.Build("v2", true);
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v2"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  char link[4096];
  const ssize_t n = ::readlink((app.app() + "/current").c_str(), link, sizeof link);
  ASSERT_GT(n, 0);
  const std::string v1_dir(link, static_cast<size_t>(n));
  const std::string v2_dir = v1_dir.substr(0, v1_dir.size() - 2) + "v2";
  std::filesystem::remove(app.app() + "/told.txt");

  // v2 fails its health check (its release holds BROKEN): the switch goes back to v1.
  RunResult r = app.Velin({"rollback", "to-version", "v2"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  const std::string told = ReadFileOrDie(app.app() + "/told.txt");
  EXPECT_EQ(told.substr(0, told.find("health")),
            "stop v2|v1|" + v2_dir + "|\nstart v2|v1|" + v2_dir + "|\n")
      << told;
  EXPECT_NE(told.find("health v2|v1|" + v2_dir + "|\n"), std::string::npos) << told;
  const size_t back_at = told.find("stop v1|");
  ASSERT_NE(back_at, std::string::npos) << told;
  const std::string back = told.substr(back_at);
  EXPECT_EQ(back, "stop v1|v2|" + v1_dir + "|\nstart v1|v2|" + v1_dir + "|\nhealth v1|v2|" +
                      v1_dir + "|\n")
      << told;
}

// A fleet's undo (`to-version BEFORE --undo`) whose `stop` fails because the version being undone
// has ended by itself goes on, as a switch back does. Before, it was refused as a plain switch
// is ("nothing was changed"): the host stayed on the dead version.
TEST(RollbackAwkwardServiceTest, AnUndoGoesOnWhenTheStopOfTheFailedVersionFails) {
  ToyApp app;
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(app.Health(), "version=v2");

  // v2 crashes; its pid file stays, naming a process that is gone.
  app.KillServer();
  WriteFile(app.app() + "/server.pid", std::string(kGonePid) + "\n");

  r = app.Velin(
      {"rollback", "to-version", "v1", "--undo", "--reason", "fleet to-version v2 failed"},
      {{"VELIN_ROLLBACK_STOP", "kill $(cat server.pid)"}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("switching back to v1 all the same (the version being left may have "
                       "ended already)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(app.Current(), "v1");
  EXPECT_TRUE(app.WaitForVersion("v1", 10)) << app.Health();
  const nlohmann::json last = AwkwardLastHistoryEntry(app);
  EXPECT_EQ(last["outcome"], "switched") << last;
  EXPECT_NE(last.value("detail", std::string()).find("rollback.stop had failed: "),
            std::string::npos)
      << last;
}

// A health check that used all of health_timeout in its one attempt says "1 attempt".
TEST(RollbackAwkwardServiceTest, OneHealthAttemptIsSaidInTheSingular) {
  ToyAppOptions options = NoService();
  options.health_timeout = "1s";
  options.extra_rollback = "health = \"sleep 5\"\n";
  ToyApp app(options);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("health check did not pass within 1s (1 attempt; last: timed out)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("1 attempts"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace velin::testing
