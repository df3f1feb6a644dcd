#include "velin/db/mysql_dump_counter.hpp"

#include <algorithm>

namespace velin::db {
namespace {

constexpr size_t kMaxPrefix = 1024;  // longer lines are neither CREATE, LOCK nor INSERT heads

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

bool ParseBackquoted(std::string_view s, size_t& pos, std::string& out) {
  if (pos >= s.size() || s[pos] != '`') return false;
  out.clear();
  for (size_t i = pos + 1; i < s.size(); ++i) {
    if (s[i] != '`') {
      out += s[i];
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '`') {
      out += '`';
      ++i;
      continue;
    }
    pos = i + 1;
    return true;
  }
  return false;
}

void MysqlDumpCounter::Feed(std::string_view chunk) {
  for (char c : chunk) {
    switch (mode_) {
      case Mode::kSkipLine:
        if (c == '\n') mode_ = Mode::kLineStart;
        break;
      case Mode::kValues:
        FeedValues(c);
        break;
      case Mode::kLineStart:
        if (c == '\n') {
          OnShortLine(prefix_);
          prefix_.clear();
          break;
        }
        prefix_ += c;
        if (c == ' ') OnPrefix();
        if (mode_ == Mode::kLineStart && prefix_.size() > kMaxPrefix) mode_ = Mode::kSkipLine;
        if (mode_ != Mode::kLineStart) prefix_.clear();
        break;
    }
  }
}

void MysqlDumpCounter::OnShortLine(const std::string& line) {
  size_t pos;
  std::string name;
  if (StartsWith(line, "CREATE TABLE `")) {
    pos = 13;
    if (ParseBackquoted(line, pos, name)) rows_.try_emplace(name, 0);
  } else if (StartsWith(line, "LOCK TABLES `")) {
    pos = 12;
    if (ParseBackquoted(line, pos, name) && line.substr(pos) == " WRITE;") locked_table_ = name;
  } else if (line == "UNLOCK TABLES;") {
    locked_table_.clear();
  } else if (!locked_table_.empty()) {
    StartValues(line);
  }
}

// Called at every space of a line's start: is it "INSERT INTO `t` VALUES " of the locked table?
void MysqlDumpCounter::OnPrefix() {
  auto could_be = [&](std::string_view head) {
    size_t n = std::min(head.size(), prefix_.size());
    return std::string_view(prefix_).substr(0, n) == head.substr(0, n);
  };
  if (!could_be("CREATE TABLE `") && !could_be("LOCK TABLES `") && !could_be("UNLOCK TABLES;") &&
      !could_be("INSERT INTO `")) {
    mode_ = Mode::kSkipLine;
    return;
  }
  if (!StartsWith(prefix_, "INSERT INTO `")) return;
  if (locked_table_.empty()) {
    mode_ = Mode::kSkipLine;
    return;
  }
  size_t pos = 12;
  std::string name;
  if (!ParseBackquoted(prefix_, pos, name)) return;  // the name has a space: read on
  if (prefix_.size() < pos + 8) return;
  if (!StartValues(prefix_.substr(0, prefix_.size() - 1))) mode_ = Mode::kSkipLine;
}

// `head` is "INSERT INTO `t` VALUES" (MySQL and older MariaDB continue on the same line,
// MariaDB 10.11 on the next): counting starts when t is the locked table.
bool MysqlDumpCounter::StartValues(std::string_view head) {
  size_t pos = 12;
  std::string name;
  if (!StartsWith(head, "INSERT INTO `") || !ParseBackquoted(head, pos, name)) return false;
  if (name != locked_table_ || head.substr(pos) != " VALUES") return false;
  values_table_ = name;
  rows_.try_emplace(name, 0);
  depth_ = 0;
  in_string_ = escaped_ = false;
  mode_ = Mode::kValues;
  return true;
}

void MysqlDumpCounter::FeedValues(char c) {
  if (in_string_) {
    if (escaped_) {
      escaped_ = false;
    } else if (c == '\\') {
      escaped_ = true;
    } else if (c == quote_) {
      in_string_ = false;  // a doubled quote re-enters at the next character
    }
    return;
  }
  if (c == '\'' || c == '"') {
    in_string_ = true;
    quote_ = c;
  } else if (c == '(') {
    if (depth_++ == 0) ++rows_[values_table_];
  } else if (c == ')') {
    if (depth_ > 0) --depth_;
  } else if (c == ';' && depth_ == 0) {
    mode_ = Mode::kSkipLine;  // the statement ends; tuples may span lines until then
  }
}

std::vector<TableRows> MysqlDumpCounter::Tables() const {
  std::vector<TableRows> out;
  for (const auto& [name, rows] : rows_) out.push_back({name, rows});
  return out;
}

}  // namespace velin::db
