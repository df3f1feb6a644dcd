#include "sqlite_file.hpp"

#include <fmt/format.h>

#include <cstring>

#include "velin/core/i18n.hpp"
#include "velin/io/env.hpp"

namespace velin::db::internal {
namespace {

std::string QuoteIdentifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// `path` as a "file:" URI: '%', '?' and '#' escaped, so that none of the path is read as a
// query or a fragment.
std::string FileUri(const std::string& path) {
  std::string out = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Result<SqliteFile> SqliteFile::OpenImmutable(const std::string& path) {
  sqlite3* raw = nullptr;
  const std::string uri = FileUri(path) + "?immutable=1";
  int rc = sqlite3_open_v2(uri.c_str(), &raw,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteFile f;
  f.db_.reset(raw);
  if (rc != SQLITE_OK) {
    return Failure(
        TrFormat("cannot open: {}", (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))));
  }
  sqlite3_extended_result_codes(raw, 1);
  return f;
}

Result<SqliteFile> SqliteFile::Open(const std::string& path, bool writable, bool create) {
  // SQLite opens a directory and fails at its first read with "disk I/O error". "<path>/."
  // exists only where `path` is a directory or a link to one.
  if (io::Env::Default().Exists(io::JoinPath(path, ".")).value_or(false)) {
    return Failure(std::string(Tr("cannot open: it is a directory, not a SQLite database file")));
  }
  int flags = writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
  if (create) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteFile f;
  f.db_.reset(raw);
  if (rc != SQLITE_OK) {
    // "unable to open database file" alone did not say why: the system's error does
    // (Permission denied: velin's user may not read it).
    const int err = raw != nullptr ? sqlite3_system_errno(raw) : 0;
    return Failure(TrFormat(
        "cannot open: {}{}", (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)),
        err != 0 && (rc & 0xff) == SQLITE_CANTOPEN ? ": " + std::string(Tr(std::strerror(err)))
                                                   : std::string()));
  }
  sqlite3_busy_timeout(raw, 10'000);
  sqlite3_extended_result_codes(raw, 1);
  return f;
}

Result<std::vector<std::vector<std::string>>> SqliteFile::Query(const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return Failure(NoTr(sqlite3_errmsg(db_.get())));  // SQLite's words
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  std::vector<std::vector<std::string>> rows;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(stmt.get()); ++c) {
      const unsigned char* text = sqlite3_column_text(stmt.get(), c);
      row.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) return Failure(NoTr(sqlite3_errmsg(db_.get())));
  return rows;
}

Result<std::vector<std::string>> SqliteFile::Tables() {
  // Not virtual tables: reading one needs its module (vec0, spellfix1: a loadable extension
  // velin does not load), so count(*) failed the backup with "no such module". What they hold
  // is in their shadow tables, ordinary tables counted here like any other.
  VELIN_ASSIGN(auto rows, Query("SELECT name FROM sqlite_schema WHERE type = 'table' "
                                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                                "AND coalesce(sql, '') NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"));
  std::vector<std::string> out;
  for (auto& row : rows) out.push_back(std::move(row[0]));
  return out;
}

Result<std::vector<TableRows>> SqliteFile::CountRows() {
  VELIN_TRY(Query("BEGIN"));
  auto counts = [&]() -> Result<std::vector<TableRows>> {
    VELIN_ASSIGN(std::vector<std::string> tables, Tables());
    std::vector<TableRows> out;
    for (const std::string& t : tables) {
      VELIN_ASSIGN(auto n, Query("SELECT count(*) FROM " + QuoteIdentifier(t)));
      out.push_back({t, std::stoll(n[0][0])});
    }
    return out;
  }();
  (void)Query("COMMIT");
  return counts;
}

Status SqliteFile::IntegrityCheck() {
  auto rows = Query("PRAGMA integrity_check");
  if (!rows) return DamageError(TrFormat("integrity_check failed: {}", rows.error().message));
  if (rows->empty() || (*rows)[0].empty() || (*rows)[0][0] != "ok") {
    std::string first = rows->empty() || (*rows)[0].empty() ? "no answer" : (*rows)[0][0];
    return DamageError(TrFormat("integrity_check failed: {}", first));
  }
  return Ok();
}

Result<int64_t> SqliteFile::SizeBytes() {
  VELIN_ASSIGN(auto count, Query("PRAGMA page_count"));
  VELIN_ASSIGN(auto size, Query("PRAGMA page_size"));
  return std::stoll(count[0][0]) * std::stoll(size[0][0]);
}

}  // namespace velin::db::internal
