// Private to the db module: a MariaDB Connector/C connection with errors as one line and
// queries returning rows of text (NULL as "").
#pragma once

#include <mysql.h>

#include <memory>
#include <string>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/db/driver.hpp"

namespace velin::db::internal {

using MyRows = std::vector<std::vector<std::string>>;

class MysqlConnection {
 public:
  // Connects to `dbname` ("" = no default database) on the server of `options`.
  static Result<MysqlConnection> Open(const ConnectionOptions& options, const std::string& dbname);

  Result<MyRows> Query(const std::string& sql);
  Status Exec(const std::string& sql) {
    return Query(sql).map([](const MyRows&) {});
  }
  std::string ServerVersion() const { return mysql_get_server_info(conn_.get()); }
  // The server's error number of the last failed statement (0 = none): unlike its message, the
  // same in every lc_messages language.
  unsigned int LastErrorNumber() const { return mysql_errno(conn_.get()); }

 private:
  struct Closer {
    void operator()(MYSQL* c) const { mysql_close(c); }
  };
  std::unique_ptr<MYSQL, Closer> conn_;
};

// The socket errno behind a failed connection (mysql_errno `code`, mysql_error `message`): the
// "(111)" a CR_CONN_HOST_ERROR ends with, ECONNRESET for a lost server; 0 for the others.
int MysqlConnectErrno(unsigned int code, const std::string& message);

}  // namespace velin::db::internal
