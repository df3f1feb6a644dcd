// MariaDB/MySQL: Connector/C for metadata, mariadb-dump (or mysqldump) --single-transaction
// streamed for the dump with row counts read off the stream itself, the mariadb (or mysql)
// client for restores. docs/databases.md#mariadb-mysql.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>

#include "driver_base.hpp"
#include "drivers.hpp"
#include "mysql_connection.hpp"
#include "mysql_restore_checks.hpp"
#include "tool.hpp"
#include "velin/core/environment.hpp"
#include "velin/core/host_port.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/db/mysql_dump_counter.hpp"
#include "velin/db/mysql_restore_filter.hpp"
#include "velin/io/env.hpp"

namespace velin::db::internal {
namespace {

// A system-versioned table (MariaDB) is a table too: its type is 'SYSTEM VERSIONED'.
constexpr const char* kTablesSql =
    "SELECT table_name, table_type = 'SYSTEM VERSIONED' FROM information_schema.tables "
    "WHERE table_schema = DATABASE() AND table_type IN ('BASE TABLE', 'SYSTEM VERSIONED') "
    "ORDER BY table_name";

// CURRENT_USER()'s "user@host" as a GRANT names the account ('user'@'host'; quotes and
// backslashes escaped), or a placeholder when the server did not say.
std::string QuoteMysqlAccount(const std::string& current_user) {
  const size_t at = current_user.rfind('@');
  if (at == std::string::npos) return "'USER'@'HOST'";
  auto quote = [](const std::string& part) {
    std::string out = "'";
    for (char c : part) {
      if (c == '\\' || c == '\'') out += c;
      out += c;
    }
    return out + "'";
  };
  return quote(current_user.substr(0, at)) + "@" + quote(current_user.substr(at + 1));
}

constexpr unsigned int kDatabaseAccessDenied = 1044;  // ER_DBACCESS_DENIED_ERROR

// The connection's account as a GRANT names it (QuoteMysqlAccount).
std::string CurrentAccount(MysqlConnection& conn) {
  auto account = conn.Query("SELECT CURRENT_USER()");
  return QuoteMysqlAccount(
      account && account->size() == 1 && !(*account)[0].empty() ? (*account)[0][0] : "");
}

// The database `db` as a GRANT names it, that one only: in backquotes, with the wildcards _ and
// % (and the escape character) escaped.
std::string GrantPattern(const std::string& db) {
  std::string escaped;
  for (char c : db) {
    if (c == '_' || c == '%' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return QuoteMysqlIdentifier(escaped);
}

// Whether the dump tool of `version_line` ("mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB,
// …", "mariadb-dump from 11.4.2-MariaDB, client 10.19 …") has --dump-history: MariaDB 10.11's
// and newer.
bool DumpsHistory(const std::string& version_line) {
  const size_t at = version_line.find("-MariaDB");
  if (at == std::string::npos) return false;
  size_t from = at;
  while (from > 0 && (std::isdigit(static_cast<unsigned char>(version_line[from - 1])) ||
                      version_line[from - 1] == '.')) {
    --from;
  }
  int major = 0, minor = 0;
  if (std::sscanf(version_line.c_str() + from, "%d.%d", &major, &minor) != 2) return false;
  return major > 10 || (major == 10 && minor >= 11);
}

// The first line of the dump, as the client gets it, that starts a statement which changes the
// database: not blank, not a comment, not a session's SET (`SET NAMES`, `/*!40101 SET … */`),
// not the client's sandbox command. A restore stopped while its client waits with that
// statement changed nothing yet (RestoreInto). Fed from the thread that feeds the client, asked
// from the one that watches it.
class MysqlFirstStatement {
 public:
  void Feed(std::string_view chunk) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (!found_ && !chunk.empty()) {
      const size_t nl = chunk.find('\n');
      const std::string_view part = chunk.substr(0, nl);
      if (line_.size() + part.size() > kMaxLine) {
        undecided_ = true;  // an unusually long line: said as "changed", the safe side
        found_ = true;
        return;
      }
      line_.append(part);
      if (nl == std::string_view::npos) return;
      chunk.remove_prefix(nl + 1);
      Decide();
      line_.clear();
    }
  }

  // Whether `info` (information_schema.PROCESSLIST.INFO of the client's session: the statement
  // it runs) is that first statement.
  bool IsFirst(std::string_view info) const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!found_ || undecided_) return false;
    info = Trim(info);
    std::string_view first = first_;
    // A statement on one line: the client sends it without its ";".
    if (first.ends_with(';')) return info == Trim(first.substr(0, first.size() - 1));
    return info.size() > first.size() && info.starts_with(first) && info[first.size()] == '\n';
  }

 private:
  static constexpr size_t kMaxLine = 64 * 1024;

  static std::string_view Trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  }

