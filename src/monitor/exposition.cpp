#include "exposition.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "velin/core/i18n.hpp"

namespace velin::monitor {
namespace {

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

// A cursor over one sample line.
class LineParser {
 public:
  explicit LineParser(std::string_view line) : s_(line) {}

  Result<std::string> Name(bool allow_colon) {
    const size_t start = pos_;
    if (pos_ >= s_.size() || !(IsNameStart(s_[pos_]) || (allow_colon && s_[pos_] == ':'))) {
      return Failure(std::string(Tr("expected a name")));
    }
    while (pos_ < s_.size() && (IsNameChar(s_[pos_]) || (allow_colon && s_[pos_] == ':'))) ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }

  Result<Labels> LabelSet() {
    Labels labels;
    if (!Eat('{')) return labels;
    while (!Eat('}')) {
      VELIN_ASSIGN(std::string key, Name(false));
      if (!Eat('=') || !Eat('"')) return Failure(TrFormat("expected =\" after label {}", key));
      VELIN_ASSIGN(std::string value, QuotedRest());
      labels.emplace_back(std::move(key), std::move(value));
      if (!Eat(',') && (pos_ >= s_.size() || s_[pos_] != '}')) {
        return Failure(std::string(Tr("expected , or } after a label")));
      }
    }
    return labels;
  }

  Result<double> Value() {
    SkipSpaces();
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ' ' && s_[pos_] != '\t') ++pos_;
    const std::string text(s_.substr(start, pos_ - start));
    if (text == "+Inf") return HUGE_VAL;
    if (text == "-Inf") return -HUGE_VAL;
    if (text == "NaN") return NAN;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || std::isinf(v) || std::isnan(v)) {
      return Failure(TrFormat("bad sample value '{}'", text));
    }
    return v;
  }

  // An optional integer timestamp, then the end of the line.
  Status End() {
    SkipSpaces();
    if (pos_ < s_.size() &&
        (s_[pos_] == '-' || std::isdigit(static_cast<unsigned char>(s_[pos_])))) {
      ++pos_;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      SkipSpaces();
    }
    if (pos_ != s_.size()) return Failure(std::string(Tr("unexpected text after the value")));
    return Ok();
  }

 private:
  bool Eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void SkipSpaces() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }
  // The rest of a quoted label value, unescaped, after its opening quote.
  Result<std::string> QuotedRest() {
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (c == '\\') {
        if (pos_ >= s_.size()) break;
        const char e = s_[pos_++];
        if (e == 'n') {
          c = '\n';
        } else if (e == '\\' || e == '"') {
          c = e;
        } else {
          return Failure(TrFormat("bad escape \\{} in a label value", e));
        }
      }
      out += c;
    }
    if (!Eat('"')) return Failure(std::string(Tr("unterminated label value")));
    return out;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<SeriesMap> ParseExposition(std::string_view text) {
  SeriesMap series;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    LineParser p(line);
    auto parsed = [&]() -> Status {
      VELIN_ASSIGN(std::string name, p.Name(true));
      VELIN_ASSIGN(Labels labels, p.LabelSet());
      VELIN_ASSIGN(double value, p.Value());
      VELIN_TRY(p.End());
      series[name][std::move(labels)] = value;
      return Ok();
    }();
    if (!parsed)
      return tl::unexpected(parsed.error().Wrap(TrFormat("line {}", std::to_string(line_no))));
  }
  return series;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

std::string WriteExposition(const std::vector<FamilyInfo>& families, const SeriesMap& series) {
  std::string out;
  for (const FamilyInfo& family : families) {
    auto it = series.find(std::string(family.name));
    if (it == series.end() || it->second.empty()) continue;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family.name, family.help, family.name,
                       family.type);
    for (const auto& [labels, value] : it->second) {
      out += family.name;
      if (!labels.empty()) {
        out += '{';
        for (size_t i = 0; i < labels.size(); ++i) {
          if (i > 0) out += ',';
          out += fmt::format("{}=\"{}\"", labels[i].first, EscapeLabelValue(labels[i].second));
        }
        out += '}';
      }
      out += ' ';
      out += FormatSampleValue(value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace velin::monitor
