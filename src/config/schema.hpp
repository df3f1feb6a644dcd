// The table of every key velin.toml accepts: section, name, type, allowed values, how a path
// resolves, and where the value lands in Config. The loader, the env overrides, `config check`
// output and the docs are all driven from this one table.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "velin/config/config.hpp"

namespace velin::config {

enum class KeyKind { kString, kInt, kBool, kDouble, kStringArray, kDuration, kEnum };

// Where a relative path in this key resolves.
enum class PathBase { kNone, kConfigDir, kAppRoot };

using Value = std::variant<std::string, int64_t, bool, double, std::vector<std::string>, Duration>;

struct KeySpec {
  std::string section;  // "backup", "storage.s3"
  std::string key;
  KeyKind kind;
  std::vector<std::string> choices;  // kEnum
  PathBase path_base = PathBase::kNone;
  int64_t min = INT64_MIN;  // kInt; kDuration: in ms (1 = must be positive)
  int64_t max = INT64_MAX;
  std::function<void(Config&, const Value&)> set;
  std::function<Value(const Config&)> get;
};

const std::vector<KeySpec>& Schema();
// The sections, in file order: "app", "backup", ... "storage.s3".
const std::vector<std::string>& Sections();

// "VELIN_STORAGE_S3_REGION" for (storage.s3, region).
std::string EnvName(const KeySpec& spec);

}  // namespace velin::config
