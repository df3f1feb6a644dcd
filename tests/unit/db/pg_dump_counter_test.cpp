// The reader of pg_dump's custom format on real pg_dump 15 streams (tests/support/db_servers.hpp):
// rows counted whatever the chunk boundaries, and every stream it cannot vouch for (truncated,
// damaged, compressed, not an archive) refused rather than miscounted.
#include "velin/db/pg_dump_counter.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "support/db_servers.hpp"
#include "support/db_streams.hpp"

namespace velin::testing {
namespace {

struct Counted {
  bool complete = false;
  std::string version;
  std::vector<db::TableRows> tables;
};

Counted Count(std::string_view dump, size_t chunk) {
  db::PgDumpCounter counter;
  for (size_t i = 0; i < dump.size(); i += chunk) counter.Feed(dump.substr(i, chunk));
  counter.Finish();
  return {counter.Complete(), counter.DumpVersion(), counter.Tables()};
}

class PgDumpCounterTest : public ::testing::Test {
 protected:
  // One dump for the whole suite: rows with newlines, backslashes and a value `\.`, an empty
  // table, a partitioned table, a large object, a sequence, a materialized view, and names
  // with spaces and dots.
  static void SetUpTestSuite() {
    PostgresServer& pg = PostgresServer::Shared();
    std::string db = pg.CreateDatabase();
    pg.Sql(db,
           "SET ROLE app;"
           "CREATE TABLE t (a int, b text);"
           "INSERT INTO t VALUES (1, 'x'), (2, E'multi\\nline'), (3, NULL), (4, E'\\\\.'),"
           " (5, E'\\\\.\\nnext'), (6, E'tab\\there');"
           "CREATE TABLE empty (a int);"
           "CREATE SCHEMA \"s p.ace\"; CREATE TABLE \"s p.ace\".\"we.ird\" (x int);"
           "INSERT INTO \"s p.ace\".\"we.ird\" SELECT generate_series(1, 300);"
           "CREATE TABLE parted (a int) PARTITION BY RANGE (a);"
           "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10);"
           "INSERT INTO parted VALUES (1), (2);"
           "CREATE SEQUENCE seq; SELECT nextval('seq');"
           "SELECT lo_from_bytea(0, 'a large object');"
           "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x;");
    auto driver = db::OpenDriver(pg.Options(db));
    ASSERT_TRUE(driver) << driver.error().message;
    auto info = (*driver)->Dump(StringSink(*dump_));
    ASSERT_TRUE(info) << info.error().message;
  }
  static void TearDownTestSuite() { dump_->clear(); }

  static inline std::string* dump_ = new std::string;
  const std::vector<db::TableRows> want_ = {
      // A component holding a dot is quoted (db/table_name.hpp): "s p.ace.we.ird" was ambiguous.
      {"\"s p.ace\".\"we.ird\"", 300},
      {"public.empty", 0},
      {"public.parted_1", 2},
      {"public.t", 6}};
};

TEST_F(PgDumpCounterTest, CountsEveryTablesRowsWhateverTheChunkBoundaries) {
  ASSERT_FALSE(dump_->empty());
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{5}, size_t{4096}, dump_->size()}) {
    Counted c = Count(*dump_, chunk);
    EXPECT_TRUE(c.complete) << chunk;
    EXPECT_EQ(c.version.substr(0, 3), "15.") << chunk;
    EXPECT_EQ(c.tables, want_) << chunk;
  }
}

// The table of contents as `pg_restore --list` gives it (ids in the archive's order), which a
// restore's --use-list is built from.
TEST_F(PgDumpCounterTest, TheTableOfContentsIsReadInTheArchivesOrder) {
  ASSERT_FALSE(dump_->empty());
  db::PgDumpCounter counter;
  EXPECT_FALSE(counter.TocRead());
  for (size_t i = 0; i < dump_->size() && !counter.TocRead(); i += 7) {
    counter.Feed(std::string_view(*dump_).substr(i, 7));
  }
  ASSERT_TRUE(counter.TocRead());
  const std::string path = ::testing::TempDir() + "/velin_toc_" + std::to_string(::getpid());
  WriteFile(path, *dump_);
  RunResult listed = RunProgram({"pg_restore", "--list", path});
  std::filesystem::remove(path);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::string want, got;
  for (size_t start = 0; start < listed.out.size();) {
    size_t end = listed.out.find('\n', start);
    if (end == std::string::npos) end = listed.out.size();
    const std::string line = listed.out.substr(start, end - start);
    start = end + 1;
    if (line.empty() || line[0] == ';') continue;
    want += line.substr(0, line.find(';')) + "\n";
  }
  bool table_data = false;
  for (const auto& e : counter.Toc()) {
    if (!db::PgDumpCounter::Listed(e)) continue;
    got += std::to_string(e.dump_id) + "\n";
    table_data = table_data || (e.desc == "TABLE DATA" && e.tag == "t");
  }
  EXPECT_EQ(got, want);
  EXPECT_TRUE(table_data);
}

TEST_F(PgDumpCounterTest, EveryTruncatedStreamIsIncomplete) {
  ASSERT_FALSE(dump_->empty());
  for (size_t n = 0; n < dump_->size(); ++n) {
    ASSERT_FALSE(Count(std::string_view(*dump_).substr(0, n), 1 << 20).complete) << n;
  }
  // And trailing bytes after the last block are not an archive either.
  EXPECT_FALSE(Count(*dump_ + std::string(1, '\0'), 1 << 20).complete);
  EXPECT_FALSE(Count(*dump_ + *dump_, 1 << 20).complete);
}

TEST_F(PgDumpCounterTest, AnotherFormatVersionOrACompressedArchiveIsNotRead) {
  ASSERT_GT(dump_->size(), 16u);
  // "PGDMP", major, minor, revision, int size, offset size, format (bytes 0-10), then the
  // compression level as an integer: a sign byte (11), the value's low byte first (12).
  ASSERT_EQ(dump_->substr(0, 5), "PGDMP");
  for (size_t at : {0, 4, 5, 6, 8, 9, 10, 12}) {
    std::string damaged = *dump_;
    damaged[at] = static_cast<char>(damaged[at] ^ 0xff);
    EXPECT_FALSE(Count(damaged, 1 << 20).complete) << "byte " << at;
  }
  std::string compressed = *dump_;
  compressed[12] = 6;  // --compress=6
  EXPECT_FALSE(Count(compressed, 1 << 20).complete);
  EXPECT_FALSE(Count("", 1).complete);
  EXPECT_FALSE(Count("pg_dump (PostgreSQL) 13.4\n", 4).complete);
}

// Hostile input: every single damaged byte is read without reading out of bounds (the
// sanitizer build checks) and without hanging; a damaged length or dump id is caught.
TEST_F(PgDumpCounterTest, ADamagedByteAnywhereIsReadSafely) {
  ASSERT_FALSE(dump_->empty());
  size_t refused = 0;
  for (size_t at = 0; at < dump_->size(); ++at) {
    std::string damaged = *dump_;
    damaged[at] = static_cast<char>(damaged[at] ^ 0xff);
    Counted c = Count(damaged, 4096);
    if (!c.complete) ++refused;
  }
  // Most bytes are inside text (definitions, rows) whose damage the structure cannot see; the
  // lengths, ids and markers it can are a good part of the rest.
  EXPECT_GT(refused, dump_->size() / 20);
}

}  // namespace
}  // namespace velin::testing
