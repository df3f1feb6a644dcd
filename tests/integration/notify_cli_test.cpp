// Notifications ([notify]) around real commands, delivered to a real local HTTP server that
// records requests, and to a real shell command: which events go out, what they carry, and that
// a failed delivery never changes the command's exit code and stays bounded in time.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/ops_config.hpp"
#include "support/ops_http_server.hpp"
#include "support/rollback_app.hpp"
#include "support/test_support.hpp"

namespace velin {
namespace {

using testing::ReadFileOrDie;
using testing::RunVelin;
using testing::TempDir;
using testing::WriteFile;

std::string NotifyConfig(const std::string& notify) {
  return testing::UploadsConfigWith("notify", notify);
}

// `o` with a [notify] table that posts to `server` at /hook.
testing::ToyAppOptions NotifyingTo(const testing::OpsHttpServer& server, testing::ToyAppOptions o) {
  o.extra_rollback += "\n[notify]\nwebhook_url = \"" + server.url() + "/hook\"\n";
  return o;
}

// v1 and v2 registered, v1 live, and a transaction begun with `timeout` (1 s unless given).
void BeginOnV1(testing::ToyApp& app, const std::string& timeout = "1s") {
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1 - First"}).exit_code, 0);
  app.Build("v2");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v2 - Second"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", timeout}).exit_code, 0);
}

// A backup that fails: its include is gone.
testing::RunResult FailingBackup(const TempDir& dir, const testing::RunOptions& options = {}) {
  std::filesystem::remove_all(dir / "uploads");
  testing::RunOptions o = options;
  o.cwd = dir.path();
  return RunVelin({"backup", "create"}, o);
}

TEST(NotifyCli, BackupSuccessAndFailureCarryTheirFields) {
  testing::OpsHttpServer server;
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  WriteFile(dir / "velin.toml",
            NotifyConfig("webhook_url = \"" + server.url() +
                         "/hook/abc\"\nevents = [\"backup-succeeded\", \"backup-failed\"]\n"));
  auto ok = RunVelin({"backup", "create"}, {.cwd = dir.path()});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto requests = server.WaitForRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/hook/abc");
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["event"], "backup-succeeded");
  EXPECT_EQ(body["outcome"], "success");
  EXPECT_EQ(body["app"], std::filesystem::path(dir.path()).filename().string());  // [app] name
  EXPECT_FALSE(body["host"].get<std::string>().empty());
  EXPECT_EQ(body["time"].get<std::string>().size(), 20u) << body["time"];  // 2026-…T…Z
  EXPECT_EQ(body["backup_id"].get<std::string>().size() > 0, true);
  EXPECT_NE(body["summary"].get<std::string>().find(body["backup_id"].get<std::string>()),
            std::string::npos);
  EXPECT_EQ(body["error"], "");

  auto bad = FailingBackup(dir);
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  requests = server.WaitForRequests(2);
  ASSERT_EQ(requests.size(), 2u);
  body = nlohmann::json::parse(requests[1].body);
  EXPECT_EQ(body["event"], "backup-failed");
  EXPECT_EQ(body["outcome"], "failure");
  EXPECT_NE(body["error"].get<std::string>().find("uploads"), std::string::npos) << body;
}

TEST(NotifyCli, ByDefaultOnlyFailuresAreSent) {
  testing::OpsHttpServer server;
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  WriteFile(dir / "velin.toml", NotifyConfig("webhook_url = \"" + server.url() + "/h\"\n"));
  ASSERT_EQ(RunVelin({"backup", "create"}, {.cwd = dir.path()}).exit_code, 0);
  ASSERT_EQ(RunVelin({"backup", "list"}, {.cwd = dir.path()}).exit_code, 0);
  EXPECT_TRUE(server.WaitForRequests(1, std::chrono::milliseconds(300)).empty());
  EXPECT_EQ(FailingBackup(dir).exit_code, 1);
  auto requests = server.WaitForRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(requests[0].body)["event"], "backup-failed");
}

TEST(NotifyCli, SlackFormatIsATextMessage) {
  testing::OpsHttpServer server;
  TempDir dir;
  WriteFile(dir / "velin.toml", NotifyConfig("webhook_url = \"" + server.url() +
                                             "/services/T0/B0/x\"\nformat = \"slack\"\n"));
  EXPECT_EQ(FailingBackup(dir).exit_code, 1);
  auto requests = server.WaitForRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  auto body = nlohmann::json::parse(requests[0].body);
  ASSERT_EQ(body.size(), 1u) << body;
  const std::string text = body["text"];
  EXPECT_NE(text.find("backup-failed"), std::string::npos) << text;
  EXPECT_NE(text.find("error: "), std::string::npos) << text;
}

