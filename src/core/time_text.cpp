#include "velin/core/time_text.hpp"

#include <ctime>

namespace velin {

namespace {

std::string FormatTime(int64_t unix_seconds, bool utc, const char* format) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (utc) {
    ::gmtime_r(&t, &tm);
  } else {
    ::localtime_r(&t, &tm);
  }
  char buf[40];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

}  // namespace

std::string FormatLocalTime(int64_t unix_seconds) {
  return FormatTime(unix_seconds, false, "%Y-%m-%d %H:%M:%S");
}

std::string FormatUtcTime(int64_t unix_seconds) {
  return FormatTime(unix_seconds, true, "%Y-%m-%dT%H:%M:%SZ");
}

std::optional<int64_t> ParseUtcTime(std::string_view text) {
  // Exactly "YYYY-MM-DDTHH:MM:SSZ": what FormatUtcTime writes (and the rollback records hold).
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != kShape.size()) return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return std::nullopt;
  }
  auto number = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(5, 2) - 1;
  tm.tm_mday = number(8, 2);
  tm.tm_hour = number(11, 2);
  tm.tm_min = number(14, 2);
  tm.tm_sec = number(17, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  // A leap second is the second after :59; a day the month does not have ("02-30") would roll
  // over into the next month.
  const bool leap_second = tm.tm_sec == 60;
  if (leap_second) tm.tm_sec = 59;
  const int day = tm.tm_mday;
  const int64_t seconds = static_cast<int64_t>(::timegm(&tm));
  if (tm.tm_mday != day) return std::nullopt;
  return seconds + (leap_second ? 1 : 0);
}

}  // namespace velin
