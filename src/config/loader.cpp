// Loading velin.toml: parse with toml++, check every key against the schema, apply the
// environment overrides, check cross-key rules, then resolve relative paths.
#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

#include "http_url.hpp"
#include "schema.hpp"
#include "velin/backup/after_create.hpp"
#include "velin/backup/archiver.hpp"
#include "velin/config/config.hpp"
#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/secret_file.hpp"
#include "velin/core/text_encoding.hpp"
#include "velin/io/posix_env.hpp"
#include "velin/rollback/fleet.hpp"
#include "velin/storage/remote_url.hpp"
#include "velin/storage/s3_backend.hpp"

extern char** environ;

namespace velin::config {
namespace {

namespace fs = std::filesystem;

struct Position {
  int line = 0;
  int column = 0;
  std::string env;  // the VELIN_* variable the value came from, when it did (line 0)
};

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Suggest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;  // only close matches are worth suggesting
  for (const std::string& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best.empty() ? "" : TrFormat(" (did you mean '{}'?)", best);
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

// "../x", "a/../../x": a relative path whose ".." climb above where it starts ("bin/.." is the
// start itself, and stays in).
bool LeadsOutOfRoot(const std::string& path) {
  int depth = 0;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    const std::string part = path.substr(start, end - start);
    if (part == "..") {
      if (--depth < 0) return true;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    start = end + 1;
  }
  return false;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + Quote(i);
  return out;
}

std::string TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return Tr("a string").data();
    case toml::node_type::integer:
      return Tr("an integer").data();
    case toml::node_type::floating_point:
      return Tr("a number").data();
    case toml::node_type::boolean:
      return Tr("a boolean").data();
    case toml::node_type::array:
      return Tr("an array").data();
    case toml::node_type::table:
      return Tr("a table").data();
    default:
      return Tr("a date/time").data();
  }
}

const char* KindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kString:
      return Tr("a string").data();
    case KeyKind::kEnum:
      return Tr("a string").data();
    case KeyKind::kInt:
      return Tr("an integer").data();
    case KeyKind::kBool:
      return Tr("a boolean (true or false)").data();
    case KeyKind::kDouble:
      return Tr("a number").data();
    case KeyKind::kStringArray:
      return Tr("an array of strings").data();
    case KeyKind::kDuration:
      break;
  }
  return Tr("a duration string like \"30s\", \"10m\", \"2h\"").data();
}

class Loader {
 public:
  Loader(std::string path, io::Env& env) : path_(std::move(path)), env_(env) {}

  Result<Config> Load(const std::string& text) {
    config_ = DefaultConfig(Dirname(path_));
    config_.file = path_;
    config_.dir = Dirname(path_);
    VELIN_TRY(CheckKeyDepth(text));
    toml::table root;
    try {
      root = toml::parse(text, path_);
    } catch (const toml::parse_error& err) {
      Position pos{static_cast<int>(err.source().begin.line),
                   static_cast<int>(err.source().begin.column)};
      return Fail(pos, std::string(err.description()));
    }
    VELIN_TRY(ReadTables(root));
    VELIN_TRY(ApplyEnvironment());
    VELIN_TRY(CheckRules());
    VELIN_TRY(ResolvePaths());
    VELIN_TRY(CheckOffsiteElsewhere());
    RelativeExcludes();
    DefaultIdentity();
    VELIN_TRY(CheckSecretFiles());
    for (const KeySpec& spec : Schema()) {
      const Position at = PositionOf(spec.section, spec.key);
      config_.places[spec.section + "." + spec.key] = KeyPlace{at.line, at.column, at.env};
      if (spec.section != "database") continue;
      for (const auto& [name, d] : config_.databases) {
        const Position named = PositionOf("databases." + name, spec.key);
        config_.places["databases." + name + "." + spec.key] = KeyPlace{named.line, named.column};
      }
    }
    return config_;
  }

