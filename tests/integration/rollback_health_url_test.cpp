// rollback.health as an http(s) URL is fetched by velin itself (libcurl), not by an external
// `curl`: the URL, with a password in it, was visible to every user in /proc/PID/cmdline, and a
// machine without curl failed every switch. Its password is never shown: not by `config check`,
// the switch plan, the messages or the history.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "support/ops_http_server.hpp"
#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

constexpr const char* kHealthSecret = "s3cretPW";

// A toy app (no stop/start) whose health check is `server`'s /health with a password; a PATH
// whose only `curl` records that it ran and succeeds (the old external curl would pass).
struct HealthUrlApp {
  explicit HealthUrlApp(const OpsHttpServer& server, const std::string& timeout = "2s")
      : app([&] {
          ToyAppOptions o = NoService();
          o.health_timeout = timeout;
          o.extra_rollback = "health = \"http://admin:" + std::string(kHealthSecret) +
                             "@127.0.0.1:" + std::to_string(server.port()) + "/health\"\n";
          return o;
        }()) {
    WriteFile(fake_bin.path() + "/curl", "#!/bin/sh\ntouch " + ran_marker() + "\nexit 0\n", 0755);
    app.Build("v1");
    EXPECT_EQ(app.Velin({"rollback", "create-version", "v1"}).exit_code, 0);
  }
  std::string ran_marker() const { return fake_bin.path() + "/curl-ran"; }
  std::map<std::string, std::string> Env() const {
    return {{"PATH", fake_bin.path() + ":/usr/bin:/bin"}};
  }
  bool CurlRan() const { return std::filesystem::exists(ran_marker()); }

  TempDir fake_bin;
  ToyApp app;
};

void ExpectNoHealthSecret(const RunResult& r) {
  EXPECT_EQ(r.out.find(kHealthSecret), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(kHealthSecret), std::string::npos) << r.err;
}

TEST(RollbackHealthUrlTest, A200AnswerPassesWithoutAnExternalCurl) {
  OpsHttpServer server(200);
  HealthUrlApp h(server);
  RunResult r = h.app.Velin({"rollback", "to-version", "v1"}, h.Env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Health check passed"), std::string::npos) << r.out;
  ExpectNoHealthSecret(r);
  EXPECT_FALSE(h.CurlRan());
  auto requests = server.WaitForRequests(1);
  ASSERT_GE(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, "/health");
  // The userinfo is sent as Basic authentication, as curl did: admin:s3cretPW.
  EXPECT_EQ(requests[0].headers["authorization"], "Basic YWRtaW46czNjcmV0UFc=");

  // No curl anywhere on PATH: the check still runs.
  r = h.app.Velin({"rollback", "to-version", "v1"}, {{"PATH", "/nonexistent"}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(RollbackHealthUrlTest, A500AnswerFailsTheSwitchAndNamesTheStatus) {
  OpsHttpServer server(500);
  HealthUrlApp h(server, "1s");
  RunResult r = h.app.Velin({"rollback", "to-version", "v1"}, h.Env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("health check did not pass within 1s ("), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("last: HTTP status 500)"), std::string::npos) << r.err;
  ExpectNoHealthSecret(r);
  EXPECT_FALSE(h.CurlRan());
  RunResult history = h.app.Velin({"--json", "rollback", "history"});
  ExpectNoHealthSecret(history);
}

TEST(RollbackHealthUrlTest, AServerThatNeverAnswersTimesOut) {
  OpsHttpServer server(200, /*silent=*/true);
  HealthUrlApp h(server, "2s");
  auto start = std::chrono::steady_clock::now();
  RunResult r = h.app.Velin({"rollback", "to-version", "v1"}, h.Env());
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("last: timed out)"), std::string::npos) << r.err;
  EXPECT_LT(took, std::chrono::seconds(20));
  ExpectNoHealthSecret(r);
}

TEST(RollbackHealthUrlTest, ConfigCheckAndThePlanMaskThePassword) {
  OpsHttpServer server(200);
  HealthUrlApp h(server);
  for (std::vector<std::string> args :
       {std::vector<std::string>{"config", "check"},
        std::vector<std::string>{"--json", "config", "check"},
        std::vector<std::string>{"rollback", "to-version", "v1", "--dry-run"},
        std::vector<std::string>{"--json", "rollback", "to-version", "v1", "--dry-run"}}) {
    RunResult r = h.app.Velin(args);
    EXPECT_EQ(r.exit_code, 0) << args.back() << ": " << r.err;
    ExpectNoHealthSecret(r);
    EXPECT_NE((r.out + r.err).find("http://admin:***@127.0.0.1:"), std::string::npos)
        << args.back() << ": " << r.out;
  }
}

}  // namespace
}  // namespace velin::testing
