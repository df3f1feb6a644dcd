#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace velin {

// The times velin prints (docs/cli.md, "Times"). Human output: local time to the second,
// "2026-11-25 15:30:05" (the clock backup ids are named by). JSON and the records: RFC 3339 in
// UTC, "2026-11-25T14:30:05Z".
std::string FormatLocalTime(int64_t unix_seconds);
std::string FormatUtcTime(int64_t unix_seconds);
// The inverse of FormatUtcTime: "2026-11-25T14:30:05Z" -> Unix seconds; nullopt for any other
// text (a hand-edited record), which a caller then shows as it is.
std::optional<int64_t> ParseUtcTime(std::string_view text);

}  // namespace velin
