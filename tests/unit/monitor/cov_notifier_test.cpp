// The delivery paths of a notification against a real loopback HTTP server and real shell
// commands, on a MemEnv clock so that the pauses between webhook attempts cost no time: what is
// retried (5xx, 429, nothing listening) and how often within the budget, what a delivered event
// carries, and each way a notification command can fail — always a warning, never a failure.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/ops_http_server.hpp"
#include "support/test_support.hpp"
#include "support/warning_recorder.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/monitor/notifier.hpp"

namespace velin::monitor {
namespace {

using std::chrono::milliseconds;
using testing::OpsHttpServer;
using testing::TempDir;
using testing::WarningRecorder;

NotifyOptions Webhook(const std::string& url) {
  NotifyOptions o;
  o.webhook_url = url;
  o.events = {"backup-failed", "backup-succeeded"};
  o.app = "/srv/shop";
  return o;
}

NotifyEvent FailedBackup() {
  NotifyEvent e;
  e.event = "backup-failed";
  e.summary = "backup create: failed";
  e.error = "pack 3f2a: No space left on device";
  e.backup_id = "20261130-0400-full";
  return e;
}

struct RetryCase {
  int status;
  milliseconds budget;
  size_t attempts;
  milliseconds slept;  // the pauses between them: 500 ms, then 1 s
};

TEST(NotifierDelivery, ServerErrorsAndRateLimitsAreRetriedWithinTheBudget) {
  for (const RetryCase& c : std::vector<RetryCase>{
           {503, milliseconds(10'000), 3, milliseconds(1500)},
           {429, milliseconds(10'000), 3, milliseconds(1500)},
           {500, milliseconds(1'200), 2, milliseconds(500)},  // 700 ms left: no 1 s pause
           {502, milliseconds(400), 1, milliseconds(0)},
       }) {
    SCOPED_TRACE(c.status);
    OpsHttpServer server(c.status);
    io::MemEnv env;
    WarningRecorder reporter;
    NotifyOptions o = Webhook(server.url() + "/hooks/T0KEN");
    o.budget = c.budget;
    Notifier(env, o, reporter).Notify(FailedBackup());
    EXPECT_EQ(server.WaitForRequests(c.attempts + 1, milliseconds(300)).size(), c.attempts);
    EXPECT_EQ(env.Slept(), c.slept);
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_EQ(reporter.warnings[0], "notification to " + server.url() + "/… failed: HTTP status " +
                                        std::to_string(c.status));
  }
}

TEST(NotifierDelivery, NothingListeningIsRetriedAndNamedWithoutTheToken) {
  io::MemEnv env;
  WarningRecorder reporter;
  const std::string base = "http://127.0.0.1:" + std::to_string(OpsHttpServer::UnusedPort());
  Notifier(env, Webhook(base + "/hooks/T0KEN"), reporter).Notify(FailedBackup());
  EXPECT_EQ(env.Slept(), milliseconds(1500));  // three attempts
  ASSERT_EQ(reporter.warnings.size(), 1u);
  const std::string& w = reporter.warnings[0];
  EXPECT_EQ(w.rfind("notification to " + base + "/… failed: ", 0), 0u) << w;
  EXPECT_EQ(w.find("T0KEN"), std::string::npos) << w;
  EXPECT_EQ(w.find("HTTP status"), std::string::npos) << w;  // curl's reason, no status
}

TEST(NotifierDelivery, ADeliveredEventCarriesItsFieldsOnce) {
  OpsHttpServer server(204);
  io::MemEnv env;
  WarningRecorder reporter;
  Notifier notifier(env, Webhook(server.url() + "/hook"), reporter);
  notifier.Notify(FailedBackup());
  NotifyEvent other = FailedBackup();
  other.event = "switch-undone";  // not configured: not sent
  notifier.Notify(other);
  auto requests = server.WaitForRequests(2, milliseconds(300));
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(reporter.warnings.empty());
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/hook");
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["event"], "backup-failed");
  EXPECT_EQ(body["host"], "mem-host");
  EXPECT_EQ(body["time"], "2026-01-01T00:00:00Z");  // the Env's clock
  EXPECT_EQ(body["backup_id"], "20261130-0400-full");
  EXPECT_EQ(body["outcome"], "failure");
  EXPECT_EQ(env.Slept(), milliseconds(0));
}

NotifyOptions Command(const std::string& command, const std::string& cwd) {
  NotifyOptions o;
  o.command = command;
  o.cwd = cwd;
  o.events = {"backup-succeeded"};
  o.app = "/srv/shop";
  o.budget = milliseconds(2000);
  return o;
}

NotifyEvent Succeeded() {
  NotifyEvent e;
  e.event = "backup-succeeded";
  e.success = true;
  e.summary = "12 files, 3.1 MiB added";
  e.backup_id = "20261130-0400-full";
  return e;
}

TEST(NotifierDelivery, TheCommandGetsTheEventInItsEnvironmentInItsDirectory) {
  TempDir dir;
  io::MemEnv env;
  WarningRecorder reporter;
  Notifier(env,
           Command("printf '%s|%s|%s|%s|%s|%s|%s' \"$VELIN_EVENT\" \"$VELIN_OUTCOME\" "
                   "\"$VELIN_SUMMARY\" \"$VELIN_BACKUP_ID\" \"$VELIN_HOST\" \"$VELIN_APP\" "
                   "\"$VELIN_TIME\" > got; echo said something",
                   dir.path()),
           reporter)
      .Notify(Succeeded());
  EXPECT_TRUE(reporter.warnings.empty()) << reporter.warnings.front();
  EXPECT_EQ(testing::ReadFileOrDie(dir / "got"),
            "backup-succeeded|success|12 files, 3.1 MiB added|20261130-0400-full|mem-host|"
            "/srv/shop|2026-01-01T00:00:00Z");
}

TEST(NotifierDelivery, EachWayTheCommandFailsIsOneWarning) {
  TempDir dir;
  struct CommandCase {
    std::string command;
    std::string cwd;
    std::string warning;
  };
  for (const CommandCase& c : std::vector<CommandCase>{
           {"echo progress; echo 'disk full' >&2; exit 3", dir.path(),
            "notification command failed: exit code 3: disk full"},
           {"exit 4", dir.path(), "notification command failed: exit code 4"},
           {"kill -TERM $$", dir.path(),
            "notification command failed: killed by signal 15 (SIGTERM)"},
           {"sleep 20", dir.path(), "notification command failed: no answer within 300ms"},
           {"true", dir / "absent",
            "notification command failed: cannot run '/bin/sh' in " + (dir / "absent") +
                ": No such file or directory"},
       }) {
    SCOPED_TRACE(c.command);
    io::MemEnv env;
    WarningRecorder reporter;
    NotifyOptions o = Command(c.command, c.cwd);
    if (c.command == "sleep 20") o.budget = milliseconds(300);
    const auto start = std::chrono::steady_clock::now();
    Notifier(env, o, reporter).Notify(Succeeded());
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2500));
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_EQ(reporter.warnings[0].rfind(c.warning, 0), 0u) << reporter.warnings[0];
  }
}

}  // namespace
}  // namespace velin::monitor
