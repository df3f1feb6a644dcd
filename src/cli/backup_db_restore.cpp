// Reading the database stream back: restore (in place or into another database) and the
// restore test of verify. See backup_db.hpp.
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "backup_common.hpp"
#include "backup_db.hpp"
#include "backup_inspect.hpp"
#include "velin/core/host_port.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/db/metadata.hpp"

namespace velin::cli {
namespace {

// The recorded metadata of the snapshot's database `source`; errors when there is none or it is
// missing.
Result<db::DatabaseInfo> RecordedDatabase(const repo::Snapshot& snapshot,
                                          const std::string& source) {
  const nlohmann::json* meta = backup::StreamSourceMetadata(snapshot, source);
  if (meta == nullptr && source == kDatabaseStream) {
    return UsageError(TrFormat("backup {} holds no database", snapshot.id));
  }
  if (meta == nullptr) {
    return UsageError(TrFormat("backup {} holds no database '{}'", snapshot.id, source));
  }
  VELIN_TRY(CheckDumpUsable(snapshot, source));
  Result<db::DatabaseInfo> info = db::DatabaseInfoFromJson(*meta);
  if (!info) return DamageError(TrFormat("backup {}: {}", snapshot.id, info.error().message));
  return info;
}

db::ByteProducer StreamFromRepository(repo::Repository& repo, const repo::Snapshot& snapshot,
                                      const std::string& source) {
  return [&repo, &snapshot, source](const db::ByteSink& sink) {
    return backup::ReadStreamSource(repo, snapshot, source,
                                    [&sink](std::string_view chunk) -> Status {
                                      VELIN_TRY(CheckInterrupted());  // a restore asked to stop
                                      return sink(chunk);
                                    });
  };
}

// The key a message names for `source`'s driver: "database.driver", "databases.NAME.driver".
std::string DriverKey(const std::string& source) {
  const std::string table = config::DatabaseTable(source);
  return table.substr(1, table.size() - 2) + ".driver";
}

Status CheckDriverMatches(const db::DatabaseInfo& recorded, const db::ConnectionOptions& o,
                          const std::string& source) {
  if (recorded.driver == o.driver) return Ok();
  if (source == kDatabaseStream) {
    return UsageError(TrFormat("the backup holds a {} database but database.driver is '{}'",
                               recorded.driver, o.driver));
  }
  return UsageError(TrFormat("the backup holds database '{}' of {} but {} is '{}'", source,
                             recorded.driver, DriverKey(source), o.driver));
}

// Where the database `source` is restored to: --database-url's database (it stands for the one
// database a restore selects: the restore command refuses it with several), else the one
// configured for it.
Result<db::ConnectionOptions> RestoreOptionsOf(Context& ctx, const config::Config& cfg,
                                               const std::string& source) {
  return DatabaseConnectionOptions(cfg, ctx.global.database_url.empty() ? source : kDatabaseStream);
}

// "HOST", "HOST:PORT", ":PORT", "[IPV6]", "[IPV6]:PORT" or a bare IPv6 literal ("::1", no port:
// its colons are its own) of --restore-test-server applied to `o`.
Status ApplyServer(const std::string& server, db::ConnectionOptions& o) {
  if (server.empty()) return Ok();
  if (o.driver == "sqlite")
    return UsageError(std::string(Tr("--restore-test-server does not apply to sqlite")));
  const auto bad = [&server] {
    return UsageError(TrFormat("--restore-test-server '{}' must be HOST[:PORT]", server));
  };
  std::string host = server;
  std::optional<std::string> port;
  if (server.front() == '[') {
    const size_t close = server.find(']');
    if (close == std::string::npos || close == 1) return bad();
    host = server.substr(1, close - 1);
    if (close + 1 < server.size()) {
      if (server[close + 1] != ':') return bad();
      port = server.substr(close + 2);
    }
  } else if (std::count(server.begin(), server.end(), ':') == 1) {
    const size_t colon = server.find(':');
    host = server.substr(0, colon);
    port = server.substr(colon + 1);
  }
  if (port) {
    int number = 0;
    const char* end = port->data() + port->size();
    auto [at, ec] = std::from_chars(port->data(), end, number);
    if (port->empty() || ec != std::errc() || at != end || number < 1 || number > 65535) {
      return bad();
    }
    o.port = number;
  }
  if (!host.empty()) o.host = host;
  o.socket.clear();
  return Ok();
}

// What the server must have for the backup (db::Driver::PrepareRestore), before anything is
// restored; its warnings said.
Status PrepareRestore(output::Console& out, db::Driver& driver, const db::DatabaseInfo& recorded) {
  VELIN_ASSIGN(std::vector<std::string> warnings, driver.PrepareRestore(recorded));
  for (const std::string& w : warnings) out.Warn(w);
  return Ok();
}

// See ReplacedByRestore; `target` as Driver::Restore takes it (SQLite: resolved).
Result<std::optional<std::string>> Replaced(db::Driver& driver, const db::ConnectionOptions& o,
                                            const std::string& target) {
  if (target.empty()) return driver.Describe();
  if (o.driver == "sqlite") {
    struct stat t {};
    if (::stat(target.c_str(), &t) != 0) return std::nullopt;  // missing: made by the restore
    struct stat c {};
    if (target == o.path ||
        (::stat(o.path.c_str(), &c) == 0 && c.st_dev == t.st_dev && c.st_ino == t.st_ino)) {
      return driver.Describe();  // the configured file under another spelling
    }
    if (t.st_size == 0) return std::nullopt;
    return TrFormat("database '{}'", target);
  }
  if (target == o.name) return driver.Describe();
  // Missing as the server's catalog says, not as an error's words, which follow the server's
  // language (lc_messages): made by the restore.
  Result<bool> exists = driver.DatabaseExists(target);
  if (exists && !*exists) return std::nullopt;
  Result<std::vector<db::TableRows>> tables = driver.CountRows(target);
  if (tables && tables->empty()) return std::nullopt;
  // Tables, or a database that cannot be asked or looked into: it may hold what the restore
  // replaces.
  return TrFormat("database '{}'", target);
}

}  // namespace

Result<std::optional<std::string>> ReplacedByRestore(Context& ctx, const std::string& database,
                                                     const std::string& source) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(db::ConnectionOptions options, RestoreOptionsOf(ctx, *cfg, source));
  std::string target = database;
  if (options.driver == "sqlite" && !target.empty()) target = config::ResolveAppPath(*cfg, target);
  VELIN_ASSIGN(std::unique_ptr<db::Driver> driver, db::OpenDriver(options));
  return Replaced(*driver, options, target);
}

