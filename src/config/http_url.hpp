// The check of a URL velin itself fetches or posts to with libcurl (monitor.ping_url,
// notify.webhook_url, a rollback.health URL): what `config check` refuses, so that a URL libcurl
// cannot use ("http://", a space in the host) is exit 2 once instead of a warning at every run.
#pragma once

#include <string>

namespace velin::config {

// Whether `text` starts with http:// or https://, in any case (libcurl reads "HTTPS://" too).
bool HasHttpScheme(const std::string& text);

// Why key `key` in [`section`] holding `url` is no http(s) URL with a host; "" when it is one.
// The message quotes no part of the URL: its path or query may be a token.
std::string HttpUrlProblem(const std::string& section, const std::string& key,
                           const std::string& url);

}  // namespace velin::config