TEST(NotifyCli, CommandGetsTheEventButNoSecrets) {
  testing::OpsHttpServer server;
  TempDir dir;
  WriteFile(dir / "velin.toml", NotifyConfig("command = \"env > notify.env\"\n"));
  // The webhook URL set through its override variable holds a token: no child sees it.
  auto r = FailingBackup(dir, {.env = {{"VELIN_NOTIFY_WEBHOOK_URL", server.url() + "/tok-123"},
                                       {"AWS_SECRET_ACCESS_KEY", "hunter2"}}});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(server.WaitForRequests(1).size(), 1u);
  const std::string env = ReadFileOrDie(dir / "notify.env");  // the command ran in app.root
  EXPECT_NE(env.find("VELIN_EVENT=backup-failed\n"), std::string::npos) << env;
  EXPECT_NE(env.find("VELIN_OUTCOME=failure\n"), std::string::npos) << env;
  EXPECT_NE(env.find("VELIN_ERROR="), std::string::npos) << env;
  EXPECT_NE(env.find("VELIN_BACKUP_ID="), std::string::npos) << env;
  EXPECT_NE(env.find("VELIN_HOST="), std::string::npos) << env;
  EXPECT_EQ(env.find("tok-123"), std::string::npos) << env;
  EXPECT_EQ(env.find("hunter2"), std::string::npos) << env;
}

TEST(NotifyCli, AFailingCommandIsAWarning) {
  TempDir dir;
  WriteFile(dir / "velin.toml", NotifyConfig("command = \"echo mail is down; exit 3\"\n"));
  auto r = FailingBackup(dir);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("notification command failed: exit code 3: mail is down"), std::string::npos)
      << r.err;
}

// The command's output goes to the log one line each, prefixed like a hook's (it was one record
// of several lines); a URL's password in it shows as ***.
TEST(NotifyCli, TheCommandsOutputIsLoggedLineByLine) {
  TempDir dir;
  WriteFile(dir / "velin.toml",
            NotifyConfig("command = \"echo first line; echo second line; echo "
                         "http://ops:n0tify@example.org/x\"\n[log]\nfile = \"velin.log\"\n"));
  auto r = FailingBackup(dir);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const std::string log = ReadFileOrDie(dir / "velin.log");
  EXPECT_NE(log.find("notify.command: first line\n"), std::string::npos) << log;
  EXPECT_NE(log.find("notify.command: second line\n"), std::string::npos) << log;
  EXPECT_NE(log.find("notify.command: http://ops:***@example.org/x\n"), std::string::npos) << log;
  EXPECT_EQ(log.find("n0tify"), std::string::npos) << log;
}

// A command that closes its output (`exec >/dev/null`) still gets its 10 seconds, no more.
TEST(NotifyCli, ACommandThatClosedItsOutputIsKilledAfterTenSeconds) {
  TempDir dir;
  WriteFile(dir / "velin.toml", NotifyConfig("command = \"exec >/dev/null 2>&1; sleep 40\"\n"));
  const auto start = std::chrono::steady_clock::now();
  auto r = FailingBackup(dir);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("notification command failed: no answer within 10s"), std::string::npos)
      << r.err;
  EXPECT_LT(seconds, 30.0);
}

// Down (nothing listens) and broken (HTTP 500): a warning that hides the URL's token, the exit
// code of the command itself, bounded retries.
TEST(NotifyCli, AnUnreachableOrFailingWebhookIsAWarning) {
  testing::OpsHttpServer broken(500);
  const std::string down =
      "http://127.0.0.1:" + std::to_string(testing::OpsHttpServer::UnusedPort());
  for (const std::string& base : {down, broken.url()}) {
    TempDir dir;
    WriteFile(dir / "velin.toml",
              NotifyConfig("webhook_url = \"" + base + "/hook/SECRET-TOKEN\"\n"));
    const auto start = std::chrono::steady_clock::now();
    auto r = FailingBackup(dir);
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("notification to " + base + "/… failed"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("SECRET-TOKEN"), std::string::npos) << r.err;
    EXPECT_LT(took, std::chrono::seconds(12));
  }
  EXPECT_EQ(broken.WaitForRequests(3, std::chrono::milliseconds(500)).size(), 3u);  // retried
}

