#include "mysql_connection.hpp"

#include "client_libraries.hpp"
#include "velin/core/i18n.hpp"

namespace velin::db::internal {

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
    return Failure(NoTr(mysql_error(c.conn_.get())));  // the server's words
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

std::string QuoteMysqlIdentifier(const std::string& name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

}  // namespace velin::db::internal
