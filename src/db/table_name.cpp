#include "velin/db/table_name.hpp"

#include <vector>

namespace velin::db {
namespace {

std::string QuotedComponent(std::string_view part) {
  if (part.find_first_of(".\"") == std::string_view::npos) return std::string(part);
  std::string out = "\"";
  for (char c : part) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QuotedComponentSql(std::string_view expr) {
  const std::string e(expr);
  // strpos, not a regular expression: the same test as QuotedComponent, whatever the locale.
  return "CASE WHEN strpos(" + e + ", '.') > 0 OR strpos(" + e + ", '\"') > 0 THEN '\"' || " +
         "replace(" + e + ", '\"', '\"\"') || '\"' ELSE " + e + "::text END";
}

}  // namespace

std::string QualifiedTableName(std::string_view schema, std::string_view table) {
  return QuotedComponent(schema) + "." + QuotedComponent(table);
}

std::string QualifiedTableNameSql(std::string_view schema_expr, std::string_view table_expr) {
  return "(" + QuotedComponentSql(schema_expr) + " || '.' || " + QuotedComponentSql(table_expr) +
         ")";
}

std::string LegacyTableName(std::string_view name) {
  if (name.find('"') == std::string_view::npos) return std::string(name);
  std::vector<std::string> parts(1);
  bool quoted = false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (quoted && c == '"') {
      if (i + 1 < name.size() && name[i + 1] == '"') {
        parts.back() += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (quoted) {
      parts.back() += c;
    } else if (c == '"' && parts.back().empty()) {
      quoted = true;
    } else if (c == '.') {
      parts.emplace_back();
    } else if (c == '"') {
      return std::string(name);  // not a quoted form
    } else {
      parts.back() += c;
    }
  }
  if (quoted || parts.size() != 2) return std::string(name);
  return parts[0] + "." + parts[1];
}

}  // namespace velin::db
