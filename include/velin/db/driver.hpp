// The database drivers: what `"db"` in backup.include means. A Driver dumps one database
// (PostgreSQL, MariaDB/MySQL or SQLite) as a byte stream into a sink, restores such a stream,
// counts every table's rows exactly, and creates/drops scratch databases for restore tests.
//
// Guarantees:
// - A dump is one consistent snapshot of the database, and the row counts in the DatabaseInfo
//   it returns describe exactly that snapshot (docs/databases.md explains how, per driver).
// - The password never reaches a child's argv, a log line or the DatabaseInfo: children get it
//   through their environment (PGPASSWORD) or a 0600 option file removed afterwards.
// - Every error is one line starting with Describe() ("database 'shop' at 127.0.0.1:5432: ...")
//   and naming the cause (unreachable, authentication, missing or too old dump tool, the tool's
//   exit status and last message, the sink's own error such as ENOSPC).
// - A dump whose tool fails or is killed mid-stream is an error even when bytes were streamed:
//   the caller must discard what the sink received.
// REQUIRES: external synchronization (one thread uses a Driver at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/env.hpp"

namespace velin::db {

// Where the database is and how to log in. The CLI builds it from config::DatabaseSection
// (db does not depend on config) and config::ReadSecret.
struct ConnectionOptions {
  std::string driver;  // "postgresql" | "mysql" | "sqlite"
  std::string host = "127.0.0.1";
  int port = 0;        // 0: the driver's default (5432, 3306)
  std::string socket;  // unix socket directory (PostgreSQL) or file (MariaDB) instead of TCP
  std::string user;
  std::string name;      // the database
  std::string password;  // a secret: never logged, never in argv or metadata
  std::string path;      // sqlite: the database file (absolute)
  std::string tool_dir;  // looked in before PATH for pg_dump, mariadb-dump, ... ("" = PATH)
  std::string temp_dir;  // sqlite scratch copies ("" = $TMPDIR or /tmp)
  // sqlite: app.root. A symlink on the database's path that another user made is followed only
  // where it leads below it (or, for a path outside it, below the database's own directory):
  // io::OpenEntryBeneath. "" = the database's directory.
  std::string root;
};

// Receives the dump, chunk by chunk. An error stops the dump tool and fails the dump.
using ByteSink = std::function<Status(std::string_view)>;
// Writes a whole dump into the sink it is given, in pieces of any size (e.g. a repository
// reader); an error it returns (a damaged chunk) stops the restore.
using ByteProducer = std::function<Status(const ByteSink&)>;

struct TableRows {
  std::string name;  // PostgreSQL: schema.table; MariaDB, SQLite: table
  int64_t rows = 0;
  bool operator==(const TableRows&) const = default;
};

// What a snapshot records about a database (docs/databases.md#metadata). No secrets.
struct DatabaseInfo {
  std::string driver;             // "postgresql" | "mysql" | "sqlite"
  std::string name;               // database name, or the file's base name for SQLite
  std::string server_version;     // "15.20", "10.11.19-MariaDB", "3.40.1"
  std::string dump_tool;          // "pg_dump", "mariadb-dump", "sqlite3_backup"
  std::string dump_tool_version;  // "15.20", "10.19 Distrib 10.11.19-MariaDB", "3.40.1"
  std::string dump_format;        // "pg_custom", "sql", "sqlite"
  int64_t size_bytes = 0;         // the database's size on the server
  std::vector<TableRows> tables;  // sorted by name
  // PostgreSQL: the roles the database's objects are owned by or granted to (pg_shdepend: the
  // bootstrap superuser's are not listed), sorted; a server without them refuses the dump's
  // ALTER … OWNER and GRANT statements. Empty for the other engines and for older backups.
  std::vector<std::string> roles;
  // MariaDB/MySQL: the accounts ("admin@localhost") the database's views, triggers, routines and
  // events are defined by, sorted; only such an account or one with SET USER (SUPER) may create
  // them again. Empty for the other engines and for older backups.
  std::vector<std::string> definers;
  // MariaDB/MySQL: the length in bytes of the dump's longest statement, which a restore sends
  // as one packet: a server whose max_allowed_packet it exceeds is refused before the restore.
  // 0 for the other engines and for older backups (unknown).
  int64_t largest_statement = 0;
  // MariaDB: the system-versioned tables whose history (every row version) the dump holds
  // (mariadb-dump --dump-history), sorted; their row counts count every version. A restore
  // writes the history only where the server's secure_timestamp lets this user.
  std::vector<std::string> history_tables;
  // MariaDB/MySQL: the database's default character set and collation, which a database the
  // restore creates is given. Empty for the other engines and for older backups.
  std::string character_set;
  std::string collation;
  // What the dump could not vouch for, said as warnings by the backup; not stored.
  std::vector<std::string> warnings;
};

class Driver {
 public:
  virtual ~Driver() = default;