 private:
  // toml++ parses a dotted key or table name ([a.a.a…], a.a.a… = 1) by recursion, a level per
  // part: some 40,000 parts overflowed the stack (SIGSEGV). velin's keys are at most three
  // parts deep, so a name of more than kMaxKeyParts is refused before toml++ sees it. Counted
  // over each run of key characters, quoted parts and dots on a line (strings and comments
  // skipped, so a dot in them never counts); a value's dots (1.5, a time's fraction) count at
  // most two parts.
  Status CheckKeyDepth(const std::string& text) const {
    constexpr int kMaxKeyParts = 64;
    int line = 1;
    size_t line_start = 0;
    int parts = 0;  // in the current run; 0: no run
    size_t run_start = 0;
    auto start_run = [&](size_t i) {
      if (parts == 0) {
        parts = 1;
        run_start = i;
      }
    };
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '"' || c == '\'') {
        start_run(i);  // a quoted key part (or a value)
        i = EndOfString(text, i, line, line_start);
        continue;
      }
      if (c == '.') {
        start_run(i);
        if (++parts > kMaxKeyParts) {
          return Fail(Position{line, static_cast<int>(run_start - line_start) + 1},
                      TrFormat("a key or table name of more than {} dotted parts", kMaxKeyParts));
        }
        continue;
      }
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') {
        start_run(i);
        continue;
      }
      if (c == ' ' || c == '\t') continue;
      parts = 0;
      if (c == '#') {
        while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
      } else if (c == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return Ok();
  }

  // The index of the last character of the string opening at `open` ('"', '\'', """ or
  // '''), counting the lines a multi-line one spans. An unterminated one-line string ends
  // before its newline (toml++ reports it), an unterminated multi-line one at the end.
  static size_t EndOfString(const std::string& text, size_t open, int& line, size_t& line_start) {
    const char quote = text[open];
    const size_t width = text.compare(open, 3, std::string(3, quote)) == 0 ? 3 : 1;
    const std::string close(width, quote);
    for (size_t j = open + width; j < text.size(); ++j) {
      if (text[j] == '\n') {
        if (width == 1) return j - 1;
        ++line;
        line_start = j + 1;
      } else if (quote == '"' && text[j] == '\\') {
        if (j + 1 < text.size() && text[j + 1] != '\n') ++j;  // an escaped character
      } else if (text.compare(j, width, close) == 0) {
        return j + width - 1;
      }
    }
    return text.size() - 1;
  }

  // The directory relative paths resolve against: the config's own, but the working directory
  // for a pipe (`--config <(render-config)` is /dev/fd/63) or standard input, whose "directory"
  // holds no application: "data" became /dev/fd/data and `backup init` tried /dev/fd/.velin.
  static std::string Dirname(const std::string& p) {
    const std::string path = fs::path(p).lexically_normal().string();
    const std::string parent_text = fs::path(path).parent_path().string();
    const bool proc_fd = parent_text.starts_with("/proc/") && parent_text.ends_with("/fd") &&
                         parent_text.find('/', 6) == parent_text.size() - 3;
    if (path == "/dev/stdin" || parent_text == "/dev/fd" || proc_fd) return ".";
    fs::path parent = fs::path(p).parent_path();
    return parent.empty() ? "." : parent.string();
  }

  tl::unexpected<Error> Fail(const Position& pos, const std::string& message) const {
    if (!pos.env.empty()) return UsageError(TrFormat("environment {}: {}", pos.env, message));
    return UsageError(TrFormat("{}:{}:{}: {}", path_, pos.line, pos.column, message));
  }

  Status ReadTables(const toml::table& root) {
    std::vector<std::string> top_names;
    for (const std::string& s : Sections()) top_names.push_back(s.substr(0, s.find('.')));
    for (auto&& [key, node] : root) {
      std::string name(key.str());
      Position pos = At(key.source());
      if (name == "storage") {
        if (!node.is_table()) return Fail(pos, std::string(Tr("'storage' must be a table")));
        for (auto&& [sub_key, sub_node] : *node.as_table()) {
          std::string sub(sub_key.str());
          if (sub != "s3" && sub != "sftp") {
            return Fail(At(sub_key.source()), TrFormat("unknown section [storage.{}]{}", sub,
                                                       Suggest(sub, {"s3", "sftp"})));
          }
          VELIN_TRY(ReadSection("storage." + sub, sub_node, At(sub_key.source())));
        }
        continue;
      }
      if (name == "databases") {
        if (!node.is_table()) {
          return Fail(pos, std::string(Tr("'databases' must hold tables [databases.NAME]")));
        }
        for (auto&& [sub_key, sub_node] : *node.as_table()) {
          VELIN_TRY(ReadNamedDatabase(std::string(sub_key.str()), sub_node, At(sub_key.source())));
        }
        continue;
      }
      if (std::find(top_names.begin(), top_names.end(), name) == top_names.end()) {
        if (!node.is_table()) {
          return Fail(pos, TrFormat("key '{}' must be inside a section such as [backup]", name));
        }
        return Fail(pos, TrFormat("unknown section [{}]{}", name, Suggest(name, top_names)));
      }
      VELIN_TRY(ReadSection(name, node, pos));
    }
    return Ok();
  }

  static Position At(const toml::source_region& region) {
    return Position{static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
  }

  Status ReadSection(const std::string& section, const toml::node& node, Position pos) {
    if (!node.is_table()) return Fail(pos, TrFormat("'{}' must be a table [{}]", section, section));
    section_positions_[section] = pos;
    if (section == "database") config_.database.configured = true;
    std::vector<std::string> known;
    for (const KeySpec& spec : Schema()) {
      if (spec.section == section) known.push_back(spec.key);
    }
    for (auto&& [key, value] : *node.as_table()) {
      std::string name(key.str());
      Position key_pos = At(key.source());
      const KeySpec* spec = Find(section, name);
      if (spec == nullptr) {
        return Fail(key_pos,
                    TrFormat("unknown key '{}' in [{}]{}", name, section, Suggest(name, known)));
      }
      VELIN_ASSIGN(Value v, Convert(*spec, value, key_pos));
      spec->set(config_, v);
      positions_[section + "." + name] = key_pos;
      if (value.is_array()) {
        std::vector<Position>& items = item_positions_[section + "." + name];
        items.clear();
        for (const toml::node& item : *value.as_array()) items.push_back(At(item.source()));
      }
    }
    return Ok();
  }

  // [databases.NAME]: the keys of [database], read into a Config of their own through the
  // same schema, and positions kept as "databases.NAME.key" for messages after loading. No
  // VELIN_* override reaches them (docs/config.md#databases).
  Status ReadNamedDatabase(const std::string& name, const toml::node& node, Position pos) {
    const std::string section = "databases." + name;
    if (!IsDatabaseName(name)) {
      return Fail(pos,
                  TrFormat("[{}]: a database's name is 1 to 32 of a-z, 0-9, '_' and '-'", section));
    }
    if (!node.is_table()) return Fail(pos, TrFormat("'{}' must be a table [{}]", section, section));
    section_positions_[section] = pos;
    std::vector<std::string> known;
    for (const KeySpec& spec : Schema()) {
      if (spec.section == "database") known.push_back(spec.key);
    }
    Config scratch;
    for (auto&& [key, value] : *node.as_table()) {
      const std::string key_name(key.str());
      const Position key_pos = At(key.source());
      const KeySpec* spec = Find("database", key_name);
      if (spec == nullptr) {
        return Fail(key_pos, TrFormat("unknown key '{}' in [{}]{}", key_name, section,
                                      Suggest(key_name, known)));
      }
      KeySpec named = *spec;  // messages name [databases.NAME]
      named.section = section;
      VELIN_ASSIGN(Value v, Convert(named, value, key_pos));
      named.set(scratch, v);
      positions_[section + "." + key_name] = key_pos;
    }
    scratch.database.configured = true;
    config_.databases[name] = std::move(scratch.database);
    return Ok();
  }

  static const KeySpec* Find(const std::string& section, const std::string& key) {
    for (const KeySpec& spec : Schema()) {
      if (spec.section == section && spec.key == key) return &spec;
    }
    return nullptr;
  }

  std::string Where(const KeySpec& spec) const {
    return TrFormat("key '{}' in [{}]", spec.key, spec.section);
  }

  Result<Value> Convert(const KeySpec& spec, const toml::node& node, Position pos) const {
    auto wrong_type = [&] {
      return Fail(
          pos, TrFormat("{} must be {}, not {}", Where(spec), KindName(spec.kind), TypeName(node)));
    };
    switch (spec.kind) {
      case KeyKind::kString:
      case KeyKind::kEnum:
      case KeyKind::kDuration: {
        if (!node.is_string()) return wrong_type();
        return CheckString(spec, std::string(node.as_string()->get()),
                           [&](const std::string& m) { return Fail(pos, m); });
      }
      case KeyKind::kInt: {
        if (!node.is_integer()) return wrong_type();
        return CheckInt(spec, node.as_integer()->get(),
                        [&](const std::string& m) { return Fail(pos, m); });
      }
      case KeyKind::kBool:
        if (!node.is_boolean()) return wrong_type();
        return Value(node.as_boolean()->get());
      case KeyKind::kDouble:
        if (node.is_integer()) return Value(static_cast<double>(node.as_integer()->get()));
        if (!node.is_floating_point()) return wrong_type();
        return Value(node.as_floating_point()->get());
      case KeyKind::kStringArray:
        break;
    }
    if (!node.is_array()) return wrong_type();
    std::vector<std::string> items;
    for (const toml::node& item : *node.as_array()) {
      if (!item.is_string()) {
        return Fail(At(item.source()), TrFormat("{} must be an array of strings, but holds {}",
                                                Where(spec), TypeName(item)));
      }
      items.emplace_back(item.as_string()->get());
      if (items.back().find('\0') != std::string::npos) {
        return Fail(At(item.source()), NulMessage(spec));
      }
    }
    return Value(std::move(items));
  }

  // A NUL (a TOML "\u0000") ends a name where the system takes it: include "a\u0000b" backed
  // up "a" into a backup whose tree no restore could read, a destination made a directory of
  // the part before it. No key of velin's (a path, a name, a URL, a command) can hold one.
  std::string NulMessage(const KeySpec& spec) const {
    return TrFormat("{} holds a NUL character (\\u0000), which no path, name or command can hold",
                    Where(spec));
  }

  template <typename FailFn>
  Result<Value> CheckString(const KeySpec& spec, const std::string& s, FailFn fail) const {
    if (s.find('\0') != std::string::npos) return fail(NulMessage(spec));
    if (spec.kind == KeyKind::kEnum &&
        std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
      return fail(
          TrFormat("{} must be one of {}, not {}", Where(spec), Join(spec.choices), Quote(s)));
    }
    if (spec.kind == KeyKind::kDuration) {
      auto d = ParseDuration(s);
      if (!d) {
        return fail(
            TrFormat("{}: {} is not a duration (write e.g. \"30s\", \"10m\", \"2h\", \"1d\"; at "
                     "most \"36500d\")",
                     Where(spec), Quote(s)));
      }
      if (d->count() < spec.min) {
        return fail(TrFormat("{} must be positive, not {} (e.g. \"30s\")", Where(spec), Quote(s)));
      }
      return Value(*d);
    }
    return Value(s);
  }

  template <typename FailFn>
  Result<Value> CheckInt(const KeySpec& spec, int64_t v, FailFn fail) const {
    if (v < spec.min) {
      return fail(TrFormat("{} must be at least {}, not {}", Where(spec), std::to_string(spec.min),
                           std::to_string(v)));
    }
    if (v > spec.max) {
      return fail(TrFormat("{} must be at most {}, not {}", Where(spec), std::to_string(spec.max),
                           std::to_string(v)));
    }
    return Value(v);
  }

  // VELIN_<SECTION>_<KEY>=value overrides the file, e.g. for one cron job.
  Status ApplyEnvironment() {
    for (const KeySpec& spec : Schema()) {
      std::string name = EnvName(spec);
      std::optional<std::string> raw = env_.GetEnv(name);
      if (!raw) continue;
      std::string text = std::move(*raw);
      auto fail = [&](const std::string& m) {
        return UsageError(TrFormat("environment {}: {}", name, m));
      };
      Value v;
      switch (spec.kind) {
        case KeyKind::kString:
        case KeyKind::kEnum:
        case KeyKind::kDuration: {
          VELIN_ASSIGN(v, CheckString(spec, text, fail));
          break;
        }
        case KeyKind::kInt: {
          char* end = nullptr;
          errno = 0;
          long long n = std::strtoll(text.c_str(), &end, 10);
          if (text.empty() || *end != '\0' || errno != 0) {
            return fail(TrFormat("{} must be an integer, not {}", Where(spec), Quote(text)));
          }
          VELIN_ASSIGN(v, CheckInt(spec, n, fail));
          break;
        }
        case KeyKind::kBool:
          // Exactly these six, lower case: scripts written against them keep working, and the
          // refusal lists them all (docs/config.md).
          if (text == "true" || text == "1" || text == "yes") {
            v = true;
          } else if (text == "false" || text == "0" || text == "no") {
            v = false;
          } else {
            return fail(TrFormat("{} must be true, false, yes, no, 1 or 0, not {}", Where(spec),
                                 Quote(text)));
          }
          break;
        case KeyKind::kDouble: {
          char* end = nullptr;
          double d = std::strtod(text.c_str(), &end);
          if (text.empty() || *end != '\0') {
            return fail(TrFormat("{} must be a number, not {}", Where(spec), Quote(text)));
          }
          v = d;
          break;
        }
        case KeyKind::kStringArray: {
          std::vector<std::string> items;
          size_t start = 0;
          while (start <= text.size() && !text.empty()) {
            size_t comma = text.find(',', start);
            if (comma == std::string::npos) comma = text.size();
            // "storage/uploads, db": the spaces a person puts after a comma are not the name's.
            size_t first = start;
            size_t last = comma;
            while (first < last && (text[first] == ' ' || text[first] == '\t')) ++first;
            while (last > first && (text[last - 1] == ' ' || text[last - 1] == '\t')) --last;
            items.push_back(text.substr(first, last - first));
            start = comma + 1;
          }
          v = std::move(items);
          break;
        }
      }
      spec.set(config_, v);
      if (spec.section == "database") config_.database.configured = true;
      positions_[spec.section + "." + spec.key] = Position{0, 0, name};
      item_positions_.erase(spec.section + "." + spec.key);
      env_overridden_.push_back(spec.section + "." + spec.key);
    }
    WarnUnknownEnvironment();
    return Ok();
  }

  // A VELIN_* variable that looks like an override (it starts like one, or is a typo of one)
  // but names no key would be ignored without a word: say so.
  void WarnUnknownEnvironment() {
    std::vector<std::string> known;
    for (const KeySpec& spec : Schema()) known.push_back(EnvName(spec));
    std::vector<std::string> prefixes;
    for (const std::string& section : Sections()) {
      std::string p = "VELIN_";
      for (char c : section) {
        p += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      prefixes.push_back(p + "_");
    }
    // velin's own variables that are not config keys, and the test hooks.
    static const char* kOther[] = {
        "VELIN_CONFIG", "VELIN_CACHE_DIR", "VELIN_FTP_PASSWORD", "VELIN_FTPS_CA_FILE", "VELIN_NOW",
        "VELIN_ROLLBACK_LEVEL", "VELIN_RELEASE_DIR", "VELIN_FROM_RELEASE_DIR", "VELIN_FAULT_INJECT",
        "VELIN_TEST_CRASH_AT",
        // What a hook gets (docs/operations.md#hooks): a hook may run velin itself.
        "VELIN_EVENT", "VELIN_BACKUP_ID", "VELIN_VERSION", "VELIN_FROM_VERSION", "VELIN_ERROR",
        // ... and what a notify command gets (docs/operations.md#notifications).
        "VELIN_OUTCOME", "VELIN_SUMMARY", "VELIN_HOST", "VELIN_APP", "VELIN_TIME",
        "VELIN_TEST_LOCK_REFRESH_MS", "VELIN_FAULT_BITFLIP", "VELIN_FAULT_SIGNAL",
        "VELIN_TEST_PAUSE_AT", "VELIN_TEST_PAUSE_DIR",
        // A repository without a velin.toml (docs/operations.md, "The server is gone").
        "VELIN_REPOSITORY", "VELIN_PASSPHRASE"};
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string_view entry(*e);
      std::string name(entry.substr(0, entry.find('=')));
      if (name.rfind("VELIN_", 0) != 0) continue;
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      if (std::find(std::begin(kOther), std::end(kOther), name) != std::end(kOther)) continue;
      // The variables the config names as holding secrets are the user's to name.
      if (name == config_.backup.password_env || name == config_.database.password_env ||
          name == config_.sftp.key_passphrase_env ||
          std::any_of(config_.databases.begin(), config_.databases.end(),
                      [&](const auto& d) { return d.second.password_env == name; })) {
        continue;
      }
      std::string suggestion = Suggest(name, known);
      bool looks_like_key = std::any_of(prefixes.begin(), prefixes.end(),
                                        [&](const auto& p) { return name.rfind(p, 0) == 0; });
      if (suggestion.empty() && !looks_like_key) continue;
      if (suggestion.empty()) {
        config_.warnings.push_back(
            TrFormat("environment variable {} is not a velin setting and is ignored", name));
      } else {
        // Suggest() wrote " (did you mean 'X'?)": the catalogue wants X alone.
        std::string best = suggestion.substr(16, suggestion.size() - 16 - 3);
        config_.warnings.push_back(TrFormat(
            "environment variable {} is not a velin setting and is ignored (did you mean '{}'?)",
            name, best));
      }
    }
  }

  // Where to point a message about `section.key`: the key, else its section, else line 1.
  Position PositionOf(const std::string& section, const std::string& key) const {
    if (auto it = positions_.find(section + "." + key);
        it != positions_.end() && (it->second.line || !it->second.env.empty()))
      return it->second;
    if (auto it = section_positions_.find(section); it != section_positions_.end())
      return it->second;
    // A section the file does not hold, made by overrides (VELIN_DATABASE_HOST alone makes a
    // [database]): the variables are what to fix, not line 1 of velin.toml.
    std::string variables;
    for (const auto& [key, pos] : positions_) {
      if (pos.env.empty() || !key.starts_with(section + ".") ||
          key.find('.', section.size() + 1) != std::string::npos) {
        continue;
      }
      variables += (variables.empty() ? "" : ", ") + pos.env;
    }
    if (!variables.empty()) return Position{0, 0, variables};
    return Position{1, 1};
  }

  // Where to point a message about item `i` of the array `section.key`: the item when the file
  // holds it, else the key (an item from the environment has no line).
  Position ItemPosition(const std::string& section, const std::string& key, size_t i) const {
    if (auto it = item_positions_.find(section + "." + key);
        it != item_positions_.end() && i < it->second.size()) {
      return it->second[i];
    }
    return PositionOf(section, key);
  }

  // The path keys that must name a place. Empty, one resolved to nothing: velin as root wrote
  // its rollback state into "/" (state_dir "" + "/lock") and backed up the working directory
  // as an app named "/". The path keys whose default is "" ([log] file, password_file,
  // offsite, ...) take "" as "none", and so does backup.destination (no repository: the
  // commands needing one refuse), as documented in docs/config.md.
  Status CheckPathsNotEmpty() const {
    struct PathKey {
      const char* section;
      const char* key;
      const char* default_value;
    };
    for (const PathKey& p :
         {PathKey{"app", "root", "\".\""}, PathKey{"rollback", "state_dir", "\".velin\""},
          PathKey{"rollback", "current", "\"current\""}}) {
      const KeySpec* spec = Find(p.section, p.key);
      if (spec == nullptr || !std::get<std::string>(spec->get(config_)).empty()) continue;
      return Fail(PositionOf(p.section, p.key),
                  TrFormat("key '{}' in [{}] must not be empty (leave the key out for its default, "
                           "{})",
                           p.key, p.section, p.default_value));
    }
    return Ok();
  }

  Status CheckRules() {
    VELIN_TRY(CheckPathsNotEmpty());
    for (const char* key : {"name", "host"}) {
      const std::string& v = key[0] == 'n' ? config_.app.name : config_.app.host;
      if (!positions_.count(std::string("app.") + key)) continue;
      if (v.empty() || v.size() > 255 ||
          std::any_of(v.begin(), v.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
        return Fail(PositionOf("app", key),
                    TrFormat("key '{}' in [app] must be 1 to 255 characters without control "
                             "characters",
                             key));
      }
      // Recorded in every backup and compared with what backups recorded: text, not bytes (an
      // environment variable can hold any bytes; the file is UTF-8 already).
      if (!IsUtf8(v)) {
        return Fail(PositionOf("app", key), TrFormat("key '{}' in [app] is not UTF-8 text", key));
      }
    }
    const BackupSection& b = config_.backup;
    if (b.compression == "gzip" && (b.compression_level < 1 || b.compression_level > 9) &&
        positions_.count("backup.compression_level")) {
      return Fail(PositionOf("backup", "compression_level"),
                  TrFormat("key 'compression_level' in [backup] must be 1..9 for gzip, not {}",
                           std::to_string(b.compression_level)));
    }
    if (b.compression == "gzip" && !positions_.count("backup.compression_level")) {
      config_.backup.compression_level = 6;
    }
    // Written so that NaN (`nan` in TOML, "nan" in VELIN_BACKUP_REPACK_THRESHOLD) fails too.
    if (!(b.repack_threshold >= 0.0 && b.repack_threshold <= 1.0)) {
      return Fail(PositionOf("backup", "repack_threshold"),
                  std::string(Tr("key 'repack_threshold' in [backup] must be between 0 and 1")));
    }
    for (size_t i = 0; i < b.include.size(); ++i) {
      const std::string item = b.include[i];
      const Position at = ItemPosition("backup", "include", i);
      if (item.empty())
        return Fail(at, std::string(Tr("key 'include' in [backup] holds an empty path")));
      // "storage/uploads/" is "storage/uploads": the name each backup records.
      const std::string normal = backup::NormalizeInclude(item);
      if (!normal.empty()) config_.backup.include[i] = normal;
      // The include's name is recorded in each backup (its source), as UTF-8 text.
      if (!IsUtf8(item)) {
        return Fail(at, TrFormat("key 'include' in [backup]: {} is not UTF-8 text", Quote(item)));
      }
      // What `backup create` refuses (backup::IsIncludeInsideRoot), refused here so `config
      // check` says it.
      if (!backup::IsIncludeInsideRoot(b.include[i])) {
        return Fail(at, TrFormat("key 'include' in [backup]: {} must be a path inside app.root "
                                 "(relative, without '..')",
                                 Quote(item)));
      }
      if (b.include[i] == "db" && !config_.database.configured) {
        return Fail(
            at, std::string(Tr(
                    "key 'include' in [backup] names \"db\" but there is no [database] section")));
      }
      if (b.include[i].starts_with("db:")) {
        const std::string name = b.include[i].substr(3);
        if (!config_.databases.contains(name)) {
          return Fail(at, TrFormat("key 'include' in [backup] names \"{}\" but there is no "
                                   "[databases.{}] section{}",
                                   b.include[i], name, Suggest(name, DatabaseNames())));
        }
      }
    }
    for (const auto& [name, d] : config_.databases) {
      if (b.include.empty() ||
          std::find(b.include.begin(), b.include.end(), "db:" + name) != b.include.end()) {
        continue;
      }
      config_.warnings.push_back(
          TrFormat("[databases.{}] is configured but backup.include does not name \"db:{}\": "
                   "backups hold no copy of it (add \"db:{}\" to backup.include, or remove "
                   "[databases.{}])",
                   name, name, name, name));
    }
    // A [database] whose backups were meant, with only paths listed: every backup would leave
    // it out without a word. (No include at all: backups are not used here, e.g. rollback only.)
    if (config_.database.configured && !b.include.empty() &&
        std::find(b.include.begin(), b.include.end(), "db") == b.include.end()) {
      config_.warnings.push_back(
          std::string(Tr("[database] is configured but backup.include does not name \"db\": "
                         "backups hold no database (add \"db\" to backup.include, or remove "
                         "[database])")));
    }
    // One path listed twice ("storage" and "storage/") is backed up once.
    for (size_t i = 1; i < config_.backup.include.size();) {
      auto& list = config_.backup.include;
      if (std::find(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(i), list[i]) !=
          list.begin() + static_cast<std::ptrdiff_t>(i)) {
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    // rollback.artifacts and rollback.config in the same spelling; a path listed twice, or
    // inside another listed path ("bin" and "bin/app"), was copied twice into a version and
    // failed it with "File exists": it is taken once.
    for (const auto& [key, list] : {std::pair{"artifacts", &config_.rollback.artifacts},
                                    std::pair{"config", &config_.rollback.config}}) {
      for (size_t i = 0; i < list->size(); ++i) {
        std::string& path = (*list)[i];
        // What create-version refuses (rollback::ScanTree), refused here so `config check`
        // says it, with the place: "/etc" was accepted and then looked for as app.root/etc.
        if (!path.empty() && (path[0] == '/' || LeadsOutOfRoot(path))) {
          return Fail(ItemPosition("rollback", key, i),
                      TrFormat("key '{}' in [rollback]: {} must be a path inside app.root "
                               "(relative, without '..')",
                               key, Quote(path)));
        }
        const std::string normal = backup::NormalizeInclude(path);
        if (!path.empty() && path[0] != '/' && !normal.empty()) path = normal;
        if (positions_.count(std::string("rollback.") + key)) {
          const Position at = ItemPosition("rollback", key, i);
          config_.rollback.path_places.emplace(
              std::pair{std::string("rollback.") + key, path},
              at.env.empty() ? NoTr(fmt::format("{}:{}:{}", path_, at.line, at.column))
                             : TrFormat("environment {}", at.env));
        }
      }
      std::vector<std::string> kept;
      for (size_t i = 0; i < list->size(); ++i) {
        const std::string& path = (*list)[i];
        bool covered = false;
        for (size_t j = 0; j < list->size() && !covered; ++j) {
          const std::string& other = (*list)[j];
          covered = j != i && ((other == path && j < i) || path.starts_with(other + "/"));
        }
        if (!covered) kept.push_back(path);
      }
      *list = std::move(kept);
    }
    for (auto& pattern : config_.backup.exclude) pattern = backup::NormalizeGlob(pattern);
    for (auto& path : config_.backup.allow_empty) {
      if (const std::string normal = backup::NormalizeInclude(path); !normal.empty()) path = normal;
    }
    const NotifySection& n = config_.notify;
    VELIN_TRY(CheckHttpUrls());
    for (size_t i = 0; i < n.events.size(); ++i) {
      const std::string& event = n.events[i];
      const auto& known = NotifyEventNames();
      if (std::find(known.begin(), known.end(), event) == known.end()) {
        return Fail(ItemPosition("notify", "events", i),
                    TrFormat("key 'events' in [notify]: unknown event {} (known: {})", Quote(event),
                             Join(known)));
      }
    }
    VELIN_TRY(CheckFleet());
    VELIN_TRY(CheckNoPasswordInUrls());
    VELIN_TRY(CheckRemoteUrls());
    if (config_.database.configured) VELIN_TRY(CheckDatabase("database", config_.database));
    for (const auto& [name, d] : config_.databases)
      VELIN_TRY(CheckDatabase("databases." + name, d));
    return Ok();
  }

  std::vector<std::string> DatabaseNames() const {
    std::vector<std::string> names;
    for (const auto& [name, d] : config_.databases) names.push_back(name);
    return names;
  }

  // The keys a database table needs, [database] or [databases.NAME] (`section`).
  Status CheckDatabase(const std::string& section, const DatabaseSection& d) const {
    if (d.driver.empty()) {
      return Fail(
          PositionOf(section, "driver"),
          TrFormat("[{}] needs key 'driver' (\"postgresql\", \"mysql\" or \"sqlite\")", section));
    }
    if (d.driver == "sqlite" && d.path.empty()) {
      return Fail(PositionOf(section, "path"),
                  TrFormat("[{}] with driver \"sqlite\" needs key 'path'", section));
    }
    if (d.driver != "sqlite" && d.name.empty()) {
      return Fail(PositionOf(section, "name"),
                  TrFormat("[{}] with driver \"{}\" needs key 'name'", section, d.driver));
    }
    return Ok();
  }

  // [fleet]: each host entry must parse (rollback::ParseFleetHost says why not); the hosts'
  // config path is a path on the hosts, so it must be absolute.
  Status CheckFleet() {
    const FleetSection& f = config_.fleet;
    if (!f.config.empty() && f.config[0] != '/') {
      return Fail(PositionOf("fleet", "config"),
                  TrFormat("key 'config' in [fleet] must be an absolute path on the hosts, not {}",
                           Quote(f.config)));
    }
    for (size_t i = 0; i < f.hosts.size(); ++i) {
      auto host = rollback::ParseFleetHost(f.hosts[i], "/");
      if (!host) {
        return Fail(ItemPosition("fleet", "hosts", i),
                    TrFormat("key 'hosts' in [fleet]: {}", host.error().message));
      }
    }
    return Ok();
  }

  // The URLs velin fetches or posts to with libcurl, which refuses other schemes at every
  // ping ("Unsupported protocol"), sends one without a scheme over plain http, and cannot
  // resolve an empty host or one with a space: refused here, once, with the key's line. A
  // rollback.health that is no URL is a shell command, left alone.
  Status CheckHttpUrls() {
    struct UrlKey {
      const char* section;
      const char* key;
      const std::string& url;
      bool always_url;
    };
    for (const UrlKey& u : {UrlKey{"notify", "webhook_url", config_.notify.webhook_url, true},
                            UrlKey{"monitor", "ping_url", config_.monitor.ping_url, true},
                            UrlKey{"rollback", "health", config_.rollback.health, false}}) {
      if (u.url.empty() || (!u.always_url && !HasHttpScheme(u.url))) continue;
      if (std::string problem = HttpUrlProblem(u.section, u.key, u.url); !problem.empty()) {
        return Fail(PositionOf(u.section, u.key), problem);
      }
    }
    return Ok();
  }

  // A password in a repository or endpoint URL is refused by every command that opens the
  // repository (storage::ParseRemoteUrl): refused here with its line, so that `config check`
  // agrees with them and never shows it. The message quotes no part of the URL.
  Status CheckNoPasswordInUrls() {
    struct UrlKey {
      const char* section;
      const char* key;
      const std::string& url;
    };
    for (const UrlKey& u : {UrlKey{"backup", "destination", config_.backup.destination},
                            UrlKey{"backup", "offsite", config_.backup.offsite},
                            UrlKey{"storage.s3", "endpoint", config_.s3.endpoint}}) {
      if (!IsRemoteDestination(u.url) || storage::WithoutPassword(u.url) == u.url) continue;
      return Fail(PositionOf(u.section, u.key),
                  TrFormat("key '{}' in [{}]: a password does not belong in the URL (use "
                           "VELIN_FTP_PASSWORD for FTP, a key file for SFTP, "
                           "storage.s3.credentials_file for S3)",
                           u.key, u.section));
    }
    return Ok();
  }

  // The repository URLs and the S3 endpoint as every command that opens the repository checks
  // them (storage::CheckRemoteDestination, CheckS3Endpoint), here with the key's place:
  // `config check` passed "minio.local:9000" and "s3://bkt:9000/x" that each of them refused.
  Status CheckRemoteUrls() {
    if (Status endpoint = storage::CheckS3Endpoint(config_.s3.endpoint); !endpoint) {
      return Fail(
          PositionOf("storage.s3", "endpoint"),
          TrFormat("key '{}' in [{}]: ", "endpoint", "storage.s3") + endpoint.error().message);
    }
    for (const char* key : {"destination", "offsite"}) {
      const std::string& url = key[0] == 'd' ? config_.backup.destination : config_.backup.offsite;
      if (Status checked = storage::CheckRemoteDestination(url); !checked) {
        return Fail(PositionOf("backup", key),
                    TrFormat("key '{}' in [{}]: ", key, "backup") + checked.error().message);
      }
    }
    return Ok();
  }

  // The home directory "~" stands for: $HOME, or, where it is unset or empty (a systemd
  // service without User=, an `env -i` wrapper), the user's entry in the password database, as
  // a shell does. Without either "~/x" must not quietly become a directory named "~" under the
  // config's directory, so the caller refuses it.
  std::optional<std::string> HomeDirectory() const {
    if (auto home = env_.GetEnv("HOME"); home && !home->empty()) return home;
    auto account = CurrentAccount();
    if (!account || account->home.empty()) return std::nullopt;
    return account->home;
  }

  // `p` made absolute: "~" and "~/..." under the home directory, other relative paths under
  // `base`. nullopt when `p` needs a home directory and there is none.
  std::optional<std::string> Resolve(const std::string& base, const std::string& p) const {
    if (p.empty() || IsRemoteDestination(p)) return p;
    fs::path path(p);
    if (p == "~" || p.rfind("~/", 0) == 0) {
      auto home = HomeDirectory();
      if (!home) return std::nullopt;
      path = fs::path(*home) / p.substr(p.size() > 1 ? 2 : 1);
    }
    if (path.is_relative()) path = fs::path(base) / path;
    std::string out = path.lexically_normal().string();
    if (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
  }

  Status ResolvePaths() {
    std::string config_dir = fs::absolute(fs::path(config_.dir)).lexically_normal().string();
    if (config_dir.size() > 1 && config_dir.back() == '/') config_dir.pop_back();
    config_.dir = config_dir;
    config_.file = fs::absolute(fs::path(path_)).lexically_normal().string();
    auto resolve = [&](const std::string& section, const std::string& key, const std::string& base,
                       const std::string& value) -> Result<std::string> {
      std::optional<std::string> out = Resolve(base, value);
      if (!out) {
        return Fail(PositionOf(section, key),
                    TrFormat("key '{}' in [{}]: {} starts with '~', but HOME is not set and the "
                             "user has no home directory in the password database",
                             key, section, Quote(value)));
      }
      return std::move(*out);
    };
    VELIN_ASSIGN(config_.app.root, resolve("app", "root", config_dir, config_.app.root));
    for (const KeySpec& spec : Schema()) {
      if (spec.path_base == PathBase::kNone || (spec.section == "app" && spec.key == "root")) {
        continue;
      }
      std::string value = std::get<std::string>(spec.get(config_));
      const std::string& base =
          spec.path_base == PathBase::kAppRoot ? config_.app.root : config_dir;
      VELIN_ASSIGN(std::string resolved, resolve(spec.section, spec.key, base, value));
      spec.set(config_, Value(std::move(resolved)));
    }
    // [databases.NAME]'s paths as [database]'s.
    for (auto& [name, d] : config_.databases) {
      Config scratch;
      scratch.database = d;
      for (const KeySpec& spec : Schema()) {
        if (spec.section != "database" || spec.path_base == PathBase::kNone) continue;
        const std::string& base =
            spec.path_base == PathBase::kAppRoot ? config_.app.root : config_dir;
        VELIN_ASSIGN(std::string resolved, resolve("databases." + name, spec.key, base,
                                                   std::get<std::string>(spec.get(scratch))));
        spec.set(scratch, Value(std::move(resolved)));
      }
      d = std::move(scratch.database);
    }
    return Ok();
  }

  // An offsite that is the destination itself (".velin/backups" with the default destination, a
  // symlink to it): every create said "Copied offsite to …" and no second copy existed.
  Status CheckOffsiteElsewhere() {
    const BackupSection& b = config_.backup;
    if (b.offsite.empty() || b.destination.empty() ||
        !backup::SameRepositoryLocation(env_, b.offsite, b.destination)) {
      return Ok();
    }
    return Fail(PositionOf("backup", "offsite"),
                TrFormat("key 'offsite' in [backup]: {} is the repository of backup.destination "
                         "({}): an offsite copy there would be no second copy",
                         Quote(storage::WithoutPassword(b.offsite)),
                         storage::WithoutPassword(b.destination)));
  }

  // Exclude globs are relative to app.root. One written as an absolute path inside it
  // ("/var/www/shop/storage/cache") is taken relative; any other absolute one never matches:
  // said, not refused, so that a backup that ran with it goes on running.
  void RelativeExcludes() {
    const std::string prefix = config_.app.root == "/" ? "/" : config_.app.root + "/";
    for (auto& pattern : config_.backup.exclude) {
      if (pattern.empty() || pattern[0] != '/') continue;
      if (pattern.size() > prefix.size() && pattern.starts_with(prefix)) {
        pattern = backup::NormalizeInclude(pattern.substr(prefix.size()));
      } else {
        config_.warnings.push_back(
            TrFormat("backup.exclude '{}' is outside app.root ({}) and never matches: patterns are "
                     "relative to app.root",
                     pattern, config_.app.root));
      }
    }
  }

  // [app] name and host, when not set: the app directory's name and the machine's host name,
  // as UTF-8 text (an invalid byte of a directory named in Latin-1 becomes U+FFFD): each backup
  // records them, and list, restore, forget compare them with what it recorded.
  void DefaultIdentity() {
    if (config_.app.name.empty()) {
      config_.app.name = ToUtf8(fs::path(config_.app.root).filename().string());
      if (config_.app.name.empty()) config_.app.name = "/";
    }
    if (config_.app.host.empty()) {
      config_.app.host = ToUtf8(env_.HostName());
      if (config_.app.host.empty()) config_.app.host = "localhost";
    }
  }

  // A secret file must exist and be readable by its owner only.
  Status CheckSecretFiles() {
    struct SecretKey {
      std::string section;
      const char* key;
      std::string path;
    };
    std::vector<SecretKey> keys = {
        SecretKey{"backup", "password_file", config_.backup.password_file},
        SecretKey{"database", "password_file", config_.database.password_file},
        SecretKey{"storage.s3", "credentials_file", config_.s3.credentials_file},
        SecretKey{"storage.sftp", "key_passphrase_file", config_.sftp.key_passphrase_file}};
    for (const auto& [name, d] : config_.databases) {
      keys.push_back(SecretKey{"databases." + name, "password_file", d.password_file});
    }
    for (const SecretKey& s : keys) {
      if (s.path.empty()) continue;
      std::string where = TrFormat("key '{}' in [{}]: ", s.key, s.section);
      auto read = ReadSecretFile(s.path);  // what the commands using it call too
      if (!read) return Fail(PositionOf(s.section, s.key), where + read.error().message);
    }
    return Ok();
  }

  std::string path_;
  io::Env& env_;
  Config config_;
  std::map<std::string, Position> positions_;
  std::map<std::string, Position> section_positions_;
  std::map<std::string, std::vector<Position>> item_positions_;  // of array keys' items
  std::vector<std::string> env_overridden_;
};

constexpr off_t kMaxConfigBytes = 4 << 20;

}  // namespace

std::optional<std::string> FindConfigFile(const std::string& start_dir) {
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(start_dir), ec);
  if (ec) return std::nullopt;
  for (;;) {
    fs::path candidate = dir / "velin.toml";
    // Any entry of that name ends the search, also one that is no file (a directory, a dangling
    // symlink): LoadConfig then says what is wrong with it. Searching on would take a parent
    // directory's velin.toml, another application's perhaps, without a word.
    if (fs::exists(fs::symlink_status(candidate, ec))) return candidate.string();
    if (dir == dir.root_path() || dir.parent_path() == dir) return std::nullopt;
    dir = dir.parent_path();
  }
}

Result<Config> LoadConfigFromString(const std::string& text, const std::string& path,
                                    io::Env& env) {
  Loader loader(path, env);
  return loader.Load(text);
}

Result<Config> LoadConfig(const std::string& path, io::Env& env) {
  // A device (`--config /dev/zero`) would be read until memory runs out, and so would a file
  // of gigabytes; a pipe (`--config <(…)`) is fine, but is read only up to the same limit
  // (`yes | velin --config /dev/stdin` ended in std::bad_alloc). stat follows a symlinked
  // config file, as opening it does.
  struct stat st;
  bool regular = true;
  if (::stat(path.c_str(), &st) == 0) {
    regular = S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode)) {
      return UsageError(TrFormat("{}: is a device or socket, not a config file", path));
    }
    if (S_ISREG(st.st_mode) && st.st_size > kMaxConfigBytes) {
      return UsageError(TrFormat("{}: is {} bytes, too large for a config file (at most {})", path,
                                 static_cast<int64_t>(st.st_size),
                                 static_cast<int64_t>(kMaxConfigBytes)));
    }
  }
  auto text = regular ? env.ReadFile(path) : io::ReadFileAtMost(path, kMaxConfigBytes + 1);
  if (text && static_cast<off_t>(text->size()) > kMaxConfigBytes) {
    return UsageError(TrFormat("{}: is more than {} bytes, too large for a config file", path,
                               static_cast<int64_t>(kMaxConfigBytes)));
  }
  if (!text) {
    const int err = text.error().sys_errno;
    if (err == ENOENT || err == ENOTDIR) {
      return UsageError(TrFormat("{}: no such config file", path));
    }
    if (err == EISDIR) return UsageError(TrFormat("{}: is a directory, not a config file", path));
    return UsageError(TrFormat("{}: cannot read: {}", path, Tr(std::strerror(err))));
  }
  return LoadConfigFromString(*text, path, env);
}

