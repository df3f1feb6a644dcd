// Private to the db module: what the MariaDB driver checks before a restore, on a connection to
// the server restored into, so that a restore the server would stop part way (the client cannot
// roll back what it applied) is refused while nothing is changed. Each returns the error to give;
// a question the server cannot answer (a role is active: its privileges are not listed) lets
// the restore go on, and the server decides.
#pragma once

#include "mysql_connection.hpp"
#include "velin/core/error.hpp"
#include "velin/db/driver.hpp"

namespace velin::db::internal {

// The backup's largest statement against the server's max_allowed_packet (1153 part way).
Status CheckPacketLimit(MysqlConnection& conn, const DatabaseInfo& recorded);

// The backup's definers other than this account: creating their views, triggers, routines and
// events takes SET USER (or SUPER).
Status CheckDefiners(MysqlConnection& conn, const DatabaseInfo& recorded);

// The backup's definers (user@host) this server has no account for, as on a new server: their
// views, triggers, routines and events are restored but fail when used (1449 "The user
// specified as a definer does not exist"). Empty when this account may not read mysql.user.
std::vector<std::string> MissingDefiners(MysqlConnection& conn, const DatabaseInfo& recorded);

// `CREATE USER 'u'@'h';` for each of `accounts` (user@host), as a warning shows them.
std::string CreateUserStatements(const std::vector<std::string>& accounts);

// The history of the backup's system-versioned tables: the server writes it (the dump's
// system_versioning_insert_history) only as its secure_timestamp allows (NO: anyone; SUPER,
// REPLICATION: SUPER or BINLOG REPLAY; YES: nobody).
Status CheckHistoryWritable(MysqlConnection& conn, const DatabaseInfo& recorded);

}  // namespace velin::db::internal
