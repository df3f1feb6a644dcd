// The one HTTP client of monitoring (libcurl): pings (pinger.hpp) and notifications
// (notifier.hpp) POST through it. Only http:// and https:// are used; nothing here logs or
// prints, so a URL holding a secret (a check UUID, a webhook token) is never shown whole by it
// and callers show RedactedUrl() only.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace velin::monitor {

struct PostAnswer {
  bool ok = false;     // answered with 2xx
  long status = 0;     // the HTTP status; 0 when none came (unreachable, timeout)
  std::string reason;  // why not ok: curl's message or "HTTP status 500"
};

// POSTs `body` with `content_type` to `url`; connect and transfer together take at most
// `timeout`. The answer's body is discarded.
PostAnswer HttpPost(const std::string& url, std::string_view content_type, std::string_view body,
                    std::chrono::milliseconds timeout);

// "https://hooks.example.com/…": scheme and host only, since path and query may be a secret;
// a password in the userinfo becomes *** ("http://user:***@host/…").
std::string RedactedUrl(std::string_view url);

}  // namespace velin::monitor