tl::unexpected<Error> KeyError(const Config& config, const std::string& section,
                               const std::string& key, const std::string& message) {
  const auto it = config.places.find(section + "." + key);
  if (config.file.empty() || it == config.places.end()) return UsageError(message);
  if (!it->second.env.empty()) {
    return UsageError(TrFormat("environment {}: {}", it->second.env, message));
  }
  return UsageError(
      TrFormat("{}:{}:{}: {}", config.file, it->second.line, it->second.column, message));
}

Config DefaultConfig(const std::string& dir) {
  Config c;
  c.dir = dir;
  c.app.root = ".";
  c.backup.destination = ".velin/backups";
  c.rollback.state_dir = ".velin";
  c.rollback.current = "current";
  return c;
}

const DatabaseSection* DatabaseOfSource(const Config& config, const std::string& source) {
  if (source == "db") return config.database.configured ? &config.database : nullptr;
  if (!source.starts_with("db:")) return nullptr;
  auto it = config.databases.find(source.substr(3));
  return it == config.databases.end() ? nullptr : &it->second;
}

bool IsDatabaseSource(const std::string& source) {
  return source == "db" || source.starts_with("db:");
}

std::vector<std::string> IncludedDatabases(const Config& config) {
  std::vector<std::string> out;
  for (const std::string& include : config.backup.include) {
    if (IsDatabaseSource(include)) out.push_back(include);
  }
  return out;
}

