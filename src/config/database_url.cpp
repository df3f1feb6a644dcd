#include "velin/config/database_url.hpp"

#include <algorithm>
#include <cctype>

#include "velin/core/i18n.hpp"

namespace velin::config {
namespace {

const char* const kForms =
    "postgres://USER@HOST[:PORT]/NAME, mysql://USER@HOST[:PORT]/NAME or sqlite:///PATH";

bool HasControl(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// %XX decoded; false on a malformed escape or one that decodes to a control character or '/'.
bool PercentDecode(const std::string& in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size() || !std::isxdigit(static_cast<unsigned char>(in[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      return false;
    }
    const char c = static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '/') return false;
    out += c;
    i += 2;
  }
  return true;
}

}  // namespace

Result<DatabaseSection> DatabaseFromUrl(const std::string& url, const std::string& cwd) {
  // The URL itself is only repeated once it is known to hold no password.
  auto bad = [&](const std::string& why) {
    return UsageError(TrFormat("--database-url '{}': {} (the forms: {})", url, why, kForms));
  };
  if (HasControl(url)) {
    return UsageError(TrFormat("--database-url holds a control character (the forms: {})", kForms));
  }
  const size_t colon = url.find(':');
  if (colon == std::string::npos) return bad(std::string(Tr("no scheme")));
  std::string scheme = url.substr(0, colon);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  DatabaseSection d;
  d.configured = true;
  if (scheme == "sqlite") {
    std::string path = url.substr(colon + 1);
    if (path.rfind("//", 0) == 0) path = path.substr(2);
    if (path.empty()) return bad(std::string(Tr("no database file")));
    d.driver = "sqlite";
    d.path = path[0] == '/' ? path : cwd + "/" + path;
    return d;
  }
  if (scheme == "postgres" || scheme == "postgresql") {
    d.driver = "postgresql";
  } else if (scheme == "mysql" || scheme == "mariadb") {
    d.driver = "mysql";
  } else {
    return bad(TrFormat("unknown scheme '{}'", scheme));
  }
  if (url.compare(colon + 1, 2, "//") != 0) return bad(std::string(Tr("no //HOST")));
  std::string rest = url.substr(colon + 3);
  std::string query;
  if (size_t q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string name = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (size_t at = authority.rfind('@'); at != std::string::npos) {
    std::string user = authority.substr(0, at);
    if (user.find(':') != std::string::npos) {
      // Never echoed: the line would carry the password into logs and terminals' scrollback.
      return UsageError(std::string(
          Tr("--database-url holds a password: velin never takes one from the command line; "
             "leave it out of the URL and put it in PGPASSWORD or ~/.pgpass (PostgreSQL), "
             "MYSQL_PWD or ~/.my.cnf (MariaDB/MySQL)")));
    }
    if (!PercentDecode(user, d.user) || d.user.empty()) return bad(std::string(Tr("bad user")));
    authority = authority.substr(at + 1);
  }
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return bad(std::string(Tr("unclosed [ in the host")));
    d.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad(std::string(Tr("bad host")));
      port = authority.substr(close + 2);
    }
  } else if (size_t c = authority.find(':'); c != std::string::npos) {
    d.host = authority.substr(0, c);
    port = authority.substr(c + 1);
  } else {
    d.host = authority;
  }
  if (d.host.empty()) d.host = "127.0.0.1";
  if (d.host.find_first_of("/\\ ") != std::string::npos) return bad(std::string(Tr("bad host")));
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(),
                                        [](unsigned char c) { return std::isdigit(c) != 0; })) {
      return bad(TrFormat("bad port '{}'", port));
    }
    d.port = std::stoi(port);
    if (d.port < 1 || d.port > 65535) return bad(TrFormat("bad port '{}'", port));
  }
  if (!PercentDecode(name, d.name) || d.name.empty() || d.name.find('/') != std::string::npos) {
    return bad(std::string(Tr("no database name after the host (…/NAME)")));
  }
  if (!query.empty()) {
    if (query.rfind("socket=", 0) != 0 || query.find('&') != std::string::npos) {
      return bad(std::string(Tr("the only parameter is ?socket=PATH")));
    }
    if (!PercentDecode(query.substr(7), d.socket) || d.socket.empty() || d.socket[0] != '/') {
      return bad(std::string(Tr("?socket= needs an absolute path")));
    }
  }
  return d;
}

}  // namespace velin::config
