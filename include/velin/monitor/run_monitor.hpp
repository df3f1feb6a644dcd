// Monitoring around one command, for the CLI to wrap each command with: construct a RunMonitor
// when the command starts (sends the start ping), call Finish() once when it ends (writes the
// metrics file, then sends the success or failure ping). Everything that goes wrong inside is
// a warning through the Reporter: monitoring never changes a command's outcome or exit code.
// Config-free: the caller fills MonitorOptions from [monitor] (metrics_file, ping_url).
//
//   monitor::RunMonitor run(env, {{cfg.monitor.metrics_file}, {cfg.monitor.ping_url}},
//                           "backup create", console);
//   Status status = body();
//   run.Finish(status ? std::nullopt : std::optional(status.error()), summary,
//              stats.bytes_added, repository_size);
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/env.hpp"
#include "velin/monitor/metrics.hpp"
#include "velin/monitor/pinger.hpp"

namespace velin::monitor {

struct MonitorOptions {
  MetricsOptions metrics;
  PingOptions ping;
};

class RunMonitor {
 public:
  // Sends the start ping (when a ping URL is set) and starts the clock.
  RunMonitor(io::Env& env, MonitorOptions options, std::string command, Reporter& reporter);

  // Records the run in the metrics file and sends the success ping with `summary`, or the
  // failure ping with the error's message. Only the first call does anything.
  void Finish(const std::optional<Error>& error, std::string_view summary,
              std::optional<uint64_t> bytes_added = std::nullopt,
              std::optional<uint64_t> repository_size = std::nullopt,
              std::optional<uint64_t> files_changed = std::nullopt);

 private:
  io::Env& env_;
  MonitorOptions options_;
  std::string command_;
  Reporter& reporter_;
  Pinger pinger_;
  std::chrono::steady_clock::time_point start_;
  bool finished_ = false;
};

}  // namespace velin::monitor
