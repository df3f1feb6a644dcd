// A Reporter that keeps the warnings an engine reports and drops everything else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "velin/core/reporter.hpp"

namespace velin::testing {

class WarningRecorder : public NullReporter {
 public:
  void Warn(std::string_view message) override { warnings.emplace_back(message); }
  std::vector<std::string> warnings;
};

// Whether any of `lines` contains `part`.
inline bool AnyLineHas(const std::vector<std::string>& lines, std::string_view part) {
  for (const auto& line : lines) {
    if (line.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace velin::testing
