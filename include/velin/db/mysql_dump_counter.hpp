// Used by the MariaDB driver (and its fuzz target): counts, while a mariadb-dump/mysqldump stream
// passes by, the tables it creates and the rows it inserts into each. The counts are then exactly
// those of the dump's own snapshot (docs/databases.md#mariadb-mysql explains why this beats a
// second session). It reads the dump's regular layout: `CREATE TABLE \`t\` (` lines, and per table
// a `LOCK TABLES \`t\` WRITE;` ... `UNLOCK TABLES;` block of `INSERT INTO \`t\` VALUES
// (...),(...);` lines (or `INSERT INTO \`t\` (\`a\`, row_start, row_end) VALUES ...`, a system
// versioned table's with its history), whose top-level tuples it counts, skipping quoted strings
// with backslash escapes. Bytes arrive in chunks of any size; a line may span chunks.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "velin/db/driver.hpp"

namespace velin::db {

class MysqlDumpCounter {
 public:
  void Feed(std::string_view chunk);
  // Every table the dump created, with the rows it inserted, sorted by name.
  std::vector<TableRows> Tables() const;
  // The length in bytes of the longest INSERT statement (its ';' included) and its table: a
  // restore sends each statement as one packet, which must fit the server's
  // max_allowed_packet. 0 and "" when there was none.
  int64_t LargestStatement() const { return largest_; }
  const std::string& LargestStatementTable() const { return largest_table_; }

 private:
  enum class Mode { kLineStart, kSkipLine, kValues };
  void OnShortLine(const std::string& line);
  void OnPrefix();
  bool StartValues(std::string_view head);
  const char* ScanValues(const char* p, const char* end);

  Mode mode_ = Mode::kLineStart;
  std::string prefix_;              // the current line's start, while it may still matter
  bool column_list_ = false;        // it is an INSERT head with a column list: may be long
  std::string locked_table_;        // inside LOCK TABLES `t` WRITE; ... UNLOCK TABLES;
  std::string values_table_;        // the table of the INSERT being counted
  int64_t* values_rows_ = nullptr;  // its entry in rows_
  int depth_ = 0;
  bool in_string_ = false;
  bool escaped_ = false;
  char quote_ = 0;
  std::map<std::string, int64_t> rows_;
  int64_t statement_ = 0;  // the bytes of the INSERT being counted so far
  int64_t largest_ = 0;
  std::string largest_table_;
};

// Parses a backquoted identifier at s[pos] ("`a``b`" -> "a`b"), advancing pos past it.
bool ParseBackquoted(std::string_view s, size_t& pos, std::string& out);

// `name` as a backquoted identifier ("a`b" -> "`a``b`"): ParseBackquoted's inverse.
std::string QuoteMysqlIdentifier(std::string_view name);

}  // namespace velin::db
