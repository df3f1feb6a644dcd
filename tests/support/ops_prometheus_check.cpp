#include "support/ops_prometheus_check.hpp"

#include <cmath>
#include <cstdlib>
#include <regex>
#include <set>

namespace velin::testing {
namespace {

const std::regex kMetricName("[a-zA-Z_:][a-zA-Z0-9_:]*");
const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");
const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};

bool ParseValue(const std::string& text, double* out) {
  if (text == "+Inf" || text == "Inf") return *out = HUGE_VAL, true;
  if (text == "-Inf") return *out = -HUGE_VAL, true;
  if (text == "NaN") return *out = NAN, true;
  if (text.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && text.find_first_of("xXpP") == std::string::npos;
}

class Checker {
 public:
  PrometheusCheck result;

  void Line(size_t no, const std::string& line) {
    line_ = no;
    if (line.empty()) return;
    if (line[0] == '#') return Comment(line);
    Sample(line);
  }

  void Problem(const std::string& what) {
    result.problems.push_back("line " + std::to_string(line_) + ": " + what);
  }

 private:
  void Comment(const std::string& line) {
    std::smatch m;
    static const std::regex kMeta("# (HELP|TYPE) (\\S+)(?: (.*))?");
    if (!std::regex_match(line, m, kMeta)) return;  // an ordinary comment
    const std::string kind = m[1], name = m[2], rest = m[3];
    if (!std::regex_match(name, kMetricName)) return Problem("bad metric name " + name);
    if (!(kind == "HELP" ? help_ : type_).insert(name).second) {
      return Problem("second " + kind + " for " + name);
    }
    if (kind == "TYPE") {
      if (!kTypes.count(rest)) return Problem("unknown type '" + rest + "'");
      if (seen_.count(name)) return Problem("TYPE of " + name + " after its samples");
      result.types[name] = rest;
    }
  }

  void Sample(const std::string& line) {
    static const std::regex kSample("([^{\\s]+)(\\{.*\\})?\\s+(\\S+)(?:\\s+(-?[0-9]+))?\\s*");
    std::smatch m;
    if (!std::regex_match(line, m, kSample)) return Problem("not a sample: " + line);
    const std::string name = m[1];
    if (!std::regex_match(name, kMetricName)) return Problem("bad metric name " + name);
    std::map<std::string, std::string> labels;
    if (m[2].matched && !Labels(m[2].str(), &labels)) return;
    double value = 0;
    if (!ParseValue(m[3], &value)) return Problem("bad value '" + m[3].str() + "'");
    const std::string& family = name;  // velin writes no histograms or summaries
    if (family != current_family_) {
      if (seen_.count(family)) Problem("samples of " + family + " are not grouped together");
      current_family_ = family;
      seen_.insert(family);
    }
    auto type = result.types.find(family);
    if (type != result.types.end() && type->second == "counter") {
      if (value < 0 || std::isnan(value)) Problem("counter " + name + " is negative or NaN");
      if (name.size() < 6 || name.substr(name.size() - 6) != "_total") {
        Problem("counter " + name + " is not named *_total");
      }
    }
    std::string key = name;
    if (!labels.empty()) {
      key += "{";
      for (const auto& [k, v] : labels) key += k + "=\"" + v + "\",";
      key.back() = '}';
    }
    if (!result.samples.emplace(key, value).second) Problem("duplicate series " + key);
  }

  // Parses `{a="x",b="y"}` with the format's escapes (\\, \", \n).
  bool Labels(const std::string& text, std::map<std::string, std::string>* out) {
    size_t i = 1;
    const size_t end = text.size() - 1;
    while (i < end) {
      const size_t eq = text.find('=', i);
      if (eq == std::string::npos) return Problem("label without =: " + text), false;
      const std::string key = text.substr(i, eq - i);
      if (!std::regex_match(key, kLabelName) || key.rfind("__", 0) == 0) {
        return Problem("bad label name '" + key + "'"), false;
      }
      if (eq + 1 >= end || text[eq + 1] != '"') return Problem("unquoted label value"), false;
      std::string value;
      size_t j = eq + 2;
      for (; j < end && text[j] != '"'; ++j) {
        if (text[j] == '\n') return Problem("raw newline in a label value"), false;
        if (text[j] != '\\') {
          value += text[j];
          continue;
        }
        const char e = j + 1 < end ? text[++j] : '\0';
        if (e != '\\' && e != '"' && e != 'n') return Problem("bad escape in a label value"), false;
        value += e == 'n' ? '\n' : e;
      }
      if (j >= end) return Problem("unterminated label value"), false;
      if (!out->emplace(key, value).second) return Problem("label " + key + " twice"), false;
      i = j + 1;
      if (i < end && text[i] == ',')
        ++i;
      else if (i < end)
        return Problem("expected , between labels"), false;
    }
    return true;
  }

  size_t line_ = 0;
  std::set<std::string> help_, type_, seen_;
  std::string current_family_;
};

}  // namespace

PrometheusCheck CheckPrometheusText(std::string_view text) {
  Checker checker;
  size_t no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    ++no;
    if (nl == std::string_view::npos) {
      checker.Line(no, std::string(text.substr(pos)));
      checker.Problem("the last line does not end with a newline");
      break;
    }
    checker.Line(no, std::string(text.substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return checker.result;
}

}  // namespace velin::testing
