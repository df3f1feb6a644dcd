#include "velin/config/describe.hpp"

#include "schema.hpp"
#include "velin/core/text_encoding.hpp"
#include "velin/core/url_password.hpp"
#include "velin/storage/remote_url.hpp"

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

// URLs whose path or query may carry a token (healthchecks.io ping ids, Slack/Mattermost hook
// secrets): `config check` shows scheme and host only, like the warnings of their delivery.
bool HoldsSecretUrl(const KeySpec& spec) {
  return (spec.section == "monitor" && spec.key == "ping_url") ||
         (spec.section == "notify" && spec.key == "webhook_url");
}

std::string MaskUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url.empty() ? url : "…";
  // A password in the userinfo ("http://user:secret@host/…") is shown as *** too.
  size_t path = url.find_first_of("/?#", scheme + 3);
  if (path == std::string::npos) return storage::WithoutPassword(url);
  return storage::WithoutPassword(url.substr(0, path)) + "/…";
}

nlohmann::json Shown(const KeySpec& spec, const Config& config) {
  nlohmann::json v = ValueToJson(spec.get(config));
  // "" stands for its default, this file's path (docs/config.md#fleet): shown as it resolves.
  if (spec.section == "fleet" && spec.key == "config" && v == "") return config.file;
  if (HoldsSecretUrl(spec) && v.is_string()) return MaskUrl(v.get<std::string>());
  // Any key may hold a URL with a password: a destination or endpoint from an override, a
  // health command's "curl -fsS http://user:pw@localhost/up", a hook's.
  if (v.is_string()) return MaskUrlPasswords(v.get<std::string>());
  if (v.is_array()) {
    for (nlohmann::json& item : v) {
      if (item.is_string()) item = MaskUrlPasswords(item.get<std::string>());
    }
  }
  return v;
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
    // A table in a table ([storage.s3]) nests as TOML has it: .storage.s3.region.
    nlohmann::json* section = &out;
    for (size_t start = 0;;) {
      const size_t dot = spec.section.find('.', start);
      section = &(*section)[spec.section.substr(start, dot - start)];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    (*section)[spec.key] = Shown(spec, config);
  }
  // [databases.NAME] as [database] is shown, under "databases": {NAME: {...}}.
  for (const auto& [name, d] : config.databases) {
    Config one;
    one.database = d;
    nlohmann::json& table = out["databases"][name];
    for (const KeySpec& spec : Schema()) {
      if (spec.section == "database") table[spec.key] = Shown(spec, one);
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> ConfigToLines(const Config& config) {
  std::vector<std::pair<std::string, std::string>> lines;
  for (const KeySpec& spec : Schema()) {
    if (!SectionShown(config, spec.section)) continue;
    lines.emplace_back(spec.section + "." + spec.key, DumpJson(Shown(spec, config)));
  }
  for (const auto& [name, d] : config.databases) {
    Config one;
    one.database = d;
    for (const KeySpec& spec : Schema()) {
      if (spec.section != "database") continue;
      lines.emplace_back("databases." + name + "." + spec.key, DumpJson(Shown(spec, one)));
    }
  }
  return lines;
}

}  // namespace velin::config