Status CheckDumpUsable(const repo::Snapshot& snapshot, const std::string& source) {
  const nlohmann::json* meta = backup::StreamSourceMetadata(snapshot, source);
  if (meta == nullptr || meta->value("status", "ok") == "ok") return Ok();
  const std::string error = meta->value("error", std::string("the dump failed"));
  if (source == kDatabaseStream) {
    return DamageError(TrFormat("backup {} holds no usable database dump: {}", snapshot.id, error));
  }
  return DamageError(
      TrFormat("backup {} holds no usable dump of database '{}': {}", snapshot.id, source, error));
}

Status CheckDatabaseBackup(const config::Config& cfg, const repo::Snapshot& snapshot) {
  const std::vector<config::DatabaseRef> databases = DatabasesOf(cfg, snapshot);
  if (databases.empty()) return UsageError(TrFormat("backup {} holds no database", snapshot.id));
  for (const config::DatabaseRef& d : databases) {
    if (d.section == nullptr) {
      return UsageError(
          TrFormat("backup {} holds database '{}', and {} has no {} section to say where it goes",
                   snapshot.id, d.source, cfg.file, d.table));
    }
    VELIN_ASSIGN(db::DatabaseInfo recorded, RecordedDatabase(snapshot, d.source));
    if (recorded.driver == d.section->driver) continue;
    if (d.source == kDatabaseStream) {
      return UsageError(TrFormat("backup {} holds a {} database but database.driver is '{}'",
                                 snapshot.id, recorded.driver, d.section->driver));
    }
    return UsageError(TrFormat("backup {} holds database '{}' of {} but {} is '{}'", snapshot.id,
                               d.source, recorded.driver, DriverKey(d.source), d.section->driver));
  }
  return Ok();
}

namespace {

// The line after a restore: the database restored into as a user knows it, a SQLite database
// by its file, a server's by its name and the server (another name too: it is on the same
// one). Before, "Database restored into database '/srv/app/var/app.db'".
std::string RestoredLine(const db::ConnectionOptions& o, const std::string& target) {
  if (o.driver == "sqlite") {
    return TrFormat("Database restored into {}", target.empty() ? o.path : target);
  }
  const int port = o.port != 0 ? o.port : (o.driver == "postgresql" ? 5432 : 3306);
  return TrFormat("Database restored into '{}' at {}", target.empty() ? o.name : target,
                  o.socket.empty() ? HostPort(o.host, port) : o.socket);
}

}  // namespace

