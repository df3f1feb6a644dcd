#include "velin/monitor/pinger.hpp"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "velin/core/i18n.hpp"
#include "velin/version.hpp"

namespace velin::monitor {
namespace {

// healthchecks.io keeps the first 100 kB of a body; a summary never needs more than this.
constexpr size_t kMaxBody = 10 * 1024;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t DiscardBody(char*, size_t size, size_t n, void*) { return size * n; }

// "https://hc-ping.com/…": scheme and host only, since the path is the check's secret.
std::string RedactedUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  const size_t host_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const size_t path = url.find_first_of("/?#", host_start);
  if (path == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, path)) + "/…";
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

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
  InitCurlOnce();
  const std::string url = PingUrl(options_.url, suffix);
  const std::string payload(body.substr(0, kMaxBody));
  const std::string what = suffix.empty() ? "success" : std::string(suffix);
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  std::unique_ptr<curl_slist, SlistDeleter> headers(
      curl_slist_append(nullptr, "Content-Type: text/plain; charset=utf-8"));
  if (!curl || !headers) {
    reporter_.Warn(TrFormat("monitor ping ({}) to {} failed: {}", what, RedactedUrl(options_.url),
                            "cannot initialise libcurl"));
    return false;
  }
  const long timeout_ms = static_cast<long>(options_.timeout.count());
  const std::string agent = std::string("velin/") + kVersion;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, DiscardBody);
  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (rc == CURLE_OK && status >= 200 && status < 300) return true;
  const std::string reason =
      rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP status " + std::to_string(status);
  reporter_.Warn(
      TrFormat("monitor ping ({}) to {} failed: {}", what, RedactedUrl(options_.url), reason));
  return false;
}

}  // namespace velin::monitor
