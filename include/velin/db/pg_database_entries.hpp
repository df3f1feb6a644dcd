// Used by the PostgreSQL driver when a restore creates the database: the database's own entries
// of a pg_dump archive, which pg_restore restores only with --create and so a restore into a new
// database lost (docs/databases.md#postgresql): its grants (the ACL entry `DATABASE shop`:
// `REVOKE CONNECT,TEMPORARY ON DATABASE shop FROM PUBLIC;` — lost, PUBLIC could connect again),
// its comment, and its settings (the DATABASE PROPERTIES entry: `ALTER DATABASE shop SET
// search_path TO …`, `ALTER ROLE r IN DATABASE shop SET …`). Each statement is given renamed to
// the database restored into.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "velin/db/pg_dump_counter.hpp"

namespace velin::db {

enum class DatabaseEntryKind {
  kAccess,    // ACL and COMMENT entries tagged "DATABASE <name>": made with the database
  kSettings,  // DATABASE PROPERTIES: after the restore (a setting may concern its sessions)
};

// The archive's database name: the tag of its DATABASE entry ("" when it has none).
std::string DumpedDatabaseName(const std::vector<PgDumpCounter::TocEntry>& toc);

// The owner of the archive's database: its DATABASE entry's ("" when it has none).
std::string DumpedDatabaseOwner(const std::vector<PgDumpCounter::TocEntry>& toc);

// The statements of `toc`'s entries of `kind`, in the archive's order, each naming the
// database `to_quoted` where the archive names `from_quoted` (both as SQL writes them:
// quote_ident's form, which is pg_dump's).
std::vector<std::string> DatabaseStatements(const std::vector<PgDumpCounter::TocEntry>& toc,
                                            DatabaseEntryKind kind, const std::string& from_quoted,
                                            const std::string& to_quoted);

// `sql` split into its statements (each with its ';'), each `DATABASE <from_quoted>` outside
// string literals and quoted identifiers written `DATABASE <to_quoted>`.
std::vector<std::string> RenamedDatabaseStatements(std::string_view sql,
                                                   const std::string& from_quoted,
                                                   const std::string& to_quoted);

}  // namespace velin::db
