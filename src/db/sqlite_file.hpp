// Private to the db module: a SQLite connection with errors as one line, and the few queries
// the SQLite driver needs (table list, counts, integrity_check).
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/db/driver.hpp"

namespace velin::db::internal {

class SqliteFile {
 public:
  // Opens `path` (read-only unless `writable`); a missing file is an error unless `create`.
  static Result<SqliteFile> Open(const std::string& path, bool writable, bool create = false);
  // Opens `path` read-only as an immutable file (SQLite's `immutable=1`): no locks, no -wal,
  // no -shm, nothing made beside it. Only for a file nothing writes meanwhile (or whose reader
  // checks after that nothing did).
  static Result<SqliteFile> OpenImmutable(const std::string& path);

  sqlite3* get() const { return db_.get(); }
  // Rows of text for `sql` (no parameters: only fixed SQL and quoted identifiers reach it).
  Result<std::vector<std::vector<std::string>>> Query(const std::string& sql);
  Result<std::vector<std::string>> Tables();   // user tables, sorted
  Result<std::vector<TableRows>> CountRows();  // in one read transaction
  Status IntegrityCheck();                     // DamageError naming the first problem
  Result<int64_t> SizeBytes();                 // page_count * page_size

 private:
  struct Closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  std::unique_ptr<sqlite3, Closer> db_;
};

}  // namespace velin::db::internal
