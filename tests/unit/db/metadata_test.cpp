#include "velin/db/metadata.hpp"

#include <gtest/gtest.h>

#include "velin/db/driver.hpp"

namespace velin::db {
namespace {

DatabaseInfo Sample() {
  DatabaseInfo info;
  info.driver = "postgresql";
  info.name = "shop";
  info.server_version = "15.20";
  info.dump_tool = "pg_dump";
  info.dump_tool_version = "15.20";
  info.dump_format = "pg_custom";
  info.size_bytes = 8'000'000'000LL;
  info.tables = {{"public.orders", 120}, {"public.users", 3}};
  return info;
}

TEST(DatabaseMetadata, RoundTripsThroughJson) {
  Result<DatabaseInfo> back = DatabaseInfoFromJson(DatabaseInfoToJson(Sample()));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->server_version, "15.20");
  EXPECT_EQ(back->size_bytes, 8'000'000'000LL);
  EXPECT_EQ(back->tables, Sample().tables);
}

// `roles` (PostgreSQL): written only when there are some, so the metadata of a backup without
// them is what older velins wrote; one without the key reads as none.
TEST(DatabaseMetadata, RolesRoundTripAndAreOptional) {
  DatabaseInfo info = Sample();
  EXPECT_FALSE(DatabaseInfoToJson(info).contains("roles"));
  info.roles = {"app", "reader"};
  nlohmann::json doc = DatabaseInfoToJson(info);
  Result<DatabaseInfo> back = DatabaseInfoFromJson(doc);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->roles, info.roles);
  doc.erase("roles");
  back = DatabaseInfoFromJson(doc);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->roles.empty());
  for (const char* bad : {R"("app")", R"([1])", R"([""])"}) {
    doc["roles"] = nlohmann::json::parse(bad);
    EXPECT_FALSE(DatabaseInfoFromJson(doc)) << bad;
  }
  // `definers` (MariaDB) the same way.
  DatabaseInfo mysql = Sample();
  mysql.definers = {"admin@localhost"};
  doc = DatabaseInfoToJson(mysql);
  EXPECT_FALSE(doc.contains("roles"));
  back = DatabaseInfoFromJson(doc);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->definers, mysql.definers);
  doc["definers"] = {{"a", 1}};
  back = DatabaseInfoFromJson(doc);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("'definers'"), std::string::npos) << back.error().message;
}

// The largest statement's size (MariaDB) is written when known and read back; older backups
// lack it (0: unknown, no check).
TEST(DatabaseMetadata, KeepsTheLargestStatementWhenKnown) {
  DatabaseInfo info = Sample();
  nlohmann::json doc = DatabaseInfoToJson(info);
  EXPECT_FALSE(doc.contains("largest_statement_bytes"));
  info.largest_statement = 20000123;
  doc = DatabaseInfoToJson(info);
  EXPECT_EQ(doc["largest_statement_bytes"], 20000123);
  Result<DatabaseInfo> back = DatabaseInfoFromJson(doc);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->largest_statement, 20000123);
  doc["largest_statement_bytes"] = "big";
  EXPECT_FALSE(DatabaseInfoFromJson(doc));
  doc.erase("largest_statement_bytes");
  back = DatabaseInfoFromJson(doc);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->largest_statement, 0);
}

// MariaDB's history tables, character set and collation: written when known, read back; older
// backups lack them (none, "": the server's defaults).
TEST(DatabaseMetadata, KeepsTheHistoryTablesAndTheCharacterSet) {
  DatabaseInfo info = Sample();
  nlohmann::json doc = DatabaseInfoToJson(info);
  for (const char* key : {"history_tables", "character_set", "collation"}) {
    EXPECT_FALSE(doc.contains(key)) << key;
  }
  info.history_tables = {"vers", "vm"};
  info.character_set = "utf8mb4";
  info.collation = "utf8mb4_unicode_ci";
  doc = DatabaseInfoToJson(info);
  Result<DatabaseInfo> back = DatabaseInfoFromJson(doc);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->history_tables, info.history_tables);
  EXPECT_EQ(back->character_set, "utf8mb4");
  EXPECT_EQ(back->collation, "utf8mb4_unicode_ci");
  doc["collation"] = 7;
  back = DatabaseInfoFromJson(doc);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("'collation'"), std::string::npos) << back.error().message;
}

TEST(DatabaseMetadata, RejectsAWrongTypeNamingTheField) {
  nlohmann::json doc = DatabaseInfoToJson(Sample());
  doc["tables"][1]["rows"] = "three";
  Result<DatabaseInfo> back = DatabaseInfoFromJson(doc);
  ASSERT_FALSE(back);
  EXPECT_NE(back.error().message.find("'rows'"), std::string::npos) << back.error().message;
  EXPECT_FALSE(DatabaseInfoFromJson(nlohmann::json::array()));
}

TEST(DatabaseMetadata, RejectsNumbersThatAreNoInt64) {
  for (const char* rows : {"1e30", "1.5", "18446744073709551615"}) {
    nlohmann::json doc = DatabaseInfoToJson(Sample());
    doc["tables"][0]["rows"] = nlohmann::json::parse(rows);
    Result<DatabaseInfo> back = DatabaseInfoFromJson(doc);
    ASSERT_FALSE(back) << rows;
    EXPECT_NE(back.error().message.find("'rows'"), std::string::npos) << back.error().message;
  }
}

TEST(CompareRowCounts, NamesEveryTableThatDiffersOrIsMissing) {
  std::vector<TableRows> recorded = {{"a", 1}, {"b", 2}, {"c", 3}};
  std::vector<TableRows> restored = {{"a", 1}, {"b", 1}, {"d", 0}};
  std::vector<std::string> problems = CompareRowCounts(recorded, restored);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0], "table 'b': 2 rows recorded, 1 restored");
  EXPECT_EQ(problems[1], "table 'c': 3 rows recorded, missing after the restore");
  EXPECT_EQ(problems[2], "table 'd': not recorded, 0 rows after the restore");
  EXPECT_TRUE(CompareRowCounts(recorded, recorded).empty());
}

TEST(OpenDriver, RejectsAnUnknownDriverAndMissingKeysAsUsageErrors) {
  ConnectionOptions o;
  o.driver = "oracle";
  auto d = OpenDriver(o);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ExitCode::kUsage);
  o.driver = "postgresql";
  EXPECT_FALSE(OpenDriver(o));
  o.driver = "sqlite";
  EXPECT_FALSE(OpenDriver(o));
}

}  // namespace
}  // namespace velin::db
