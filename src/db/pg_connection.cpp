#include "pg_connection.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "client_libraries.hpp"
#include "velin/core/i18n.hpp"

namespace velin::db::internal {

std::string CleanPgMessage(const std::string& message) {
  std::string m = message;
  // "connection to server at "127.0.0.1", port 5432 failed: FATAL:  password ..." -> the cause.
  size_t failed = m.rfind(" failed: ");
  if (m.rfind("connection to server", 0) == 0 && failed != std::string::npos) {
    m.erase(0, failed + 9);
  }
  for (const char* prefix : {"FATAL:  ", "ERROR:  "}) {
    if (m.rfind(prefix, 0) == 0) m.erase(0, std::string(prefix).size());
  }
  // Keep the first line, then the hint of a second line in parentheses.
  size_t nl = m.find('\n');
  std::string first = m.substr(0, nl);
  std::string rest = nl == std::string::npos ? "" : m.substr(nl + 1);
  rest.erase(0, rest.find_first_not_of(" \t"));
  rest = rest.substr(0, rest.find('\n'));
  if (!rest.empty() && first.find("Connection refused") != std::string::npos) {
    // velin's words, not the server's: in the user's language, as MySQL's (mysql_connection.cpp).
    first = Tr("connection refused (is the server running and accepting TCP/IP connections?)");
  }
  std::replace(first.begin(), first.end(), '"', '\'');
  while (!first.empty() && (first.back() == ' ' || first.back() == '\r')) first.pop_back();
  return first.empty() ? std::string(Tr("unknown libpq error")) : first;
}

int PgConnectErrno(const std::string& message) {
  // libpq keeps no errno; its message holds strerror()'s words for a socket's error, and its own
  // "timeout expired" for connect_timeout. The metrics count these as kind "network".
  for (int err : {ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, ECONNRESET}) {
    if (message.find(std::strerror(err)) != std::string::npos) return err;
  }
  if (message.find("timeout expired") != std::string::npos) return ETIMEDOUT;
  return 0;
}

Result<PgConnection> PgConnection::Open(const ConnectionOptions& options,
                                        const std::string& dbname) {
  VELIN_TRY(PqLibrary().Require());
  std::string host = options.socket.empty() ? options.host : options.socket;
  std::string port = std::to_string(options.port == 0 ? 5432 : options.port);
  std::vector<const char*> keys = {"host", "port", "dbname", "connect_timeout", "application_name"};
  std::vector<const char*> values = {host.c_str(), port.c_str(), dbname.c_str(), "10", "velin"};
  if (!options.user.empty()) {
    keys.push_back("user");
    values.push_back(options.user.c_str());
  }
  if (!options.password.empty()) {
    keys.push_back("password");
    values.push_back(options.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PgConnection c;
  c.conn_.reset(PQconnectdbParams(keys.data(), values.data(), 0));
  if (!c.conn_) return Failure(std::string(Tr("out of memory connecting with libpq")));
  if (PQstatus(c.conn_.get()) != CONNECTION_OK) {
    const std::string raw = PQerrorMessage(c.conn_.get());
    std::string text = CleanPgMessage(raw);
    // A new server has none of the old one's roles: the server's words alone left the user
    // without a way on (disaster recovery, docs/operations.md "The server is gone").
    if (!options.user.empty() &&
        text.find("role '" + options.user + "' does not exist") != std::string::npos) {
      std::string quoted = options.user;
      for (size_t i = 0; (i = quoted.find('"', i)) != std::string::npos; i += 2) {
        quoted.insert(i, 1, '"');
      }
      text += TrFormat(
          ": create it on this server first (as its superuser: CREATE ROLE \"{}\" LOGIN "
          "CREATEDB PASSWORD '…';), or connect as a role it has (e.g. postgres)",
          quoted);
    }
    return tl::unexpected(  // the server's words
        Error{ExitCode::kFailed, NoTr(text), PgConnectErrno(raw)});
  }
  return c;
}

Result<PgRows> PgConnection::Query(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  PGresult* raw = PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(raw, PQclear);
  ExecStatusType st = PQresultStatus(res.get());
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    const char* primary = PQresultErrorField(res.get(), PG_DIAG_MESSAGE_PRIMARY);
    std::string text = primary != nullptr ? primary : PQerrorMessage(conn_.get());
    return Failure(NoTr(CleanPgMessage(text)));
  }
  PgRows rows;
  int n = PQntuples(res.get()), cols = PQnfields(res.get());
  rows.reserve(static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) {
    std::vector<std::string> row;
    for (int c = 0; c < cols; ++c) row.emplace_back(PQgetvalue(res.get(), r, c));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string PgConnection::QuoteIdentifier(const std::string& name) {
  char* q = PQescapeIdentifier(conn_.get(), name.c_str(), name.size());
  if (q == nullptr) return "\"" + name + "\"";
  std::string out(q);
  PQfreemem(q);
  return out;
}

}  // namespace velin::db::internal
