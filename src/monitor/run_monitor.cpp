#include "velin/monitor/run_monitor.hpp"

#include "velin/core/i18n.hpp"

namespace velin::monitor {

RunMonitor::RunMonitor(io::Env& env, MonitorOptions options, std::string command,
                       Reporter& reporter)
    : env_(env),
      options_(std::move(options)),
      command_(std::move(command)),
      reporter_(reporter),
      pinger_(options_.ping, reporter),
      start_(env_.SteadyNow()) {
  pinger_.Start();
}

void RunMonitor::Finish(const std::optional<Error>& error, std::string_view summary,
                        std::optional<uint64_t> bytes_added,
                        std::optional<uint64_t> repository_size,
                        std::optional<uint64_t> files_changed) {
  if (finished_) return;
  finished_ = true;
  // The wall clock (VELIN_NOW in tests) dates the run; the steady clock measures it.
  const auto elapsed = env_.SteadyNow() - start_;
  RunOutcome outcome;
  outcome.command = command_;
  outcome.finished = env_.Now();
  outcome.started =
      outcome.finished - std::chrono::duration_cast<std::chrono::system_clock::duration>(elapsed);
  outcome.error = error;
  outcome.bytes_added = bytes_added;
  outcome.repository_size = repository_size;
  outcome.files_changed = files_changed;
  auto recorded = RecordRun(env_, options_.metrics, outcome, reporter_);
  if (!recorded) reporter_.Warn(recorded.error().message);
  if (error) {
    pinger_.Failure(TrFormat("{} failed: {}", command_, error->message));
  } else {
    pinger_.Success(summary);
  }
}

}  // namespace velin::monitor
