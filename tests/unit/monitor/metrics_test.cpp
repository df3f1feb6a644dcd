// The metrics file: valid Prometheus text (checked by an independent checker and, where
// installed, by the official Python client's parser), counters kept across runs, a damaged
// previous file replaced, and an atomic replace that leaves the old file when a write fails.
#include "velin/monitor/metrics.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/ops_prometheus_check.hpp"
#include "support/test_support.hpp"
#include "support/warning_recorder.hpp"
#include "velin/io/fault_injection_env.hpp"

namespace velin::monitor {
namespace {

using Clock = std::chrono::system_clock;
using testing::CheckPrometheusText;
using testing::TempDir;
using testing::WarningRecorder;

Clock::time_point At(int64_t unix_ms) {
  return Clock::time_point(std::chrono::milliseconds(unix_ms));
}

RunOutcome Outcome(const std::string& command, int64_t start_ms, int64_t end_ms,
                   std::optional<Error> error = std::nullopt) {
  RunOutcome run;
  run.command = command;
  run.started = At(start_ms);
  run.finished = At(end_ms);
  run.error = std::move(error);
  return run;
}

const std::string kCreate = "{command=\"backup create\"}";

std::string Failures(const std::string& command, const std::string& kind) {
  return "velin_failures_total{command=\"" + command + "\",kind=\"" + kind + "\"}";
}

TEST(Metrics, FirstRunWritesValidPrometheusText) {
  TempDir dir;
  WarningRecorder reporter;
  RunOutcome run = Outcome("backup create", 1764000000000, 1764000012500);
  run.bytes_added = 123456789;
  run.repository_size = 987654321;
  run.files_changed = 2;
  const std::string file = dir / "metrics/velin.prom";  // the directory is created
  ASSERT_TRUE(RecordRun(io::Env::Default(), {file}, run, reporter));

  const auto check = CheckPrometheusText(testing::ReadFileOrDie(file));
  EXPECT_TRUE(check.problems.empty()) << ::testing::PrintToString(check.problems);
  EXPECT_EQ(check.types.at("velin_runs_total"), "counter");
  EXPECT_EQ(check.types.at("velin_failures_total"), "counter");
  EXPECT_EQ(check.types.at("velin_last_success_timestamp_seconds"), "gauge");
  EXPECT_EQ(check.samples.at("velin_runs_total" + kCreate), 1);
  EXPECT_EQ(check.samples.at("velin_last_success_timestamp_seconds" + kCreate), 1764000012.5);
  EXPECT_EQ(check.samples.at("velin_last_run_timestamp_seconds" + kCreate), 1764000012.5);
  EXPECT_EQ(check.samples.at("velin_last_run_duration_seconds" + kCreate), 12.5);
  EXPECT_EQ(check.samples.at("velin_last_run_success" + kCreate), 1);
  EXPECT_EQ(check.samples.at("velin_last_added_bytes" + kCreate), 123456789);
  EXPECT_EQ(check.samples.at("velin_repository_size_bytes"), 987654321);
  EXPECT_EQ(check.types.at("velin_last_changed_files"), "gauge");
  EXPECT_EQ(check.samples.at("velin_last_changed_files" + kCreate), 2);
  for (const char* kind : {"locked", "usage", "damage", "health", "no_space", "io", "permission",
                           "network", "failed"}) {
    EXPECT_EQ(check.samples.at(Failures("backup create", kind)), 0) << kind;
  }
  EXPECT_TRUE(reporter.warnings.empty());
}

TEST(Metrics, CountersAndOtherCommandsSurviveAcrossRuns) {
  TempDir dir;
  WarningRecorder reporter;
  const std::string file = dir / "velin.prom";
  io::Env& env = io::Env::Default();
  RunOutcome first = Outcome("backup create", 1000000, 1010000);
  first.bytes_added = 500;
  ASSERT_TRUE(RecordRun(env, {file}, first, reporter));
  ASSERT_TRUE(RecordRun(env, {file}, Outcome("backup verify", 1020000, 1030000), reporter));
  Error locked{ExitCode::kLocked, "repository is locked by pid 42 on host a", 0};
  ASSERT_TRUE(RecordRun(env, {file}, Outcome("backup create", 2000000, 2000500, locked), reporter));
  Error full{ExitCode::kFailed, "pack 3f2a: No space left on device", ENOSPC};
  RunOutcome last = Outcome("backup create", 3000000, 3004000, full);
  last.bytes_added = 999;  // a failed run's bytes are not reported as added
  ASSERT_TRUE(RecordRun(env, {file}, last, reporter));

  const auto check = CheckPrometheusText(testing::ReadFileOrDie(file));
  EXPECT_TRUE(check.problems.empty()) << ::testing::PrintToString(check.problems);
  EXPECT_EQ(check.samples.at("velin_runs_total" + kCreate), 3);
  EXPECT_EQ(check.samples.at(Failures("backup create", "locked")), 1);
  EXPECT_EQ(check.samples.at(Failures("backup create", "no_space")), 1);
  EXPECT_EQ(check.samples.at(Failures("backup create", "failed")), 0);
  EXPECT_EQ(check.samples.at("velin_last_run_success" + kCreate), 0);
  EXPECT_EQ(check.samples.at("velin_last_run_duration_seconds" + kCreate), 4);
  EXPECT_EQ(check.samples.at("velin_last_run_timestamp_seconds" + kCreate), 3004);
  EXPECT_EQ(check.samples.at("velin_last_success_timestamp_seconds" + kCreate), 1010);
  EXPECT_EQ(check.samples.at("velin_last_added_bytes" + kCreate), 500);
  EXPECT_EQ(check.samples.at("velin_runs_total{command=\"backup verify\"}"), 1);
  EXPECT_EQ(check.samples.at("velin_last_success_timestamp_seconds{command=\"backup verify\"}"),
            1030);
  EXPECT_EQ(check.samples.count("velin_repository_size_bytes"), 0u);
}

TEST(Metrics, DamagedPreviousFileIsReplacedWithAWarning) {
  TempDir dir;
  WarningRecorder reporter;
  const std::string file = dir / "velin.prom";
  testing::WriteFile(file,
                     "velin_runs_total{command=\"backup create\"} 7\nthis is { not metrics\n");
  ASSERT_TRUE(RecordRun(io::Env::Default(), {file}, Outcome("backup create", 0, 1000), reporter));
  ASSERT_EQ(reporter.warnings.size(), 1u);
  EXPECT_NE(reporter.warnings[0].find(file), std::string::npos) << reporter.warnings[0];
  EXPECT_NE(reporter.warnings[0].find("line 2"), std::string::npos) << reporter.warnings[0];
  const auto check = CheckPrometheusText(testing::ReadFileOrDie(file));
  EXPECT_TRUE(check.problems.empty());
  EXPECT_EQ(check.samples.at("velin_runs_total" + kCreate), 1);
}

TEST(Metrics, ForeignSeriesAreDroppedAndOddLabelValuesEscaped) {
  TempDir dir;
  WarningRecorder reporter;
  const std::string file = dir / "velin.prom";
  testing::WriteFile(file, "# a comment\nnode_load1 0.5 1700000000000\n");
  const std::string odd = "backup \"odd\" \\ name\nsecond line";
  ASSERT_TRUE(RecordRun(io::Env::Default(), {file}, Outcome(odd, 0, 1000), reporter));
  ASSERT_TRUE(RecordRun(io::Env::Default(), {file}, Outcome(odd, 0, 1000), reporter));
  const std::string text = testing::ReadFileOrDie(file);
  EXPECT_EQ(text.find("node_load1"), std::string::npos);
  const auto check = CheckPrometheusText(text);
  EXPECT_TRUE(check.problems.empty()) << ::testing::PrintToString(check.problems) << text;
  EXPECT_EQ(check.samples.at("velin_runs_total{command=\"" + odd + "\"}"), 2);
  EXPECT_TRUE(reporter.warnings.empty());
}

// A later velin's metric families (HELP, TYPE, samples with timestamps) were dropped whenever
// this velin rewrote the file: they stay, line for line, across runs, and the file stays valid.
// Comments that name no metric and other programs' metrics are not kept.
TEST(Metrics, AnotherVelinsFamiliesAreKeptAsTheyAre) {
  TempDir dir;
  WarningRecorder reporter;
  const std::string file = dir / "velin.prom";
  const std::string later =
      "# HELP velin_future_metric Something a later velin counts.\n"
      "# TYPE velin_future_metric gauge\n"
      "velin_future_metric{command=\"backup create\"} 42 1700000000000\n"
      "velin_future_metric{command=\"backup verify\"} 7\n"
      "# a comment of its own\n"
      "# HELP velin_future_skips_total Things a later velin skipped.\n"
      "# TYPE velin_future_skips_total counter\n"
      "velin_future_skips_total 3\n";
  testing::WriteFile(file,
                     "# HELP velin_runs_total Runs of a velin command.\n"
                     "# TYPE velin_runs_total counter\n"
                     "velin_runs_total{command=\"backup create\"} 5\n" +
                         later + "node_load1 0.5\n");
  ASSERT_TRUE(RecordRun(io::Env::Default(), {file}, Outcome("backup create", 0, 1000), reporter));
  ASSERT_TRUE(RecordRun(io::Env::Default(), {file}, Outcome("backup verify", 0, 1000), reporter));
  EXPECT_TRUE(reporter.warnings.empty());
  const std::string text = testing::ReadFileOrDie(file);
  std::string kept = later;
  kept.erase(kept.find("# a comment of its own\n"), 23);
  EXPECT_NE(text.find(kept), std::string::npos) << text;
  EXPECT_EQ(text.find("node_load1"), std::string::npos) << text;  // not velin's
  EXPECT_EQ(text.find("# TYPE velin_runs_total"), text.rfind("# TYPE velin_runs_total")) << text;
  const auto check = CheckPrometheusText(text);
  EXPECT_TRUE(check.problems.empty()) << ::testing::PrintToString(check.problems) << text;
  EXPECT_EQ(check.samples.at("velin_runs_total" + kCreate), 6);
  EXPECT_EQ(check.samples.at("velin_future_metric{command=\"backup verify\"}"), 7);
  EXPECT_EQ(check.types.at("velin_future_metric"), "gauge");
}

TEST(Metrics, FailedWriteLeavesThePreviousFileWhole) {
  TempDir dir;
  WarningRecorder reporter;
  const std::string file = dir / "velin.prom";
  ASSERT_TRUE(RecordRun(io::Env::Default(), {file}, Outcome("backup create", 0, 1000), reporter));
  const std::string before = testing::ReadFileOrDie(file);
  for (io::FaultOp op : {io::FaultOp::kWrite, io::FaultOp::kSync, io::FaultOp::kRename}) {
    io::FaultInjectionEnv env(io::Env::Default());
    env.SetRule(io::FaultRule{op, 1, ENOSPC, false});
    auto status = RecordRun(env, {file}, Outcome("backup create", 2000, 3000), reporter);
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().sys_errno, ENOSPC);
    EXPECT_NE(status.error().message.find("metrics file"), std::string::npos);
    EXPECT_EQ(testing::ReadFileOrDie(file), before);
  }
}

TEST(Metrics, NoFileConfiguredWritesNothing) {
  WarningRecorder reporter;
  io::FaultInjectionEnv env(io::Env::Default());
  env.SetRule(io::FaultRule{io::FaultOp::kAny, 1, EIO, true});
  EXPECT_TRUE(RecordRun(env, {""}, Outcome("backup create", 0, 1), reporter));
  EXPECT_EQ(env.Count(io::FaultOp::kAny), 0u);
}

TEST(Metrics, FailureKindsFollowExitCodeThenErrno) {
  EXPECT_EQ(FailureKind({ExitCode::kLocked, "", 0}), "locked");
  EXPECT_EQ(FailureKind({ExitCode::kUsage, "", 0}), "usage");
  EXPECT_EQ(FailureKind({ExitCode::kDamage, "", EIO}), "damage");
  EXPECT_EQ(FailureKind({ExitCode::kHealthFailed, "", 0}), "health");
  EXPECT_EQ(FailureKind({ExitCode::kCancelled, "", 0}), "cancelled");
  EXPECT_EQ(FailureKind({ExitCode::kFailed, "", EDQUOT}), "no_space");
  EXPECT_EQ(FailureKind({ExitCode::kFailed, "", EIO}), "io");
  EXPECT_EQ(FailureKind({ExitCode::kFailed, "", EACCES}), "permission");
  EXPECT_EQ(FailureKind({ExitCode::kFailed, "", ECONNREFUSED}), "network");
  EXPECT_EQ(FailureKind({ExitCode::kFailed, "", 0}), "failed");
}

// The Prometheus project's own Python parser (Debian: python3-prometheus-client, installed by
// scripts/deps/ops.apt) reads the file with the values written.
TEST(Metrics, OfficialPythonParserReadsTheFile) {
  if (testing::RunProgram({"/usr/bin/python3", "-c", "import prometheus_client"}).exit_code != 0) {
    GTEST_SKIP() << "python3-prometheus-client is not installed (scripts/deps/ops.apt)";
  }
  TempDir dir;
  WarningRecorder reporter;
  const std::string file = dir / "velin.prom";
  RunOutcome run = Outcome("backup create", 1764000000000, 1764000003000);
  run.repository_size = 4096;
  ASSERT_TRUE(RecordRun(io::Env::Default(), {file}, run, reporter));
  ASSERT_TRUE(RecordRun(io::Env::Default(), {file},
                        Outcome("backup verify", 0, 1, Error{ExitCode::kDamage, "x", 0}),
                        reporter));
  const char* script =
      "import sys\n"
      "from prometheus_client.parser import text_string_to_metric_families\n"
      "for f in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
      "  for s in f.samples:\n"
      "    labels = ','.join(k + '=' + v for k, v in sorted(s.labels.items()))\n"
      "    print(f.type, s.name, labels, s.value)\n";
  const auto out = testing::RunProgram({"/usr/bin/python3", "-c", script, file});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.out.find("counter velin_runs_total command=backup create 1.0\n"), std::string::npos)
      << out.out;
  EXPECT_NE(out.out.find("counter velin_failures_total command=backup verify,kind=damage 1.0\n"),
            std::string::npos)
      << out.out;
  EXPECT_NE(out.out.find("gauge velin_repository_size_bytes  4096.0\n"), std::string::npos)
      << out.out;
  EXPECT_NE(out.out.find("gauge velin_last_run_duration_seconds command=backup create 3.0\n"),
            std::string::npos)
      << out.out;
}

}  // namespace
}  // namespace velin::monitor