  static bool IsSet(std::string_view s) {
    return s.size() > 4 && (s.substr(0, 4) == "SET " || s.substr(0, 4) == "set ");
  }

  void Decide() {
    std::string_view line = Trim(line_);
    if (line.empty() || line.starts_with("--") || line.starts_with("#")) return;
    if (IsSet(line)) return;
    if (line.starts_with("/*")) {
      // A versioned comment (/*!40101 …*/, /*M!100616 …*/) runs its text: a SET is a session's;
      // /*M!999999\- enable the sandbox mode */ is the client's. A plain comment is none.
      std::string_view rest = line.substr(2);
      if (rest.starts_with("M!")) {
        rest.remove_prefix(2);
      } else if (rest.starts_with("!")) {
        rest.remove_prefix(1);
      } else if (line.ends_with("*/") && line.find("*/") == line.size() - 2) {
        return;  // a plain comment on its own line
      } else {
        first_ = line;
        found_ = true;
        return;
      }
      while (!rest.empty() && std::isdigit(static_cast<unsigned char>(rest.front()))) {
        rest.remove_prefix(1);
      }
      if (rest.starts_with("\\- ")) return;
      if (IsSet(Trim(rest))) return;
    }
    first_ = line;
    found_ = true;
  }

  mutable std::mutex mutex_;
  std::string line_, first_;
  bool found_ = false, undecided_ = false;
};

