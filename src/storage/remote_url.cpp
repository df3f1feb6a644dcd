#include "velin/storage/remote_url.hpp"

#include <charconv>

namespace velin::storage {
namespace {

Result<std::string> PercentDecode(const std::string& url, std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size()) {
      return UsageError("destination '" + url + "': bad percent-escape");
    }
    auto [ptr, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || ptr != text.data() + i + 3 || value == 0) {
      return UsageError("destination '" + url + "': bad percent-escape");
    }
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

}  // namespace

Result<RemoteUrl> ParseRemoteUrl(const std::string& url) {
  RemoteUrl out;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return UsageError("'" + url + "' is not a URL");
  out.scheme = url.substr(0, scheme_end);
  std::string rest = url.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (authority.find_first_of("?#") != std::string::npos ||
      path.find_first_of("?#") != std::string::npos) {
    return UsageError("destination '" + url + "': query strings and fragments are not supported");
  }
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    if (userinfo.find(':') != std::string::npos) {
      return UsageError("destination '" + out.scheme +
                        "://…': a password does not belong in the "
                        "URL (use VELIN_FTP_PASSWORD for FTP, a key file for SFTP)");
    }
    VELIN_ASSIGN(out.user, PercentDecode(url, userinfo));
  }
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    std::string port = authority.substr(colon + 1);
    authority = authority.substr(0, colon);
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
    if (ec != std::errc() || ptr != port.data() + port.size() || out.port < 1 || out.port > 65535) {
      return UsageError("destination '" + url + "': bad port '" + port + "'");
    }
  }
  out.host = authority;
  if (out.host.empty()) return UsageError("destination '" + url + "': no host (or bucket) name");
  VELIN_ASSIGN(out.path, PercentDecode(url, path));
  while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
  return out;
}

}  // namespace velin::storage
