#include "velin/db/mysql_dump_counter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

namespace velin::db {
namespace {

const char* kDump =
    "-- MariaDB dump 10.19\n"
    "/*!40101 SET NAMES utf8mb4 */;\n"
    "DROP TABLE IF EXISTS `a``b`;\n"
    "CREATE TABLE `a``b` (\n"
    "  `id` int(11) NOT NULL\n"
    ") ENGINE=InnoDB;\n"
    "LOCK TABLES `a``b` WRITE;\n"
    "/*!40000 ALTER TABLE `a``b` DISABLE KEYS */;\n"
    "INSERT INTO `a``b` VALUES (1,'x(),\\'y;'),(2,'z\"\\\\'),(3,NULL);\n"
    "INSERT INTO `a``b` VALUES\n(4,'line\\nbreak'),\n(5,')');\n"
    "/*!40000 ALTER TABLE `a``b` ENABLE KEYS */;\n"
    "UNLOCK TABLES;\n"
    "CREATE TABLE `empty table` (\n"
    "  `id` int(11)\n"
    ");\n"
    "LOCK TABLES `empty table` WRITE;\n"
    "UNLOCK TABLES;\n"
    "DELIMITER ;;\n"
    "/*!50003 CREATE*/ /*!50003 TRIGGER t AFTER INSERT ON `a``b` FOR EACH ROW\n"
    "INSERT INTO `a``b` VALUES (NEW.id, (1)) */;;\n"
    "DELIMITER ;\n"
    "/*!50001 CREATE TABLE `v` (\n"
    "  `id` tinyint NOT NULL\n"
    ") */;\n";

std::vector<TableRows> Count(const std::string& dump, size_t chunk) {
  MysqlDumpCounter counter;
  for (size_t i = 0; i < dump.size(); i += chunk)
    counter.Feed(std::string_view(dump).substr(i, chunk));
  return counter.Tables();
}

TEST(MysqlDumpCounter, CountsTuplesOfEachLockedTableSkippingStringsAndTriggers) {
  std::vector<TableRows> want = {{"a`b", 5}, {"empty table", 0}};
  EXPECT_EQ(Count(kDump, 1 << 20), want);
}

// The longest INSERT, whole (its head, the line break after it, the values and the ';'), and
// its table, whatever the chunks: what a restore sends the server as one packet.
TEST(MysqlDumpCounter, MeasuresTheLongestInsertStatement) {
  const std::string longest = "INSERT INTO `a``b` VALUES (1,'x(),\\'y;'),(2,'z\"\\\\'),(3,NULL);";
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{4096}}) {
    MysqlDumpCounter counter;
    const std::string dump = kDump;
    for (size_t i = 0; i < dump.size(); i += chunk) counter.Feed(dump.substr(i, chunk));
    EXPECT_EQ(counter.LargestStatement(), static_cast<int64_t>(longest.size())) << chunk;
    EXPECT_EQ(counter.LargestStatementTable(), "a`b");
  }
  EXPECT_EQ(MysqlDumpCounter().LargestStatement(), 0);
}

// A 10 MB blob of NUL bytes is a 20 MB value of "\\0" escapes: counted in one pass, not a
// scan to the chunk's end after every backslash (which took 90 s of CPU for such a row).
TEST(MysqlDumpCounter, CountsAValueOfMillionsOfEscapesInLinearTime) {
  std::string value;
  for (int i = 0; i < 10'000'000; ++i) value += "\\0";
  const std::string statement = "INSERT INTO `doc` VALUES (1,'" + value + "'),(2,'small');";
  const std::string dump = "CREATE TABLE `doc` (\n) ENGINE=InnoDB;\nLOCK TABLES `doc` WRITE;\n" +
                           statement + "\nUNLOCK TABLES;\n";
  const auto start = std::chrono::steady_clock::now();
  MysqlDumpCounter counter;
  for (size_t i = 0; i < dump.size(); i += 65536)
    counter.Feed(std::string_view(dump).substr(i, 65536));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(counter.Tables(), (std::vector<TableRows>{{"doc", 2}}));
  EXPECT_EQ(counter.LargestStatement(), static_cast<int64_t>(statement.size()));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(MysqlDumpCounter, GivesTheSameCountsWhateverTheChunkBoundaries) {
  std::vector<TableRows> want = Count(kDump, 1 << 20);
  for (size_t chunk : {1, 2, 3, 7, 64}) EXPECT_EQ(Count(kDump, chunk), want) << chunk;
}

// mariadb-dump --dump-history writes a system versioned table's rows, history too, with a
// column list that names versioning's own columns unquoted: every version is a row.
TEST(MysqlDumpCounter, CountsTheRowsOfInsertsWithAColumnList) {
  std::string columns;
  for (int i = 0; i < 300; ++i) columns += "`column number " + std::to_string(i) + "`, ";
  const std::string dump =
      "CREATE TABLE `vers` (\n) ENGINE=InnoDB WITH SYSTEM VERSIONING;\n"
      "LOCK TABLES `vers` WRITE;\n"
      "INSERT INTO `vers` (`id`, `v) VALUES (`, row_start, row_end) VALUES (1,1,'2026-12-06 "
      "22:44:24.422286','2026-12-06 22:44:24.430259'),\n(1,11,'a','b'),\n(2,2,'c','d');\n"
      "INSERT INTO `vers` (" +
      columns + "row_start, row_end) VALUES (3,'x'),(4,'y');\n" +
      "INSERT INTO `other` (`id`) VALUES (5);\n"
      "UNLOCK TABLES;\n";
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{1} << 20}) {
    EXPECT_EQ(Count(dump, chunk), (std::vector<TableRows>{{"vers", 5}})) << chunk;
  }
}

