#include "velin/monitor/notifier.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "velin/core/duration.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/process.hpp"
#include "velin/core/text_encoding.hpp"
#include "velin/core/url_password.hpp"
#include "velin/monitor/http.hpp"

namespace velin::monitor {
namespace {

using std::chrono::milliseconds;

std::string IsoUtc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Notifier::Notifier(io::Env& env, NotifyOptions options, Reporter& reporter)
    : env_(env), options_(std::move(options)), reporter_(reporter) {}

bool Notifier::Wants(const std::string& event) const {
  if (options_.webhook_url.empty() && options_.command.empty()) return false;
  return std::find(options_.events.begin(), options_.events.end(), event) != options_.events.end();
}

std::string Notifier::Body(const NotifyEvent& e, const std::string& time,
                           const std::string& host) const {
  if (options_.format == "slack") {
    std::string text = (e.success ? "velin: " : "velin: ⚠ ") + e.event + " on " + host;
    if (!options_.app.empty()) text += " (" + options_.app + ")";
    if (!e.backup_id.empty()) text += ", backup " + e.backup_id;
    if (!e.version.empty()) text += ", version " + e.version;
    if (!e.summary.empty()) text += "\n" + e.summary;
    if (!e.error.empty()) text += "\nerror: " + e.error;
    return DumpJson(nlohmann::json{{"text", text}});
  }
  nlohmann::json body = {{"event", e.event},
                         {"host", host},
                         {"app", options_.app},
                         {"time", time},
                         {"outcome", e.success ? "success" : "failure"},
                         {"backup_id", e.backup_id},
                         {"version", e.version},
                         {"summary", e.summary},
                         {"error", e.error}};
  return DumpJson(body);
}

void Notifier::Notify(const NotifyEvent& event) {
  if (!Wants(event.event)) return;
  const std::string time = IsoUtc(env_.Now());
  const std::string host = options_.host.empty() ? env_.HostName() : options_.host;
  if (!options_.webhook_url.empty()) PostWebhook(Body(event, time, host));
  if (!options_.command.empty()) RunCommand(event, time, host);
}

void Notifier::PostWebhook(const std::string& body) {
  const auto deadline = env_.SteadyNow() + options_.budget;
  milliseconds pause{500};
  PostAnswer answer;
  for (int attempt = 1;; ++attempt) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - env_.SteadyNow());
    answer = HttpPost(options_.webhook_url, "application/json", body,
                      std::min(left, milliseconds(5'000)));
    if (answer.ok) return;
    spdlog::debug("notify webhook attempt {}: {}", attempt, answer.reason);
    // A client error other than 429 will not change by asking again.
    const bool retry = answer.status == 0 || answer.status == 429 || answer.status >= 500;
    left = std::chrono::duration_cast<milliseconds>(deadline - env_.SteadyNow());
    if (!retry || attempt >= 3 || left <= pause) break;
    env_.SleepFor(pause);
    pause *= 2;
  }
  reporter_.Warn(
      TrFormat("notification to {} failed: {}", RedactedUrl(options_.webhook_url), answer.reason));
}

void Notifier::RunCommand(const NotifyEvent& e, const std::string& time, const std::string& host) {
  std::vector<std::pair<std::string, std::string>> env = {
      {"VELIN_EVENT", e.event},
      {"VELIN_OUTCOME", e.success ? "success" : "failure"},
      {"VELIN_SUMMARY", e.summary},
      {"VELIN_ERROR", e.error},
      {"VELIN_BACKUP_ID", e.backup_id},
      {"VELIN_VERSION", e.version},
      {"VELIN_HOST", host},
      {"VELIN_APP", options_.app},
      {"VELIN_TIME", time}};
  auto result = RunShellCommand(options_.command, Duration(options_.budget.count()), options_.cwd,
                                std::move(env));
  std::string reason;
  if (!result) {
    reason = result.error().message;
  } else {
    LogCommandOutput("notify.command", result->output);
    if (result->timed_out) {
      reason = TrFormat("no answer within {}", FormatDuration(Duration(options_.budget.count())));
    } else if (result->exit_code != 0) {
      reason = DescribeExit(result->exit_code);
      if (std::string last = MaskUrlPasswords(LastLine(result->output)); !last.empty()) {
        reason += ": " + last;
      }
    }
  }
  if (!reason.empty()) reporter_.Warn(TrFormat("notification command failed: {}", reason));
}

}  // namespace velin::monitor
