// The name velin records and shows for a PostgreSQL table: "schema.table", with a component
// that holds '.' or '"' double-quoted (schema a, table "b.c" -> a."b.c"; schema "a.b", table c
// -> "a.b".c), so that two tables never share a name (docs/databases.md#table-names). Names
// without either character read as before.
#pragma once

#include <string>
#include <string_view>

namespace velin::db {

std::string QualifiedTableName(std::string_view schema, std::string_view table);

// The same name computed by the server: SQL over two text expressions (`nspname`, `relname`).
std::string QualifiedTableNameSql(std::string_view schema_expr, std::string_view table_expr);

// What older velin (before 2026-12-06) recorded for a QualifiedTableName: its components joined by
// '.' unquoted (a."b.c" -> a.b.c). `name` itself when it is not in the quoted form.
std::string LegacyTableName(std::string_view name);

}  // namespace velin::db
