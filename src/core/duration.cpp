#include "velin/core/duration.hpp"

#include <cctype>
#include <cstdint>

namespace velin {

std::optional<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.find_first_not_of('0') == std::string_view::npos) return Duration(0);  // "0", "00"
  int64_t total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
    int64_t value = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      value = value * 10 + (text[i] - '0');
      if (value > kMaxDuration.count()) return std::nullopt;
      ++i;
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    int64_t factor = 0;
    if (unit == "ms")
      factor = 1;
    else if (unit == "s")
      factor = 1000;
    else if (unit == "m" || unit == "min")
      factor = 60'000;
    else if (unit == "h")
      factor = 3'600'000;
    else if (unit == "d")
      factor = 86'400'000;
    else if (unit == "w")
      factor = 7 * 86'400'000LL;
    else
      return std::nullopt;
    // Checked: "999999999999w" or many parts must not overflow (a parse error, not UB).
    int64_t part_ms = 0;
    if (__builtin_mul_overflow(value, factor, &part_ms) ||
        __builtin_add_overflow(total_ms, part_ms, &total_ms)) {
      return std::nullopt;
    }
  }
  // Longer than kMaxDuration is refused: added to the clock (in ns) it would overflow, and a
  // transaction's deadline wrapped into the past rolled back at once.
  if (total_ms > kMaxDuration.count()) return std::nullopt;
  return Duration(total_ms);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  struct Unit {
    const char* name;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {
      {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}};
  for (const Unit& u : kUnits) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms) + u.name;
      ms %= u.ms;
    }
  }
  return out;
}

}  // namespace velin
