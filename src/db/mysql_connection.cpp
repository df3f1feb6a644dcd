#include "mysql_connection.hpp"

#include <cerrno>

#include "client_libraries.hpp"
#include "velin/core/i18n.hpp"

namespace velin::db::internal {

int MysqlConnectErrno(unsigned int code, const std::string& message) {
  // CR_CONNECTION_ERROR (2002, socket) and CR_CONN_HOST_ERROR (2003, TCP): the server could not
  // be reached. Their message ends in an errno, "Can't connect to server on '127.0.0.1' (111)",
  // but a refused non-blocking connect says 115 (EINPROGRESS) there, so only a permission error
  // is taken from it. CR_SERVER_LOST (2013) and CR_SERVER_GONE_ERROR (2006) are a connection cut.
  // The metrics count these as "network" (and EACCES as "permission").
  if (code == 2013 || code == 2006) return ECONNRESET;
  if (code != 2002 && code != 2003) return 0;
  size_t open = message.rfind('(');
  if (open != std::string::npos && !message.empty() && message.back() == ')') {
    const std::string number = message.substr(open + 1, message.size() - open - 2);
    if (number == std::to_string(EACCES) || number == std::to_string(EPERM)) return EACCES;
  }
  return ECONNREFUSED;
}

Result<MysqlConnection> MysqlConnection::Open(const ConnectionOptions& options,
                                              const std::string& dbname) {
  VELIN_TRY(MariadbLibrary().Require());
  MysqlConnection c;
  c.conn_.reset(mysql_init(nullptr));
  if (!c.conn_) return Failure(std::string(Tr("out of memory initialising the MariaDB client")));
  unsigned int timeout = 10;
  mysql_options(c.conn_.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(c.conn_.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
  // The option files' [client] group (~/.my.cnf, /etc/mysql/my.cnf), as the mariadb tools read
  // it: without a configured password, the one there is used (docs/operations.md). Host, port,
  // user and a configured password given below win over it.
  mysql_options(c.conn_.get(), MYSQL_READ_DEFAULT_GROUP, "client");
  const char* host = options.socket.empty() ? options.host.c_str() : "localhost";
  unsigned int port = static_cast<unsigned int>(options.port == 0 ? 3306 : options.port);
  if (mysql_real_connect(c.conn_.get(), host, options.user.c_str(),
                         options.password.empty() ? nullptr : options.password.c_str(),
                         dbname.empty() ? nullptr : dbname.c_str(), port,
                         options.socket.empty() ? nullptr : options.socket.c_str(), 0) == nullptr) {
    std::string message = NoTr(mysql_error(c.conn_.get()));  // the server's words
    int err = MysqlConnectErrno(mysql_errno(c.conn_.get()), message);
    // The client library's own words end in a raw errno, 115 (EINPROGRESS) for a refused
    // connection: said as PostgreSQL's is instead (the driver's prefix names the host and
    // port, or the socket). Connector/C 3 gives 2002 for TCP too. "localhost" without a socket
    // is the library's default socket, whose path only its words name; a permission error
    // keeps them too.
    if (err == ECONNREFUSED && !options.socket.empty()) {
      message = std::string(Tr("cannot connect through the socket (is the server running?)"));
    } else if (err == ECONNREFUSED && options.host != "localhost") {
      message = std::string(
          Tr("cannot connect (is the server running and accepting TCP/IP connections?)"));
    }
    return tl::unexpected(Error{ExitCode::kFailed, std::move(message), err});
  }
  return c;
}

Result<MyRows> MysqlConnection::Query(const std::string& sql) {
  if (mysql_real_query(conn_.get(), sql.data(), sql.size()) != 0) {
    return Failure(NoTr(mysql_error(conn_.get())));
  }
  MyRows rows;
  MYSQL_RES* raw = mysql_store_result(conn_.get());
  if (raw == nullptr) {
    if (mysql_field_count(conn_.get()) != 0) return Failure(NoTr(mysql_error(conn_.get())));
    return rows;
  }
  std::unique_ptr<MYSQL_RES, void (*)(MYSQL_RES*)> res(raw, mysql_free_result);
  unsigned int cols = mysql_num_fields(res.get());
  while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
    unsigned long* lengths = mysql_fetch_lengths(res.get());
    std::vector<std::string> out;
    for (unsigned int i = 0; i < cols; ++i) {
      out.emplace_back(row[i] != nullptr ? std::string(row[i], lengths[i]) : std::string());
    }
    rows.push_back(std::move(out));
  }
  return rows;
}

}  // namespace velin::db::internal
