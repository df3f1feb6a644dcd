// RunMonitor ties metrics and pings to one command: start ping at once, metrics then the
// success or failure ping at the end, and nothing it does can fail the command.
#include "velin/monitor/run_monitor.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "support/ops_http_server.hpp"
#include "support/ops_prometheus_check.hpp"
#include "support/test_support.hpp"
#include "support/warning_recorder.hpp"
#include "velin/io/fault_injection_env.hpp"

namespace velin::monitor {
namespace {

using std::chrono::milliseconds;
using testing::CheckPrometheusText;
using testing::OpsHttpServer;
using testing::TempDir;
using testing::WarningRecorder;

TEST(RunMonitor, SuccessfulRunPingsStartThenSuccessAndWritesMetrics) {
  OpsHttpServer server;
  TempDir dir;
  WarningRecorder reporter;
  const std::string file = dir / "velin.prom";
  {
    RunMonitor run(io::Env::Default(), {{file}, {server.url() + "/c", milliseconds(5000)}},
                   "backup create", reporter);
    ASSERT_EQ(server.WaitForRequests(1).size(), 1u);  // the start ping went out at once
    run.Finish(std::nullopt, "backup 20261125-0200-full created", 1024, 4096);
    run.Finish(Error{ExitCode::kFailed, "ignored", 0}, "");  // a second Finish does nothing
  }
  const auto requests = server.WaitForRequests(2);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/c/start");
  EXPECT_EQ(requests[1].path, "/c");
  EXPECT_EQ(requests[1].body, "backup 20261125-0200-full created");
  const auto check = CheckPrometheusText(testing::ReadFileOrDie(file));
  EXPECT_TRUE(check.problems.empty());
  EXPECT_EQ(check.samples.at("velin_last_run_success{command=\"backup create\"}"), 1);
  EXPECT_EQ(check.samples.at("velin_last_added_bytes{command=\"backup create\"}"), 1024);
  EXPECT_EQ(check.samples.at("velin_repository_size_bytes"), 4096);
  EXPECT_TRUE(reporter.warnings.empty());
}

TEST(RunMonitor, FailedRunPingsFailWithTheErrorAndCountsIt) {
  OpsHttpServer server;
  TempDir dir;
  WarningRecorder reporter;
  const std::string file = dir / "velin.prom";
  RunMonitor run(io::Env::Default(), {{file}, {server.url() + "/c", milliseconds(5000)}},
                 "backup verify", reporter);
  run.Finish(Error{ExitCode::kDamage, "pack 3f2a: blob 9c1e has the wrong hash", 0}, "");
  const auto requests = server.WaitForRequests(2);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].path, "/c/fail");
  EXPECT_EQ(requests[1].body, "backup verify failed: pack 3f2a: blob 9c1e has the wrong hash");
  const auto check = CheckPrometheusText(testing::ReadFileOrDie(file));
  EXPECT_EQ(check.samples.at("velin_failures_total{command=\"backup verify\",kind=\"damage\"}"), 1);
  EXPECT_EQ(check.samples.count("velin_last_success_timestamp_seconds{command=\"backup verify\"}"),
            0u);
}

TEST(RunMonitor, UnwritableMetricsFileIsAWarningAndThePingStillGoes) {
  OpsHttpServer server;
  TempDir dir;
  WarningRecorder reporter;
  io::FaultInjectionEnv env(io::Env::Default());
  env.SetRule(io::FaultRule{io::FaultOp::kWrite, 1, ENOSPC, true});
  RunMonitor run(env, {{dir / "velin.prom"}, {server.url() + "/c", milliseconds(5000)}},
                 "backup create", reporter);
  run.Finish(std::nullopt, "ok");
  ASSERT_EQ(reporter.warnings.size(), 1u);
  EXPECT_NE(reporter.warnings[0].find("metrics file"), std::string::npos) << reporter.warnings[0];
  EXPECT_EQ(server.WaitForRequests(2).size(), 2u);
}

}  // namespace
}  // namespace velin::monitor