// A character set's or collation's name as the server gives it ("utf8mb4_unicode_ci"), safe in
// SQL as it is; anything else (a damaged record) is not used.
bool PlainSqlName(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// "mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu" -> "10.19 Distrib
// 10.11.19-MariaDB".
std::string ParseToolVersion(const std::string& line) {
  size_t p = line.find("Ver ");
  if (p == std::string::npos) return line;
  std::string v = line.substr(p + 4);
  return v.substr(0, v.find(','));
}

class MysqlDriver final : public DriverSteps {
 public:
  explicit MysqlDriver(ConnectionOptions o) : o_(std::move(o)) {}

  std::string Describe() const override {
    std::string where =
        o_.socket.empty() ? HostPort(o_.host, o_.port == 0 ? 3306 : o_.port) : o_.socket;
    return TrFormat("database '{}' at {}", o_.name, where);
  }

  Result<MysqlConnection> Connect(const std::string& target) {
    return MysqlConnection::Open(o_, target.empty() ? o_.name : target);
  }

  // The client options naming the server; the password goes through `secret`'s pipe, which
  // must be the first argument.
  Status BuildArgs(ProcessOptions& p, const std::string& tool,
                   std::optional<SecretOptionPipe>& secret) const {
    p.argv = {tool};
    p.pass_env_prefixes = {"MYSQL_HOME", "MARIADB_HOME"};
    // No password configured: the client library may have used MYSQL_PWD, so may the tool (a
    // secret, which no other child gets: given on purpose).
    if (o_.password.empty()) {
      if (std::optional<std::string> env = GetEnvironment("MYSQL_PWD")) {
        p.extra_env.emplace_back("MYSQL_PWD", *env);
      }
    }
    if (!o_.password.empty()) {
      VELIN_ASSIGN(SecretOptionPipe pipe, SecretOptionPipe::Create(o_.password));
      secret.emplace(std::move(pipe));
      p.argv.push_back(secret->Argument());
      p.pass_fds.push_back(secret->fd());
    }
    if (o_.socket.empty()) {
      p.argv.insert(p.argv.end(), {"--host=" + o_.host, "--protocol=TCP",
                                   "--port=" + std::to_string(o_.port == 0 ? 3306 : o_.port)});
    } else {
      p.argv.push_back("--socket=" + o_.socket);
    }
    if (!o_.user.empty()) p.argv.push_back("--user=" + o_.user);
    p.argv.push_back("--default-character-set=utf8mb4");
    // The client side's limit on one statement or row, at its most (1 GiB): Debian's
    // mysqldump.cnf sets 16M, which failed the dump of a larger row ("Lost connection"), and the
    // client's own default stopped a restore of one. The server's limit stays (checked below).
    p.argv.push_back("--max-allowed-packet=1G");
    return Ok();
  }

  Result<DatabaseInfo> BaseInfo(MysqlConnection& conn) {
    DatabaseInfo info;
    info.driver = "mysql";
    info.name = o_.name;
    info.dump_format = "sql";
    info.server_version = conn.ServerVersion();
    VELIN_ASSIGN(MyRows size, conn.Query("SELECT COALESCE(SUM(data_length + index_length), 0) "
                                         "FROM information_schema.tables "
                                         "WHERE table_schema = DATABASE()"));
    info.size_bytes = std::stoll(size[0][0]);
    VELIN_ASSIGN(MyRows tables, conn.Query(kTablesSql));
    for (const auto& row : tables) info.tables.push_back({row[0], 0});
    // What a database the restore creates is given (best effort: without it, the server's).
    auto charset = conn.Query(
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM "
        "information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()");
    if (charset && !charset->empty()) {
      info.character_set = (*charset)[0][0];
      info.collation = (*charset)[0][1];
    }
    return info;
  }

  Result<std::string> DumpTool(DatabaseInfo& info) {
    VELIN_ASSIGN(std::string tool,
                 FindTool({"mariadb-dump", "mysqldump"}, o_.tool_dir, "mariadb-client"));
    VELIN_ASSIGN(std::string line, ToolVersionLine(tool));
    info.dump_tool = io::Basename(tool);
    info.dump_tool_version = ParseToolVersion(line);
    dumps_history_ = DumpsHistory(line);
    return tool;
  }

  // A system-versioned table's history (its rows' earlier versions) is dumped with
  // --dump-history, where the tool has it: recorded in `info`, with `argv`'s option. Without
  // it the dump holds the current rows only, and the backup says so.
  void PlanHistory(MysqlConnection& conn, DatabaseInfo& info, std::vector<std::string>& argv) {
    auto versioned = conn.Query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
        "AND table_type = 'SYSTEM VERSIONED' ORDER BY table_name");
    if (!versioned || versioned->empty()) return;
    std::vector<std::string> names;
    for (const auto& row : *versioned) names.push_back(row[0]);
    if (dumps_history_) {
      argv.push_back("--dump-history");
      info.history_tables = names;
      return;
    }
    std::string list;
    for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
    info.warnings.push_back(TrFormat(
        "{}: system-versioned tables ({}): the dump holds their current rows only, not their "
        "history, since {} {} cannot dump it (MariaDB 10.11's mariadb-dump and newer can)",
        Describe(), list, info.dump_tool, info.dump_tool_version));
  }

  Result<DatabaseInfo> DoPreflight() override {
    VELIN_ASSIGN(MysqlConnection conn, Connect(""));
    VELIN_ASSIGN(DatabaseInfo info, BaseInfo(conn));
    VELIN_TRY(DumpTool(info));
    return info;
  }

  Result<DatabaseInfo> DoDump(const ByteSink& sink) override {
    VELIN_ASSIGN(MysqlConnection conn, Connect(""));
    VELIN_ASSIGN(DatabaseInfo info, BaseInfo(conn));
    VELIN_ASSIGN(std::string tool, DumpTool(info));
    ProcessOptions p;
    std::optional<SecretOptionPipe> secret;
    VELIN_TRY(BuildArgs(p, tool, secret));
    p.argv.insert(p.argv.end(), {"--single-transaction", "--routines", "--triggers", "--events",
                                 "--add-locks", "--extended-insert", "--skip-complete-insert",
                                 "--skip-dump-date", "--no-tablespaces"});
    PlanHistory(conn, info, p.argv);
    // "--" ends the options: a database named "-shop" would be read as options ("unknown
    // option '-s'"). Not --databases, which writes CREATE DATABASE and USE into the dump and so
    // ties it to this name.
    p.argv.insert(p.argv.end(), {"--", o_.name});
    MysqlDumpCounter counter;
    ByteSink counting = [&](std::string_view chunk) {
      counter.Feed(chunk);
      return sink(chunk);
    };
    VELIN_ASSIGN(ChildOutcome outcome, StreamToolOutput(p, counting));
    if (outcome.exit_code != 0) return Failure(DescribeToolFailure(tool, outcome));
    info.tables = counter.Tables();
    info.largest_statement = counter.LargestStatement();
    // A restore sends each statement as one packet, which the server refuses over its
    // max_allowed_packet (1153) part way, its tables dropped: said now, while it can be raised.
    auto limit = conn.Query("SELECT @@global.max_allowed_packet");
    if (limit && !limit->empty() && info.largest_statement >= std::stoll((*limit)[0][0])) {
      info.warnings.push_back(TrFormat(
          "{}: the dump holds a statement of {} bytes (rows of table '{}'), and this server's "
          "max_allowed_packet is {} bytes: a restore into it would be refused; raise it "
          "(SET GLOBAL max_allowed_packet = 1073741824, and max_allowed_packet = 1G under "
          "[mysqld] in its configuration)",
          Describe(), info.largest_statement, counter.LargestStatementTable(), (*limit)[0][0]));
    }
    // --single-transaction makes one consistent state of the tables of engines with
    // transactions (InnoDB) only; a MyISAM or Aria table written during the dump may be in it
    // partly, or out of step with the others. Said (best effort), with what to do.
    auto unsafe = conn.Query(
        "SELECT t.TABLE_NAME, t.ENGINE FROM information_schema.TABLES t "
        "JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE "
        "WHERE t.TABLE_SCHEMA = DATABASE() "
        "AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') "
        "AND e.TRANSACTIONS <> 'YES' AND t.ENGINE NOT IN ('MEMORY', 'BLACKHOLE') ORDER BY 1");
    if (unsafe && !unsafe->empty()) {
      std::string names;
      size_t shown = 0;
      for (const auto& row : *unsafe) {
        if (shown++ == 5) break;
        names += (names.empty() ? "" : ", ") + row[0] + " (" + row[1] + ")";
      }
      if (unsafe->size() > 5) names += TrFormat(" and {} more", unsafe->size() - 5);
      info.warnings.push_back(TrFormat(
          "{}: tables of an engine without transactions ({}): the dump holds each as it "
          "was when it was read, not all at one moment; a write during the backup may be in it "
          "partly (ALTER TABLE … ENGINE=InnoDB makes them consistent)",
          Describe(), names));
    }
    // Best effort: without the list a restore works as before (it cannot check the definers).
    auto definers = conn.Query(
        "SELECT DEFINER FROM information_schema.VIEWS "
        "WHERE TABLE_SCHEMA = DATABASE() "
        "UNION SELECT DEFINER FROM information_schema.TRIGGERS "
        "WHERE TRIGGER_SCHEMA = DATABASE() "
        "UNION SELECT DEFINER FROM information_schema.ROUTINES "
        "WHERE ROUTINE_SCHEMA = DATABASE() "
        "UNION SELECT DEFINER FROM information_schema.EVENTS "
        "WHERE EVENT_SCHEMA = DATABASE() ORDER BY 1");
    for (const auto& row : definers ? *definers : MyRows()) {
      if (!row[0].empty()) info.definers.push_back(row[0]);
    }
    return info;
  }

  // What the server must have for the backup (mysql_restore_checks.hpp): refused before,
  // nothing changed. And what Restore needs of `recorded` (Driver::PrepareRestore).
  Result<std::vector<std::string>> DoPrepareRestore(const DatabaseInfo& recorded) override {
    VELIN_ASSIGN(MysqlConnection conn, MysqlConnection::Open(o_, ""));
    VELIN_TRY(CheckPacketLimit(conn, recorded));
    VELIN_TRY(CheckDefiners(conn, recorded));
    VELIN_TRY(CheckHistoryWritable(conn, recorded));
    recorded_ = recorded;
    // A new server lacks the accounts of the old one: the objects they define come back but
    // fail when used. Before 2026-12-07 nothing said so (exit 0, views unusable).
    std::vector<std::string> warnings;
    const std::vector<std::string> missing = MissingDefiners(conn, recorded);
    if (!missing.empty()) {
      std::string names;
      for (const std::string& m : missing) names += (names.empty() ? "" : ", ") + m;
      warnings.push_back(TrFormat(
          "{}: the backup's views, triggers, routines or events are defined by {}, which this "
          "server has no account for: they fail when used (\"The user specified as a definer "
          "does not exist\") until you create it (`{}`, with the grants it had)",
          Describe(), names, CreateUserStatements(missing)));
    }
    return warnings;
  }

  // What the restore's idle checks share with RestoreInto: a connection of their own, the
  // notice, and the client's session when a signal stopped it (0: none).
  struct RestoreWatch {
    std::optional<MysqlConnection> conn;
    LockWaitNotice notice;
    std::string lock;                // the client's user-level lock: names its session
    unsigned long long stopped = 0;  // the client's session, which RestoreInto ends
    MysqlFirstStatement first;       // the dump's first statement that changes the database
    bool changed = true;             // at the stop: whether a statement ran that changed it
  };

  // Whether the client's session `id` waits with the dump's first statement that changes the
  // database: then nothing is changed yet. False when that cannot be told (the safe side).
  static bool WaitsAtFirstStatement(MysqlConnection& conn, const std::string& id,
                                    const RestoreWatch& state) {
    Result<MyRows> info =
        conn.Query("SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = " + id);
    if (!info || info->empty()) return false;
    return state.first.IsFirst((*info)[0][0]);
  }

  // Called while the restore's client makes no progress (FeedToolInput's idle): once a session
  // on `db` has waited kLockNotice for a lock (a table's metadata lock, which an open
  // transaction holds until it ends: DROP TABLE waits for it), says once who holds it, as far
  // as this user may see (INNODB_TRX needs PROCESS; else the other sessions on the database).
  // A signal (held: core/termination.hpp) while the client's own session waits for a lock
  // stops the restore: the error returned kills the client, and RestoreInto ends its session.
  // Before 2026-12-07 the signal waited with the restore, which a lock could hold for a year.
  std::function<Status()> LockNotice(const std::string& db, std::shared_ptr<RestoreWatch> state) {
    return [this, db, state]() -> Status {
      const int sig = HeldTerminationSignal();
      if (state->notice.Told() && sig == 0) return Ok();
      if (!state->conn) {
        Result<MysqlConnection> conn = MysqlConnection::Open(o_, db);
        if (!conn) return Ok();  // best effort: the restore goes on
        state->conn.emplace(std::move(*conn));
      }
      MysqlConnection& conn = *state->conn;
      if (sig != 0) {
        // The client's session is the one holding its lock (--init-command, RestoreInto).
        Result<MyRows> client =
            conn.Query("SELECT ID FROM information_schema.PROCESSLIST WHERE ID = IS_USED_LOCK('" +
                       state->lock + "') AND STATE LIKE 'Waiting for%lock%'");
        if (client && !client->empty()) {
          state->stopped = std::stoull((*client)[0][0]);
          state->changed = !WaitsAtFirstStatement(conn, (*client)[0][0], *state);
          return Failure(TrFormat("restore interrupted by {} while it waited for a lock",
                                  TerminationSignalName(sig)));
        }
        if (state->notice.Told()) return Ok();
      }
      Result<MyRows> waiting = conn.Query(
          "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND "
          "ID <> CONNECTION_ID() AND STATE LIKE 'Waiting for%lock%' ORDER BY 1");
      if (!state->notice.Due(waiting && !waiting->empty())) return Ok();
      std::string waiters;
      for (const auto& row : *waiting) waiters += (waiters.empty() ? "" : ",") + row[0];
      const std::string others = "ID NOT IN (" + waiters + ") AND ID <> CONNECTION_ID()";
      Result<MyRows> holders = conn.Query(
          "SELECT p.ID, p.USER, p.COMMAND, p.TIME, "
          "TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) FROM information_schema.INNODB_TRX t "
          "JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id WHERE p." +
          others + " ORDER BY 1");
      const bool open_transactions = holders.has_value();
      if (!holders) {
        holders = conn.Query(
            "SELECT ID, USER, COMMAND, TIME, '' FROM information_schema.PROCESSLIST WHERE DB = "
            "DATABASE() AND " +
            others + " ORDER BY 1");
      }
      std::string who, first;
      for (const auto& row : holders ? *holders : MyRows()) {
        std::string about =
            TrFormat("session {} (user {}, {} for {} s", row[0], row[1], row[2], row[3]);
        if (!row[4].empty()) about += TrFormat(", its transaction open for {} s", row[4]);
        who += (who.empty() ? "" : "; ") + about + ")";
        if (first.empty()) first = row[0];
      }
      std::string message;
      if (who.empty()) {
        message = TrFormat(
            "{}: the restore waits for a table's metadata lock, which an open transaction of "
            "another session holds (this user may not see which: that takes the PROCESS "
            "privilege): it goes on when that transaction ends",
            Describe());
      } else {
        message = TrFormat(
            open_transactions
                ? "{}: the restore waits for a table's metadata lock, which an open transaction "
                  "holds: {}. It goes on when that transaction ends: end it there, or end the "
                  "session (KILL {})"
                : "{}: the restore waits for a table's metadata lock, which an open transaction "
                  "holds, likely one of these sessions on the database: {}. It goes on when that "
                  "transaction ends: end it there, or end the session (KILL {})",
            Describe(), who, first);
      }
      // Whether it waits at its first statement (nothing changed yet) or a later one.
      Result<MyRows> client = conn.Query("SELECT IS_USED_LOCK('" + state->lock + "')");
      const bool at_first = client && !client->empty() && !(*client)[0][0].empty() &&
                            WaitsAtFirstStatement(conn, (*client)[0][0], *state);
      reporter().Warn(message + std::string(at_first ? Tr("; a signal stops the restore while it "
                                                          "waits, before it changed anything")
                                                     : Tr("; a signal stops the restore while it "
                                                          "waits, leaving the database partly "
                                                          "restored")));
      return Ok();
    };
  }

  // Ends session `id` (the restore's client, killed already: the server would still run the
  // statement it waited with, a DROP TABLE, once the lock came free) and waits until it is gone.
  Status EndClientSession(unsigned long long id) {
    VELIN_ASSIGN(MysqlConnection conn, MysqlConnection::Open(o_, ""));
    const std::string sid = std::to_string(id);
    constexpr unsigned int kUnknownThread = 1094;  // gone already
    Status killed = conn.Exec("KILL " + sid);
    if (!killed && conn.LastErrorNumber() != kUnknownThread) return killed;
    for (int i = 0; i < 100; ++i) {
      VELIN_ASSIGN(MyRows left, conn.Query("SELECT ID FROM information_schema.PROCESSLIST "
                                           "WHERE ID = " +
                                           sid));
      if (left.empty()) return Ok();
      io::Env::Default().SleepFor(std::chrono::milliseconds(50));
    }
    return Failure(TrFormat("session {} did not end after KILL", sid));
  }

  Result<std::vector<std::string>> DoRestore(const ByteProducer& produce,
                                             const std::string& target) override {
    const std::string db = target.empty() ? o_.name : target;
    // The client and its options first: what needs no server fails before it is touched.
    VELIN_ASSIGN(std::string tool, FindTool({"mariadb", "mysql"}, o_.tool_dir, "mariadb-client"));
    ProcessOptions p;
    std::optional<SecretOptionPipe> secret;
    VELIN_TRY(BuildArgs(p, tool, secret));
    p.argv.insert(p.argv.end(), {"--binary-mode", "--batch", "--database=" + db});
    std::vector<std::string> warnings;
    VELIN_ASSIGN(bool created, EnsureDatabase(db, warnings));
    // A restore test's database, made empty for it: given the backup's character set too.
    if (!created && temporaries_.count(db) != 0) {
      VELIN_TRY(GiveCharacterSet(db, warnings));
    }
    // Told apart: what it made (or a restore test's) is not left, what was there is.
    const bool own = created || temporaries_.count(db) != 0;
    Status restored = RestoreInto(p, tool, produce, db, own);
    // Not left behind empty or half filled: it was not there before (and said, where it is).
    if (!restored && created) {
      return tl::unexpected(RestoreIntoCreatedFailed(restored.error(), db, DoDrop(db)));
    }
    if (!restored) return tl::unexpected(restored.error());
    return warnings;
  }

  // The backup's character set and collation as SQL ("" when it recorded none or a name that
  // is none), and with the collation left out.
  std::pair<std::string, std::string> CharacterSetClauses() const {
    if (!PlainSqlName(recorded_.character_set)) return {};
    const std::string set = " CHARACTER SET " + recorded_.character_set;
    if (!PlainSqlName(recorded_.collation)) return {set, set};
    return {set + " COLLATE " + recorded_.collation, set};
  }

  // Runs `sql` + the backup's character set and collation, or, where this server lacks them
  // (a MySQL 8 collation on MariaDB: 1273, 1115), the character set alone or neither, with a
  // warning. A database it creates gets what the backup's had, not the server's default (a
  // utf8mb4 backup restored as latin1 failed on an emoji).
  Status WithCharacterSet(MysqlConnection& conn, const std::string& sql, const std::string& db,
                          std::vector<std::string>& warnings) {
    constexpr unsigned int kUnknownCharacterSet = 1115, kUnknownCollation = 1273;
    const auto [whole, set_only] = CharacterSetClauses();
    Status s = conn.Exec(sql + whole);
    const auto unknown = [&conn] {
      const unsigned int n = conn.LastErrorNumber();
      return n == kUnknownCharacterSet || n == kUnknownCollation;
    };
    if (s || whole.empty() || !unknown()) return s;
    if (set_only != whole) {
      s = conn.Exec(sql + set_only);
      if (s) {
        warnings.push_back(TrFormat(
            "database '{}' has the character set {} with this server's default collation for "
            "it: the server lacks the backup's collation {}",
            db, recorded_.character_set, recorded_.collation));
        return s;
      }
      if (!unknown()) return s;
    }
    s = conn.Exec(sql);
    if (s) {
      warnings.push_back(
          TrFormat("database '{}' has this server's default character set: the server lacks the "
                   "backup's, {}",
                   db, recorded_.character_set));
    }
    return s;
  }

  // Creates database `db` when it is missing, whatever its name: the configured one too, as
  // on a new machine (--database-url; before, only another name was). True when it did.
  Result<bool> EnsureDatabase(const std::string& db, std::vector<std::string>& warnings) {
    VELIN_ASSIGN(MysqlConnection conn, MysqlConnection::Open(o_, ""));
    VELIN_ASSIGN(MyRows names, conn.Query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"));
    for (const auto& row : names) {
      if (row[0] == db) return false;
    }
    Status s = WithCharacterSet(conn, "CREATE DATABASE " + QuoteMysqlIdentifier(db), db, warnings);
    if (s) return true;
    // There under another case (lower_case_table_names) or hidden from this user: as before.
    // ER_DB_CREATE_EXISTS, by number: the server words it in its own lc_messages language.
    constexpr unsigned int kDatabaseExists = 1007;
    if (conn.LastErrorNumber() == kDatabaseExists) return false;
    // An application's account usually has rights on its own database only: the server's
    // words alone left the user of `--database NEW` without the grant that lets it.
    if (conn.LastErrorNumber() == kDatabaseAccessDenied) {
      return Failure(TrFormat(
          "cannot create database '{}': {}: a restore into a database that does not exist "
          "creates it; grant the user that database (as an administrator: GRANT ALL ON {}.* TO "
          "{};), which lets it create it",
          db, s.error().message, GrantPattern(db), CurrentAccount(conn)));
    }
    return Failure(TrFormat("cannot create database '{}': {}", db, s.error().message));
  }

  Status GiveCharacterSet(const std::string& db, std::vector<std::string>& warnings) {
    if (CharacterSetClauses().first.empty()) return Ok();
    VELIN_ASSIGN(MysqlConnection conn, MysqlConnection::Open(o_, ""));
    Status s = WithCharacterSet(conn, "ALTER DATABASE " + QuoteMysqlIdentifier(db), db, warnings);
    if (!s) return Failure(TrFormat("cannot alter database '{}': {}", db, s.error().message));
    return Ok();
  }

  // The dump as the client gets it (mysql_restore_filter.hpp): without its LOCK TABLES lines,
  // a sequence default naming `db`.
  // `first` (none: not asked) is given the dump as the client gets it.
  ByteProducer Filtered(const ByteProducer& produce, const std::string& db,
                        MysqlFirstStatement* first = nullptr) const {
    return [this, &produce, db, first](const ByteSink& sink) -> Status {
      MysqlRestoreFilter filter(recorded_.name, db);
      const ByteSink to_client = [&sink, first](std::string_view chunk) -> Status {
        if (first != nullptr) first->Feed(chunk);
        return sink(chunk);
      };
      VELIN_TRY(produce([&](std::string_view chunk) { return filter.Feed(chunk, to_client); }));
      return filter.Finish(to_client);
    };
  }

  // Runs the client `p` (`tool`), fed the dump, into `db`; `own`: a database the restore made
  // (or a restore test's), not one whose data it replaces.
  Status RestoreInto(const ProcessOptions& given, const std::string& tool,
                     const ByteProducer& produce, const std::string& db, bool own) {
    // The client applies each statement as it comes and cannot roll back: stopped midway by
    // Ctrl-C or SIGTERM, it would leave some tables restored, one half filled and the rest as
    // they were. So those signals wait for the end (core/termination.hpp), unless the client
    // waits for a lock (LockNotice): that can take a year.
    TerminationHold hold(
        TrFormat("the restore of database '{}' finishes first, then velin stops (a MariaDB restore "
                 "cannot be rolled back: stopped now, the database would be left half restored, as "
                 "kill -9 leaves it); a restore that waits for a lock is stopped",
                 db));
    auto watch = std::make_shared<RestoreWatch>();
    // A user-level lock the client takes first names its session for LockNotice: its
    // connection id, without the PROCESS privilege, whether by TCP or a socket.
    // (A lock's name has at most 64 characters.)
    std::random_device random;
    char name[40];
    std::snprintf(name, sizeof name, "velin_restore_%08x%08x", random(), random());
    watch->lock = name;
    ProcessOptions p = given;
    // After the others: the password's --defaults-extra-file must stay first.
    p.argv.push_back("--init-command=DO GET_LOCK('" + watch->lock + "', 0)");
    Result<ChildOutcome> fed =
        FeedToolInput(p, Filtered(produce, db, &watch->first), LockNotice(db, watch));
    if (!fed && watch->stopped != 0) {
      // Killed already (FeedToolInput): its session still waits, with the statement.
      Status ended = EndClientSession(watch->stopped);
      if (!ended) {
        return Failure(TrFormat(
            "{} in database '{}'; the client's session {} could not be ended ({}): end it "
            "(KILL {}) before the lock comes free, or it runs the statement it waits with; then "
            "restore again",
            fed.error().message, db, watch->stopped, ended.error().message, watch->stopped));
      }
      if (own) return tl::unexpected(fed.error());
      // It waited with the dump's first statement that changes the database: none ran.
      if (!watch->changed) {
        return Failure(
            TrFormat("{} in database '{}'; nothing was changed (it waited with the restore's first "
                     "statement): restore again once the lock is free",
                     fed.error().message, db));
      }
      return Failure(TrFormat(
          "{} in database '{}'; the database is left partly restored (the tables before the one "
          "it waited for replaced, the rest as they were): a MariaDB restore cannot be rolled "
          "back, restore again to repair it",
          fed.error().message, db));
    }
    if (!fed) return tl::unexpected(fed.error());
    const ChildOutcome& outcome = *fed;
    if (outcome.exit_code == 0) return Ok();
    if (own) {
      return Failure(TrFormat("restoring into '{}': {}", db, DescribeToolFailure(tool, outcome)));
    }
    // The statements before the one that failed are applied, and DDL commits at once.
    return Failure(TrFormat(
        "restoring into '{}': {}; the database is left partly restored (the tables up to that "
        "statement replaced, the rest as they were): a MariaDB restore cannot be rolled back, "
        "restore again once the cause is fixed",
        db, DescribeToolFailure(tool, outcome)));
  }

  Result<std::vector<TableRows>> DoCountRows(const std::string& target) override {
    VELIN_ASSIGN(MysqlConnection conn, Connect(target));
    VELIN_TRY(conn.Exec("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
    VELIN_TRY(conn.Exec("START TRANSACTION WITH CONSISTENT SNAPSHOT"));
    VELIN_ASSIGN(MyRows tables, conn.Query(kTablesSql));
    std::vector<TableRows> out;
    for (const auto& row : tables) {
      // A system-versioned table's rows are all its versions, as its dump holds them.
      VELIN_ASSIGN(MyRows n, conn.Query("SELECT COUNT(*) FROM " + QuoteMysqlIdentifier(row[0]) +
                                        (row[1] == "1" ? " FOR SYSTEM_TIME ALL" : "")));
      out.push_back({row[0], std::stoll(n[0][0])});
    }
    VELIN_TRY(conn.Exec("COMMIT"));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }

  // As a connection to `target` would find it (USE: the same name rules, lower_case_table_names
  // among them), missing only by ER_BAD_DB_ERROR's number: its message is in the server's
  // lc_messages language. Any other refusal (ER_DBACCESS_DENIED_ERROR) is an error: it may be
  // there.
  Result<bool> DoDatabaseExists(const std::string& target) override {
    const std::string db = target.empty() ? o_.name : target;
    VELIN_ASSIGN(MysqlConnection conn, MysqlConnection::Open(o_, ""));
    Status s = conn.Exec("USE " + QuoteMysqlIdentifier(db));
    if (s) return true;
    constexpr unsigned int kBadDatabase = 1049;  // ER_BAD_DB_ERROR
    if (conn.LastErrorNumber() == kBadDatabase) return false;
    return tl::unexpected(s.error());
  }

  Status DoCheck(const std::string& target) override {
    VELIN_ASSIGN(MysqlConnection conn, Connect(target));
    VELIN_ASSIGN(MyRows tables, conn.Query(kTablesSql));
    for (const auto& row : tables) {
      // Rows: Table, Op, Msg_type, Msg_text; the last one is the verdict ("OK").
      VELIN_ASSIGN(MyRows r, conn.Query("CHECK TABLE " + QuoteMysqlIdentifier(row[0])));
      for (const auto& line : r) {
        bool bad =
            line.size() >= 4 && (line[2] == "error" || (line[2] == "status" && line[3] != "OK"));
        if (bad) return DamageError(TrFormat("check of table '{}' failed: {}", row[0], line[3]));
      }
    }
    return Ok();
  }

  Result<std::string> DoCreateTemporaryDatabase() override {
    VELIN_ASSIGN(MysqlConnection conn, MysqlConnection::Open(o_, ""));
    std::string name = UniqueTemporaryName();
    Status s = conn.Exec("CREATE DATABASE " + QuoteMysqlIdentifier(name));
    if (!s) {
      std::string message =
          TrFormat("cannot create temporary database '{}': {}", name, s.error().message);
      // An application's account usually has rights on its own database only; the server's
      // words alone left the user without the grant that lets the restore test run
      // (docs/databases.md).
      if (conn.LastErrorNumber() == kDatabaseAccessDenied) {
        const std::string to = CurrentAccount(conn);
        message = TrFormat(
            "cannot create temporary database '{}': {}: the restore test makes and drops a "
            "database of its own, named velin_restore_test_…; grant the user that (as an "
            "administrator: GRANT ALL ON `velin\\_restore\\_test\\_%`.* TO {};) or test on "
            "another server (--restore-test-server HOST[:PORT])",
            name, s.error().message, to);
      }
      return Failure(message);
    }
    temporaries_.insert(name);
    return name;
  }

  Result<std::vector<std::string>> DoListTemporaries() override {
    VELIN_ASSIGN(MysqlConnection conn, MysqlConnection::Open(o_, ""));
    VELIN_ASSIGN(MyRows rows, conn.Query("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
                                         "WHERE SCHEMA_NAME LIKE 'velin!_restore!_test!_%' "
                                         "ESCAPE '!'"));
    std::vector<std::string> names;
    for (const auto& row : rows) names.push_back(row[0]);
    return names;
  }

  std::string ConfiguredDatabase() const override { return o_.name; }
  Status DoDrop(const std::string& name) override {
    VELIN_ASSIGN(MysqlConnection conn, MysqlConnection::Open(o_, ""));
    Status s = conn.Exec("DROP DATABASE IF EXISTS " + QuoteMysqlIdentifier(name));
    if (!s) return Failure(TrFormat("cannot drop database '{}': {}", name, s.error().message));
    return Ok();
  }

  ConnectionOptions o_;
  bool dumps_history_ = false;         // the dump tool has --dump-history
  DatabaseInfo recorded_;              // the backup's, from PrepareRestore
  std::set<std::string> temporaries_;  // made by DoCreateTemporaryDatabase
};

}  // namespace

std::unique_ptr<Driver> NewMysqlDriver(const ConnectionOptions& options) {
  return WrapDriver(std::make_unique<MysqlDriver>(options), options.password);
}

}  // namespace velin::db::internal
