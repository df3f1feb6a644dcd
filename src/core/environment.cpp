#include "velin/core/environment.hpp"

#include <cstdlib>

namespace velin {

std::optional<std::string> GetEnvironment(const std::string& name) {
  if (name.empty()) return std::nullopt;
  const char* value = std::getenv(name.c_str());  // the one std::getenv of velin
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

}  // namespace velin
