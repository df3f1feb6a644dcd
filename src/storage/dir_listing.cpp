#include "velin/storage/dir_listing.hpp"

#include <array>
#include <charconv>
#include <ctime>

namespace velin::storage {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool IsMonth(std::string_view token) {
  for (std::string_view m : kMonths) {
    if (token == m) return true;
  }
  return false;
}

int ToInt(std::string_view text) {
  int v = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  return ec == std::errc() && ptr == text.data() + text.size() ? v : -1;
}

// "Nov 25 15:48" (within the last half year: this year or the last) or "Nov 25  2024", read
// as UTC; 0 when the fields are not in that form.
int64_t ListingTime(std::string_view month, std::string_view day, std::string_view when,
                    int64_t now) {
  std::tm tm{};
  for (size_t m = 0; m < kMonths.size(); ++m) {
    if (kMonths[m] == month) tm.tm_mon = static_cast<int>(m);
  }
  tm.tm_mday = ToInt(day);
  if (tm.tm_mday < 1 || tm.tm_mday > 31) return 0;
  const size_t colon = when.find(':');
  if (colon == std::string_view::npos) {
    const int year = ToInt(when);
    if (year < 1970) return 0;
    tm.tm_year = year - 1900;
    return static_cast<int64_t>(::timegm(&tm));
  }
  tm.tm_hour = ToInt(when.substr(0, colon));
  tm.tm_min = ToInt(when.substr(colon + 1));
  if (tm.tm_hour < 0 || tm.tm_min < 0) return 0;
  const time_t now_t = static_cast<time_t>(now);
  std::tm now_tm{};
  ::gmtime_r(&now_t, &now_tm);
  tm.tm_year = now_tm.tm_year;
  int64_t t = static_cast<int64_t>(::timegm(&tm));
  if (t > now + 86400) {  // a date later this year is last year's
    tm.tm_year -= 1;
    t = static_cast<int64_t>(::timegm(&tm));
  }
  return t;
}

struct Token {
  std::string_view text;
  size_t end = 0;  // offset just past the token in the line
};

std::vector<Token> Tokenize(std::string_view line, size_t max_tokens) {
  std::vector<Token> tokens;
  size_t pos = 0;
  while (tokens.size() < max_tokens) {
    size_t begin = line.find_first_not_of(" \t", pos);
    if (begin == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t", begin);
    if (end == std::string_view::npos) end = line.size();
    tokens.push_back(Token{line.substr(begin, end - begin), end});
    pos = end;
  }
  return tokens;
}

bool ParseLine(std::string_view line, int64_t now, ListingEntry& entry) {
  if (line.empty() || (line[0] != '-' && line[0] != 'd')) return false;
  std::vector<Token> tokens = Tokenize(line, 10);
  // perms links owner [group] size month day time-or-year name
  for (size_t i = 4; i + 2 < tokens.size(); ++i) {
    if (!IsMonth(tokens[i].text)) continue;
    std::string_view size = tokens[i - 1].text;
    auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), entry.size);
    if (ec != std::errc() || ptr != size.data() + size.size()) return false;
    // The name is everything after the single space that follows the time-or-year field.
    size_t name_begin = tokens[i + 2].end + 1;
    if (name_begin >= line.size()) return false;
    entry.name = std::string(line.substr(name_begin));
    entry.is_directory = line[0] == 'd';
    entry.mtime = ListingTime(tokens[i].text, tokens[i + 1].text, tokens[i + 2].text, now);
    entry.to_the_minute = entry.mtime > 0 && tokens[i + 2].text.find(':') != std::string::npos;
    return entry.name != "." && entry.name != "..";
  }
  return false;
}

}  // namespace

std::vector<ListingEntry> ParseLongListing(std::string_view text) {
  return ParseLongListing(text, static_cast<int64_t>(::time(nullptr)));
}

std::vector<ListingEntry> ParseLongListing(std::string_view text, int64_t now) {
  std::vector<ListingEntry> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    ListingEntry entry;
    if (ParseLine(line, now, entry)) out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace velin::storage