std::string DatabaseTable(const std::string& source) {
  return source.starts_with("db:") ? "[databases." + source.substr(3) + "]" : "[database]";
}

DatabaseRef DatabaseRefOf(const Config& config, const std::string& source) {
  return DatabaseRef{.source = source,
                     .table = DatabaseTable(source),
                     .section = DatabaseOfSource(config, source)};
}

std::vector<DatabaseRef> IncludedDatabaseRefs(const Config& config) {
  std::vector<DatabaseRef> out;
  for (const std::string& source : IncludedDatabases(config)) {
    out.push_back(DatabaseRefOf(config, source));
  }
  return out;
}

bool IsDatabaseName(const std::string& name) {
  return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string ResolveAppPath(const Config& config, const std::string& p) {
  if (!p.empty() && p.front() == '/') return fs::path(p).lexically_normal().string();
  return (fs::path(config.app.root) / p).lexically_normal().string();
}

bool IsRemoteDestination(const std::string& destination) {
  return destination.find("://") != std::string::npos;
}

namespace {

// A file's secret and a variable's the same way: a Kubernetes secret made --from-file, put in
// the environment, ends in the file's newline, and the same secret must not give two passphrases.
void StripTrailingNewlines(std::string& secret) {
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
}

}  // namespace

Result<std::string> ReadSecret(const std::string& env_var, const std::string& file,
                               const std::string& what, std::string* unstripped) {
  if (unstripped != nullptr) unstripped->clear();
  if (!env_var.empty()) {
    if (std::optional<std::string> value = GetEnvironment(env_var)) {
      std::string secret = *value;
      StripTrailingNewlines(secret);
      if (unstripped != nullptr && secret.size() != value->size()) *unstripped = std::move(*value);
      return secret;
    }
    if (file.empty()) {
      return UsageError(TrFormat("{}: environment variable {} is not set", what, env_var));
    }
  }
  if (file.empty()) return std::string();
  auto read = ReadSecretFile(file);
  if (!read) return UsageError(TrFormat("{}: {}", what, read.error().message));
  std::string secret = std::move(*read);
  StripTrailingNewlines(secret);
  return secret;
}

}  // namespace velin::config