  // "database 'shop' at 127.0.0.1:5432", "database '/srv/app/var/app.db'": every error's prefix.
  virtual std::string Describe() const = 0;

  // Connects, checks the dump tool is installed and able to dump this server; returns the
  // server version, size and table list (row counts left 0: they are taken by Dump).
  virtual Result<DatabaseInfo> Preflight() = 0;

  // Streams one consistent dump into `sink`; returns the metadata with exact row counts of the
  // same snapshot.
  virtual Result<DatabaseInfo> Dump(const ByteSink& sink) = 0;

  // Restores a stream written by Dump into `target`: "" = the configured database (replaced),
  // another name = that database on the same server, created when missing; SQLite: a file path
  // ("" = the configured file), replaced atomically keeping its mode.
  // PostgreSQL restores in one transaction (a failure leaves `target` as it was); MariaDB's
  // client applies statements as they come, so callers check the stream before.
  // Returns what to tell the user (warnings), usually nothing. PostgreSQL: a foreign key of a
  // table the backup does not hold (added since) to one it restores is set aside for the
  // restore and made again NOT VALID, in the same transaction, with a warning naming it.
  virtual Result<std::vector<std::string>> Restore(const ByteProducer& produce,
                                                   const std::string& target) = 0;

  // Before Restore of a backup whose metadata is `recorded`, what the server must have for it,
  // so that a restore that cannot succeed fails before it touches anything. PostgreSQL: each
  // role of `recorded.roles` the server lacks is created without login (NOLOGIN, no password:
  // it lets nobody in); a UsageError naming them all and the SQL when this user may not create
  // roles. MariaDB: a UsageError when `recorded.definers` names another account and this one
  // lacks SET USER (SUPER), or `recorded.history_tables` and the server would refuse this user
  // the history. Returns what to tell the user (warnings), usually nothing. MariaDB keeps what
  // the next Restore needs of `recorded`: its database's name (a sequence default naming it
  // names the target instead), character set and collation (of a database it creates).
  virtual Result<std::vector<std::string>> PrepareRestore(const DatabaseInfo& recorded) = 0;

  // Exact row count of every table of `target` ("" = the configured database), sorted by name.
  virtual Result<std::vector<TableRows>> CountRows(const std::string& target) = 0;

  // Whether database `target` ("" = the configured database) is there, as the server's catalog
  // says (PostgreSQL: pg_database; MariaDB: USE, ER_BAD_DB_ERROR by number; SQLite: the file),
  // never by the wording of an error, which follows the server's lc_messages. An error when the
  // server cannot be asked: the caller cannot tell.
  virtual Result<bool> DatabaseExists(const std::string& target) = 0;

  // The engine's own consistency check of `target` (SQLite: PRAGMA integrity_check;
  // MariaDB: CHECK TABLE; PostgreSQL: every table readable). A failure is a DamageError.
  virtual Status Check(const std::string& target) = 0;

  // A new, empty, uniquely named database for a restore test (SQLite: a temp file path). It is
  // dropped by DropDatabase or, at the latest, by Cleanup.
  virtual Result<std::string> CreateTemporaryDatabase() = 0;
  virtual Status DropDatabase(const std::string& target) = 0;

  // Drops every temporary database this driver created and not yet dropped, closes
  // connections. Idempotent; the destructor calls it and ignores its error.
  virtual Status Cleanup() = 0;

  // Where what the user should know while a step runs goes (PostgreSQL: a restore that waits
  // for a lock says who holds it). Without one, nowhere. `reporter` must outlive the driver's
  // steps.
  virtual void SetReporter(Reporter* reporter) = 0;
};

// The driver for options.driver; a usage error for an unknown driver or missing keys.
Result<std::unique_ptr<Driver>> OpenDriver(const ConnectionOptions& options);

// SQLite: the database file `path`'s directory, open, and its name there, as a restore reaches
// it: its symlinks followed by io::OpenEntryBeneath's rule, below `root` (app.root) when `path`
// is there, else below the file's own directory. `create` makes missing directories.
Result<io::BeneathEntry> LocateSqliteFile(const std::string& root, const std::string& path,
                                          bool create);

// Compares recorded counts with restored ones: one line per table that differs or is missing
// on either side ("table 'orders': 120 rows recorded, 119 restored"); empty when equal.
std::vector<std::string> CompareRowCounts(const std::vector<TableRows>& recorded,
                                          const std::vector<TableRows>& restored);

}  // namespace velin::db
