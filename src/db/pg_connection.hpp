// Private to the db module: a libpq connection with errors as one readable line, and queries
// returning rows of text. Parameters are always sent out of line ($1), never spliced into SQL.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/db/driver.hpp"

namespace velin::db::internal {

using PgRows = std::vector<std::vector<std::string>>;

class PgConnection {
 public:
  // Connects to `dbname` on the server of `options`. Errors are libpq's cause, cleaned up:
  // "password authentication failed for user 'app'", "connection refused (is the server
  // running?)".
  static Result<PgConnection> Open(const ConnectionOptions& options, const std::string& dbname);

  Result<PgRows> Query(const std::string& sql, const std::vector<std::string>& params = {});
  Status Exec(const std::string& sql) {
    return Query(sql).map([](const PgRows&) {});
  }
  int server_version() const { return PQserverVersion(conn_.get()); }  // 150020
  // An identifier quoted for SQL ("my table" -> "\"my table\"").
  std::string QuoteIdentifier(const std::string& name);

 private:
  struct Closer {
    void operator()(PGconn* c) const { PQfinish(c); }
  };
  std::unique_ptr<PGconn, Closer> conn_;
};

// The socket errno a failed connection's libpq message names (ECONNREFUSED, ETIMEDOUT, ...), or 0.
int PgConnectErrno(const std::string& message);

// libpq's message reduced to its cause, on one line, with single quotes.
std::string CleanPgMessage(const std::string& message);

}  // namespace velin::db::internal
