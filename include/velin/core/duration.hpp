// Durations as users write them in velin.toml and on the command line: "30s", "10m", "2h",
// "1d", "1h30m", "500ms"; "min" is accepted for "m" ("10min", as systemd writes it). A bare
// number is refused, the unit must be said, except "0": zero is zero in every unit
// (`--lock-wait 0`).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace velin {

using Duration = std::chrono::milliseconds;

// The longest duration accepted: 36500d (100 years). Any longer one is a mistake, and the clock
// plus it must not overflow (the steady and the system clock count nanoseconds in an int64).
inline constexpr Duration kMaxDuration = std::chrono::hours(24 * 36500);

// Returns nullopt when `text` is not a duration (empty, no unit, unknown unit, negative, longer
// than kMaxDuration).
std::optional<Duration> ParseDuration(std::string_view text);

// The shortest exact form: 90000 ms -> "1m30s", 0 -> "0s".
std::string FormatDuration(Duration d);

}  // namespace velin
