// Notifications against a real HTTP server on loopback: what is retried and what is not, that a
// webhook which never answers is given up within the budget, and the two body formats.
#include "velin/monitor/notifier.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/ops_http_server.hpp"
#include "support/warning_recorder.hpp"
#include "velin/monitor/http.hpp"

namespace velin::monitor {
namespace {

using std::chrono::milliseconds;
using testing::OpsHttpServer;
using testing::WarningRecorder;

NotifyOptions Options(const std::string& url) {
  NotifyOptions o;
  o.webhook_url = url;
  o.events = {"backup-failed", "rollback-timeout"};
  o.app = "/srv/app";
  return o;
}

NotifyEvent Failed() {
  NotifyEvent e;
  e.event = "backup-failed";
  e.summary = "backup create: failed";
  e.error = "pack 3f2a: No space left on device";
  return e;
}

TEST(Notifier, OnlyConfiguredEventsWithADestinationAreWanted) {
  WarningRecorder reporter;
  Notifier notifier(io::Env::Default(), Options("http://127.0.0.1:1/x"), reporter);
  EXPECT_TRUE(notifier.Wants("backup-failed"));
  EXPECT_FALSE(notifier.Wants("backup-succeeded"));
  NotifyOptions none = Options("");
  Notifier nowhere(io::Env::Default(), none, reporter);
  EXPECT_FALSE(nowhere.Wants("backup-failed"));
}

TEST(Notifier, AClientErrorIsNotRetried) {
  OpsHttpServer server(404);
  WarningRecorder reporter;
  Notifier notifier(io::Env::Default(), Options(server.url() + "/hook/token-xyz"), reporter);
  notifier.Notify(Failed());
  EXPECT_EQ(server.WaitForRequests(2, milliseconds(700)).size(), 1u);
  ASSERT_EQ(reporter.warnings.size(), 1u);
  EXPECT_EQ(reporter.warnings[0], "notification to " + server.url() + "/… failed: HTTP status 404");
}

// The webhook's userinfo password is a secret like its path's token.
TEST(Notifier, AFailedDeliveryHidesTheUrlsPassword) {
  WarningRecorder reporter;
  const std::string host = "127.0.0.1:" + std::to_string(OpsHttpServer::UnusedPort());
  Notifier notifier(io::Env::Default(), Options("http://user:hunter2@" + host + "/hook/TOKEN"),
                    reporter);
  notifier.Notify(Failed());
  ASSERT_EQ(reporter.warnings.size(), 1u);
  EXPECT_EQ(
      reporter.warnings[0].rfind("notification to http://user:***@" + host + "/… failed: ", 0), 0u)
      << reporter.warnings[0];
  EXPECT_EQ(RedactedUrl("https://u:p@h"), "https://u:***@h");
  EXPECT_EQ(RedactedUrl("https://u@h/x?y"), "https://u@h/…");
}

TEST(Notifier, AWebhookThatNeverAnswersIsGivenUpWithinTheBudget) {
  OpsHttpServer silent(200, /*silent=*/true);
  WarningRecorder reporter;
  NotifyOptions o = Options(silent.url() + "/hook");
  o.budget = milliseconds(1500);
  Notifier notifier(io::Env::Default(), o, reporter);
  const auto start = std::chrono::steady_clock::now();
  notifier.Notify(Failed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(3000));
  ASSERT_EQ(reporter.warnings.size(), 1u);
  EXPECT_NE(reporter.warnings[0].find("failed: "), std::string::npos) << reporter.warnings[0];
}

TEST(Notifier, BodiesInBothFormats) {
  WarningRecorder reporter;
  NotifyEvent e = Failed();
  e.event = "rollback-timeout";
  e.version = "v1";
  e.error = "bad byte \xff here";  // not UTF-8: replaced, never a throw
  auto json = nlohmann::json::parse(
      Notifier(io::Env::Default(), Options("http://h/x"), reporter).Body(e, "T", "web1"));
  EXPECT_EQ(json["event"], "rollback-timeout");
  EXPECT_EQ(json["host"], "web1");
  EXPECT_EQ(json["app"], "/srv/app");
  EXPECT_EQ(json["time"], "T");
  EXPECT_EQ(json["outcome"], "failure");
  EXPECT_EQ(json["version"], "v1");
  EXPECT_EQ(json["backup_id"], "");
  EXPECT_EQ(json["summary"], "backup create: failed");

  NotifyOptions slack = Options("http://h/x");
  slack.format = "slack";
  auto text =
      nlohmann::json::parse(Notifier(io::Env::Default(), slack, reporter).Body(e, "T", "web1"));
  ASSERT_EQ(text.size(), 1u);
  const std::string t = text["text"];
  EXPECT_NE(t.find("rollback-timeout on web1 (/srv/app), version v1"), std::string::npos) << t;
  EXPECT_NE(t.find("\nerror: bad byte"), std::string::npos) << t;
}

}  // namespace
}  // namespace velin::monitor
