#include "velin/storage/dir_listing.hpp"

#include <array>
#include <charconv>

namespace velin::storage {
namespace {

bool IsMonth(std::string_view token) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (std::string_view m : kMonths) {
    if (token == m) return true;
  }
  return false;
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

bool ParseLine(std::string_view line, ListingEntry& entry) {
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
    return entry.name != "." && entry.name != "..";
  }
  return false;
}

}  // namespace

std::vector<ListingEntry> ParseLongListing(std::string_view text) {
  std::vector<ListingEntry> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    ListingEntry entry;
    if (ParseLine(line, entry)) out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace velin::storage
