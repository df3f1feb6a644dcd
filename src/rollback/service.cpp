#include "service.hpp"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <thread>
#include <utility>
#include <vector>

#include "velin/core/i18n.hpp"
#include "velin/core/process.hpp"
#include "velin/core/url_password.hpp"
#include "velin/rollback/fleet.hpp"
#include "velin/storage/curl_library.hpp"
#include "velin/version.hpp"

namespace velin::rollback {
namespace {

// The body is not read: the status decides, and a body ends the transfer at once (libcurl's
// CURLE_WRITE_ERROR, then judged by the status). A health endpoint that streams (an endless
// body, server-sent events) or sends a large one held each attempt until its time was up, and
// the switch went back from a version that answered 200.
size_t StopAtHealthBody(char*, size_t, size_t, void*) { return 0; }

struct HealthCurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// One GET of the health URL with libcurl, in this process: an external `curl` would show the
// URL (and a password in it) in /proc/PID/cmdline to every user, and fail every switch on a
// machine without it. What `curl -fsS` did is kept: an answer below 400 passes (a redirect is
// not followed, and passes), one of 400 or more fails; the proxy variables (http_proxy,
// https_proxy, no_proxy) apply as they did, ~/.curlrc no longer does.
Result<CommandResult> GetHealthUrl(const std::string& url, Duration timeout) {
  VELIN_TRY(storage::CurlReady());
  std::unique_ptr<CURL, HealthCurlDeleter> curl(curl_easy_init());
  if (!curl) return Failure(std::string(Tr("cannot initialise libcurl")));
  char error[CURL_ERROR_SIZE] = "";
  CURL* c = curl.get();
  storage::SetOneShotHttpOptions(c, url, timeout, std::string("velin/") + kVersion);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, StopAtHealthBody);
  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  // A write error is StopAtHealthBody's: the status line and headers have come.
  const bool answered = rc == CURLE_OK || rc == CURLE_WRITE_ERROR;
  if (answered) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  CommandResult r;
  r.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
  if (answered && status > 0 && status < 400) return r;  // exit_code 0
  r.exit_code = 1;
  if (answered && status > 0) {
    r.output = TrFormat("HTTP status {}", status);
  } else if (!r.timed_out) {
    r.output = NoTr(error[0] != '\0' ? error : curl_easy_strerror(rc));
  }
  return r;
}

// `command` with each {level} replaced by `level` as one quoted word: the level is what
// migration_status printed ("ae1027a6acg (head)" from alembic), never shell syntax to run.
// Unchanged without a level (only migrate_down is given one).
std::string WithLevel(const std::string& command, const std::string& level) {
  if (level.empty()) return command;
  std::string line;
  for (size_t at = 0;;) {
    const size_t pos = command.find("{level}", at);
    line.append(command, at, pos == std::string::npos ? std::string::npos : pos - at);
    if (pos == std::string::npos) return line;
    line += ShellQuote(level);
    at = pos + 7;
  }
}

std::vector<std::pair<std::string, std::string>> ServiceEnv(const ServiceVars& vars) {
  return {{"VELIN_VERSION", vars.version},
          {"VELIN_RELEASE_DIR", vars.release_dir},
          {"VELIN_FROM_VERSION", vars.from_version},
          {"VELIN_FROM_RELEASE_DIR", vars.from_release_dir},
          {"VELIN_ROLLBACK_LEVEL", vars.level}};
}

// `line` with `sh -c` in app.root, `started` told of its process before it runs anything.
Result<CommandResult> RunConfigured(const Settings& settings, const std::string& key,
                                    const std::string& line, Duration timeout,
                                    const ServiceVars& vars, const CommandStarted& started) {
  ProcessOptions options;
  options.argv = {"/bin/sh", "-c", line};
  options.cwd = settings.app_root;
  options.extra_env = ServiceEnv(vars);
  if (started) {
    options.on_started = [&](pid_t pid) { return started("rollback." + key, pid, timeout); };
  }
  return RunCommand(std::move(options), timeout);
}

Result<CommandResult> RunHealthOnce(const Settings& settings, Duration timeout,
                                    const ServiceVars& vars, const CommandStarted& started) {
  if (IsHealthUrl(settings.health)) return GetHealthUrl(settings.health, timeout);
  return RunConfigured(settings, "health", settings.health, timeout, vars, started);
}

}  // namespace

bool IsHealthUrl(const std::string& health) {
  // In any case, as libcurl reads it and `config check` accepts it (config/http_url.hpp).
  return strncasecmp(health.c_str(), "http://", 7) == 0 ||
         strncasecmp(health.c_str(), "https://", 8) == 0;
}

