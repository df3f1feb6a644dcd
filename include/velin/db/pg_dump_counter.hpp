// Used by the PostgreSQL driver: reads a `pg_dump --format=custom --compress=0` stream as it
// passes by and counts the rows of every table whose data it holds, so that no second scan of
// every table (`count(*)`) competes with the dump for the server (docs/databases.md#postgresql).
// The counts are then exactly those of the dump's own snapshot: what a restore must give back.
//
// It reads the archive's layout (pg_dump's pg_backup_archiver.c / pg_backup_custom.c, archive
// versions 1.12 to 1.15: PostgreSQL 9.5 to 16): the header (which names the pg_dump version),
// the table of contents (which maps each "TABLE DATA" entry's dump id to its schema and table),
// then one block per entry with data: a type byte, the dump id, and length-prefixed chunks up to
// a zero length. A table's data is COPY text: one line per row (a newline inside a value is
// written as the two characters `\n`), ended by a line `\.`. Large objects' blocks are skipped.
// Anything else (another archive version, a compressed archive, a malformed or truncated stream)
// makes Complete() false, and the caller counts another way. Bytes arrive in chunks of any size.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "velin/db/driver.hpp"

namespace velin::db {

class PgDumpCounter {
 public:
  void Feed(std::string_view chunk);
  // Call once the stream ended (reads a table of contents still waiting for more bytes).
  void Finish();
  // The whole stream was understood, and it ended after the data block of every entry of its
  // table of contents that has one.
  bool Complete() const;
  // The version of the pg_dump that wrote the stream ("15.20"); "" before the header is read.
  const std::string& DumpVersion() const { return dump_version_; }
  // Every table whose data the stream holds ("schema.table") with its rows, sorted by name.
  // Meaningful when Complete().
  std::vector<TableRows> Tables() const;

  // One entry of the table of contents, as `pg_restore --list` shows it: "3; … EXTENSION -
  // citext", "3481; … COMMENT - EXTENSION citext".
  struct TocEntry {
    int64_t dump_id = 0;
    std::string desc;    // "EXTENSION", "COMMENT", "TABLE", "TABLE DATA", ...
    std::string tag;     // "citext", "EXTENSION citext", "users", ...
    std::string schema;  // "public" ("" for objects outside a schema: extensions, schemas)
    // The SQL making it, kept for the database's own entries only: ENCODING, DATABASE ("SET
    // client_encoding = 'UTF8';", "CREATE DATABASE shop WITH TEMPLATE = template0 ENCODING =
    // 'UTF8' ..."), DATABASE PROPERTIES, and the ACL and COMMENT tagged "DATABASE shop".
    std::string defn;
    // The entry's owner, kept for the DATABASE entry only: pg_restore --create gives the
    // database to it (ALTER DATABASE … OWNER TO), which a restore into a new database must too.
    std::string owner;
  };
  // Whether `pg_restore --list` shows the entry: not the ones every restore handles itself
  // (ENCODING, STDSTRINGS, SEARCHPATH) nor the database's own (DATABASE, DATABASE PROPERTIES:
  // only with --create). A --use-list file names only listed entries.
  static bool Listed(const TocEntry& e) {
    return e.desc != "ENCODING" && e.desc != "STDSTRINGS" && e.desc != "SEARCHPATH" &&
           e.desc != "DATABASE" && e.desc != "DATABASE PROPERTIES";
  }
  // Whether the header and the table of contents were read (the stream's first bytes).
  bool TocRead() const { return toc_read_; }
  // The table of contents in the archive's order (the order a restore takes), once TocRead().
  const std::vector<TocEntry>& Toc() const { return toc_; }

 private:
  enum class State {
    kHead,       // header and table of contents, collected in head_
    kBlockType,  // between data blocks
    kDumpId,
    kChunkLength,
    kChunkData,
    kBlobOid,  // in a large objects' block: the next object's oid, 0 at the end
    kFailed,
  };
  // 1: parsed (and the rest of head_ fed on), 0: needs more bytes, -1: not understood.
  int ParseHead();
  // Collects a (1 + int_size_)-byte integer across chunks; true once `value` is complete.
  bool TakeInt(const char*& p, const char* end, int64_t& value);
  void CountLines(const char* p, const char* end);
  void Fail();

  State state_ = State::kHead;
  std::string head_;
  size_t head_tried_ = 0;  // head_.size() at the last attempt that needed more bytes
  std::string dump_version_;
  int int_size_ = 0;
  std::string int_bytes_;  // a partly received integer
  struct Entry {
    std::string table;  // "schema.table" for TABLE DATA, "" for other entries with data
    bool seen = false;
  };
  std::map<int64_t, Entry> with_data_;  // by dump id: the entries whose data blocks follow
  std::map<std::string, int64_t> rows_;
  bool in_blobs_ = false;        // the current block holds large objects
  int64_t* counting_ = nullptr;  // the current table's row count, or nullptr
  int64_t chunk_left_ = 0;
  // The current COPY line: its length so far (capped) and first two bytes.
  size_t line_length_ = 0;
  char line_start_[2] = {0, 0};
  bool ended_ = false;  // the current table's `\.` line was read
  bool toc_read_ = false;
  std::vector<TocEntry> toc_;
};

}  // namespace velin::db
