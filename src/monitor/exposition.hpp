// The subset of the Prometheus text exposition format (0.0.4) that velin writes and reads back:
// samples `name{label="value",...} value` grouped in families with HELP and TYPE lines.
// Private to the monitor module. Reading is strict about what it understands (a malformed
// sample line is an error naming its line) and skips comments and timestamps.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "velin/core/error.hpp"

namespace velin::monitor {

using Labels = std::vector<std::pair<std::string, std::string>>;  // in the order written

// Every series, by metric name then label set.
using SeriesMap = std::map<std::string, std::map<Labels, double>>;

struct FamilyInfo {
  std::string_view name;
  std::string_view type;  // "counter" | "gauge"
  std::string_view help;
};

// Parses sample lines; comments (# HELP, # TYPE, others) and blank lines are skipped.
Result<SeriesMap> ParseExposition(std::string_view text);

// Writes the families in the given order (a family without series is left out), each with its
// HELP and TYPE lines and its series sorted by labels.
std::string WriteExposition(const std::vector<FamilyInfo>& families, const SeriesMap& series);

// `\`, `"` and newlines escaped as the format requires for label values.
std::string EscapeLabelValue(std::string_view value);

// The shortest text that reads back as exactly `value` ("1", "0.25", "1764081234.5").
std::string FormatSampleValue(double value);

}  // namespace velin::monitor
