// Pings to a dead-man's-switch service (`monitor.ping_url`), following healthchecks.io's
// conventions: `<url>/start` when a command starts, `<url>` with a short summary when it
// succeeded, `<url>/fail` with the error line when it failed; each an HTTP POST with a
// text/plain body (the service shows it). The service alerts when a success ping is missing.
// Guarantees:
//  - a ping never fails the command: a failed ping (unreachable, timeout, non-2xx answer) is
//    a warning through the Reporter, and the call returns false;
//  - a ping never takes longer than `timeout` (connect and transfer together);
//  - only http:// and https:// URLs are used; the URL's path (which holds the check's secret
//    UUID on healthchecks.io) is never shown in a warning.
// Not thread-safe: one Pinger per command.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "velin/core/reporter.hpp"

namespace velin::monitor {

struct PingOptions {
  std::string url;  // "" disables pings
  std::chrono::milliseconds timeout{10'000};
};

class Pinger {
 public:
  Pinger(PingOptions options, Reporter& reporter);

  bool enabled() const { return !options_.url.empty(); }

  // Each returns true when the ping was answered with 2xx (or pings are disabled).
  bool Start();
  bool Success(std::string_view summary);
  bool Failure(std::string_view error_line);

  // The URL a ping of `suffix` ("", "start", "fail") goes to: the suffix is added as a path
  // segment before any query string ("https://h/x?rid=1" + "fail" -> "https://h/x/fail?rid=1").
  static std::string PingUrl(std::string_view base, std::string_view suffix);

 private:
  bool Send(std::string_view suffix, std::string_view body);

  PingOptions options_;
  Reporter& reporter_;
};

}  // namespace velin::monitor