Status RestoreDatabase(Context& ctx, repo::Repository& repo, const repo::Snapshot& snapshot,
                       const std::string& database, bool confirmed, const std::string& source) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(db::DatabaseInfo recorded, RecordedDatabase(snapshot, source));
  VELIN_ASSIGN(db::ConnectionOptions options, RestoreOptionsOf(ctx, *cfg, source));
  VELIN_TRY(CheckDriverMatches(recorded, options, source));
  std::string target = database;
  if (options.driver == "sqlite" && !target.empty()) target = config::ResolveAppPath(*cfg, target);
  VELIN_ASSIGN(std::unique_ptr<db::Driver> driver, db::OpenDriver(options));
  output::Console& out = ctx.out();
  driver->SetReporter(&out);
  // The configured database, or another one that holds data, is replaced only when confirmed;
  // a missing or empty one loses nothing (--yes: no question, nothing to look at).
  if (!confirmed && !ctx.global.yes) {
    VELIN_ASSIGN(std::optional<std::string> replaced, Replaced(*driver, options, target));
    if (replaced) {
      VELIN_ASSIGN(bool yes, ctx.Confirm(TrFormat("Replace {} with the one from backup {}?",
                                                  *replaced, snapshot.id)));
      if (!yes) return CancelledError(std::string(Tr("restore cancelled; nothing was changed")));
    }
  }
  // Confirmed: from here a signal stops the restore (core/termination.hpp; MariaDB's client,
  // which cannot roll back, holds it instead until it is done).
  TerminationCancel cancel(RestoreStopNotice());
  // Every chunk is checked before the live database is touched: a damaged repository must
  // not leave a half-restored database behind (MariaDB's client cannot roll back).
  VELIN_TRY(backup::ReadStreamSource(repo, snapshot, source,
                                     [](std::string_view) { return CheckInterrupted(); }));
  VELIN_TRY(PrepareRestore(out, *driver, recorded));
  out.Begin(output::Icon::kRestore,
            source == kDatabaseStream
                ? TrFormat("Restoring database from backup {}...", snapshot.id)
                : TrFormat("Restoring database '{}' from backup {}...", source, snapshot.id));
  VELIN_ASSIGN(std::vector<std::string> warnings,
               driver->Restore(StreamFromRepository(repo, snapshot, source), target));
  if (!out.json()) out.Done(RestoredLine(options, target));
  for (const std::string& w : warnings) out.Warn(w);
  return Ok();
}

namespace {

// The restore test's table: status (✓/✗ on a terminal, ok/differs elsewhere), table name, the
// recorded and the restored row count. Each column as wide as its widest cell, the header's
// translated words among them ("wiederhergestellt" is wider than a row count).
struct RestoreTestTable {
  RestoreTestTable(const output::Console& out, const db::DatabaseInfo& recorded)
      : symbols(out.mode() == output::Mode::kTerminal) {
    mark = std::max(output::DisplayWidth(Mark(true)), output::DisplayWidth(Mark(false)));
    name = output::DisplayWidth(Tr("table"));
    // 12: a restored count that differs from the recorded one by digits still fits.
    count = std::max({size_t{12}, output::DisplayWidth(Tr("recorded")),
                      output::DisplayWidth(Tr("restored")), output::DisplayWidth(Tr("missing"))});
    for (const auto& t : recorded.tables) {
      name = std::max(name, output::DisplayWidth(ShownPath(t.name)));
      count = std::max(count, std::to_string(t.rows).size());
    }
  }
  std::string Mark(bool ok) const {
    // Symbols on a terminal only; words elsewhere (cron mails, logs), like every other line.
    if (symbols) return ok ? "✓" : "✗";
    return std::string(ok ? Tr("ok") : Tr("differs"));
  }
  std::string Row(std::string_view status, std::string_view table, std::string_view rows,
                  std::string_view restored) const {
    std::string line = "  " + output::PadRight(status, mark) + "  " +
                       output::PadRight(table, name) + "  " + output::PadLeft(rows, count) + "  " +
                       output::PadLeft(restored, count);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line;
  }
  std::string Header() const { return Row("", Tr("table"), Tr("recorded"), Tr("restored")); }

