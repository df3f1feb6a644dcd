#include "velin/db/pg_database_entries.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace velin::db {
namespace {

using Statements = std::vector<std::string>;

TEST(PgDatabaseEntries, RenamesTheDatabaseOutsideStringsAndQuotedNames) {
  const std::string sql =
      "ALTER DATABASE \"shop x\" SET search_path TO 'app', 'public';\n"
      "ALTER ROLE reporting IN DATABASE \"shop x\" SET work_mem TO '16MB';\n"
      "COMMENT ON DATABASE \"shop x\" IS 'the shop''s DATABASE \"shop x\"; db';\n"
      "GRANT CONNECT ON DATABASE \"shop x\" TO \"DATABASE \"\"shop x\"\"\";\n";
  EXPECT_EQ(RenamedDatabaseStatements(sql, "\"shop x\"", "copy"),
            (Statements{
                "ALTER DATABASE copy SET search_path TO 'app', 'public';",
                "ALTER ROLE reporting IN DATABASE copy SET work_mem TO '16MB';",
                "COMMENT ON DATABASE copy IS 'the shop''s DATABASE \"shop x\"; db';",
                "GRANT CONNECT ON DATABASE copy TO \"DATABASE \"\"shop x\"\"\";",
            }));
  // A longer name that starts with the same letters is another database.
  EXPECT_EQ(RenamedDatabaseStatements("GRANT CONNECT ON DATABASE shop2 TO app;", "shop", "x"),
            (Statements{"GRANT CONNECT ON DATABASE shop2 TO app;"}));
  EXPECT_EQ(RenamedDatabaseStatements("", "shop", "x"), Statements{});
}

TEST(PgDatabaseEntries, TakesTheDatabasesOwnEntriesByKindInTheArchivesOrder) {
  using E = PgDumpCounter::TocEntry;
  const std::vector<E> toc = {
      E{.dump_id = 1, .desc = "DATABASE", .tag = "shop", .defn = "CREATE DATABASE shop;"},
      E{.dump_id = 2,
        .desc = "COMMENT",
        .tag = "DATABASE shop",
        .defn = "COMMENT ON DATABASE shop IS 'x';\n"},
      E{.dump_id = 3,
        .desc = "DATABASE PROPERTIES",
        .tag = "shop",
        .defn = "ALTER DATABASE shop SET work_mem TO '8MB';\n"},
      E{.dump_id = 4, .desc = "COMMENT", .tag = "TABLE t", .defn = "COMMENT ON TABLE t IS 'y';"},
      E{.dump_id = 5,
        .desc = "ACL",
        .tag = "DATABASE shop",
        .defn = "REVOKE CONNECT,TEMPORARY ON DATABASE shop FROM PUBLIC;\n"
                "GRANT CONNECT ON DATABASE shop TO reporting;\n"},
  };
  EXPECT_EQ(DumpedDatabaseName(toc), "shop");
  EXPECT_EQ(DatabaseStatements(toc, DatabaseEntryKind::kAccess, "shop", "\"new db\""),
            (Statements{"COMMENT ON DATABASE \"new db\" IS 'x';",
                        "REVOKE CONNECT,TEMPORARY ON DATABASE \"new db\" FROM PUBLIC;",
                        "GRANT CONNECT ON DATABASE \"new db\" TO reporting;"}));
  EXPECT_EQ(DatabaseStatements(toc, DatabaseEntryKind::kSettings, "shop", "\"new db\""),
            (Statements{"ALTER DATABASE \"new db\" SET work_mem TO '8MB';"}));
  EXPECT_EQ(DumpedDatabaseName({}), "");
}

}  // namespace
}  // namespace velin::db
