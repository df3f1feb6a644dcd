#include "velin/storage/remote_url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "velin/core/i18n.hpp"
#include "velin/core/url_password.hpp"
#include "velin/io/env.hpp"

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
      return UsageError(TrFormat("destination '{}': bad percent-escape", url));
    }
    auto [ptr, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || ptr != text.data() + i + 3 || value == 0) {
      return UsageError(TrFormat("destination '{}': bad percent-escape", url));
    }
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

// A path means what it says or is refused: libcurl folds "." and ".." out of a URL it sends
// (s3://bkt/x/../dd put its objects under dd/ while listings asked for x/../dd/: a backup that
// "succeeded" and that list never found), and expands a leading "~" of an SFTP path for transfers
// but not in the quote commands (rename) that complete each one.
Status CheckRemotePath(const std::string& url, const std::string& scheme, std::string_view path) {
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "." || segment == "..") {
      return UsageError(TrFormat(
          "destination '{}': '.' and '..' are not allowed in the path; write the path without them",
          url));
    }
    if (start == 0 && scheme == "sftp" && segment.starts_with('~')) {
      return UsageError(
          TrFormat("destination '{}': '~' is not expanded in sftp:// paths; write the absolute "
                   "path (sftp://user@host/home/user/dir)",
                   url));
    }
    start = end + 1;
  }
  return Ok();
}

}  // namespace

std::string WithoutPassword(const std::string& url) { return MaskUrlPasswords(url); }

Result<RemoteUrl> ParseRemoteUrl(const std::string& given) {
  const std::string url = WithoutPassword(given);  // for messages
  const std::string& text = given;
  RemoteUrl out;
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string::npos) return UsageError(TrFormat("'{}' is not a URL", url));
  out.scheme = text.substr(0, scheme_end);
  std::string rest = text.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (authority.find_first_of("?#") != std::string::npos ||
      path.find_first_of("?#") != std::string::npos) {
    return UsageError(
        TrFormat("destination '{}': query strings and fragments are not supported", url));
  }
  size_t at = authority.rfind('@');
  if (at != std::string::npos) {
    std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    if (userinfo.find(':') != std::string::npos) {
      return UsageError(
          TrFormat("destination '{}://…': a password does not belong in the URL (use "
                   "VELIN_FTP_PASSWORD for FTP, a key file for SFTP)",
                   out.scheme));
    }
    VELIN_ASSIGN(out.user, PercentDecode(url, userinfo));
  }
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    std::string port = authority.substr(colon + 1);
    authority = authority.substr(0, colon);
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
    if (ec != std::errc() || ptr != port.data() + port.size() || out.port < 1 || out.port > 65535) {
      return UsageError(TrFormat("destination '{}': bad port '{}'", url, port));
    }
  }
  out.host = authority;
  if (out.host.empty())
    return UsageError(TrFormat("destination '{}': no host (or bucket) name", url));
  VELIN_ASSIGN(out.path, PercentDecode(url, path));
  while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
  VELIN_TRY(CheckRemotePath(url, out.scheme, out.path));
  return out;
}

Status CheckS3Url(const RemoteUrl& url) {
  if (url.user.empty() && url.port == 0) return Ok();
  return UsageError(
      TrFormat("destination 's3://{}/…': the bucket goes where the host would "
               "(s3://bucket/prefix); set the server in storage.s3.endpoint",
               url.host));
}

Status CheckRemoteDestination(const std::string& destination) {
  if (!destination.starts_with("s3://") && !IsFileServerUrl(destination)) return Ok();
  VELIN_ASSIGN(RemoteUrl url, ParseRemoteUrl(destination));
  return url.scheme == "s3" ? CheckS3Url(url) : Ok();
}

namespace {

int PortOrDefault(const RemoteUrl& url) {
  if (url.port != 0) return url.port;
  if (url.scheme == "sftp") return 22;
  if (url.scheme == "ftp") return 21;
  if (url.scheme == "ftps") return 990;
  return 0;
}

std::string UserOrDefault(const RemoteUrl& url) {
  if (url.user.empty() && (url.scheme == "ftp" || url.scheme == "ftps")) return "anonymous";
  return url.user;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

bool SameRemoteLocation(const RemoteUrl& a, const RemoteUrl& b) {
  return a.scheme == b.scheme && UserOrDefault(a) == UserOrDefault(b) &&
         Lower(a.host) == Lower(b.host) && PortOrDefault(a) == PortOrDefault(b) &&
         io::CleanPath("/" + a.path) == io::CleanPath("/" + b.path);
}

bool IsFileServerUrl(const std::string& destination) {
  return destination.starts_with("sftp://") || destination.starts_with("ftp://") ||
         destination.starts_with("ftps://");
}

bool IsLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  if (host.rfind("127.", 0) != 0) return false;
  // 127.a.b.c: four parts of one to three digits.
  int parts = 0;
  size_t digits = 0;
  for (size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (digits == 0 || digits > 3) return false;
      ++parts;
      digits = 0;
    } else if (host[i] >= '0' && host[i] <= '9') {
      ++digits;
    } else {
      return false;
    }
  }
  return parts == 4;
}

Status CheckCleartextTransport(const std::string& destination, const std::string& s3_endpoint,
                               bool allow_insecure) {
  if (allow_insecure) return Ok();
  size_t scheme_end = destination.find("://");
  if (scheme_end == std::string::npos) return Ok();
  std::string scheme = destination.substr(0, scheme_end);
  if (scheme == "ftp") {
    VELIN_ASSIGN(RemoteUrl url, ParseRemoteUrl(destination));
    if (IsLoopbackHost(url.host)) return Ok();
    return UsageError(
        TrFormat("destination '{}': plain FTP sends the data and the password in clear; use "
                 "ftps:// or sftp://, or set allow_insecure = true in [backup]",
                 destination));
  }
  if (scheme == "s3" && s3_endpoint.rfind("http://", 0) == 0) {
    std::string authority = s3_endpoint.substr(7);
    authority = authority.substr(0, authority.find('/'));
    std::string host = authority;
    if (!host.empty() && host.front() == '[') {
      host = host.substr(0, host.find(']') + 1);
    } else {
      host = host.substr(0, host.find(':'));
    }
    if (IsLoopbackHost(host)) return Ok();
    return UsageError(
        TrFormat("storage.s3.endpoint '{}': plain HTTP sends the data and the credentials in "
                 "clear; use https://, or set allow_insecure = true in [backup]",
                 s3_endpoint));
  }
  return Ok();
}

}  // namespace velin::storage
