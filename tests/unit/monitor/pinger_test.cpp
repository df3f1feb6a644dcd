// Monitoring pings against a real HTTP server on loopback: the requests and bodies it receives,
// and that every kind of failed ping (error status, nobody listening, no answer) is a warning
// that returns within the timeout and never reveals the URL's secret path.
#include "velin/monitor/pinger.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/ops_http_server.hpp"
#include "support/warning_recorder.hpp"

namespace velin::monitor {
namespace {

using std::chrono::milliseconds;
using testing::OpsHttpServer;
using testing::WarningRecorder;

constexpr const char* kCheck = "/ping/5b0f0e5c-secret-uuid";

TEST(Pinger, SendsStartSuccessAndFailureAsHealthchecksExpects) {
  OpsHttpServer server;
  WarningRecorder reporter;
  Pinger pinger({server.url() + kCheck + "/", milliseconds(5000)}, reporter);
  EXPECT_TRUE(pinger.Start());
  EXPECT_TRUE(pinger.Success("backup 20261125-0200-full: 1203 files, 12 MiB added"));
  EXPECT_TRUE(pinger.Failure("error: pack 3f2a: No space left on device"));

  const auto requests = server.WaitForRequests(3);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, std::string(kCheck) + "/start");
  EXPECT_EQ(requests[0].body, "");
  EXPECT_EQ(requests[1].method, "POST");
  EXPECT_EQ(requests[1].path, kCheck);
  EXPECT_EQ(requests[1].body, "backup 20261125-0200-full: 1203 files, 12 MiB added");
  EXPECT_EQ(requests[2].path, std::string(kCheck) + "/fail");
  EXPECT_EQ(requests[2].body, "error: pack 3f2a: No space left on device");
  for (const auto& r : requests) {
    EXPECT_EQ(r.headers.at("content-type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r.headers.at("user-agent").rfind("velin/", 0), 0u);
  }
  EXPECT_TRUE(reporter.warnings.empty()) << ::testing::PrintToString(reporter.warnings);
}

TEST(Pinger, LongBodiesAreCutAtTenKiB) {
  OpsHttpServer server;
  WarningRecorder reporter;
  Pinger pinger({server.url() + kCheck, milliseconds(5000)}, reporter);
  EXPECT_TRUE(pinger.Failure(std::string(50'000, 'x')));
  const auto requests = server.WaitForRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, std::string(10 * 1024, 'x'));
}

TEST(Pinger, ErrorStatusIsAWarningWithoutTheSecretPath) {
  OpsHttpServer server(500);
  WarningRecorder reporter;
  Pinger pinger({server.url() + kCheck, milliseconds(5000)}, reporter);
  EXPECT_FALSE(pinger.Success("ok"));
  ASSERT_EQ(reporter.warnings.size(), 1u);
  const std::string& w = reporter.warnings[0];
  EXPECT_NE(w.find("HTTP status 500"), std::string::npos) << w;
  EXPECT_NE(w.find(server.url()), std::string::npos) << w;
  EXPECT_EQ(w.find("secret"), std::string::npos) << w;
  EXPECT_EQ(server.WaitForRequests(1).size(), 1u);
}

TEST(Pinger, UnreachableUrlIsAWarningAndReturnsAtOnce) {
  WarningRecorder reporter;
  const std::string url = "http://127.0.0.1:" + std::to_string(OpsHttpServer::UnusedPort());
  Pinger pinger({url + kCheck, milliseconds(2000)}, reporter);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(pinger.Start());
  EXPECT_FALSE(pinger.Failure("error: x"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
  ASSERT_EQ(reporter.warnings.size(), 2u);
  EXPECT_NE(reporter.warnings[0].find("(start)"), std::string::npos) << reporter.warnings[0];
  EXPECT_NE(reporter.warnings[1].find("(fail)"), std::string::npos) << reporter.warnings[1];
}

TEST(Pinger, ServerThatNeverAnswersCostsAtMostTheTimeout) {
  OpsHttpServer server(200, /*silent=*/true);
  WarningRecorder reporter;
  const milliseconds timeout(800);
  Pinger pinger({server.url() + kCheck, timeout}, reporter);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(pinger.Success("ok"));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_GE(elapsed, timeout - milliseconds(50));
  EXPECT_LT(elapsed, timeout + milliseconds(700));  // headroom for sanitizer builds
  ASSERT_EQ(reporter.warnings.size(), 1u);
  EXPECT_NE(reporter.warnings[0].find("imeout"), std::string::npos) << reporter.warnings[0];
  EXPECT_EQ(server.WaitForRequests(1).size(), 1u);  // the request did arrive
}

TEST(Pinger, OnlyHttpAndHttpsAreUsed) {
  WarningRecorder reporter;
  Pinger pinger({"file:///etc/passwd", milliseconds(1000)}, reporter);
  EXPECT_FALSE(pinger.Success("ok"));
  EXPECT_EQ(reporter.warnings.size(), 1u);
}

TEST(Pinger, WithoutUrlNothingIsSent) {
  WarningRecorder reporter;
  Pinger pinger({"", milliseconds(1000)}, reporter);
  EXPECT_FALSE(pinger.enabled());
  EXPECT_TRUE(pinger.Start());
  EXPECT_TRUE(pinger.Success("ok"));
  EXPECT_TRUE(pinger.Failure("error"));
  EXPECT_TRUE(reporter.warnings.empty());
}

TEST(Pinger, PingUrlAddsTheSuffixBeforeTheQuery) {
  EXPECT_EQ(Pinger::PingUrl("https://hc-ping.com/abc", "start"), "https://hc-ping.com/abc/start");
  EXPECT_EQ(Pinger::PingUrl("https://hc-ping.com/abc/", ""), "https://hc-ping.com/abc");
  EXPECT_EQ(Pinger::PingUrl("https://h/abc/?create=1", "fail"), "https://h/abc/fail?create=1");
  EXPECT_EQ(Pinger::PingUrl("https://h/k/slug", "fail"), "https://h/k/slug/fail");
}

}  // namespace
}  // namespace velin::monitor
