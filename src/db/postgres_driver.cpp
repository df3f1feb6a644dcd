// PostgreSQL: libpq for metadata, pg_dump -Fc -Z0 streamed for the dump with row counts read off
// the stream itself, in one MVCC snapshot (docs/databases.md#postgresql), pg_restore for restores.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "driver_base.hpp"
#include "drivers.hpp"
#include "pg_connection.hpp"
#include "pg_default_privileges.hpp"
#include "tool.hpp"
#include "velin/core/environment.hpp"
#include "velin/core/host_port.hpp"
#include "velin/core/i18n.hpp"
#include "velin/db/pg_database_entries.hpp"
#include "velin/db/pg_dump_counter.hpp"
#include "velin/db/table_name.hpp"
#include "velin/io/env.hpp"

namespace velin::db::internal {
namespace {

constexpr const char* kTablesSql =
    "SELECT n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c "
    "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' "
    "ORDER BY 1, 2";

// "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" -> "15.20".
std::string ParseToolVersion(const std::string& line) {
  size_t p = line.find(") ");
  if (p == std::string::npos) return line;
  std::string v = line.substr(p + 2);
  return v.substr(0, v.find(' '));
}

// A conninfo value quoted so that a database name with '=' or spaces stays a name.
std::string ConninfoDbname(const std::string& name) {
  std::string out = "dbname='";
  for (char c : name) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

// A pg_restore --use-list file (mode 0600 under $TMPDIR), removed when it goes; those of runs
// killed before their end (kill -9) go at the next restore (RemoveDeadRunsLists).
class TempListFile {
 public:
  static std::string Dir() {
    const std::string tmp = GetEnvironment("TMPDIR").value_or("");
    return tmp.empty() ? "/tmp" : tmp;
  }
  static void RemoveDeadRunsLists() { RemoveDeadRunsTemporaryFiles(io::Env::Default(), Dir()); }
  static Result<TempListFile> Write(const std::string& text) {
    TempListFile f(io::JoinPath(Dir(), UniqueTemporaryName() + ".list"));
    io::WriteOptions wo;
    wo.mode = 0600;
    wo.exclusive = true;
    VELIN_ASSIGN(auto out, io::Env::Default().NewWritableFile(f.path_, wo));
    VELIN_TRY(out->Append(text));
    VELIN_TRY(out->Close());
    return f;
  }
  TempListFile(TempListFile&& o) noexcept : path_(std::exchange(o.path_, "")) {}
  TempListFile& operator=(TempListFile&&) = delete;
  ~TempListFile() {
    if (!path_.empty()) (void)io::Env::Default().RemoveFile(path_);
  }
  const std::string& path() const { return path_; }

 private:
  explicit TempListFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

class PostgresDriver final : public DriverSteps {
 public:
  explicit PostgresDriver(ConnectionOptions o) : o_(std::move(o)) {}

  std::string Describe() const override {
    std::string where =
        o_.socket.empty() ? HostPort(o_.host, o_.port == 0 ? 5432 : o_.port) : o_.socket;
    return TrFormat("database '{}' at {}", o_.name, where);
  }

  // Reading every table in full proves each one is readable after the restore.
  Status DoCheck(const std::string& target) override {
    Result<std::vector<TableRows>> counts = DoCountRows(target);
    if (!counts) return DamageError(TrFormat("check failed: {}", counts.error().message));
    return Ok();
  }

  Result<PgConnection> Connect(const std::string& target) {
    return PgConnection::Open(o_, target.empty() ? o_.name : target);
  }

  // The pg_dump/pg_restore options naming the server, and the environment carrying the secret.
  void AddServerArgs(ProcessOptions& p, const std::string& dbname) const {
    p.argv.insert(p.argv.end(), {"--no-password", "--host", o_.socket.empty() ? o_.host : o_.socket,
                                 "--port", std::to_string(o_.port == 0 ? 5432 : o_.port)});
    if (!o_.user.empty()) p.argv.insert(p.argv.end(), {"--username", o_.user});
    p.argv.push_back("--dbname=" + ConninfoDbname(dbname));
    // libpq's own settings (PGSSLMODE, PGPASSFILE, ...) and the password, nothing else of ours.
    p.pass_env_prefixes = {"PG"};
    if (!o_.password.empty()) {
      p.extra_env.emplace_back("PGPASSWORD", o_.password);
    } else if (std::optional<std::string> env = GetEnvironment("PGPASSWORD")) {
      p.extra_env.emplace_back("PGPASSWORD", *env);  // what libpq used here: the tool needs it too
    }
    p.extra_env.emplace_back("PGCONNECT_TIMEOUT", "10");
  }

  // pg_dump, checked to be new enough for a server of `server_version` (150020).
  Result<std::pair<std::string, std::string>> DumpTool(int server_version) {
    VELIN_ASSIGN(std::string tool, FindTool({"pg_dump"}, o_.tool_dir, "postgresql-client"));
    VELIN_ASSIGN(std::string line, ToolVersionLine(tool));
    std::string version = ParseToolVersion(line);
    VELIN_TRY(CheckToolVersion(tool, version, server_version));
    return std::make_pair(tool, version);
  }

  static Status CheckToolVersion(const std::string& tool, const std::string& version,
                                 int server_version) {
    int tool_major = std::atoi(version.c_str());
    int server_major = server_version >= 100000 ? server_version / 10000 : 9;
    if (tool_major < server_major) {
      return Failure(
          TrFormat("pg_dump {} ({}) cannot dump a PostgreSQL {} server: install pg_dump {} or "
                   "newer (postgresql-client-{})",
                   version, tool, std::to_string(server_major), std::to_string(server_major),
                   std::to_string(server_major)));
    }
    return Ok();
  }

  // `tables`, when given, receives each table's name and whether it is partitioned.
  Result<DatabaseInfo> BaseInfo(PgConnection& conn,
                                std::vector<std::pair<std::string, bool>>* tables = nullptr) {
    DatabaseInfo info;
    info.driver = "postgresql";
    info.name = o_.name;
    info.dump_tool = "pg_dump";
    info.dump_format = "pg_custom";
    VELIN_ASSIGN(PgRows v, conn.Query("SELECT current_setting('server_version'), "
                                      "pg_database_size(current_database())"));
    info.server_version = v[0][0].substr(0, v[0][0].find(' '));
    info.size_bytes = std::stoll(v[0][1]);
    VELIN_ASSIGN(PgRows rows, conn.Query(kTablesSql));
    for (const auto& row : rows) {
      info.tables.push_back({QualifiedTableName(row[0], row[1]), 0});
      if (tables) tables->emplace_back(QualifiedTableName(row[0], row[1]), row[2] == "p");
    }
    return info;
  }

  // Counts every table's rows in the connection's current snapshot.
  Result<std::vector<TableRows>> CountAll(PgConnection& conn) {
    VELIN_ASSIGN(PgRows tables, conn.Query(kTablesSql));
    std::vector<TableRows> out;
    for (const auto& row : tables) {
      std::string sql = "SELECT count(*) FROM ONLY " + conn.QuoteIdentifier(row[0]) + "." +
                        conn.QuoteIdentifier(row[1]);
      VELIN_ASSIGN(PgRows n, conn.Query(sql));
      out.push_back({QualifiedTableName(row[0], row[1]), std::stoll(n[0][0])});
    }
    return out;
  }

  Result<DatabaseInfo> DoPreflight() override {
    VELIN_ASSIGN(PgConnection conn, Connect(""));
    VELIN_ASSIGN(DatabaseInfo info, BaseInfo(conn));
    VELIN_ASSIGN(auto tool, DumpTool(conn.server_version()));
    info.dump_tool_version = tool.second;
    return info;
  }

  Result<DatabaseInfo> DoDump(const ByteSink& sink) override {
    VELIN_ASSIGN(PgConnection conn, Connect(""));
    VELIN_ASSIGN(std::string tool, FindTool({"pg_dump"}, o_.tool_dir, "postgresql-client"));
    // The snapshot pg_dump reads is the one this transaction would count rows in; it stays
    // importable until the transaction ends, after pg_dump finished.
    VELIN_TRY(conn.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    VELIN_ASSIGN(PgRows snap, conn.Query("SELECT pg_export_snapshot()"));
    std::vector<std::pair<std::string, bool>> partitioned;  // (table, relkind 'p')
    VELIN_ASSIGN(DatabaseInfo info, BaseInfo(conn, &partitioned));
    ProcessOptions p;
    p.argv = {tool, "--format=custom", "--compress=0", "--snapshot=" + snap[0][0]};
    AddServerArgs(p, o_.name);
    // The rows are counted and pg_dump's version read off the stream itself: no second scan
    // of every table competes with the dump for the server, and no `pg_dump --version` (a
    // process start: 0.1-0.2 s through Debian's pg_wrapper) runs beside it.
    PgDumpCounter counter;
    ByteSink counting = [&](std::string_view chunk) {
      counter.Feed(chunk);
      return sink(chunk);
    };
    VELIN_ASSIGN(ChildOutcome outcome, StreamToolOutput(p, counting));
    counter.Finish();
    const int server_version = conn.server_version();
    if (outcome.exit_code != 0) {
      // A pg_dump too old for the server fails on its own; the check's message says why.
      VELIN_TRY(DumpTool(server_version));
      return Failure(DescribeToolFailure(tool, outcome) + RowSecurityHint(conn));
    }
    std::optional<std::vector<TableRows>> counts;
    if (counter.Complete()) {
      VELIN_TRY(CheckToolVersion(tool, counter.DumpVersion(), server_version));
      info.dump_tool_version = counter.DumpVersion();
      counts = StreamCounts(counter, partitioned);
    } else {
      VELIN_ASSIGN(auto checked, DumpTool(server_version));
      info.dump_tool_version = checked.second;
    }
    // A stream this reader does not understand (another archive version) or a table without
    // data in it (an extension's): counted with count(*) in the snapshot pg_dump read, which
    // this transaction still holds.
    if (!counts) {
      VELIN_ASSIGN(counts, CountAll(conn));
    }
    info.tables = std::move(*counts);
    // Best effort: without the list a restore works as before (it cannot prepare the roles).
    if (auto roles = RolesOf(conn)) info.roles = std::move(*roles);
    VELIN_TRY(conn.Exec("COMMIT"));
    return info;
  }

  // The roles this database's objects are owned by or granted to, by pg_shdepend: a restore
  // onto a server without them fails at the dump's first ALTER … OWNER TO or GRANT naming one.
  // The bootstrap superuser's objects are not recorded there (every server has one).
  static Result<std::vector<std::string>> RolesOf(PgConnection& conn) {
    VELIN_ASSIGN(PgRows rows,
                 conn.Query("SELECT DISTINCT r.rolname FROM pg_shdepend d "
                            "JOIN pg_roles r ON r.oid = d.refobjid "
                            "WHERE d.refclassid = 'pg_authid'::regclass AND d.dbid = "
                            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                            "ORDER BY 1"));
    std::vector<std::string> roles;
    for (const auto& row : rows) roles.push_back(row[0]);
    return roles;
  }

  Result<std::vector<std::string>> DoPrepareRestore(const DatabaseInfo& recorded) override {
    VELIN_ASSIGN(std::vector<std::string> created, EnsureRoles(recorded.roles));
    if (created.empty()) return created;
    std::string names;
    for (const std::string& role : created) names += (names.empty() ? "" : ", ") + role;
    return std::vector<std::string>{TrFormat(
        "{}: created the roles {} (without login and password), which the backup's owners and "
        "grants name: give those that log in LOGIN and a password",
        Describe(), names)};
  }

  // Each of `roles` the server lacks, created NOLOGIN in one transaction; their names.
  Result<std::vector<std::string>> EnsureRoles(const std::vector<std::string>& roles) {
    if (roles.empty()) return std::vector<std::string>();
    VELIN_ASSIGN(PgConnection conn, ConnectServer());
    std::vector<std::string> missing;
    for (const std::string& role : roles) {
      VELIN_ASSIGN(PgRows found, conn.Query("SELECT 1 FROM pg_roles WHERE rolname = $1", {role}));
      if (found.empty()) missing.push_back(role);
    }
    if (missing.empty()) return missing;
    // All or none (CREATE ROLE is transactional).
    VELIN_TRY(conn.Exec("BEGIN"));
    for (const std::string& role : missing) {
      Status made = conn.Exec("CREATE ROLE " + conn.QuoteIdentifier(role) + " NOLOGIN");
      if (!made) {
        (void)conn.Exec("ROLLBACK");
        std::string names, sql;
        for (const std::string& m : missing) {
          names += (names.empty() ? "" : ", ") + m;
          sql += (sql.empty() ? "" : " ") + ("CREATE ROLE " + conn.QuoteIdentifier(m) + ";");
        }
        return UsageError(TrFormat(
            "the backup's objects belong or are granted to roles this server does not have "
            "({}), and this user cannot create them ({}): as a superuser run `{}`, then try again; "
            "nothing was changed",
            names, made.error().message, sql));
      }
    }
    VELIN_TRY(conn.Exec("COMMIT"));
    return missing;
  }

  // Every listed table's rows as the stream holds them; nullopt when a table that holds rows
  // itself (not a partitioned parent) has no data in the stream.
  static std::optional<std::vector<TableRows>> StreamCounts(
      const PgDumpCounter& counter, const std::vector<std::pair<std::string, bool>>& tables) {
    std::map<std::string, int64_t> rows;
    for (const TableRows& t : counter.Tables()) rows.emplace(t.name, t.rows);
    std::vector<TableRows> out;
    for (const auto& [name, is_partitioned] : tables) {
      auto it = rows.find(name);
      if (it == rows.end() && !is_partitioned) return std::nullopt;
      out.push_back({name, it == rows.end() ? 0 : it->second});
    }
    return out;
  }

  // pg_dump reads with row_security off, and fails ("query would be affected by row-level
  // security policy for table rls") on a table whose policies would hide rows from this user:
  // one it does not own, or owns with FORCE ROW LEVEL SECURITY. What to do, where there are
  // such tables (found whatever language the server speaks); "" where there are none.
  std::string RowSecurityHint(PgConnection& conn) {
    auto rows = conn.Query(
        "SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY 1), "
        "current_user FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relrowsecurity AND (c.relforcerowsecurity "
        "OR NOT pg_has_role(current_user, c.relowner, 'USAGE')) "
        "AND NOT (SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user)");
    if (!rows || rows->empty() || (*rows)[0][0].empty()) return "";
    return TrFormat(
        "; row-level security would hide rows of {} from {}: back up as a role with BYPASSRLS "
        "(ALTER ROLE {} BYPASSRLS, as a superuser), or, for a table it owns, ALTER TABLE … NO "
        "FORCE ROW LEVEL SECURITY",
        (*rows)[0][0], (*rows)[0][1], (*rows)[0][1]);
  }

  // The server, for what concerns no database in particular (creating or dropping one, roles):
  // through the configured database, or, where that one is missing (a restore onto a new
  // machine creates it) or is `avoid` (the one to drop), through those every server has.
  Result<PgConnection> ConnectServer(const std::string& avoid = "") {
    std::optional<Result<PgConnection>> first;
    for (const std::string& db : {o_.name, std::string("postgres"), std::string("template1")}) {
      if (db == avoid) continue;
      Result<PgConnection> conn = PgConnection::Open(o_, db);
      if (conn) return conn;
      if (!first) first.emplace(std::move(conn));
    }
    return std::move(*first);
  }

  // How the dump's database was made, as its table of contents says: the encoding (the
  // ENCODING entry, "SET client_encoding = 'LATIN1';": pg_dump writes in the database's own)
  // and the locale (the DATABASE entry, "CREATE DATABASE … ENCODING = 'UTF8' LOCALE = 'C'").
  // Empty where it does not say.
  struct MadeAs {
    std::string encoding, collate, ctype;
  };
  // The quoted value after `key` in `sql` ("'it''s'" -> "it's"), "" when absent.
  static std::string QuotedAfter(const std::string& sql, const std::string& key) {
    size_t at = sql.find(key + "'");
    if (at == std::string::npos) return "";
    std::string out;
    for (size_t i = at + key.size() + 1; i < sql.size(); ++i) {
      if (sql[i] != '\'') {
        out += sql[i];
      } else if (i + 1 < sql.size() && sql[i + 1] == '\'') {
        out += sql[++i];
      } else {
        return out;
      }
    }
    return "";
  }
  static MadeAs DumpedDatabase(const std::vector<PgDumpCounter::TocEntry>& toc) {
    MadeAs made;
    for (const PgDumpCounter::TocEntry& e : toc) {
      if (e.desc == "ENCODING") made.encoding = QuotedAfter(e.defn, "client_encoding = ");
      if (e.desc != "DATABASE") continue;
      made.collate = made.ctype = QuotedAfter(e.defn, " LOCALE = ");
      if (made.collate.empty()) {
        made.collate = QuotedAfter(e.defn, " LC_COLLATE = ");
        made.ctype = QuotedAfter(e.defn, " LC_CTYPE = ");
      }
    }
    return made;
  }

  // Creates database `name` as the dump's was made (`made`): its encoding and locale, from
  // template0. A plain CREATE DATABASE copies template1, whose encoding may differ, and a
  // LATIN1 database refuses a UTF8 dump's rows ("has no equivalent in encoding LATIN1"). A
  // locale this server lacks gives way to C, which suits every encoding: said in a warning.
  Result<std::vector<std::string>> CreateDatabaseAs(PgConnection& conn, const std::string& name,
                                                    const MadeAs& made) {
    std::vector<std::string> warnings;
    Status s = Ok();
    if (made.encoding.empty()) {  // a stream that does not say: as before
      s = conn.Exec("CREATE DATABASE " + conn.QuoteIdentifier(name));
    } else {
      const std::string with_encoding = "CREATE DATABASE %I TEMPLATE template0 ENCODING %L";
      const std::string with_locale = with_encoding + " LC_COLLATE %L LC_CTYPE %L";
      auto create = [&](const std::string& format, std::vector<std::string> params) -> Status {
        params.insert(params.begin(), {format, name, made.encoding});
        VELIN_ASSIGN(
            PgRows sql,
            conn.Query("SELECT format($1::text, $2::text, $3::text, $4::text, $5::text)", params));
        return conn.Exec(sql[0][0]);
      };
      if (!made.collate.empty() && !made.ctype.empty()) {
        s = create(with_locale, {made.collate, made.ctype});
      } else {
        s = create(with_encoding, {"", ""});
      }
      if (!s) {
        Status in_c = create(with_locale, {"C", "C"});
        if (in_c) {
          warnings.push_back(TrFormat(
              "{}: database '{}' was created with the encoding {} of the backup's database but "
              "the locale C ({})",
              Describe(), name, made.encoding, s.error().message));
          s = Ok();
        }
      }
    }
    if (!s) {
      // The application's role rarely may create databases: the server's words alone left the
      // user of `--database NEW` (or of a new machine) without the statement that lets it.
      if (std::optional<std::string> role = RoleThatMayNotCreate(conn)) {
        return Failure(TrFormat(
            "cannot create database '{}': {}: a restore into a database that does not exist "
            "creates it; let the user do so (as a superuser: ALTER ROLE {} CREATEDB;) or create "
            "it for the user first (as a superuser: CREATE DATABASE {} OWNER {};)",
            name, s.error().message, *role, conn.QuoteIdentifier(name), *role));
      }
      return Failure(TrFormat("cannot create database '{}': {}", name, s.error().message));
    }
    return warnings;
  }

  // The connection's role, quoted, when it may not create databases (neither CREATEDB nor a
  // superuser); none when it may, or when the catalog does not say.
  static std::optional<std::string> RoleThatMayNotCreate(PgConnection& conn) {
    auto may = conn.Query(
        "SELECT rolcreatedb OR rolsuper, current_user FROM pg_catalog.pg_roles "
        "WHERE rolname = current_user");
    if (!may || may->size() != 1 || (*may)[0].size() != 2 || (*may)[0][0] != "f") {
      return std::nullopt;
    }
    return conn.QuoteIdentifier((*may)[0][1]);
  }

  // Makes database `name` ready for the restore of the dump `produce` gives: created, as the
  // dump's was made, when it is missing (true: the restore's own, dropped again when the
  // restore fails); a restore test's temporary database, still empty, made again so when its
  // encoding differs. An existing database is restored into as it is.
  // A database it creates gets the archive's grants and comment at once (before, PUBLIC could
  // connect to it where the backup's had REVOKE CONNECT … FROM PUBLIC); its settings are left in
  // `settings` for after the restore.
  Result<bool> EnsureDatabase(const std::string& name, const ByteProducer& produce,
                              std::vector<std::string>& warnings,
                              std::vector<std::string>& settings) {
    VELIN_ASSIGN(PgConnection conn, ConnectServer(name));
    VELIN_ASSIGN(PgRows found, conn.Query("SELECT pg_encoding_to_char(encoding) FROM pg_database "
                                          "WHERE datname = $1",
                                          {name}));
    const bool fresh = fresh_temporaries_.erase(name) != 0;
    if (!found.empty() && !fresh) return false;
    VELIN_ASSIGN(auto toc, ReadToc(produce));
    const MadeAs made = toc ? DumpedDatabase(*toc) : MadeAs{};
    if (!found.empty()) {
      if (made.encoding.empty() || made.encoding == found[0][0]) return false;
      VELIN_TRY(DoDrop(name));
    }
    VELIN_ASSIGN(warnings, CreateDatabaseAs(conn, name, made));
    if (!found.empty() || !toc) return false;
    const std::string dumped = DumpedDatabaseName(*toc);
    if (dumped.empty()) return true;
    VELIN_ASSIGN(PgRows quoted,
                 conn.Query("SELECT quote_ident($1), quote_ident($2)", {dumped, name}));
    GiveToDumpedOwner(conn, name, quoted[0][1], DumpedDatabaseOwner(*toc), warnings);
    ApplyDatabaseStatements(
        conn, name,
        DatabaseStatements(*toc, DatabaseEntryKind::kAccess, quoted[0][0], quoted[0][1]), warnings);
    settings = DatabaseStatements(*toc, DatabaseEntryKind::kSettings, quoted[0][0], quoted[0][1]);
    return true;
  }

  // Database `name` (`quoted` as SQL writes it), just created by the restoring user and so
  // owned by it, given to `owner`, the backup database's owner, as pg_restore --create does.
  // Before 2026-12-07 it stayed the restoring user's: restored as `postgres` onto a new server,
  // the application's role owned its tables but not the database, so PostgreSQL 15's `public`
  // schema (owned by pg_database_owner) refused it CREATE and its next migration failed. The
  // role exists here: PrepareRestore created the backup's missing roles. One this user may not
  // give it to (not a superuser, not a member) is a warning; the restore goes on.
  void GiveToDumpedOwner(PgConnection& conn, const std::string& name, const std::string& quoted,
                         const std::string& owner, std::vector<std::string>& warnings) {
    if (owner.empty()) return;
    const std::string sql =
        "ALTER DATABASE " + quoted + " OWNER TO " + conn.QuoteIdentifier(owner) + ";";
    Status s = conn.Exec(sql);
    if (s) return;
    warnings.push_back(TrFormat(
        "{}: database '{}' is owned by this restore's user, not by {} as the backup's database "
        "was ({}): as a superuser run `{}`",
        Describe(), name, owner, s.error().message, sql));
  }

  // Runs each of `statements` (the archive's own for database `name`, renamed to it); one that
  // fails (ALTER ROLE … IN DATABASE needs CREATEROLE) is named in a warning, the others stand.
  void ApplyDatabaseStatements(PgConnection& conn, const std::string& name,
                               const std::vector<std::string>& statements,
                               std::vector<std::string>& warnings) {
    std::string failed;
    for (const std::string& sql : statements) {
      Status s = conn.Exec(sql);
      if (s) continue;
      std::string shown = sql;
      if (shown.size() > 200) shown = shown.substr(0, 200) + "…";
      failed += (failed.empty() ? "" : "; ") + shown + " (" + s.error().message + ")";
    }
    if (failed.empty()) return;
    warnings.push_back(TrFormat(
        "{}: database '{}' was created without some of the backup database's own settings, "
        "grants or comment, which this user could not apply: {}",
        Describe(), name, failed));
  }

  // The extensions installed in `db` that this user may not drop (installed by a superuser, as
  // pgcrypto, citext or postgis usually are, and not owned by a role it belongs to).
  static Result<std::set<std::string>> UndroppableExtensions(PgConnection& conn) {
    VELIN_ASSIGN(PgRows rows,
                 conn.Query("SELECT e.extname FROM pg_extension e "
                            "WHERE NOT pg_has_role(current_user, e.extowner, 'MEMBER') "
                            "AND NOT (SELECT rolsuper FROM pg_roles "
                            "WHERE rolname = current_user)"));
    std::set<std::string> out;
    for (const auto& row : rows) out.insert(row[0]);
    return out;
  }

  // The archive's table of contents in its order, read off the stream's first bytes; nullopt
  // when the stream is not one PgDumpCounter reads (another archive version).
  static Result<std::optional<std::vector<PgDumpCounter::TocEntry>>> ReadToc(
      const ByteProducer& produce) {
    PgDumpCounter counter;
    bool stopped = false;
    Status read = produce([&](std::string_view chunk) -> Status {
      counter.Feed(chunk);
      if (!counter.TocRead()) return Ok();
      stopped = true;
      return Failure("enough");  // the table of contents is all that is needed
    });
    if (!read && !stopped) return tl::unexpected(read.error());
    if (!counter.TocRead()) return std::nullopt;
    return counter.Toc();
  }

  // The table of contents without the entries of `keep`'s extensions (their CREATE and
  // COMMENT) and of `schemas` (their CREATE), as a pg_restore --use-list file: "id;" a line,
  // in the archive's order. nullopt when it would leave nothing out.
  static std::optional<std::string> ListWithout(const std::vector<PgDumpCounter::TocEntry>& toc,
                                                const std::set<std::string>& keep,
                                                const std::set<std::string>& schemas) {
    std::string list;
    bool left_out = false;
    for (const PgDumpCounter::TocEntry& e : toc) {
      if (!PgDumpCounter::Listed(e)) continue;
      if ((e.desc == "EXTENSION" && keep.count(e.tag) != 0) ||
          (e.desc == "COMMENT" && e.tag.starts_with("EXTENSION ") &&
           keep.count(e.tag.substr(10)) != 0) ||
          (e.desc == "SCHEMA" && schemas.count(e.tag) != 0)) {
        left_out = true;
        continue;
      }
      list += std::to_string(e.dump_id) + ";\n";
    }
    if (!left_out) return std::nullopt;
    return list;
  }

  // What the archive whose table of contents is `toc` replaces, by schema-qualified name
  // ("public.users"; a function by its name alone).
  struct Replaced {
    std::set<std::string> tables, relations, types, functions, views, signatures;
    explicit Replaced(const std::vector<PgDumpCounter::TocEntry>& toc) {
      for (const PgDumpCounter::TocEntry& e : toc) {
        const std::string name = QualifiedTableName(e.schema, e.tag);
        if (e.desc == "TABLE") tables.insert(name);
        if (e.desc == "TABLE" || e.desc == "VIEW" || e.desc == "MATERIALIZED VIEW" ||
            e.desc == "SEQUENCE" || e.desc == "FOREIGN TABLE") {
          relations.insert(name);
        }
        if (e.desc == "VIEW" || e.desc == "MATERIALIZED VIEW") views.insert(name);
        if (e.desc == "TYPE" || e.desc == "DOMAIN") types.insert(name);
        // "touch()", "add(integer, integer)": any function of that name (one set aside in
        // vain is made again as it was).
        if (e.desc == "FUNCTION" || e.desc == "PROCEDURE" || e.desc == "AGGREGATE") {
          const size_t args = std::min(e.tag.find('('), e.tag.size());
          functions.insert(QualifiedTableName(e.schema, e.tag.substr(0, args)));
          // "public.add(integer, integer)": the argument types as they are (they may be
          // schema-qualified), only the function's name quoted as a table's would be.
          signatures.insert(QualifiedTableName(e.schema, e.tag.substr(0, args)) +
                            e.tag.substr(args));
        }
      }
    }
  };

  // An object of the target that the backup does not hold (a migration added it since) and
  // that depends on one the restore replaces: --clean cannot drop that one while it is there
  // ("cannot drop function touch() because other objects depend on it"). Dropped after the
  // restore's BEGIN, made again after its whole script.
  struct SetAside {
    std::string name;        // "public.orders (orders_user_id_fkey)", "trigger t on public.orders"
    std::string drop, make;  // SQL, each ending in a newline
  };

  // The foreign keys of tables the backup does not hold to tables it replaces, made again NOT
  // VALID: their rows are newer than the backup.
  static Result<std::vector<SetAside>> OutsideKeys(PgConnection& conn, const Replaced& replaced) {
    // A partition's copy of its parent's key left out: the parent's is the one to set aside.
    VELIN_ASSIGN(PgRows rows,
                 conn.Query("SELECT " + QualifiedTableNameSql("tn.nspname", "t.relname") + ", " +
                            QualifiedTableNameSql("rn.nspname", "r.relname") +
                            std::string(", c.conname, c.conrelid::regclass::text, "
                                        "quote_ident(c.conname), pg_get_constraintdef(c.oid) "
                                        "FROM pg_constraint c "
                                        "JOIN pg_class t ON t.oid = c.conrelid "
                                        "JOIN pg_namespace tn ON tn.oid = t.relnamespace "
                                        "JOIN pg_class r ON r.oid = c.confrelid "
                                        "JOIN pg_namespace rn ON rn.oid = r.relnamespace "
                                        "WHERE c.contype = 'f'") +
                            (conn.server_version() >= 110000 ? " AND c.conparentid = 0" : "") +
                            " ORDER BY 1, 3"));
    std::vector<SetAside> keys;
    for (const auto& row : rows) {
      if (replaced.tables.count(row[0]) != 0 || replaced.tables.count(row[1]) == 0) continue;
      std::string definition = row[5];
      if (!definition.ends_with(" NOT VALID")) definition += " NOT VALID";
      keys.push_back(
          {row[0] + " (" + row[2] + ")",
           "ALTER TABLE " + row[3] + " DROP CONSTRAINT " + row[4] + ";\n",
           "ALTER TABLE " + row[3] + " ADD CONSTRAINT " + row[4] + " " + definition + ";\n"});
    }
    return keys;
  }

  // The triggers of tables the backup does not hold that call a function it replaces or one set
  // aside (`functions`: OutsideFunctions' oids), as their function or in their WHEN, and the
  // column defaults of such tables that use a function, sequence or type it replaces (a shared
  // `touch()` trigger function, a shared id sequence, an enum's value), made again as they are.
  static Result<std::vector<SetAside>> OutsideUses(PgConnection& conn, const Replaced& replaced,
                                                   const std::set<std::string>& functions) {
    std::vector<SetAside> out;
    // A partition's clone of its parent's trigger left out: dropping the parent's drops it.
    VELIN_ASSIGN(
        PgRows triggers,
        conn.Query(
            "SELECT " + QualifiedTableNameSql("tn.nspname", "tc.relname") + ", t.tgname, " +
            QualifiedTableNameSql("pn.nspname", "p.proname") +
            std::string(
                ", 'DROP TRIGGER ' || quote_ident(t.tgname) || ' ON ' || "
                "tc.oid::regclass::text || ';', pg_get_triggerdef(t.oid) || ';' || CASE "
                "t.tgenabled WHEN 'O' THEN '' ELSE ' ALTER TABLE ' || tc.oid::regclass::text || "
                "CASE t.tgenabled WHEN 'D' THEN ' DISABLE' WHEN 'R' THEN ' ENABLE REPLICA' ELSE "
                "' ENABLE ALWAYS' END || ' TRIGGER ' || quote_ident(t.tgname) || ';' END || "
                "coalesce(' COMMENT ON TRIGGER ' || quote_ident(t.tgname) || ' ON ' || "
                "tc.oid::regclass::text || ' IS ' || "
                "quote_literal(obj_description(t.oid, 'pg_trigger')) || ';', ''), "
                "p.oid FROM pg_trigger t JOIN pg_class tc ON tc.oid = t.tgrelid "
                "JOIN pg_namespace tn ON tn.oid = tc.relnamespace "
                // Its function, and those its WHEN condition calls.
                "JOIN pg_depend d ON d.classid = 'pg_trigger'::regclass AND d.objid = t.oid "
                "AND d.refclassid = 'pg_proc'::regclass "
                "JOIN pg_proc p ON p.oid = d.refobjid JOIN pg_namespace pn ON pn.oid = "
                "p.pronamespace WHERE NOT t.tgisinternal AND tc.relkind IN ('r', 'p', 'f')") +
            (conn.server_version() >= 130000 ? " AND t.tgparentid = 0" : "") + " ORDER BY 1, 2"));
    std::set<std::string> triggers_aside;  // one calling two of them is set aside once
    for (const auto& row : triggers) {
      if (replaced.relations.count(row[0]) != 0) continue;
      if (replaced.functions.count(row[2]) == 0 && functions.count(row[5]) == 0) continue;
      if (!triggers_aside.insert(row[0] + "\n" + row[1]).second) continue;
      out.push_back({TrFormat("trigger {} on {}", row[1], row[0]), row[3] + "\n", row[4] + "\n"});
    }
    // ONLY: a partition's default is its own.
    VELIN_ASSIGN(
        PgRows defaults,
        conn.Query(
            "SELECT DISTINCT " + QualifiedTableNameSql("tn.nspname", "tc.relname") +
            ", a.attname, " +
            QualifiedTableNameSql("rn.nspname", "coalesce(p.proname, s.relname, ty.typname)") +
            std::string(
                ", CASE WHEN p.oid IS NOT NULL "
                "THEN 'f' WHEN s.oid IS NOT NULL THEN 's' ELSE 't' END, 'ALTER TABLE ONLY ' || "
                "tc.oid::regclass::text || ' ALTER COLUMN ' || quote_ident(a.attname), "
                "pg_get_expr(ad.adbin, ad.adrelid) FROM pg_attrdef ad "
                "JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum "
                "JOIN pg_class tc ON tc.oid = ad.adrelid "
                "JOIN pg_namespace tn ON tn.oid = tc.relnamespace "
                "JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid "
                "LEFT JOIN pg_proc p ON d.refclassid = 'pg_proc'::regclass AND p.oid = "
                "d.refobjid LEFT JOIN pg_class s ON d.refclassid = 'pg_class'::regclass AND "
                "s.oid = d.refobjid AND s.relkind = 'S' "
                "LEFT JOIN pg_type ty ON d.refclassid = 'pg_type'::regclass AND ty.oid = "
                "d.refobjid JOIN pg_namespace rn ON rn.oid = "
                "coalesce(p.pronamespace, s.relnamespace, ty.typnamespace) "
                "WHERE tc.relkind IN ('r', 'p')") +
            (conn.server_version() >= 120000 ? " AND a.attgenerated = ''" : "") +
            " ORDER BY 1, 2"));
    std::set<std::string> seen;  // a default using two of them is set aside once
    for (const auto& row : defaults) {
      if (replaced.relations.count(row[0]) != 0) continue;
      const std::set<std::string>& of = row[3] == "f"   ? replaced.functions
                                        : row[3] == "s" ? replaced.relations
                                                        : replaced.types;
      const bool uses = of.count(row[2]) != 0;
      if (!uses || !seen.insert(row[0] + "." + row[1]).second) continue;
      out.push_back({TrFormat("default of {}.{}", row[0], row[1]), row[4] + " DROP DEFAULT;\n",
                     row[4] + " SET DEFAULT " + row[5] + ";\n"});
    }
    return out;
  }

  // The columns of tables the backup does not hold whose type (or array element type) is one
  // it replaces (an enum a migration made earlier, used by a table it added since): --clean
  // cannot drop the type under them. Set aside as text (every type converts to and from text),
  // then given their type again, so their values come back through the restored type (a value
  // it lacks stops the restore). Partitions follow their parent.
  static Result<std::vector<SetAside>> OutsideColumns(PgConnection& conn,
                                                      const Replaced& replaced) {
    VELIN_ASSIGN(
        PgRows rows,
        conn.Query(
            "SELECT " + QualifiedTableNameSql("tn.nspname", "c.relname") + ", a.attname, " +
            QualifiedTableNameSql("tyn.nspname", "ty.typname") +
            std::string(", 'ALTER TABLE ' || c.oid::regclass::text || ' ALTER COLUMN ' || "
                        "quote_ident(a.attname) || ' TYPE ', quote_ident(a.attname), "
                        "format_type(a.atttypid, a.atttypmod), t.typelem <> 0 "
                        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                        "JOIN pg_namespace tn ON tn.oid = c.relnamespace "
                        "JOIN pg_type t ON t.oid = a.atttypid "
                        "JOIN pg_type ty ON ty.oid = CASE WHEN t.typelem <> 0 AND t.typlen = -1 "
                        "THEN t.typelem ELSE t.oid END "
                        "JOIN pg_namespace tyn ON tyn.oid = ty.typnamespace "
                        "WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped "
                        "AND tn.nspname NOT IN ('pg_catalog', 'information_schema')") +
            (conn.server_version() >= 100000 ? " AND NOT c.relispartition" : "") +
            " ORDER BY 1, 2"));
    std::vector<SetAside> out;
    for (const auto& row : rows) {
      if (replaced.relations.count(row[0]) != 0 || replaced.types.count(row[2]) == 0) continue;
      const std::string text = row[6] == "t" ? "text[]" : "text";
      out.push_back({TrFormat("column {}.{}", row[0], row[1]),
                     row[3] + text + " USING " + row[4] + "::" + text + ";\n",
                     row[3] + row[5] + " USING " + row[4] + "::" + row[5] + ";\n"});
    }
    return out;
  }

  // The functions and procedures the backup does not hold whose arguments or result are of a
  // type it replaces, or of the row type of one of its tables (a computed column
  // `full_name(u users)`, `active_users() RETURNS SETOF users`), or whose SQL-standard body
  // (BEGIN ATOMIC) reads its tables or calls its functions: --clean cannot drop those under
  // them. Made again with their definition, owner, grants and comment. An
  // extension's are its own. `oids` gets theirs (views calling them are set aside too).
  static Result<std::vector<SetAside>> OutsideFunctions(PgConnection& conn,
                                                        const Replaced& replaced,
                                                        std::set<std::string>& oids) {
    const bool kinds = conn.server_version() >= 110000;  // prokind
    const std::string kind =
        kinds ? "CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END" : "'FUNCTION'";
    VELIN_ASSIGN(
        PgRows rows,
        conn.Query(
            "SELECT DISTINCT p.oid, " + QualifiedTableNameSql("n.nspname", "p.proname") +
            " || '(' || oidvectortypes(p.proargtypes) || ')', " +
            QualifiedTableNameSql("tyn.nspname", "coalesce(ty.typname, c.relname, rp.proname)") +
            ", " + kind +
            ", p.oid::regprocedure::text, pg_get_functiondef(p.oid), "
            "quote_ident(pg_get_userbyid(p.proowner)), "
            "coalesce(quote_literal(obj_description(p.oid, 'pg_proc')), ''), p.proacl IS NULL, "
            "coalesce((SELECT string_agg(a.privilege_type || ' ON ' || " +
            kind +
            " || ' ' || p.oid::regprocedure::text || ' TO ' || CASE a.grantee WHEN 0 "
            "THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END || CASE WHEN "
            "a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END, chr(1)) "
            "FROM aclexplode(p.proacl) a), '') "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid "
            "AND d.refobjid <> p.oid AND d.refclassid IN ('pg_type'::regclass, "
            "'pg_class'::regclass, 'pg_proc'::regclass) "
            "LEFT JOIN pg_type t ON d.refclassid = 'pg_type'::regclass AND t.oid = d.refobjid "
            "LEFT JOIN pg_type ty ON ty.oid = CASE WHEN t.typelem <> 0 AND t.typlen = -1 "
            "THEN t.typelem ELSE t.oid END "
            "LEFT JOIN pg_class c ON d.refclassid = 'pg_class'::regclass AND c.oid = d.refobjid "
            "LEFT JOIN pg_proc rp ON d.refclassid = 'pg_proc'::regclass AND rp.oid = d.refobjid "
            "JOIN pg_namespace tyn ON tyn.oid = "
            "coalesce(ty.typnamespace, c.relnamespace, rp.pronamespace) "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND " +
            (kinds ? "p.prokind IN ('f', 'p')" : "NOT p.proisagg AND NOT p.proiswindow") +
            " AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass "
            "AND x.objid = p.oid AND x.deptype = 'e') ORDER BY 2"));
    std::vector<SetAside> out;
    for (const auto& row : rows) {
      if (replaced.signatures.count(row[1]) != 0) continue;  // the restore replaces it itself
      // Its arguments' or result's types, or what a BEGIN ATOMIC body reads or calls.
      if (replaced.relations.count(row[2]) == 0 && replaced.types.count(row[2]) == 0 &&
          replaced.functions.count(row[2]) == 0) {
        continue;
      }
      if (!oids.insert(row[0]).second) continue;  // depends on two of them: once
      const std::string& kind = row[3];
      const std::string& signature = row[4];
      std::string make = row[5];
      // CREATE, not CREATE OR REPLACE: one the restore made after all is not replaced by this.
      constexpr std::string_view kOrReplace = "CREATE OR REPLACE ";
      if (make.starts_with(kOrReplace)) make = "CREATE " + make.substr(kOrReplace.size());
      while (!make.empty() && (make.back() == '\n' || make.back() == ' ')) make.pop_back();
      make += ";\nALTER " + kind + " " + signature + " OWNER TO " + row[6] + ";\n";
      if (row[8] != "t") {  // grants other than the default (EXECUTE to PUBLIC)
        make += "REVOKE ALL ON " + kind + " " + signature + " FROM PUBLIC;\n";
        for (size_t start = 0; start < row[9].size();) {  // "EXECUTE ON FUNCTION … TO app"
          size_t end = row[9].find('\1', start);
          if (end == std::string::npos) end = row[9].size();
          make += "GRANT " + row[9].substr(start, end - start) + ";\n";
          start = end + 1;
        }
      }
      if (!row[7].empty()) make += "COMMENT ON " + kind + " " + signature + " IS " + row[7] + ";\n";
      std::string shown =
          kind == "PROCEDURE" ? TrFormat("procedure {}", row[1]) : TrFormat("function {}", row[1]);
      out.push_back({std::move(shown), "DROP " + kind + " " + signature + ";\n", std::move(make)});
    }
    return out;
  }

  // A view or materialized view the backup does not hold (one a migration added since) that
  // depends on a relation or type the restore replaces, or on another such view: --clean
  // cannot drop what it depends on while it is there ("cannot drop table users because other
  // objects depend on it").
  struct OutsideView {
    std::string name;     // public.M v (to show)
    std::string quoted;   // public."M v" (in SQL)
    std::string pattern;  // "public"."M v" (a pg_dump --table pattern matching it alone)
    bool materialized = false;
    bool populated = false;
  };

  // Such views of `db`, each after those it depends on. An extension's views are its own:
  // never set aside.
  static Result<std::vector<OutsideView>> OutsideViews(PgConnection& conn, const Replaced& replaced,
                                                       const std::set<std::string>& functions) {
    // What each view's query (its _RETURN rule) and its columns depend on: relations and
    // types, by name and oid.
    VELIN_ASSIGN(
        PgRows rows,
        conn.Query(
            "WITH v AS (SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispopulated "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('v', 'm') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = "
            "'pg_class'::regclass AND x.objid = c.oid AND x.deptype = 'e')), "
            "d AS (SELECT w.ev_class AS view, p.refclassid, p.refobjid FROM pg_rewrite w "
            "JOIN pg_depend p ON p.classid = 'pg_rewrite'::regclass AND p.objid = w.oid "
            "UNION SELECT p.objid, p.refclassid, p.refobjid FROM pg_depend p "
            "WHERE p.classid = 'pg_class'::regclass AND p.refclassid = "
            "'pg_type'::regclass) "
            "SELECT DISTINCT v.oid, v.nspname, v.relname, v.relkind, v.relispopulated, "
            "quote_ident(v.nspname) || '.' || quote_ident(v.relname), "
            "d.refobjid, " +
            QualifiedTableNameSql("rn.nspname", "coalesce(rc.relname, rt.typname, rp.proname)") +
            ", rp.oid IS NOT NULL "
            "FROM v JOIN d ON d.view = v.oid AND d.refobjid <> v.oid "
            "LEFT JOIN pg_class rc ON d.refclassid = 'pg_class'::regclass "
            "AND rc.oid = d.refobjid "
            "LEFT JOIN pg_type rt ON d.refclassid = 'pg_type'::regclass "
            "AND rt.oid = d.refobjid "
            "LEFT JOIN pg_proc rp ON d.refclassid = 'pg_proc'::regclass "
            "AND rp.oid = d.refobjid "
            "JOIN pg_namespace rn ON rn.oid = "
            "coalesce(rc.relnamespace, rt.typnamespace, rp.pronamespace) "
            "ORDER BY 1"));
    struct Node {
      OutsideView view;
      std::vector<std::string> refs;  // oids of the relations it depends on
      bool hits = false;              // depends on something the restore replaces
      bool aside = false;
    };
    std::map<std::string, Node> nodes;  // by oid
    for (const auto& row : rows) {
      const std::string name = QualifiedTableName(row[1], row[2]);
      if (replaced.views.count(name) != 0) continue;  // the restore replaces it itself
      Node& n = nodes[row[0]];
      n.view = {name, row[5], "", row[3] == "m", row[4] == "t"};
      for (const std::string& part : {row[1], row[2]}) {
        std::string quoted = "\"";
        for (char c : part) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        n.view.pattern += (n.view.pattern.empty() ? "" : ".") + quoted + "\"";
      }
      n.refs.push_back(row[6]);
      // A function it calls: one the backup holds, or one set aside (OutsideFunctions).
      if (row[8] == "t"
              ? replaced.functions.count(row[7]) != 0 || functions.count(row[6]) != 0
              : replaced.relations.count(row[7]) != 0 || replaced.types.count(row[7]) != 0) {
        n.hits = true;
      }
    }
    // Aside: those that hit, and those that depend on one aside.
    for (bool changed = true; changed;) {
      changed = false;
      for (auto& [oid, n] : nodes) {
        if (n.aside) continue;
        n.aside = n.hits || std::any_of(n.refs.begin(), n.refs.end(), [&](const std::string& r) {
                    auto it = nodes.find(r);
                    return it != nodes.end() && it->second.aside;
                  });
        changed = changed || n.aside;
      }
    }
    // Each after those it depends on (views' dependencies have no cycles), else by name.
    std::vector<OutsideView> out;
    std::set<std::string> placed;
    std::function<void(const std::string&)> place = [&](const std::string& oid) {
      auto it = nodes.find(oid);
      if (it == nodes.end() || !it->second.aside || !placed.insert(oid).second) return;
      for (const std::string& r : it->second.refs) place(r);
      out.push_back(it->second.view);
    };
    std::vector<std::pair<std::string, std::string>> by_name;  // (name, oid)
    for (const auto& [oid, n] : nodes) by_name.emplace_back(n.view.name, oid);
    std::sort(by_name.begin(), by_name.end());
    for (const auto& entry : by_name) place(entry.second);
    return out;
  }

  // The script making `views` again as they are now (definition, options, owner, grants,
  // comments, triggers, rules, a materialized view's indexes), from pg_dump.
  Result<std::string> RemakeViews(const std::string& db, const std::vector<OutsideView>& views) {
    VELIN_ASSIGN(std::string dump, FindTool({"pg_dump"}, o_.tool_dir, "postgresql-client"));
    ProcessOptions p;
    p.argv = {dump, "--schema-only", "--strict-names"};
    for (const OutsideView& v : views) p.argv.push_back("--table=" + v.pattern);
    AddServerArgs(p, db);
    std::string script;
    VELIN_ASSIGN(ChildOutcome outcome, StreamToolOutput(p, [&](std::string_view chunk) {
                   script.append(chunk);
                   return Ok();
                 }));
    if (outcome.exit_code != 0) return Failure(DescribeToolFailure(dump, outcome));
    return script;
  }

  // What a restore sets aside, of what the backup does not hold.
  struct Dependents {
    std::vector<SetAside> keys;         // foreign keys into replaced tables
    std::vector<OutsideView> views;     // on replaced relations or types
    std::vector<SetAside> uses;         // triggers and defaults using replaced functions, ...
    std::vector<SetAside> columns;      // of replaced types
    std::vector<SetAside> functions;    // of replaced types or tables' row types
    DefaultPrivilegesAside privileges;  // the user's, which new objects would get
    bool Empty() const {
      return keys.empty() && views.empty() && uses.empty() && columns.empty() &&
             functions.empty() && privileges.off.empty();
    }
  };

  // Large objects: a script of them commits on its own (BEGIN; ... COMMIT; around their data)
  // unless pg_restore makes it one transaction itself (RestoreAround).
  static bool HoldsLargeObjects(const std::vector<PgDumpCounter::TocEntry>& toc) {
    return std::any_of(toc.begin(), toc.end(), [](const PgDumpCounter::TocEntry& e) {
      return e.desc.starts_with("BLOB") || e.desc == "LARGE OBJECT";
    });
  }

  std::string RestoreFailure(const std::string& db, std::string why, const std::string& messages) {
    // --clean drops what the dump holds, not what depends on it from outside: a view a
    // migration added since, on a table the backup replaces.
    if (messages.find("because other objects depend on it") != std::string::npos) {
      // The server's DETAIL names them: "view named depends on table users".
      const size_t detail = messages.find("\nDETAIL:  ");
      if (detail != std::string::npos) {
        std::string which = messages.substr(detail + 10);
        which = which.substr(0, which.find("\nHINT:"));
        which = which.substr(0, which.find("\npg_restore:"));
        while (!which.empty() && (which.back() == '\n' || which.back() == ' ')) which.pop_back();
        for (size_t nl; (nl = which.find('\n')) != std::string::npos;) which.replace(nl, 1, "; ");
        if (which.size() > 300) which = which.substr(0, 300) + "…";
        why += " (" + which + ")";
      }
      why +=
          Tr("; objects the backup does not hold depend on ones it replaces (a table inheriting "
             "from one of its tables, added since?): drop them first (the migration's down step), "
             "or restore into "
             "another database with --database NAME; nothing was changed");
    }
    // Said, as MariaDB's failure says what it left: after a server that died or a disk that
    // filled up mid-restore, the user's first question is what state the database is in.
    // Into a database it created, DoRestore says it once it knows whether that database could
    // be dropped again: "nothing was changed" is false while it is left.
    if (why.find("nothing was changed") == std::string::npos) {
      if (into_created_) {
        uncommitted_ = true;
      } else {
        why += Tr("; nothing was changed: the restore is one transaction, which did not commit");
      }
    }
    return TrFormat("restoring into '{}': {}", db, why);
  }

  // Called while a restore tool's session `session` makes no progress (FeedToolInput's idle):
  // once it has waited kLockNotice for a lock, says once which sessions hold it and what to do.
  // An application's transaction left open (idle in transaction) holds its tables' locks until
  // it ends; before, the restore waited without a word.
  std::function<Status()> LockNotice(const std::string& db, const std::string& session) {
    struct State {
      std::optional<PgConnection> conn;
      LockWaitNotice notice;
    };
    auto state = std::make_shared<State>();
    return [this, db, session, state]() -> Status {
      if (state->notice.Told()) return Ok();
      if (!state->conn) {
        Result<PgConnection> conn = Connect(db);
        if (!conn) return Ok();  // best effort: the restore goes on
        state->conn.emplace(std::move(*conn));
      }
      Result<PgRows> rows = state->conn->Query(
          "SELECT b.pid, coalesce(b.usename, ''), coalesce(b.application_name, ''), "
          "coalesce(b.state, ''), coalesce(extract(epoch FROM now() - b.xact_start)::bigint, -1) "
          "FROM pg_stat_activity r CROSS JOIN LATERAL unnest(pg_blocking_pids(r.pid)) AS x(pid) "
          "JOIN pg_stat_activity b ON b.pid = x.pid WHERE r.application_name = $1 ORDER BY 1",
          {session});
      if (!state->notice.Due(rows && !rows->empty())) return Ok();
      std::string holders;
      for (const auto& row : *rows) {
        std::string about = TrFormat("session {}", row[0]);
        std::vector<std::string> parts;
        if (!row[1].empty()) parts.push_back(TrFormat("user {}", row[1]));
        if (!row[2].empty()) parts.push_back(TrFormat("application '{}'", row[2]));
        if (!row[3].empty()) {
          parts.push_back(row[4] == "-1"
                              ? row[3]
                              : TrFormat("{}, its transaction open for {} s", row[3], row[4]));
        }
        for (size_t i = 0; i < parts.size(); ++i) {
          about += (i == 0 ? " (" : ", ") + parts[i] + (i + 1 == parts.size() ? ")" : "");
        }
        holders += (holders.empty() ? "" : "; ") + about;
      }
      reporter().Warn(TrFormat(
          "{}: the restore waits for a lock that {} holds: it goes on when that transaction "
          "ends. End it there, or end the session (SELECT pg_terminate_backend({})), or stop the "
          "restore (nothing is changed)",
          Describe(), holders, rows->front()[0]));
      return Ok();
    };
  }

  // Names the session of the tool `p` starts (application_name), so that EndSession finds it.
  static std::string NameSession(ProcessOptions& p) {
    static std::atomic<unsigned> restores{0};
    std::string name =
        "velin-restore-" + std::to_string(::getpid()) + "-" + std::to_string(restores.fetch_add(1));
    p.extra_env.emplace_back("PGAPPNAME", name);
    return name;
  }

  // Ends the session named `name` when it is still there. A restore tool that failed, was
  // killed (a signal to velin) or stopped reading leaves its session to the server, which
  // notices the client gone only when it next reads from it: one waiting for a lock (an
  // application's open transaction) would go on waiting, and every query of the application
  // on that table would queue behind it. It never commits: the restore is one transaction.
  void EndSession(const std::string& db, const std::string& name) {
    Result<PgConnection> conn = Connect(db);
    if (!conn) return;  // best effort: the server ends it at its next read
    (void)conn->Query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = $1 AND pid <> pg_backend_pid()",
        {name});
  }

  // The failure `failed` of a restore into `db`, which it created, dropped again when it can.
  // The restore's transaction did not commit (uncommitted_): no data that was there changed;
  // dropped, nothing changed at all; left, that database is (one message, not "nothing was
  // changed" and "is left" both, as before).
  Error CreatedFailed(Error failed, const std::string& db) {
    Status dropped = DoDrop(db);
    if (!uncommitted_) return RestoreIntoCreatedFailed(std::move(failed), db, dropped);
    if (dropped) {
      failed.message +=
          Tr("; nothing was changed: the restore is one transaction, which did not commit");
      return failed;
    }
    std::string quoted = db;
    for (size_t i = 0; (i = quoted.find('"', i)) != std::string::npos; i += 2) {
      quoted.insert(i, 1, '"');
    }
    failed.message += TrFormat(
        "; the restore is one transaction, which did not commit, so no data that was there was "
        "changed; but database '{}', which this restore created, is left, without the backup's "
        "data (it could not be dropped again: {}): drop it (DROP DATABASE \"{}\"), or restore "
        "into it again",
        db, dropped.error().message, quoted);
    return failed;
  }

  // Into `target` ("" = the configured database), created when missing whatever its name: the
  // configured one too, as on a new machine (--database-url; before, only another name was).
  Result<std::vector<std::string>> DoRestore(const ByteProducer& produce,
                                             const std::string& target) override {
    const std::string db = target.empty() ? o_.name : target;
    std::vector<std::string> warnings, settings;
    VELIN_ASSIGN(bool created, EnsureDatabase(db, produce, warnings, settings));
    into_created_ = created;
    uncommitted_ = false;
    Result<std::vector<std::string>> restored = RestoreInto(produce, db);
    into_created_ = false;
    if (!restored) {
      // Not left behind empty (or half made): it was not there before (and said, where it is).
      if (created) return tl::unexpected(CreatedFailed(restored.error(), db));
      return restored;
    }
    warnings.insert(warnings.end(), restored->begin(), restored->end());
    // The database's settings (ALTER DATABASE … SET) once it is filled: they are its sessions',
    // and the restore's session is one.
    if (!settings.empty()) {
      VELIN_ASSIGN(PgConnection conn, ConnectServer(db));
      ApplyDatabaseStatements(conn, db, settings, warnings);
    }
    return warnings;
  }

  Result<std::vector<std::string>> RestoreInto(const ByteProducer& produce, const std::string& db) {
    VELIN_ASSIGN(std::string tool, FindTool({"pg_restore"}, o_.tool_dir, "postgresql-client"));
    TempListFile::RemoveDeadRunsLists();
    // What of the target the restore must leave alone, found before it starts. --clean drops
    // every object of the dump before making it again:
    // - extensions too, and only an extension's owner may drop it: one a superuser installed
    //   stops a restore by the application's user ("must be owner of extension pgcrypto");
    // - schemas too, and a schema is not dropped while it holds a table added since ("cannot
    //   drop schema app because other objects depend on it").
    // Both stay as they are (a schema's objects are replaced, not the schema): the restore's
    // --use-list leaves their entries out. Objects added since that depend on ones the restore
    // replaces (a foreign key, a view, a trigger, a default) would stop it too: they are set
    // aside (RestoreAround).
    std::set<std::string> keep, schemas;
    bool any_dependent = false;
    // The user's default privileges would reach every object the restore makes again
    // (pg_default_privileges.hpp): set aside too.
    DefaultPrivilegesAside privileges;
    {
      VELIN_ASSIGN(PgConnection conn, Connect(db));
      VELIN_ASSIGN(keep, UndroppableExtensions(conn));
      VELIN_ASSIGN(privileges, SetAsideDefaultPrivileges(conn));
      VELIN_ASSIGN(PgRows names, conn.Query("SELECT nspname FROM pg_namespace "
                                            "WHERE nspname NOT LIKE 'pg\\_%' "
                                            "AND nspname <> 'information_schema'"));
      for (const auto& row : names) schemas.insert(row[0]);
      VELIN_ASSIGN(PgRows k,
                   conn.Query("SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f') "
                              "OR EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n "
                              "ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') "
                              "AND n.nspname NOT IN ('pg_catalog', 'information_schema')) "
                              "OR EXISTS (SELECT 1 FROM pg_trigger WHERE NOT tgisinternal) "
                              "OR EXISTS (SELECT 1 FROM pg_attrdef) "
                              "OR EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n "
                              "ON n.oid = p.pronamespace WHERE n.nspname NOT IN "
                              "('pg_catalog', 'information_schema'))"));
      any_dependent = k[0][0] == "t";
    }
    const bool only_public = schemas.empty() || (schemas.size() == 1 && schemas.count("public"));
    std::optional<std::vector<PgDumpCounter::TocEntry>> toc;
    if (!keep.empty() || !only_public || any_dependent || !privileges.off.empty()) {
      VELIN_ASSIGN(toc, ReadToc(produce));
    }
    Dependents aside;
    if (toc) aside.privileges = privileges;
    if (toc && any_dependent) {
      VELIN_ASSIGN(PgConnection conn, Connect(db));
      // Names in full: the restore's script empties search_path.
      VELIN_TRY(conn.Exec("SET search_path = ''"));
      const Replaced replaced(*toc);
      VELIN_ASSIGN(aside.keys, OutsideKeys(conn, replaced));
      std::set<std::string> function_oids;
      VELIN_ASSIGN(aside.functions, OutsideFunctions(conn, replaced, function_oids));
      VELIN_ASSIGN(aside.views, OutsideViews(conn, replaced, function_oids));
      VELIN_ASSIGN(aside.uses, OutsideUses(conn, replaced, function_oids));
      VELIN_ASSIGN(aside.columns, OutsideColumns(conn, replaced));
    }
    std::vector<std::string> restore_args = {tool, "--clean", "--if-exists"};
    std::optional<TempListFile> list_file;
    if (std::optional<std::string> list = toc ? ListWithout(*toc, keep, schemas) : std::nullopt) {
      VELIN_ASSIGN(TempListFile made, TempListFile::Write(*list));
      list_file.emplace(std::move(made));
      restore_args.push_back("--use-list=" + list_file->path());
    }
    if (aside.Empty()) {
      ProcessOptions p;
      p.argv = restore_args;
      // One transaction: a restore that fails halfway leaves the database as it was.
      p.argv.insert(p.argv.end(), {"--single-transaction", "--exit-on-error"});
      AddServerArgs(p, db);
      const std::string session = NameSession(p);
      Result<ChildOutcome> fed = FeedToolInput(p, produce, LockNotice(db, session));
      if (!fed || fed->exit_code != 0) EndSession(db, session);
      VELIN_ASSIGN(ChildOutcome outcome, std::move(fed));
      if (outcome.exit_code != 0) {
        return Failure(RestoreFailure(db, DescribeToolFailure(tool, outcome), outcome.messages));
      }
      return std::vector<std::string>();
    }
    return RestoreAround(produce, db, restore_args, aside, HoldsLargeObjects(*toc));
  }

  // The line of psql's error ("psql:<stdin>:21: ERROR:  ...") in `messages`: the last line
  // psql names, since ON_ERROR_STOP ends it at its first error (a warning or notice before it
  // names its own line). Not by the word ERROR, which a server speaking German writes FEHLER.
  static std::optional<uint64_t> PsqlErrorLine(const std::string& messages) {
    constexpr std::string_view kPrefix = "psql:<stdin>:";
    std::optional<uint64_t> last;
    for (size_t at = messages.find(kPrefix); at != std::string::npos;
         at = messages.find(kPrefix, at + 1)) {
      if (at != 0 && messages[at - 1] != '\n') continue;
      const size_t number = at + kPrefix.size(), colon = messages.find(':', number);
      if (colon == std::string::npos || messages.compare(colon, 2, ": ") != 0) continue;
      uint64_t line = 0;
      const char* end = messages.data() + colon;
      if (std::from_chars(messages.data() + number, end, line).ptr == end) last = line;
    }
    return last;
  }

  // What pg_dump's script `remake` makes at its line `line` (1 is the first): the object its
  // last header before that line names ("-- Name: v3; Type: VIEW; Schema: public; Owner: app"
  // gives "VIEW public.v3"); "" before the first.
  static std::string DumpedObjectAt(const std::string& remake, uint64_t line) {
    std::string what;
    size_t pos = 0;
    for (uint64_t n = 1; n <= line && pos < remake.size(); ++n) {
      size_t end = remake.find('\n', pos);
      if (end == std::string::npos) end = remake.size();
      const std::string_view text(remake.data() + pos, end - pos);
      pos = end + 1;
      if (!text.starts_with("-- Name: ")) continue;
      const size_t type = text.find("; Type: "), schema = text.find("; Schema: ");
      if (type == std::string_view::npos || schema == std::string_view::npos || schema < type) {
        continue;
      }
      const std::string_view name = text.substr(9, type - 9);
      const std::string_view kind = text.substr(type + 8, schema - type - 8);
      std::string_view space = text.substr(schema + 10);
      space = space.substr(0, space.find(';'));
      what = std::string(kind) + " " + (space == "-" ? "" : std::string(space) + ".") +
             std::string(name);
    }
    return what;
  }

  // The SQL psql gets after the restore's script, with what each part makes: psql names the
  // line of its error ("psql:<stdin>:21:"), and this the object made there.
  class Tail {
   public:
    // `sql` making `what`; `dumped`: pg_dump's script, whose headers name what each part makes.
    void Add(const std::string& sql, std::string what, bool dumped = false) {
      parts_.push_back({lines_, std::move(what), dumped ? sql : std::string()});
      text_ += sql;
      lines_ += static_cast<uint64_t>(std::count(sql.begin(), sql.end(), '\n'));
    }
    const std::string& text() const { return text_; }
    // What the part holding the tail's line `line` (1 is the first) makes.
    std::string At(uint64_t line) const {
      for (auto p = parts_.rbegin(); p != parts_.rend(); ++p) {
        if (p->first_line >= line) continue;
        std::string dumped = DumpedObjectAt(p->dump, line - p->first_line);
        return dumped.empty() ? p->what : dumped;
      }
      return "";
    }

   private:
    struct Part {
      uint64_t first_line;  // the tail's lines before it
      std::string what, dump;
    };
    std::vector<Part> parts_;
    std::string text_;
    uint64_t lines_ = 0;
  };

  // The restore with `aside` set aside: pg_restore writes the script, psql runs it in one
  // transaction that velin begins by dropping them (a column: making it text) and, only after
  // the whole script, ends by making them again and committing. The keys come back NOT VALID (their
  // rows are not checked against the restored table's: the backup is older than they are), the rest
  // as they were (a materialized view filled from the restored tables). Any failure, a signal
  // or a crash before that leaves the database as it was.
  Result<std::vector<std::string>> RestoreAround(const ByteProducer& produce, const std::string& db,
                                                 std::vector<std::string> restore_args,
                                                 const Dependents& aside, bool large_objects) {
    const std::vector<OutsideView>& views = aside.views;
    VELIN_ASSIGN(std::string psql, FindTool({"psql"}, o_.tool_dir, "postgresql-client"));
    std::string head = "BEGIN;\n" + aside.privileges.off, key_names, names;
    Tail tail;
    for (const SetAside& k : aside.keys) {
      head += k.drop;
      tail.Add(k.make, TrFormat("foreign key {}", k.name));
      key_names += (key_names.empty() ? "" : ", ") + k.name;
    }
    // Dropped: defaults and views before the columns' types change under them. Made again:
    // the columns' types first, then what uses them.
    for (const SetAside& u : aside.uses) head += u.drop;
    for (auto v = views.rbegin(); v != views.rend(); ++v) {
      head += std::string(v->materialized ? "DROP MATERIALIZED VIEW " : "DROP VIEW ") + v->quoted +
              ";\n";
    }
    for (const SetAside& c : aside.columns) {
      head += c.drop;
      tail.Add(c.make, c.name);
      names += (names.empty() ? "" : ", ") + c.name;
    }
    // Functions: dropped after the views calling them, made again before.
    for (const SetAside& f : aside.functions) {
      head += f.drop;
      tail.Add(f.make, f.name);
      names += (names.empty() ? "" : ", ") + f.name;
    }
    if (!views.empty()) {
      VELIN_ASSIGN(std::string remake, RemakeViews(db, views));
      tail.Add(remake, "", true);
      // Filled from the restored rows; one made WITH NO DATA stays so.
      for (const OutsideView& v : views) {
        names += (names.empty() ? "" : ", ") + v.name;
        if (!v.materialized || !v.populated) continue;
        const std::string refresh = "REFRESH MATERIALIZED VIEW " + v.quoted;
        tail.Add(refresh + ";\n", refresh);
      }
    }
    for (const SetAside& u : aside.uses) {
      tail.Add(u.make, u.name);
      names += (names.empty() ? "" : ", ") + u.name;
    }
    // After the archive's own default privileges (at its script's end): the database's as they
    // were, whatever the backup's said.
    tail.Add(aside.privileges.back, std::string(Tr("the default privileges")));
    tail.Add("COMMIT;\n", "COMMIT");
    ProcessOptions script;
    script.argv = std::move(restore_args);
    script.argv.push_back("--file=-");
    // Large objects' data is written between a BEGIN and a COMMIT of its own, which would end
    // the restore's transaction halfway, unless pg_restore writes one transaction itself: then
    // its BEGIN only warns (one is open already) and its closing COMMIT is left out, so that the
    // tail runs in the same transaction and commits it.
    std::string strip;
    if (large_objects) {
      script.argv.push_back("--single-transaction");
      strip = "COMMIT;";
    }
    ProcessOptions run;
    // --file=-: psql's errors name their line.
    run.argv = {psql,       "--no-psqlrc",       "--quiet", "--set=ON_ERROR_STOP=1",
                "--file=-", "--output=/dev/null"};
    AddServerArgs(run, db);
    const std::string session = NameSession(run);
    Result<PipelineOutcome> fed =
        FeedToolPipeline(script, run, head, produce, tail.text(), LockNotice(db, session), strip);
    if (!fed || fed->first.exit_code != 0 || fed->second.exit_code != 0) EndSession(db, session);
    VELIN_ASSIGN(PipelineOutcome outcome, std::move(fed));
    const std::string& tool = script.argv.front();
    if (outcome.second.exit_code != 0) {
      const std::string& messages = outcome.second.messages;
      // An error in the tail: what was set aside cannot be made again on what the backup
      // holds (a view reading a column a migration added since).
      const std::optional<uint64_t> line = PsqlErrorLine(messages);
      if (line && outcome.lines_before_tail > 0 && *line > outcome.lines_before_tail) {
        return Failure(TrFormat(
            "restoring into '{}': {}, which the backup does not hold, cannot be made again on "
            "what it restores: {}; drop it first (the migration's down step), or restore into "
            "another database with --database NAME; nothing was changed",
            db, tail.At(*line - outcome.lines_before_tail),
            DescribeToolFailure(psql, outcome.second)));
      }
      return Failure(RestoreFailure(db, DescribeToolFailure(psql, outcome.second), messages));
    }
    if (outcome.first.exit_code != 0) {
      return Failure(
          RestoreFailure(db, DescribeToolFailure(tool, outcome.first), outcome.first.messages));
    }
    if (!names.empty()) {
      reporter().Info(TrFormat(
          "{}: what the backup does not hold and depends on what it restored was set aside for "
          "the restore and made again: {}",
          Describe(), names));
    }
    if (aside.keys.empty()) return std::vector<std::string>();
    return std::vector<std::string>{TrFormat(
        "{}: the foreign keys of tables the backup does not hold to tables it restored were set "
        "aside for the restore and made again NOT VALID: {}. Their rows were not checked against "
        "the restored ones; `ALTER TABLE … VALIDATE CONSTRAINT …` checks them",
        Describe(), key_names)};
  }

  Result<std::vector<TableRows>> DoCountRows(const std::string& target) override {
    VELIN_ASSIGN(PgConnection conn, Connect(target));
    VELIN_TRY(conn.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    VELIN_ASSIGN(std::vector<TableRows> counts, CountAll(conn));
    VELIN_TRY(conn.Exec("COMMIT"));
    return counts;
  }

  // By the catalog, through a database every server has where `target` is missing: a failed
  // connection says why only in the server's language (lc_messages), and SQLSTATE 3D000 does
  // not reach libpq's connection errors.
  Result<bool> DoDatabaseExists(const std::string& target) override {
    const std::string db = target.empty() ? o_.name : target;
    VELIN_ASSIGN(PgConnection conn, ConnectServer(db));
    VELIN_ASSIGN(PgRows found,
                 conn.Query("SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", {db}));
    return !found.empty();
  }

  Result<std::string> DoCreateTemporaryDatabase() override {
    VELIN_ASSIGN(PgConnection conn, ConnectServer());
    std::string name = UniqueTemporaryName();
    Status s = conn.Exec("CREATE DATABASE " + conn.QuoteIdentifier(name));
    if (!s) {
      std::string message =
          TrFormat("cannot create temporary database '{}': {}", name, s.error().message);
      // An application's role rarely may create databases; the server's words alone left the
      // user without the statement that lets the restore test run (docs/databases.md).
      if (std::optional<std::string> role = RoleThatMayNotCreate(conn)) {
        message = TrFormat(
            "cannot create temporary database '{}': {}: the restore test makes and drops a "
            "database of its own; let the user do so (as a superuser: ALTER ROLE {} CREATEDB;) or "
            "test on another server (--restore-test-server HOST[:PORT])",
            name, s.error().message, *role);
      }
      return Failure(message);
    }
    fresh_temporaries_.insert(name);  // the restore makes it again as the dump's was made
    return name;
  }

  Result<std::vector<std::string>> DoListTemporaries() override {
    VELIN_ASSIGN(PgConnection conn, ConnectServer());
    VELIN_ASSIGN(PgRows rows, conn.Query("SELECT datname FROM pg_catalog.pg_database WHERE "
                                         "datname LIKE 'velin!_restore!_test!_%' ESCAPE '!'"));
    std::vector<std::string> names;
    for (const auto& row : rows) names.push_back(row[0]);
    return names;
  }

  std::string ConfiguredDatabase() const override { return o_.name; }
  Status DoDrop(const std::string& name) override {
    fresh_temporaries_.erase(name);
    VELIN_ASSIGN(PgConnection conn, ConnectServer(name));
    std::string sql = "DROP DATABASE IF EXISTS " + conn.QuoteIdentifier(name);
    if (conn.server_version() >= 130000) sql += " WITH (FORCE)";
    Status s = conn.Exec(sql);
    if (!s) return Failure(TrFormat("cannot drop database '{}': {}", name, s.error().message));
    return Ok();
  }

  ConnectionOptions o_;
  // While DoRestore restores into a database it created; whether the restore's transaction
  // failed (RestoreFailure), so that nothing of it committed.
  bool into_created_ = false;
  bool uncommitted_ = false;
  // Temporary databases this driver created and no restore has used yet: still empty.
  std::set<std::string> fresh_temporaries_;
};

}  // namespace

std::unique_ptr<Driver> NewPostgresDriver(const ConnectionOptions& options) {
  return WrapDriver(std::make_unique<PostgresDriver>(options), options.password);
}

}  // namespace velin::db::internal
