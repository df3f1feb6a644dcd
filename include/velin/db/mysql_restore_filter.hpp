// Used by the MariaDB driver at restore: passes a mariadb-dump/mysqldump stream on to the client
// with two changes (docs/databases.md#mariadb-mysql):
// - Its `LOCK TABLES `t` WRITE;` and `UNLOCK TABLES;` lines become empty lines. A table whose
//   column default draws from a sequence (`DEFAULT NEXTVAL(s)`) cannot be written under a LOCK
//   TABLES that does not name the sequence (1100 "Table 's' was not locked with LOCK TABLES"),
//   and the dump never names it: the restore stopped there, that table dropped and made again
//   empty. The lines stay, empty, so that the client's line numbers are the dump's. The backup
//   keeps writing them: its row counter (mysql_dump_counter.hpp) reads those blocks.
// - Restored under another name (`to` differs from `from`), a CREATE TABLE's sequence default
//   `nextval(`from`.`s`)` (the server always writes it qualified with its database) names `to`
//   instead, so that the restored table draws from the restored sequence, not from the
//   original database's. Only in CREATE TABLE statements, outside quoted strings, and only a
//   database name right after `nextval(` or `lastval(`.
// Both only at a line's start outside a DELIMITER block: routine, trigger and event bodies pass
// as they are. Every other byte passes unchanged; bytes arrive in chunks of any size.
#pragma once

#include <string>
#include <string_view>

#include "velin/db/driver.hpp"

namespace velin::db {

class MysqlRestoreFilter {
 public:
  // `from`: the backup's database, `to`: the one restored into; "" or equal: no renaming.
  MysqlRestoreFilter(std::string_view from, std::string_view to);
  // Hands what `chunk` gives on to `sink` (one call, none when nothing is ready).
  Status Feed(std::string_view chunk, const ByteSink& sink);
  // Hands on what is still held (a line start the stream ended in).
  Status Finish(const ByteSink& sink);

 private:
  enum class Mode { kLineStart, kPassLine, kCreateTable };
  enum class Scan { kCode, kString, kStringEscape, kIdent, kIdentMaybeEnd };
  enum class Verdict { kMore, kPass, kDrop, kCreateTable, kDelimiter };
  Verdict Classify() const;
  void OnLineStartByte(char c);
  void OnCreateTableByte(char c);
  void EndIdent(char next);

  std::string from_quoted_, to_quoted_;  // "`a``b`"; empty: no renaming
  std::string delimiter_ = ";";
  Mode mode_ = Mode::kLineStart;
  Scan scan_ = Scan::kCode;
  char quote_ = 0;
  std::string held_;            // the current line's start, while it may be one to change
  std::string ident_;           // the backquoted identifier being read in a CREATE TABLE, raw
  bool ident_spilled_ = false;  // too long to hold: passed on as it came
  std::string recent_;          // the last code bytes of the CREATE TABLE, lower case
  std::string out_;
};

}  // namespace velin::db
