#include "velin/db/pg_database_entries.hpp"

#include <cctype>

namespace velin::db {
namespace {

bool Separates(char c) { return std::isspace(static_cast<unsigned char>(c)) || c == ';'; }

bool OfKind(const PgDumpCounter::TocEntry& e, DatabaseEntryKind kind) {
  if (kind == DatabaseEntryKind::kSettings) return e.desc == "DATABASE PROPERTIES";
  return (e.desc == "ACL" || e.desc == "COMMENT") && e.tag.rfind("DATABASE ", 0) == 0;
}

}  // namespace

std::string DumpedDatabaseName(const std::vector<PgDumpCounter::TocEntry>& toc) {
  for (const PgDumpCounter::TocEntry& e : toc) {
    if (e.desc == "DATABASE") return e.tag;
  }
  return "";
}

std::string DumpedDatabaseOwner(const std::vector<PgDumpCounter::TocEntry>& toc) {
  for (const PgDumpCounter::TocEntry& e : toc) {
    if (e.desc == "DATABASE") return e.owner;
  }
  return "";
}

std::vector<std::string> DatabaseStatements(const std::vector<PgDumpCounter::TocEntry>& toc,
                                            DatabaseEntryKind kind, const std::string& from_quoted,
                                            const std::string& to_quoted) {
  std::vector<std::string> out;
  for (const PgDumpCounter::TocEntry& e : toc) {
    if (!OfKind(e, kind)) continue;
    for (std::string& s : RenamedDatabaseStatements(e.defn, from_quoted, to_quoted)) {
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::vector<std::string> RenamedDatabaseStatements(std::string_view sql,
                                                   const std::string& from_quoted,
                                                   const std::string& to_quoted) {
  const std::string from = "DATABASE " + from_quoted;
  std::vector<std::string> out;
  std::string statement;
  char quote = 0;  // inside '…' or "…" (pg_dump writes standard strings: '' doubles a quote)
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      statement += c;
      if (c == quote) quote = 0;  // a doubled quote opens again at the next character
      continue;
    }
    const bool at_word = i == 0 || Separates(sql[i - 1]) || sql[i - 1] == '(';
    if (at_word && sql.compare(i, from.size(), from) == 0 &&
        (i + from.size() == sql.size() || Separates(sql[i + from.size()]))) {
      statement += "DATABASE " + to_quoted;
      i += from.size() - 1;
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    statement += c;
    if (c == ';') {
      out.push_back(std::move(statement));
      statement.clear();
    }
  }
  bool blank = true;
  for (char c : statement) blank = blank && std::isspace(static_cast<unsigned char>(c));
  if (!blank) out.push_back(std::move(statement));
  // Each without the line breaks around it.
  for (std::string& s : out) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  }
  return out;
}

}  // namespace velin::db
