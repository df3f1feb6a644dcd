// A database named by one URL on the command line (`backup restore --database-url`), for a
// restore on a machine without a velin.toml (docs/operations.md, "The server is gone"):
//   postgres://[USER@]HOST[:PORT]/NAME   (postgresql:// too; ?socket=DIR for a unix socket)
//   mysql://[USER@]HOST[:PORT]/NAME      (mariadb:// too;    ?socket=FILE)
//   sqlite:PATH, sqlite://PATH, sqlite:///ABSOLUTE/PATH   (relative to `cwd`)
// A URL holding a password (USER:PASSWORD@) is refused: a password never goes on a command line
// (argv is readable by every user of the machine). The drivers take it where their tools do:
// PGPASSWORD or ~/.pgpass, MYSQL_PWD or ~/.my.cnf.
#pragma once

#include <string>

#include "velin/config/config.hpp"
#include "velin/core/error.hpp"

namespace velin::config {

// The [database] section `url` stands for (configured = true). Usage errors name the URL's
// fault; a password in it is never repeated in a message.
Result<DatabaseSection> DatabaseFromUrl(const std::string& url, const std::string& cwd);

}  // namespace velin::config
