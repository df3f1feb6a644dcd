#include "velin/db/mysql_restore_filter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace velin::db {
namespace {

// What the filter hands on for `dump` fed in pieces of `chunk` bytes.
std::string FilteredDump(const std::string& dump, size_t chunk, const std::string& from = "",
                         const std::string& to = "") {
  MysqlRestoreFilter filter(from, to);
  std::string out;
  ByteSink sink = [&out](std::string_view s) -> Status {
    out.append(s);
    return Ok();
  };
  for (size_t i = 0; i < dump.size(); i += chunk) {
    EXPECT_TRUE(filter.Feed(std::string_view(dump).substr(i, chunk), sink));
  }
  EXPECT_TRUE(filter.Finish(sink));
  return out;
}

const char* kSequenceDump =
    "/*!40101 SET NAMES utf8mb4 */;\n"
    "CREATE SEQUENCE `s1` start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 1 "
    "cache 1000 nocycle ENGINE=InnoDB;\n"
    "DO SETVAL(`s1`, 1001, 0);\n"
    "DROP TABLE IF EXISTS `u`;\n"
    "CREATE TABLE `u` (\n"
    "  `id` int(11) DEFAULT nextval(`shop-``x`.`s1`),\n"
    "  `note` varchar(40) DEFAULT 'nextval(`shop-``x`.`s1`)' COMMENT 'it''s `shop-``x`.`s1`',\n"
    "  `v` int(11) DEFAULT lastval(`shop-``x`.`s1`)\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=latin1;\n"
    "LOCK TABLES `u` WRITE;\n"
    "/*!40000 ALTER TABLE `u` DISABLE KEYS */;\n"
    "INSERT INTO `u` VALUES\n"
    "(1,'LOCK TABLES `u` WRITE;\\nUNLOCK TABLES;',1);\n"
    "/*!40000 ALTER TABLE `u` ENABLE KEYS */;\n"
    "UNLOCK TABLES;\n"
    "LOCK TABLES `a``\nb` WRITE;\n"
    "UNLOCK TABLES;\n"
    "DELIMITER ;;\n"
    "CREATE PROCEDURE p() BEGIN SELECT nextval(`shop-``x`.`s1`);\n"
    "UNLOCK TABLES;\n"
    "END ;;\n"
    "DELIMITER ;\n"
    "LOCK TABLES `v` READ;\n"
    "UNLOCK TABLES;";

TEST(MysqlRestoreFilter, EmptiesTheLockLinesKeepingTheLineNumbers) {
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{64}, size_t{1} << 20}) {
    const std::string out = FilteredDump(kSequenceDump, chunk);
    EXPECT_EQ(out.find("LOCK TABLES `u`"), out.find("LOCK TABLES `u` WRITE;\\n")) << out;
    EXPECT_EQ(out.find("LOCK TABLES `a``"), std::string::npos) << out;
    // Inside the procedure's DELIMITER block, in a row's string and a READ lock: as they were;
    // the last line, which has no line break, too.
    EXPECT_NE(out.find("\nUNLOCK TABLES;\nEND ;;"), std::string::npos) << out;
    EXPECT_NE(out.find("LOCK TABLES `v` READ;\n"), std::string::npos) << out;
    EXPECT_EQ(out.substr(out.size() - 15), "\nUNLOCK TABLES;") << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'),
              std::count(kSequenceDump, kSequenceDump + std::strlen(kSequenceDump), '\n'));
    // Not renamed: the same name on both sides.
    EXPECT_NE(out.find("DEFAULT nextval(`shop-``x`.`s1`)"), std::string::npos) << out;
  }
  EXPECT_EQ(FilteredDump(kSequenceDump, 7, "shop-`x", "shop-`x"), FilteredDump(kSequenceDump, 7));
}

TEST(MysqlRestoreFilter, ASequenceDefaultNamesTheDatabaseRestoredInto) {
  for (size_t chunk : {size_t{1}, size_t{5}, size_t{1} << 20}) {
    const std::string out = FilteredDump(kSequenceDump, chunk, "shop-`x", "velin_`t");
    EXPECT_NE(out.find("`id` int(11) DEFAULT nextval(`velin_``t`.`s1`),\n"), std::string::npos)
        << out;
    EXPECT_NE(out.find("`v` int(11) DEFAULT lastval(`velin_``t`.`s1`)\n"), std::string::npos)
        << out;
    // Strings and the procedure's body are not the table's defaults: left as they are.
    EXPECT_NE(out.find("DEFAULT 'nextval(`shop-``x`.`s1`)' COMMENT 'it''s `shop-``x`.`s1`'"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("BEGIN SELECT nextval(`shop-``x`.`s1`);"), std::string::npos) << out;
    EXPECT_EQ(out.size(), FilteredDump(kSequenceDump, chunk).size() + 2);  // one byte longer, twice
  }
  // Another database's sequence stays that one's.
  const std::string other = "CREATE TABLE `t` (\n  `id` int DEFAULT nextval(`other`.`s`)\n);\n";
  EXPECT_EQ(FilteredDump(other, 1, "shop", "copy"), other);
}

TEST(MysqlRestoreFilter, PassesEverythingElseByteForByte) {
  std::string dump = "-- MariaDB dump\n\nINSERT INTO `t` VALUES (1,'";
  dump += std::string(100000, 'x') + "');\nLOCK TABLES\nLOCK TABLES `";
  dump += std::string(5000, 'y') + "` WRITE;\nCREATE TABLE `t` (`a` int) -- no end";
  for (size_t chunk : {size_t{1}, size_t{4096}}) {
    EXPECT_EQ(FilteredDump(dump, chunk, "a", "b"), dump);
  }
  EXPECT_EQ(FilteredDump("", 1), "");
}

}  // namespace
}  // namespace velin::db
