#include "velin/db/mysql_dump_counter.hpp"

#include <gtest/gtest.h>

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

TEST(MysqlDumpCounter, GivesTheSameCountsWhateverTheChunkBoundaries) {
  std::vector<TableRows> want = Count(kDump, 1 << 20);
  for (size_t chunk : {1, 2, 3, 7, 64}) EXPECT_EQ(Count(kDump, chunk), want) << chunk;
}

TEST(MysqlDumpCounter, IgnoresInsertsOutsideTheirTablesLockBlock) {
  std::string dump =
      "CREATE TABLE `t` (\n);\nINSERT INTO `t` VALUES (1),(2);\n"
      "LOCK TABLES `t` WRITE;\nINSERT INTO `u` VALUES (1);\nINSERT INTO `t` VALUES (9);\n"
      "UNLOCK TABLES;\n";
  std::vector<TableRows> want = {{"t", 1}};
  EXPECT_EQ(Count(dump, 5), want);
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

}  // namespace
}  // namespace velin::db
