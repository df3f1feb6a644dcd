// The resolved configuration as data: for `velin config check` (human and --json) and for
// anything else that shows what velin will do. Secrets are never included, only where they
// come from (password_env names a variable; the variable's value is not read here).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "velin/config/config.hpp"

namespace velin::config {

// {"backup": {"compression": "zstd", ...}, "storage": {"s3": {...}, "sftp": {...}}, ...}: every
// section with its defaults filled in ([database] only when configured; each
// [databases.NAME] under "databases").
nlohmann::json ConfigToJson(const Config& config);

// ("backup.compression", "\"zstd\"") lines in schema order, for human output.
std::vector<std::pair<std::string, std::string>> ConfigToLines(const Config& config);

}  // namespace velin::config