TEST(MysqlDumpCounter, IgnoresInsertsOutsideTheirTablesLockBlock) {
  std::string dump =
      "CREATE TABLE `t` (\n);\nINSERT INTO `t` VALUES (1),(2);\n"
      "LOCK TABLES `t` WRITE;\nINSERT INTO `u` VALUES (1);\nINSERT INTO `t` VALUES (9);\n"
      "UNLOCK TABLES;\n";
  std::vector<TableRows> want = {{"t", 1}};
  EXPECT_EQ(Count(dump, 5), want);
}

// Long values, as real tables have (the scan tests 16 bytes at a time): strings of 0-200 bytes
// full of the characters that matter outside them ('(', ')', ';', the other quote) and of
// escaped quotes and backslashes at every offset, fed in pieces of random size. Every tuple is
// counted once, whatever falls on a 16-byte or a piece boundary.
TEST(MysqlDumpCounter, CountsLongValuesWithEscapesAtEveryOffset) {
  std::mt19937 rng(19);
  const std::string alphabet = "abc 019();,\"`\n";
  auto value = [&](char quote) {
    std::string v(1, quote);
    const int n = static_cast<int>(rng() % 200);
    for (int i = 0; i < n; ++i) {
      switch (rng() % 8) {
        case 0:
          v += '\\';
          v += quote;  // an escaped quote
          break;
        case 1:
          v += "\\\\";  // an escaped backslash
          break;
        default:
          const char c = alphabet[rng() % alphabet.size()];
          v += c == quote ? 'q' : c;
      }
    }
    return v + quote;
  };
  std::string dump = "CREATE TABLE `t` (\n);\nLOCK TABLES `t` WRITE;\n";
  int64_t tuples = 0;
  for (int statement = 0; statement < 40; ++statement) {
    dump += "INSERT INTO `t` VALUES ";
    const int n = 1 + static_cast<int>(rng() % 60);
    for (int t = 0; t < n; ++t, ++tuples) {
      dump += t ? ",(" : "(";
      dump += std::to_string(rng()) + "," + value('\'') + ",NULL," + value('"') + "," + value('\'');
      dump += ")";
    }
    dump += ";\n";
  }
  dump += "UNLOCK TABLES;\n";
  const std::vector<TableRows> want = {{"t", tuples}};
  for (int round = 0; round < 20; ++round) {
    MysqlDumpCounter counter;
    for (size_t i = 0; i < dump.size();) {
      const size_t piece = 1 + rng() % 97;
      counter.Feed(std::string_view(dump).substr(i, piece));
      i += piece;
    }
    EXPECT_EQ(counter.Tables(), want) << "round " << round;
  }
  EXPECT_EQ(Count(dump, 1 << 20), want);
}

TEST(ParseBackquoted, UndoublesBackquotesAndRejectsUnterminatedNames) {
  std::string out;
  size_t pos = 0;
  ASSERT_TRUE(ParseBackquoted("`a``b` rest", pos, out));
  EXPECT_EQ(out, "a`b");
  EXPECT_EQ(pos, 6u);
  pos = 0;
  EXPECT_FALSE(ParseBackquoted("`abc", pos, out));
}

TEST(ParseBackquoted, ReadsBackWhatQuoteMysqlIdentifierWrites) {
  for (std::string name : {"a", "a`b", "``", "x y", ""}) {
    const std::string quoted = QuoteMysqlIdentifier(name);
    std::string out;
    size_t pos = 0;
    ASSERT_TRUE(ParseBackquoted(quoted, pos, out)) << quoted;
    EXPECT_EQ(out, name);
    EXPECT_EQ(pos, quoted.size());
  }
  EXPECT_EQ(QuoteMysqlIdentifier("a`b"), "`a``b`");
}

}  // namespace
}  // namespace velin::db
