// The metrics file read back in every malformed shape (each is replaced afresh with a warning
// naming the file, the line and what is wrong there), the special values it may hold, a
// cancelled run counted under its own kind from the first run on, and a metrics path that is a
// directory (an error naming it; nothing written).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/ops_prometheus_check.hpp"
#include "support/test_support.hpp"
#include "support/warning_recorder.hpp"
#include "velin/monitor/metrics.hpp"

namespace velin::monitor {
namespace {

using testing::CheckPrometheusText;
using testing::TempDir;
using testing::WarningRecorder;

RunOutcome Outcome(const std::string& command, std::optional<Error> error = std::nullopt) {
  RunOutcome run;
  run.command = command;
  run.started = std::chrono::system_clock::time_point(std::chrono::seconds(1'764'000'000));
  run.finished = run.started + std::chrono::milliseconds(2500);
  run.error = std::move(error);
  return run;
}

TEST(MetricsFile, EachMalformedLineIsNamedAndTheFileStartedAfresh) {
  struct Bad {
    const char* line;
    const char* why;
  };
  for (const Bad& b : std::vector<Bad>{
           {"{command=\"x\"} 1", "expected a name"},
           {"velin_runs_total{command} 1", "expected =\" after label command"},
           {"velin_runs_total{9=\"x\"} 1", "expected a name"},
           {"velin_runs_total{a=\"1\" b=\"2\"} 1", "expected , or } after a label"},
           {"velin_runs_total{a=\"x\\tb\"} 1", "bad escape \\t in a label value"},
           {"velin_runs_total{a=\"x", "unterminated label value"},
           {"velin_runs_total{a=\"x\\", "unterminated label value"},
           {"velin_runs_total 1,5", "bad sample value '1,5'"},
           {"velin_runs_total", "bad sample value ''"},
           {"velin_runs_total 1e999", "bad sample value '1e999'"},
           {"velin_runs_total 7 1700000000000 x", "unexpected text after the value"},
       }) {
    SCOPED_TRACE(b.line);
    TempDir dir;
    WarningRecorder reporter;
    const std::string file = dir / "velin.prom";
    testing::WriteFile(file,
                       std::string("# HELP velin_runs_total Runs.\n\nvelin_runs_total{command="
                                   "\"backup create\"} 41\n") +
                           b.line + "\n");
    ASSERT_TRUE(RecordRun(io::Env::Default(), {file}, Outcome("backup create"), reporter));
    ASSERT_EQ(reporter.warnings.size(), 1u);
    EXPECT_EQ(reporter.warnings[0],
              "metrics file " + file + " is damaged (line 4: " + b.why + "); starting it afresh");
    const auto check = CheckPrometheusText(testing::ReadFileOrDie(file));
    EXPECT_TRUE(check.problems.empty()) << ::testing::PrintToString(check.problems);
    EXPECT_EQ(check.samples.at("velin_runs_total{command=\"backup create\"}"), 1);  // afresh
  }
}

TEST(MetricsFile, SpecialValuesTimestampsAndEscapesAreReadBackAndKept) {
  TempDir dir;
  WarningRecorder reporter;
  const std::string file = dir / "velin.prom";
  testing::WriteFile(file,
                     "velin_runs_total{command=\"backup create\"} 2 -17\n"
                     "velin_last_added_bytes{command=\"a\\\\b\\\"c\\nd\"} +Inf\n"
                     "velin_last_added_bytes{command=\"neg\"} -Inf\t\n"
                     "velin_last_added_bytes{command=\"nan\",} NaN\n"
                     "velin_last_run_duration_seconds{command=\"old\"} 0.25\n");
  ASSERT_TRUE(RecordRun(io::Env::Default(), {file}, Outcome("backup create"), reporter));
  EXPECT_TRUE(reporter.warnings.empty()) << reporter.warnings.front();
  const std::string text = testing::ReadFileOrDie(file);
  EXPECT_NE(text.find("velin_runs_total{command=\"backup create\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("velin_last_added_bytes{command=\"a\\\\b\\\"c\\nd\"} +Inf\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("velin_last_added_bytes{command=\"neg\"} -Inf\n"), std::string::npos) << text;
  EXPECT_NE(text.find("velin_last_added_bytes{command=\"nan\"} NaN\n"), std::string::npos) << text;
  EXPECT_NE(text.find("velin_last_run_duration_seconds{command=\"old\"} 0.25\n"), std::string::npos)
      << text;
}

TEST(MetricsFile, ACancelledRunIsCountedUnderItsKindWhichStartsAtZero) {
  TempDir dir;
  WarningRecorder reporter;
  const std::string file = dir / "velin.prom";
  ASSERT_TRUE(RecordRun(io::Env::Default(), {file}, Outcome("backup restore"), reporter));
  const std::string series = "velin_failures_total{command=\"backup restore\",kind=\"cancelled\"}";
  EXPECT_EQ(CheckPrometheusText(testing::ReadFileOrDie(file)).samples.at(series), 0);
  ASSERT_TRUE(RecordRun(
      io::Env::Default(), {file},
      Outcome("backup restore", Error{ExitCode::kCancelled, "restore cancelled", 0}), reporter));
  const auto check = CheckPrometheusText(testing::ReadFileOrDie(file));
  EXPECT_TRUE(check.problems.empty()) << ::testing::PrintToString(check.problems);
  EXPECT_EQ(check.samples.at(series), 1);
  EXPECT_EQ(check.samples.at("velin_last_run_success{command=\"backup restore\"}"), 0);
  EXPECT_TRUE(reporter.warnings.empty());
}

TEST(MetricsFile, AMetricsPathThatIsADirectoryIsAnErrorNamingIt) {
  TempDir dir;
  WarningRecorder reporter;
  std::filesystem::create_directories(dir / "velin.prom");
  auto r = RecordRun(io::Env::Default(), {dir / "velin.prom"}, Outcome("backup create"), reporter);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.rfind("metrics file " + (dir / "velin.prom") + ": ", 0), 0u)
      << r.error().message;
  EXPECT_EQ(r.error().sys_errno, EISDIR) << r.error().message;
  EXPECT_TRUE(std::filesystem::is_empty(dir / "velin.prom"));
  EXPECT_TRUE(reporter.warnings.empty());
}

}  // namespace
}  // namespace velin::monitor
