#include "velin/db/metadata.hpp"

#include "velin/core/i18n.hpp"
#include "velin/core/json_int.hpp"

namespace velin::db {
namespace {

Result<std::string> GetString(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_string()) {
    return Failure(TrFormat("database metadata: '{}' missing or not a string", key));
  }
  return it->get<std::string>();
}

Result<int64_t> GetInt(const nlohmann::json& doc, const char* key) {
  auto it = doc.find(key);
  try {
    if (it != doc.end()) return JsonInt<int64_t>(*it);
  } catch (const nlohmann::json::exception&) {
  }
  return Failure(TrFormat("database metadata: '{}' missing or not an integer", key));
}

// An optional array of names; none when the key is absent.
Result<std::vector<std::string>> GetNames(const nlohmann::json& doc, const char* key) {
  std::vector<std::string> names;
  auto it = doc.find(key);
  if (it == doc.end()) return names;
  if (!it->is_array()) return Failure(TrFormat("database metadata: '{}' is not an array", key));
  for (const nlohmann::json& n : *it) {
    if (!n.is_string() || n.get_ref<const std::string&>().empty()) {
      return Failure(TrFormat("database metadata: '{}' holds something that is not a name", key));
    }
    names.push_back(n.get<std::string>());
  }
  return names;
}

}  // namespace

nlohmann::json DatabaseInfoToJson(const DatabaseInfo& info) {
  nlohmann::json tables = nlohmann::json::array();
  for (const TableRows& t : info.tables) tables.push_back({{"name", t.name}, {"rows", t.rows}});
  nlohmann::json doc = {{"driver", info.driver},
                        {"name", info.name},
                        {"server_version", info.server_version},
                        {"dump_tool", info.dump_tool},
                        {"dump_tool_version", info.dump_tool_version},
                        {"dump_format", info.dump_format},
                        {"size_bytes", info.size_bytes},
                        {"tables", tables}};
  // Written only when there are some; older velins ignore both.
  if (!info.roles.empty()) doc["roles"] = info.roles;
  if (!info.definers.empty()) doc["definers"] = info.definers;
  if (info.largest_statement > 0) doc["largest_statement_bytes"] = info.largest_statement;
  if (!info.history_tables.empty()) doc["history_tables"] = info.history_tables;
  if (!info.character_set.empty()) doc["character_set"] = info.character_set;
  if (!info.collation.empty()) doc["collation"] = info.collation;
  return doc;
}

Result<DatabaseInfo> DatabaseInfoFromJson(const nlohmann::json& doc) {
  if (!doc.is_object()) return Failure(std::string(Tr("database metadata: not a JSON object")));
  DatabaseInfo info;
  VELIN_ASSIGN(info.driver, GetString(doc, "driver"));
  VELIN_ASSIGN(info.name, GetString(doc, "name"));
  VELIN_ASSIGN(info.server_version, GetString(doc, "server_version"));
  VELIN_ASSIGN(info.dump_tool, GetString(doc, "dump_tool"));
  VELIN_ASSIGN(info.dump_tool_version, GetString(doc, "dump_tool_version"));
  VELIN_ASSIGN(info.dump_format, GetString(doc, "dump_format"));
  VELIN_ASSIGN(info.size_bytes, GetInt(doc, "size_bytes"));
  auto tables = doc.find("tables");
  if (tables == doc.end() || !tables->is_array()) {
    return Failure(std::string(Tr("database metadata: 'tables' missing or not an array")));
  }
  for (const nlohmann::json& t : *tables) {
    if (!t.is_object())
      return Failure(std::string(Tr("database metadata: a table entry is not an object")));
    TableRows row;
    VELIN_ASSIGN(row.name, GetString(t, "name"));
    VELIN_ASSIGN(row.rows, GetInt(t, "rows"));
    info.tables.push_back(std::move(row));
  }
  VELIN_ASSIGN(info.roles, GetNames(doc, "roles"));
  VELIN_ASSIGN(info.definers, GetNames(doc, "definers"));
  VELIN_ASSIGN(info.history_tables, GetNames(doc, "history_tables"));
  if (doc.contains("character_set")) {
    VELIN_ASSIGN(info.character_set, GetString(doc, "character_set"));
  }
  if (doc.contains("collation")) {
    VELIN_ASSIGN(info.collation, GetString(doc, "collation"));
  }
  if (doc.contains("largest_statement_bytes")) {
    VELIN_ASSIGN(info.largest_statement, GetInt(doc, "largest_statement_bytes"));
  }
  return info;
}

}  // namespace velin::db
