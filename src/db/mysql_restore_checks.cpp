#include "mysql_restore_checks.hpp"

#include <fmt/format.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "velin/core/i18n.hpp"

namespace velin::db::internal {
namespace {

// Whether this account holds one of `privileges` globally; also true when a role is active (or
// there is no CURRENT_ROLE(), as in MySQL 5.7): a role's privileges are not in USER_PRIVILEGES,
// and the server decides.
Result<bool> MayDo(MysqlConnection& conn, std::initializer_list<const char*> privileges) {
  auto role = conn.Query("SELECT CURRENT_ROLE()");
  if (!role || !((*role)[0][0].empty() || (*role)[0][0] == "NONE")) return true;
  std::string list;
  for (const char* p : privileges) list += (list.empty() ? "'" : ", '") + std::string(p) + "'";
  VELIN_ASSIGN(MyRows may, conn.Query("SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES "
                                      "WHERE PRIVILEGE_TYPE IN (" +
                                      list +
                                      ") AND GRANTEE = CONCAT('''', SUBSTRING(CURRENT_USER(), 1, "
                                      "CHAR_LENGTH(CURRENT_USER()) - "
                                      "CHAR_LENGTH(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)) - 1), "
                                      "'''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')"));
  return may[0][0] != "0";
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

// The client sends each statement of the dump as one packet, and the server refuses one over
// its max_allowed_packet (1153): the restore stopped there, its table already dropped and made
// again empty, with no way back (DDL commits at once). Older backups lack the size.
Status CheckPacketLimit(MysqlConnection& conn, const DatabaseInfo& recorded) {
  if (recorded.largest_statement <= 0) return Ok();
  VELIN_ASSIGN(MyRows limit, conn.Query("SELECT @@global.max_allowed_packet"));
  if (recorded.largest_statement < std::stoll(limit[0][0])) return Ok();
  return Failure(TrFormat(
      "the backup holds a statement of {} bytes, and this server's max_allowed_packet is {} "
      "bytes: it would refuse it part way, with tables already emptied; raise it (SET GLOBAL "
      "max_allowed_packet = 1073741824, as a user with SUPER) and restore again; nothing was "
      "changed",
      recorded.largest_statement, limit[0][0]));
}

// The dump creates each view, trigger, routine and event with its DEFINER; for an account
// other than this one the server wants SET USER (SUPER), and the client would stop half way:
// tables restored, a trigger or view missing.
Status CheckDefiners(MysqlConnection& conn, const DatabaseInfo& recorded) {
  if (recorded.definers.empty()) return Ok();
  VELIN_ASSIGN(MyRows me, conn.Query("SELECT CURRENT_USER()"));
  const std::string current = me[0][0];
  std::string others;
  for (const std::string& definer : recorded.definers) {
    if (definer != current) others += (others.empty() ? "" : ", ") + definer;
  }
  if (others.empty()) return Ok();
  VELIN_ASSIGN(bool may, MayDo(conn, {"SUPER", "SET USER", "SET_USER_ID"}));
  if (may) return Ok();
  return UsageError(
      TrFormat("the backup's views, triggers, routines or events are defined by {}, and {} may not "
               "create them for another account (that needs the SET USER privilege, or SUPER): "
               "restore as that account or one with the privilege; nothing was changed",
               others, current));
}

std::vector<std::string> MissingDefiners(MysqlConnection& conn, const DatabaseInfo& recorded) {
  std::vector<std::string> missing;
  for (const std::string& definer : recorded.definers) {
    if (definer.find('@') == std::string::npos) continue;  // a role: not an account
    std::string hex;
    for (unsigned char c : definer) hex += fmt::format("{:02X}", c);
    auto found = conn.Query(
        "SELECT COUNT(*) FROM mysql.user WHERE BINARY CONCAT(User, '@', Host) = X'" + hex + "'");
    if (!found) return {};  // this account may not read mysql.user: the server decides
    if (!found->empty() && (*found)[0][0] == "0") missing.push_back(definer);
  }
  return missing;
}

std::string CreateUserStatements(const std::vector<std::string>& accounts) {
  const auto quoted = [](std::string_view s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  };
  std::string sql;
  for (const std::string& a : accounts) {
    const size_t at = a.rfind('@');
    sql += (sql.empty() ? "" : " ") +
           ("CREATE USER " + quoted(a.substr(0, at)) + "@" + quoted(a.substr(at + 1)) + ";");
  }
  return sql;
}

// Refused part way, the restore stopped at the first history row (1227), that table emptied.
Status CheckHistoryWritable(MysqlConnection& conn, const DatabaseInfo& recorded) {
  if (recorded.history_tables.empty()) return Ok();
  auto secure = conn.Query("SELECT @@global.secure_timestamp");
  if (!secure || secure->empty()) return Ok();  // no such variable: the server decides
  const std::string mode = (*secure)[0][0];
  if (mode == "NO") return Ok();
  if (mode == "YES") {
    return UsageError(TrFormat(
        "the backup holds the history of its system-versioned tables ({}), and this server "
        "writes none (secure_timestamp = YES): restore onto a server with secure_timestamp = "
        "NO, its default; nothing was changed",
        Joined(recorded.history_tables)));
  }
  VELIN_ASSIGN(bool may, MayDo(conn, {"SUPER", "BINLOG REPLAY"}));
  if (may) return Ok();
  VELIN_ASSIGN(MyRows me, conn.Query("SELECT CURRENT_USER()"));
  return UsageError(TrFormat(
      "the backup holds the history of its system-versioned tables ({}), which this server "
      "(secure_timestamp = {}) lets only an account with the SUPER or BINLOG REPLAY privilege "
      "write, and {} has neither: restore as such an account; nothing was changed",
      Joined(recorded.history_tables), mode, me[0][0]));
}

}  // namespace velin::db::internal
