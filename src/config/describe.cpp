#include "velin/config/describe.hpp"

#include "config/schema.hpp"

namespace velin::config {
namespace {

nlohmann::json ValueToJson(const Value& v) {
  return std::visit(
      [](const auto& x) -> nlohmann::json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Duration>) {
          return FormatDuration(x);
        } else {
          return x;
        }
      },
      v);
}

bool SectionShown(const Config& config, const std::string& section) {
  // An unconfigured database is shown as absent rather than as empty defaults.
  return section != "database" || config.database.configured;
}

}  // namespace

nlohmann::json ConfigToJson(const Config& config) {
  nlohmann::json out = nlohmann::json::object();
  for (const KeySpec& spec : Schema()) {
    if (!SectionShown(config, spec.section)) continue;
    out[spec.section][spec.key] = ValueToJson(spec.get(config));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ConfigToLines(const Config& config) {
  std::vector<std::pair<std::string, std::string>> lines;
  for (const KeySpec& spec : Schema()) {
    if (!SectionShown(config, spec.section)) continue;
    lines.emplace_back(spec.section + "." + spec.key, ValueToJson(spec.get(config)).dump());
  }
  return lines;
}

}  // namespace velin::config
