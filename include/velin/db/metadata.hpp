// DatabaseInfo as JSON, the form a snapshot stores it in and `velin backup list --json` shows
// (docs/databases.md#metadata). Parsing checks every field's type, so a damaged or foreign
// document is an error naming the field, never an exception.
#pragma once

#include <nlohmann/json.hpp>

#include "velin/core/error.hpp"
#include "velin/db/driver.hpp"

namespace velin::db {

nlohmann::json DatabaseInfoToJson(const DatabaseInfo& info);
Result<DatabaseInfo> DatabaseInfoFromJson(const nlohmann::json& doc);

}  // namespace velin::db