// `status` finding a problem and a failed cleanup are events of their own.
TEST(NotifyCli, UnhealthyStatusAndFailedCleanup) {
  testing::OpsHttpServer server;
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  WriteFile(dir / "velin.toml", NotifyConfig("webhook_url = \"" + server.url() + "/h\"\n"));
  EXPECT_EQ(RunVelin({"backup", "prune"}, {.cwd = dir.path()}).exit_code, 1);  // no repository
  ASSERT_EQ(RunVelin({"backup", "init"}, {.cwd = dir.path()}).exit_code, 0);
  EXPECT_EQ(RunVelin({"backup", "status"}, {.cwd = dir.path()}).exit_code, 1);  // no backup
  auto requests = server.WaitForRequests(2);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(requests[0].body)["event"], "cleanup-failed");
  auto status = nlohmann::json::parse(requests[1].body);
  EXPECT_EQ(status["event"], "backup-unhealthy");
  EXPECT_NE(status["error"].get<std::string>().find("no backup"), std::string::npos) << status;
}

TEST(NotifyCli, UnknownEventIsAConfigError) {
  TempDir dir;
  WriteFile(dir / "velin.toml",
            NotifyConfig("events = [\"backup-failed\", \"backup-exploded\"]\n"));
  auto r = RunVelin({"backup", "list"}, {.cwd = dir.path()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown event \"backup-exploded\""), std::string::npos) << r.err;
}

// The watchdog, a detached process, rolls back an uncommitted transaction at its deadline and
// says so.
TEST(NotifyCli, WatchdogTimeoutIsNotified) {
  testing::OpsHttpServer server;
  testing::ToyApp app(NotifyingTo(server, testing::NoService()));
  ASSERT_NO_FATAL_FAILURE(BeginOnV1(app));
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  auto requests = server.WaitForRequests(1, std::chrono::seconds(15));
  ASSERT_EQ(requests.size(), 1u);
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["event"], "rollback-timeout");
  EXPECT_EQ(body["outcome"], "success");
  EXPECT_NE(body["summary"].get<std::string>().find("rolled back by timeout"), std::string::npos)
      << body;
  EXPECT_FALSE(body["version"].get<std::string>().empty());
}

// The watchdog died (a reboot): the next velin invocation does the timeout's rollback and
// notifies it, once.
TEST(NotifyCli, ExpiredTransactionFinishedByTheNextInvocationIsNotified) {
  testing::OpsHttpServer server;
  testing::ToyApp app(NotifyingTo(server, testing::NoService()));
  ASSERT_NO_FATAL_FAILURE(BeginOnV1(app, "10m"));
  testing::KillPid(testing::WatchdogPid(app.state()));
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  // An hour later (VELIN_NOW) the deadline has passed: no sleep over a short deadline.
  const auto later = testing::ClockAhead(std::chrono::hours(1));
  auto r = app.Velin({"rollback", "list"}, later);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(app.Velin({"rollback", "list"}, later).exit_code, 0);
  auto requests = server.WaitForRequests(2, std::chrono::milliseconds(1500));
  ASSERT_EQ(requests.size(), 1u);
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["event"], "rollback-timeout");
  EXPECT_EQ(body["outcome"], "success");
  EXPECT_EQ(body["version"].get<std::string>().rfind("base-", 0), 0u) << body;
}

// A switch whose health check fails is undone (exit 5); the notification names the version.
TEST(NotifyCli, UndoneSwitchIsNotified) {
  testing::OpsHttpServer server;
  testing::ToyAppOptions o;
  o.health_as_url = true;
  testing::ToyApp app(NotifyingTo(server, o));
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  app.Build("bad", /*broken=*/true);
  ASSERT_EQ(app.Velin({"rollback", "create-version", "bad - Broken build"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  EXPECT_TRUE(server.WaitForRequests(1, std::chrono::milliseconds(100)).empty());
  auto r = app.Velin({"rollback", "to-version", "bad"});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  auto requests = server.WaitForRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["event"], "switch-undone");
  EXPECT_EQ(body["outcome"], "failure");
  EXPECT_EQ(body["version"], "bad");
  EXPECT_NE(body["error"].get<std::string>().find("switched back to v1"), std::string::npos)
      << body;
}

}  // namespace
}  // namespace velin
