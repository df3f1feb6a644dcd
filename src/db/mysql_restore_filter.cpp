#include "velin/db/mysql_restore_filter.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "velin/db/mysql_dump_counter.hpp"

namespace velin::db {
namespace {

// A line start longer than this is none of those changed (identifiers are 64 characters).
constexpr size_t kMaxHeld = 4096;
constexpr size_t kRecent = 8;  // "nextval(" / "lastval("

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Whether `s` could still become `want` (it is a proper prefix of it).
bool Begins(std::string_view s, std::string_view want) {
  return s.size() < want.size() && want.substr(0, s.size()) == s;
}

}  // namespace

MysqlRestoreFilter::MysqlRestoreFilter(std::string_view from, std::string_view to) {
  if (!from.empty() && !to.empty() && from != to) {
    from_quoted_ = QuoteMysqlIdentifier(from);
    to_quoted_ = QuoteMysqlIdentifier(to);
  }
}

Status MysqlRestoreFilter::Feed(std::string_view chunk, const ByteSink& sink) {
  out_.clear();
  const char* p = chunk.data();
  const char* const end = p + chunk.size();
  while (p < end) {
    if (mode_ == Mode::kPassLine) {  // almost every byte of a dump: the rows' lines
      const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
      const char* stop = nl ? static_cast<const char*>(nl) + 1 : end;
      out_.append(p, stop);
      p = stop;
      if (nl) mode_ = Mode::kLineStart;
    } else if (mode_ == Mode::kLineStart) {
      OnLineStartByte(*p++);
    } else {
      OnCreateTableByte(*p++);
    }
  }
  if (out_.empty()) return Ok();
  return sink(out_);
}

Status MysqlRestoreFilter::Finish(const ByteSink& sink) {
  out_ = held_ + ident_;
  held_.clear();
  ident_.clear();
  if (out_.empty()) return Ok();
  return sink(out_);
}

MysqlRestoreFilter::Verdict MysqlRestoreFilter::Classify() const {
  const std::string_view held = held_;
  if (delimiter_ == ";") {
    if (StartsWith(held, "LOCK TABLES `")) {
      size_t pos = 12;
      std::string name;
      if (!ParseBackquoted(held, pos, name)) return Verdict::kMore;  // bounded by the caller
      const std::string_view rest = held.substr(pos);
      if (rest == " WRITE;\n") return Verdict::kDrop;
      return Begins(rest, " WRITE;\n") ? Verdict::kMore : Verdict::kPass;
    }
    if (Begins(held, "LOCK TABLES `")) return Verdict::kMore;
    if (held == "UNLOCK TABLES;\n") return Verdict::kDrop;
    if (Begins(held, "UNLOCK TABLES;\n")) return Verdict::kMore;
    if (!from_quoted_.empty()) {
      if (held == "CREATE TABLE `") return Verdict::kCreateTable;
      if (Begins(held, "CREATE TABLE `")) return Verdict::kMore;
    }
  }
  if (StartsWith(held, "DELIMITER ")) {
    return held.back() == '\n' ? Verdict::kDelimiter : Verdict::kMore;
  }
  return Begins(held, "DELIMITER ") ? Verdict::kMore : Verdict::kPass;
}

void MysqlRestoreFilter::OnLineStartByte(char c) {
  held_ += c;
  Verdict v = Classify();
  if (v == Verdict::kMore && held_.size() > kMaxHeld) v = Verdict::kPass;
  switch (v) {
    case Verdict::kMore:
      return;
    case Verdict::kPass:
      out_ += held_;
      mode_ = c == '\n' ? Mode::kLineStart : Mode::kPassLine;
      break;
    case Verdict::kDrop:  // its line breaks stay (one, or more in a name that holds some)
      out_.append(static_cast<size_t>(std::count(held_.begin(), held_.end(), '\n')), '\n');
      break;
    case Verdict::kDelimiter: {
      out_ += held_;
      std::string d = held_.substr(10);
      while (!d.empty() && std::isspace(static_cast<unsigned char>(d.back()))) d.pop_back();
      while (!d.empty() && std::isspace(static_cast<unsigned char>(d.front()))) d.erase(0, 1);
      if (!d.empty()) delimiter_ = d;
      break;
    }
    case Verdict::kCreateTable:
      out_ += held_.substr(0, held_.size() - 1);
      mode_ = Mode::kCreateTable;
      scan_ = Scan::kCode;
      recent_.clear();
      held_.clear();
      OnCreateTableByte('`');  // the table's name opens there
      return;
  }
  held_.clear();
}

void MysqlRestoreFilter::OnCreateTableByte(char c) {
  switch (scan_) {
    case Scan::kString:
      out_ += c;
      if (c == '\\') scan_ = Scan::kStringEscape;
      if (c == quote_) scan_ = Scan::kCode;  // a doubled quote opens again at the next byte
      return;
    case Scan::kStringEscape:
      out_ += c;
      scan_ = Scan::kString;
      return;
    case Scan::kIdent:
      ident_ += c;
      if (c == '`') scan_ = Scan::kIdentMaybeEnd;
      if (ident_.size() > kMaxHeld) {  // no name this long: passed on, never renamed
        out_ += ident_;
        ident_.clear();
        ident_spilled_ = true;
      }
      return;
    case Scan::kIdentMaybeEnd:
      if (c == '`') {  // a doubled backquote: part of the name
        ident_ += c;
        scan_ = Scan::kIdent;
        return;
      }
      EndIdent(c);
      break;  // `c` itself is code
    case Scan::kCode:
      break;
  }
  if (c == '`') {
    ident_ = "`";
    ident_spilled_ = false;
    scan_ = Scan::kIdent;
    return;
  }
  out_ += c;
  if (c == '\'' || c == '"') {
    quote_ = c;
    scan_ = Scan::kString;
    recent_.clear();
    return;
  }
  if (c == ';') {  // the statement's end; the rest of its line as it is
    mode_ = Mode::kPassLine;
    return;
  }
  recent_ += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (recent_.size() > kRecent) recent_.erase(0, recent_.size() - kRecent);
}

// The identifier in ident_ ended, `next` follows it: the backup's database qualifying a sequence
// default's sequence is the target's.
void MysqlRestoreFilter::EndIdent(char next) {
  const bool sequence = recent_ == "nextval(" || recent_ == "lastval(";
  if (!ident_spilled_ && next == '.' && sequence && ident_ == from_quoted_) {
    out_ += to_quoted_;
  } else {
    out_ += ident_;
  }
  ident_.clear();
  recent_ = "`";
  scan_ = Scan::kCode;
}

}  // namespace velin::db