Status RunServiceCommand(const Settings& settings, const std::string& key,
                         const std::string& command, Duration timeout, const ServiceVars& vars,
                         const CommandStarted& started) {
  if (command.empty()) return Ok();
  const std::string line = WithLevel(command, vars.level);
  VELIN_ASSIGN(CommandResult r, RunConfigured(settings, key, line, timeout, vars, started));
  if (r.timed_out) {
    return Failure(TrFormat("rollback.{} command did not finish within {}: {}", key,
                            FormatDuration(timeout), MaskUrlPasswords(command)));
  }
  if (r.exit_code != 0) {
    std::string last = MaskUrlPasswords(LastLine(r.output));
    return Failure(TrFormat("rollback.{} command failed ({}){}", key, DescribeExit(r.exit_code),
                            (last.empty() ? "" : ": " + last)));
  }
  return Ok();
}

Status WaitHealthy(io::Env& env, const Settings& settings, const ServiceVars& vars,
                   const CommandStarted& started) {
  if (settings.health.empty()) return Ok();
  auto start = env.SteadyNow();
  auto deadline = start + settings.health_timeout;
  std::string last;
  int attempts = 0;
  for (;;) {
    auto now = env.SteadyNow();
    Duration left = std::chrono::duration_cast<Duration>(deadline - now);
    // Each attempt may take the time that is left (at least half a second): a check that takes
    // 15 s (a smoke test, a service answering its first request once warmed up) passes within
    // a health_timeout of 30s. Before, an attempt was cut at 10 s and such a check never
    // passed: the switch went back from a healthy version.
    Duration budget = std::max(left, Duration(500));
    ++attempts;
    VELIN_ASSIGN(CommandResult r, RunHealthOnce(settings, budget, vars, started));
    if (r.exit_code == 0 && !r.timed_out) return Ok();
    // A URL's failure is its HTTP status or libcurl's reason: there is no exit status.
    last = r.timed_out                    ? std::string(Tr("timed out"))
           : IsHealthUrl(settings.health) ? std::string()
                                          : DescribeExit(r.exit_code);
    std::string line = MaskUrlPasswords(LastLine(r.output));
    if (!line.empty()) last += last.empty() ? line : ": " + line;
    if (env.SteadyNow() + Duration(200) >= deadline) break;
    env.SleepFor(Duration(200));
  }
  // One attempt: the first took all of health_timeout (a check that hangs, a URL not answering).
  return MakeError(
      ExitCode::kHealthFailed,
      attempts == 1
          ? TrFormat("health check did not pass within {} (1 attempt; last: {})",
                     FormatDuration(settings.health_timeout), last)
          : TrFormat("health check did not pass within {} ({} attempts; last: {})",
                     FormatDuration(settings.health_timeout), std::to_string(attempts), last));
}

Result<std::string> SchemaLevel(const Settings& settings, const CommandStarted& started) {
  if (settings.migration_status.empty()) return std::string();
  // The level is the last line of stdout alone: a warning the tool writes to stderr (PHP's
  // "Deprecated: …", a psql NOTICE) was recorded as the level before 2026-12-07.
  ProcessOptions options;
  options.argv = {"/bin/sh", "-c", settings.migration_status};
  options.cwd = settings.app_root;
  const Duration timeout(60'000);
  if (started) {
    options.on_started = [&](pid_t pid) {
      return started("rollback.migration_status", pid, timeout);
    };
  }
  VELIN_ASSIGN(CommandResult r, RunCommandSplit(std::move(options), timeout));
  if (r.exit_code != 0 || r.timed_out) {
    // Its last line says why (the database is down, a missing setting), as for the other
    // commands; before 2026-12-07 only the exit status was given.
    std::string said = LastLine(r.error_output);
    if (said.empty()) said = LastLine(r.output);
    std::string last = r.timed_out ? "" : MaskUrlPasswords(said);
    return Failure(
        TrFormat("rollback.migration_status command failed ({}){}",
                 (r.timed_out ? std::string(Tr("timed out")) : DescribeExit(r.exit_code)),
                 (last.empty() ? "" : ": " + last)));
  }
  return LastLine(r.output);
}

bool LevelBelow(const std::string& target, const std::string& live, bool target_older) {
  auto numeric = [](const std::string& s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (numeric(target) && numeric(live)) {
    auto digits = [](const std::string& s) {  // "007" is 7
      size_t first = s.find_first_not_of('0');
      return first == std::string::npos ? std::string("0") : s.substr(first);
    };
    const std::string a = digits(target);
    const std::string b = digits(live);
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  }
  return target != live && target_older;
}

}  // namespace velin::rollback
