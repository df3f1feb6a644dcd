// RunMonitor on a MemEnv: the run's duration is measured on the Env's monotonic clock and dated
// by its wall clock, so a run of minutes is recorded in milliseconds, exactly.
#include <gtest/gtest.h>

#include "support/ops_prometheus_check.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/monitor/run_monitor.hpp"

namespace velin::monitor {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST(RunMonitorMem, MeasuresTheRunOnTheEnvClocks) {
  io::MemEnv env;
  NullReporter quiet;
  const std::string file = "/var/lib/velin/velin.prom";
  {
    RunMonitor run(env, {{file}, {}}, "backup create", quiet);
    env.Advance(minutes(2) + seconds(5));  // the command's work
    run.Finish(std::nullopt, "done", 10, 20);
  }
  auto text = env.ReadFile(file);
  ASSERT_TRUE(text) << text.error().message;
  const auto check = testing::CheckPrometheusText(*text);
  EXPECT_TRUE(check.problems.empty());
  const std::string cmd = "{command=\"backup create\"}";
  EXPECT_EQ(check.samples.at("velin_last_run_duration_seconds" + cmd), 125);
  const auto end = std::chrono::system_clock::to_time_t(env.Now());
  EXPECT_EQ(check.samples.at("velin_last_run_timestamp_seconds" + cmd), static_cast<double>(end));
  EXPECT_EQ(check.samples.at("velin_last_run_success" + cmd), 1);
}

}  // namespace
}  // namespace velin::monitor
