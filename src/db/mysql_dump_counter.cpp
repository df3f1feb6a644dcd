#include "velin/db/mysql_dump_counter.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace velin::db {
namespace {

constexpr size_t kMaxPrefix = 1024;  // longer lines are neither CREATE, LOCK nor INSERT heads
// An INSERT head with its column list (--dump-history writes one): every column's name.
constexpr size_t kMaxColumnsHead = size_t{1} << 20;

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Parses the column list at s[pos] of an INSERT head, " (`a`, `b`, row_start, row_end)" (the
// names of system versioning's own columns unquoted), advancing pos past it; false when `s`
// ends before it does or it is not one.
bool ParseColumnList(std::string_view s, size_t& pos) {
  if (!StartsWith(s.substr(pos), " (")) return false;
  size_t i = pos + 2;
  std::string name;
  for (;;) {
    if (i < s.size() && s[i] == '`') {
      if (!ParseBackquoted(s, i, name)) return false;
    } else {
      const size_t from = i;
      while (i < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '$')) {
        ++i;
      }
      if (i == from) return false;
    }
    if (StartsWith(s.substr(i), ")")) {
      pos = i + 1;
      return true;
    }
    if (!StartsWith(s.substr(i), ", ")) return false;
    i += 2;
  }
}

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

std::string QuoteMysqlIdentifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

void MysqlDumpCounter::Feed(std::string_view chunk) {
  // Almost every byte of a dump is inside INSERT values or on a line that does not matter:
  // those runs are scanned in tight loops (memchr, ScanValues), not byte by byte.
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  while (p < end) {
    switch (mode_) {
      case Mode::kSkipLine: {
        const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
        if (!nl) return;
        p = static_cast<const char*>(nl) + 1;
        mode_ = Mode::kLineStart;
        break;
      }
      case Mode::kValues:
        p = ScanValues(p, end);
        break;
      case Mode::kLineStart: {
        char c = *p++;
        if (c == '\n') {
          OnShortLine(prefix_);
          prefix_.clear();
          column_list_ = false;
          break;
        }
        prefix_ += c;
        if (c == ' ') OnPrefix();
        if (mode_ == Mode::kLineStart &&
            prefix_.size() > (column_list_ ? kMaxColumnsHead : kMaxPrefix)) {
          mode_ = Mode::kSkipLine;
        }
        if (mode_ != Mode::kLineStart) {
          prefix_.clear();
          column_list_ = false;
        }
        break;
      }
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
  // A column list: read on to its end, looked for only where " VALUES " may follow it (each
  // space of a long list would parse it all again).
  if (StartsWith(std::string_view(prefix_).substr(pos), " (") && name == locked_table_) {
    column_list_ = true;
    // Not yet its end (or ") VALUES " in a column's name): read on, at most kMaxColumnsHead.
    if (prefix_.ends_with(") VALUES ")) (void)StartValues(prefix_.substr(0, prefix_.size() - 1));
    return;
  }
  if (!StartValues(prefix_.substr(0, prefix_.size() - 1))) mode_ = Mode::kSkipLine;
}

// `head` is "INSERT INTO `t` VALUES" (MySQL and older MariaDB continue on the same line,
// MariaDB 10.11 on the next), or "INSERT INTO `t` (`a`, row_start, row_end) VALUES" (a system
// versioned table's with its history, --dump-history): counting starts when t is the locked
// table.
bool MysqlDumpCounter::StartValues(std::string_view head) {
  size_t pos = 12;
  std::string name;
  if (!StartsWith(head, "INSERT INTO `") || !ParseBackquoted(head, pos, name)) return false;
  if (StartsWith(head.substr(pos), " (") && !ParseColumnList(head, pos)) return false;
  if (name != locked_table_ || head.substr(pos) != " VALUES") return false;
  values_table_ = name;
  values_rows_ = &rows_.try_emplace(name, 0).first->second;  // map nodes stay put
  statement_ = static_cast<int64_t>(head.size()) + 1;        // and the space or newline after
  depth_ = 0;
  in_string_ = escaped_ = false;
  mode_ = Mode::kValues;
  return true;
}

// Counts the top-level tuples in [p, end) until the statement's ';'; returns where it stopped.
const char* MysqlDumpCounter::ScanValues(const char* p, const char* const end) {
  const char* const begin = p;
  // The next `quote`-character at or after `quote_from`, nullptr: none before `end`. Found once
  // and kept while the scan is before it: a long value full of escapes (a blob of NUL bytes,
  // each written \0) looked for it again after every backslash, a scan to the chunk's end each
  // time (a 20 MB value took velin 90 s of CPU).
  const char* quote_at = nullptr;
  const char* quote_from = nullptr;
  char quote = 0;
  while (p < end) {
    if (in_string_) {
      if (escaped_) {  // the escaped character, whatever it is
        escaped_ = false;
        ++p;
        continue;
      }
      // The closing quote, unless a backslash comes first: two vectorised scans.
      if (quote_from == nullptr || quote != quote_ || (quote_at != nullptr && quote_at < p)) {
        quote_at = static_cast<const char*>(std::memchr(p, quote_, static_cast<size_t>(end - p)));
        quote_from = p;
        quote = quote_;
      }
      const char* q = quote_at;
      const char* stop = q ? q : end;
      const char* bs =
          static_cast<const char*>(std::memchr(p, '\\', static_cast<size_t>(stop - p)));
      if (bs) {
        escaped_ = true;
        p = bs + 1;
      } else if (q) {
        in_string_ = false;  // a doubled quote re-enters at the next character
        p = q + 1;
      } else {
        p = end;
      }
      continue;
    }
    const char c = *p++;
    if (c == '\'' || c == '"') {
      in_string_ = true;
      quote_ = c;
    } else if (c == '(') {
      if (depth_++ == 0) ++*values_rows_;
    } else if (c == ')') {
      if (depth_ > 0) --depth_;
    } else if (c == ';' && depth_ == 0) {
      mode_ = Mode::kSkipLine;  // the statement ends; tuples may span lines until then
      statement_ += p - begin;
      if (statement_ > largest_) {
        largest_ = statement_;
        largest_table_ = values_table_;
      }
      return p;
    }
  }
  statement_ += p - begin;
  return p;
}

std::vector<TableRows> MysqlDumpCounter::Tables() const {
  std::vector<TableRows> out;
  for (const auto& [name, rows] : rows_) out.push_back({name, rows});
  return out;
}

}  // namespace velin::db
