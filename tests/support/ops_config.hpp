// The configuration of the monitoring and notification tests ([monitor], [notify]).
#pragma once

#include <string>

namespace velin::testing {

// A velin.toml backing up "uploads" without pruning after create, with table `table`
// ("monitor", "notify") holding `lines`.
inline std::string UploadsConfigWith(const std::string& table, const std::string& lines) {
  return "[backup]\ninclude = [\"uploads\"]\nprune_after_create = false\n[" + table + "]\n" + lines;
}

}  // namespace velin::testing
