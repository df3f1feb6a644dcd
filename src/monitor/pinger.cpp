#include "velin/monitor/pinger.hpp"

#include "velin/core/i18n.hpp"
#include "velin/monitor/http.hpp"

namespace velin::monitor {
namespace {

// healthchecks.io keeps the first 100 kB of a body; a summary never needs more than this.
constexpr size_t kMaxBody = 10 * 1024;

}  // namespace

Pinger::Pinger(PingOptions options, Reporter& reporter)
    : options_(std::move(options)), reporter_(reporter) {}

bool Pinger::Start() { return Send("start", ""); }
bool Pinger::Success(std::string_view summary) { return Send("", summary); }
bool Pinger::Failure(std::string_view error_line) { return Send("fail", error_line); }

std::string Pinger::PingUrl(std::string_view base, std::string_view suffix) {
  const size_t query = base.find_first_of("?#");
  std::string path(base.substr(0, query));
  const std::string_view rest = query == std::string_view::npos ? "" : base.substr(query);
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (!suffix.empty()) {
    path += '/';
    path += suffix;
  }
  return path + std::string(rest);
}

bool Pinger::Send(std::string_view suffix, std::string_view body) {
  if (!enabled()) return true;
  const std::string url = PingUrl(options_.url, suffix);
  const std::string what = suffix.empty() ? "success" : std::string(suffix);
  PostAnswer answer =
      HttpPost(url, "text/plain; charset=utf-8", body.substr(0, kMaxBody), options_.timeout);
  if (answer.ok) return true;
  reporter_.Warn(TrFormat("monitor ping ({}) to {} failed: {}", what, RedactedUrl(options_.url),
                          answer.reason));
  return false;
}

}  // namespace velin::monitor
