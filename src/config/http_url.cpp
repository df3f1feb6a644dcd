#include "http_url.hpp"

#include <strings.h>

#include "velin/core/i18n.hpp"

namespace velin::config {

bool HasHttpScheme(const std::string& text) {
  return strncasecmp(text.c_str(), "http://", 7) == 0 ||
         strncasecmp(text.c_str(), "https://", 8) == 0;
}

std::string HttpUrlProblem(const std::string& section, const std::string& key,
                           const std::string& url) {
  if (!HasHttpScheme(url)) {
    return TrFormat("key '{}' in [{}] must start with http:// or https://", key, section);
  }
  // libcurl refuses these ("URL using bad/illegal format"); a space belongs in it as %20.
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) {
      return TrFormat("key '{}' in [{}] holds a space or control character (write a space as %20)",
                      key, section);
    }
  }
  const size_t start = url.find("://") + 3;
  std::string authority = url.substr(start, url.find_first_of("/?#", start) - start);
  if (const size_t at = authority.rfind('@'); at != std::string::npos) {
    authority.erase(0, at + 1);  // user:password@
  }
  std::string host = authority, port;
  if (authority.starts_with('[')) {  // [::1]:8080
    const size_t close = authority.find(']');
    host = close == std::string::npos ? "" : authority.substr(1, close - 1);
    const std::string rest = close == std::string::npos ? "" : authority.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) host.clear();
    if (rest.starts_with(':')) port = rest.substr(1);
  } else if (const size_t colon = authority.find(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) {
    // "http://", "https:///path": libcurl's "Couldn't resolve host name" at every run.
    return TrFormat("key '{}' in [{}] must name a host after the scheme (http://HOST/…)", key,
                    section);
  }
  bool port_ok = port.size() <= 5;
  long number = 0;
  for (char c : port) {
    port_ok = port_ok && c >= '0' && c <= '9';
    number = number * 10 + (c - '0');
  }
  if (!port_ok || number > 65535 || (!port.empty() && number == 0)) {
    return TrFormat("key '{}' in [{}] has a port that is not a number from 1 to 65535", key,
                    section);
  }
  return "";
}

}  // namespace velin::config