  bool symbols;
  size_t mark = 0, name = 0, count = 0;
};

// Restores into `temp`, checks it and compares the counts; fills `report`.
Status RunRestoreTest(Context& ctx, db::Driver& driver, repo::Repository& repo,
                      const repo::Snapshot& snapshot, const std::string& source,
                      const db::DatabaseInfo& recorded, const std::string& temp,
                      nlohmann::json& report) {
  output::Console& out = ctx.out();
  const RestoreTestTable layout(out, recorded);
  VELIN_TRY(PrepareRestore(out, driver, recorded));
  VELIN_ASSIGN(std::vector<std::string> warnings,
               driver.Restore(StreamFromRepository(repo, snapshot, source), temp));
  for (const std::string& w : warnings) out.Warn(w);
  Status check = driver.Check(temp);
  report["check"] = check ? "ok" : check.error().message;
  VELIN_ASSIGN(std::vector<db::TableRows> restored, driver.CountRows(temp));
  // The header once there are rows to put under it: a restore test that could not restore (no
  // room or no directory in $TMPDIR, the server down) ends in its one error line, not in a
  // table's header with nothing under it.
  if (!out.quiet()) out.Line(NoTr(layout.Header()));
  std::map<std::string, int64_t> got;
  for (const auto& t : restored) got[t.name] = t.rows;
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : recorded.tables) {
    auto it = got.find(t.name);
    int64_t n = it == got.end() ? -1 : it->second;
    tables.push_back(
        {{"name", t.name}, {"recorded", t.rows}, {"restored", n}, {"ok", n == t.rows}});
    // A report, not a listing asked for: -q prints nothing on success (a monthly cron job
    // mailed the table every time); a differing table is named in the error line.
    if (!out.quiet()) {
      // A control character in a name (a newline, ESC) escaped as `backup ls` does.
      out.Line(NoTr(layout.Row(layout.Mark(n == t.rows), ShownPath(t.name), std::to_string(t.rows),
                               n < 0 ? std::string(Tr("missing")) : std::to_string(n))));
    }
  }
  report["tables"] = tables;
  std::vector<std::string> problems = db::CompareRowCounts(recorded.tables, restored);
  if (!check) return tl::unexpected(check.error());
  if (!problems.empty()) {
    return DamageError(TrFormat(
        "{}: restore test of backup {}: {}{}", driver.Describe(), snapshot.id, problems.front(),
        (problems.size() > 1 ? TrFormat(" (and {} more)", problems.size() - 1) : std::string())));
  }
  return Ok();
}

}  // namespace

Status RestoreTestDatabase(Context& ctx, repo::Repository& repo, const repo::Snapshot& snapshot,
                           const std::string& server, nlohmann::json& report,
                           const std::string& source) {
  if (snapshot.FindSource(source) == nullptr) return Ok();
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(db::DatabaseInfo recorded, RecordedDatabase(snapshot, source));
  VELIN_ASSIGN(db::ConnectionOptions options, DatabaseConnectionOptions(*cfg, source));
  VELIN_TRY(CheckDriverMatches(recorded, options, source));
  // --restore-test-server is a server's: a SQLite [databases.NAME] beside a server's [database]
  // is tested as it is (for [database] itself it stays refused).
  if (source == kDatabaseStream || options.driver != "sqlite") {
    VELIN_TRY(ApplyServer(server, options));
  }
  VELIN_ASSIGN(std::unique_ptr<db::Driver> driver, db::OpenDriver(options));
  output::Console& out = ctx.out();
  driver->SetReporter(&out);
  out.Begin(output::Icon::kVerify,
            source == kDatabaseStream
                ? TrFormat("Restore test of the database of backup {}...", snapshot.id)
                : TrFormat("Restore test of database '{}' of backup {}...", source, snapshot.id));
  VELIN_ASSIGN(std::string temp, driver->CreateTemporaryDatabase());
  report["temporary_database"] = temp;
  Status result = RunRestoreTest(ctx, *driver, repo, snapshot, source, recorded, temp, report);
  Status dropped = driver->DropDatabase(temp);  // even when the test failed
  report["ok"] = static_cast<bool>(result);
  if (!result) return result;
  VELIN_TRY(dropped);
  const size_t tables = recorded.tables.size();
  out.Done(source == kDatabaseStream
               ? TrCount(tables, "Database restore test passed: {} table, row count matches",
                         "Database restore test passed: {} tables, row counts match", tables)
               : TrCount(tables,
                         "Restore test of database '{}' passed: {} table, row count matches",
                         "Restore test of database '{}' passed: {} tables, row counts match",
                         source, tables));
  return Ok();
}

}  // namespace velin::cli
