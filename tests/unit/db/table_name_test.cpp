#include "velin/db/table_name.hpp"

#include <gtest/gtest.h>

#include "velin/db/driver.hpp"

namespace velin::db {
namespace {

TEST(QualifiedTableName, QuotesOnlyAComponentHoldingADotOrAQuote) {
  EXPECT_EQ(QualifiedTableName("public", "users"), "public.users");
  EXPECT_EQ(QualifiedTableName("a", "b.c"), "a.\"b.c\"");
  EXPECT_EQ(QualifiedTableName("a.b", "c"), "\"a.b\".c");
  EXPECT_EQ(QualifiedTableName("s", "say \"hi\""), "s.\"say \"\"hi\"\"\"");
  EXPECT_EQ(QualifiedTableName("s", "with space"), "s.with space");
}

TEST(LegacyTableName, IsTheNameOlderVelinRecorded) {
  EXPECT_EQ(LegacyTableName("a.\"b.c\""), "a.b.c");
  EXPECT_EQ(LegacyTableName("\"a.b\".c"), "a.b.c");
  EXPECT_EQ(LegacyTableName("s.\"say \"\"hi\"\"\""), "s.say \"hi\"");
  EXPECT_EQ(LegacyTableName("public.users"), "public.users");
  EXPECT_EQ(LegacyTableName("users"), "users");
  EXPECT_EQ(LegacyTableName("x\"y"), "x\"y");  // a MariaDB table: no quoted form
}

// A backup of older velin recorded a."b.c" (5 rows) and "a.b".c (7 rows) both as a.b.c with
// the rows of both: its restore test still passes.
TEST(CompareRowCounts, MatchesTablesRecordedUnderTheOldAmbiguousName) {
  const std::vector<TableRows> restored = {{"\"a.b\".c", 7}, {"a.\"b.c\"", 5}, {"public.users", 3}};
  EXPECT_TRUE(
      CompareRowCounts({{"a.b.c", 12}, {"a.b.c", 12}, {"public.users", 3}}, restored).empty());
  EXPECT_TRUE(CompareRowCounts({{"\"a.b\".c", 7}, {"a.\"b.c\"", 5}, {"public.users", 3}}, restored)
                  .empty());
  const auto problems = CompareRowCounts({{"a.b.c", 11}, {"public.users", 3}}, restored);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "table 'a.b.c': 11 rows recorded, 12 restored");
}

}  // namespace
}  // namespace velin::db
