#include "service.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

#include "velin/core/i18n.hpp"
#include "velin/core/process.hpp"

namespace velin::rollback {
namespace {

bool IsUrl(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

Result<CommandResult> RunHealthOnce(const Settings& settings, Duration timeout) {
  if (IsUrl(settings.health)) {
    ProcessOptions options;
    long secs = std::max<long>(1, static_cast<long>(timeout.count() / 1000));
    options.argv = {"curl", "-fsS", "--max-time", std::to_string(secs), settings.health};
    options.cwd = settings.app_root;
    return RunCommand(options, timeout);
  }
  return RunShellCommand(settings.health, timeout, settings.app_root);
}

}  // namespace

Status RunServiceCommand(const Settings& settings, const std::string& key,
                         const std::string& command, Duration timeout, const std::string& level) {
  if (command.empty()) return Ok();
  std::string line = command;
  if (!level.empty()) {
    for (size_t pos; (pos = line.find("{level}")) != std::string::npos;) {
      line.replace(pos, 7, level);
    }
  }
  VELIN_ASSIGN(CommandResult r, RunShellCommand(line, timeout, settings.app_root,
                                                {{"VELIN_ROLLBACK_LEVEL", level}}));
  if (r.timed_out) {
    return Failure(TrFormat("rollback.{} command did not finish within {}: {}", key,
                            FormatDuration(timeout), command));
  }
  if (r.exit_code != 0) {
    std::string last = LastLine(r.output);
    return Failure(TrFormat("rollback.{} command failed ({}){}", key, DescribeExit(r.exit_code),
                            (last.empty() ? "" : ": " + last)));
  }
  return Ok();
}

Status WaitHealthy(io::Env& env, const Settings& settings) {
  if (settings.health.empty()) return Ok();
  auto start = env.SteadyNow();
  auto deadline = start + settings.health_timeout;
  std::string last;
  int attempts = 0;
  for (;;) {
    auto now = env.SteadyNow();
    Duration left = std::chrono::duration_cast<Duration>(deadline - now);
    Duration budget = std::clamp(left, Duration(500), Duration(10'000));
    ++attempts;
    VELIN_ASSIGN(CommandResult r, RunHealthOnce(settings, budget));
    if (r.exit_code == 0 && !r.timed_out) return Ok();
    last = r.timed_out ? std::string(Tr("timed out")) : DescribeExit(r.exit_code);
    std::string line = LastLine(r.output);
    if (!line.empty()) last += ": " + line;
    if (env.SteadyNow() + Duration(200) >= deadline) break;
    env.SleepFor(Duration(200));
  }
  return MakeError(
      ExitCode::kHealthFailed,
      TrFormat("health check did not pass within {} ({} attempts; last: {})",
               FormatDuration(settings.health_timeout), std::to_string(attempts), last));
}

Result<std::string> SchemaLevel(const Settings& settings) {
  if (settings.migration_status.empty()) return std::string();
  VELIN_ASSIGN(CommandResult r,
               RunShellCommand(settings.migration_status, Duration(60'000), settings.app_root));
  if (r.exit_code != 0 || r.timed_out) {
    return Failure(
        TrFormat("rollback.migration_status command failed ({})",
                 (r.timed_out ? std::string(Tr("timed out")) : DescribeExit(r.exit_code))));
  }
  return LastLine(r.output);
}

bool LevelBelow(const std::string& a, const std::string& b) {
  auto numeric = [](const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (numeric(a) && numeric(b)) {
    if (a.size() != b.size()) return a.size() < b.size();
  }
  return a < b;
}

}  // namespace velin::rollback
