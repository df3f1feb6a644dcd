#include "velin/rollback/registry.hpp"

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <nlohmann/json.hpp>
#include <utility>

#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/text_encoding.hpp"
#include "velin/core/time_text.hpp"

namespace velin::rollback {
namespace {

using nlohmann::json;

// Parses a state file; refuses a newer format and anything that is not an object.
Result<json> ParseStateFile(const std::string& path, const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return DamageError(
        TrFormat("{}: not a valid velin rollback state file (malformed JSON)", path));
  }
  auto format = doc.find("format");
  if (format == doc.end()) return DamageError(TrFormat("{}: missing 'format' version", path));
  if (!format->is_number_integer()) {  // "format": "1" (a hand edit) is there, but wrong
    return DamageError(TrFormat("{}: field '{}' is not a whole number", path, "format"));
  }
  // Compared unnarrowed: a format of 2^32 + 1 is newer, not format 1.
  const bool newer = format->is_number_unsigned()
                         ? format->get<uint64_t>() > static_cast<uint64_t>(kRegistryFormat)
                         : format->get<int64_t>() > kRegistryFormat;
  if (newer) {
    return Failure(TrFormat(
        "{}: written by a newer velin (format {}, this velin reads up to {}); upgrade velin", path,
        format->dump(), std::to_string(kRegistryFormat)));
  }
  return doc;
}

// Reads the fields of one object of a state file. A field that is absent reads as empty (the
// optional fields); one of the wrong type (a hand edit, `"health_failed": "no"`) is damage: the
// first such field is remembered and Check() names it with its file, so a damaged file is one
// line and exit 4 instead of an exception thrown out of nlohmann::json (which aborted velin).
class Fields {
 public:
  Fields(const json& j, std::string where) : j_(j), where_(std::move(where)) {}

  std::string Str(const char* key) {
    const json* v = Find(key, json::value_t::string);
    return v != nullptr ? v->get<std::string>() : std::string();
  }
  int64_t Int(const char* key) {
    const json* v = Find(key, json::value_t::number_integer);
    if (v == nullptr) return 0;
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t{INT64_MAX}) {
      Bad(key, json::value_t::number_integer);  // beyond int64: not a value velin wrote
      return 0;
    }
    return v->get<int64_t>();
  }
  bool Bool(const char* key) {
    const json* v = Find(key, json::value_t::boolean);
    return v != nullptr && v->get<bool>();
  }

  Status Check() const {
    if (bad_.empty()) return Ok();
    switch (expected_) {
      case json::value_t::string:
        return DamageError(TrFormat("{}: field '{}' is not text", where_, bad_));
      case json::value_t::boolean:
        return DamageError(TrFormat("{}: field '{}' is not true or false", where_, bad_));
      default:
        return DamageError(TrFormat("{}: field '{}' is not a whole number", where_, bad_));
    }
  }

 private:
  const json* Find(const char* key, json::value_t type) {
    auto it = j_.find(key);
    if (it == j_.end()) return nullptr;
    const bool fits = type == json::value_t::string    ? it->is_string()
                      : type == json::value_t::boolean ? it->is_boolean()
                                                       : it->is_number_integer();
    if (!fits) {
      Bad(key, type);
      return nullptr;
    }
    return &*it;
  }
  void Bad(const char* key, json::value_t type) {
    if (!bad_.empty()) return;
    bad_ = key;
    expected_ = type;
  }

  const json& j_;
  std::string where_;
  std::string bad_;
  json::value_t expected_ = json::value_t::null;
};

Result<std::optional<json>> LoadOptional(io::Env& env, const std::string& path) {
  VELIN_ASSIGN(bool exists, env.Exists(path));
  if (!exists) return std::optional<json>();
  auto text = env.ReadFile(path);
  if (!text && text.error().sys_errno == ENOENT) {  // there (lstat) and not there: a bad link
    return DamageError(TrFormat(
        "{}: is a symlink to a missing file (velin writes this file itself, never a link)", path));
  }
  if (!text) return tl::unexpected(text.error());
  VELIN_ASSIGN(json doc, ParseStateFile(path, *text));
  return std::optional<json>(std::move(doc));
}

// A version name read from a state file names a directory below releases/, configs/ and
// manifests/: one velin never writes (a hand edit, `../../srv`, `..`) would have a prune remove,
// or a switch point `current` at, a directory outside the state dir. Damage, named with its
// file. "previous" passes: it was a valid name before 2026-11-30 and leads nowhere.
Status CheckStoredName(const std::string& where, const std::string& name) {
  if (name == kPreviousVersion) return Ok();
  if (Status valid = CheckVersionName(name); !valid) {
    return DamageError(
        TrFormat("{}: {}; velin never writes such a name (the file was edited or "
                 "damaged)",
                 where, valid.error().message));
  }
  return Ok();
}

Status RemoveIfExists(io::Env& env, const std::string& path) {
  VELIN_ASSIGN(bool exists, env.Exists(path));
  if (!exists) return Ok();
  VELIN_TRY(env.RemoveFile(path));
  return env.SyncDir(io::Dirname(path));
}

json HistoryToJson(const HistoryEntry& e) {
  json j = {{"time", e.time}, {"user", e.user}, {"host", e.host},     {"action", e.action},
            {"from", e.from}, {"to", e.to},     {"reason", e.reason}, {"outcome", e.outcome}};
  if (!e.transaction.empty()) j["transaction"] = e.transaction;
  if (!e.detail.empty()) j["detail"] = e.detail;
  if (!e.backup.empty()) j["backup"] = e.backup;
  if (!e.backup_version.empty()) j["backup_version"] = e.backup_version;
  if (!e.data.empty()) j["data"] = e.data;
  if (!e.saved_config.empty()) j["saved_config"] = e.saved_config;
  if (!e.schema_level.empty()) j["schema_level"] = e.schema_level;
  return j;
}

}  // namespace

namespace {

// How each state and cause is spelled in transaction.json (and `rollback status --json`).
constexpr std::pair<TransactionState, std::string_view> kStateNames[] = {
    {TransactionState::kOpen, "open"},
    {TransactionState::kRollingBack, "rolling-back"},
    {TransactionState::kCommitted, "committed"},
    {TransactionState::kRolledBack, "rolled-back"},
    {TransactionState::kRollbackFailed, "rollback-failed"}};
constexpr std::pair<RollbackCause, std::string_view> kCauseNames[] = {
    {RollbackCause::kNone, ""},
    {RollbackCause::kTimeout, "timeout"},
    {RollbackCause::kByHand, "by hand"}};

template <typename E, size_t N>
std::string_view NameIn(const std::pair<E, std::string_view> (&names)[N], E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return names[0].second;
}

template <typename E, size_t N>
std::optional<E> ParseIn(const std::pair<E, std::string_view> (&names)[N], std::string_view text) {
  for (const auto& [v, name] : names) {
    if (name == text) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view TransactionStateName(TransactionState state) { return NameIn(kStateNames, state); }

std::optional<TransactionState> ParseTransactionState(std::string_view name) {
  return ParseIn(kStateNames, name);
}

std::string_view RollbackCauseName(RollbackCause cause) { return NameIn(kCauseNames, cause); }

std::optional<RollbackCause> ParseRollbackCause(std::string_view name) {
  return ParseIn(kCauseNames, name);
}

std::string KindName(VersionKind kind) {
  return kind == VersionKind::kSnapshot ? "snapshot" : "version";
}

bool VersionRecord::IsTransactionBase() const {
  if (!base_of.empty()) return true;
  const std::string prefix = "base-";
  return kind == VersionKind::kSnapshot && name.rfind(prefix, 0) == 0 &&
         description == "Base of transaction " + name.substr(prefix.size());
}

const VersionRecord* Registry::Find(const std::string& name) const {
  for (const auto& v : versions) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

VersionRecord* Registry::Find(const std::string& name) {
  for (auto& v : versions) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

Result<Registry> LoadRegistry(io::Env& env, const StateLayout& layout) {
  VELIN_ASSIGN(auto doc, LoadOptional(env, layout.Registry()));
  Registry reg;
  if (!doc) return reg;
  Fields top(*doc, layout.Registry());
  reg.current = top.Str("current");
  reg.next_seq = static_cast<uint64_t>(std::max<int64_t>(1, top.Int("next_seq")));
  VELIN_TRY(top.Check());
  auto versions = doc->find("versions");
  if (versions == doc->end() || !versions->is_array()) {
    return DamageError(TrFormat("{}: 'versions' is missing or not a list", layout.Registry()));
  }
  for (const json& v : *versions) {
    auto name = v.is_object() ? v.find("name") : v.end();
    if (!v.is_object() || name == v.end() || !name->is_string() ||
        name->get<std::string>().empty()) {
      return DamageError(TrFormat("{}: a version entry has no name", layout.Registry()));
    }
    Fields f(v, TrFormat("{}: version '{}'", layout.Registry(), name->get<std::string>()));
    VersionRecord r;
    r.name = f.Str("name");
    r.description = f.Str("description");
    r.kind = f.Str("kind") == "snapshot" ? VersionKind::kSnapshot : VersionKind::kVersion;
    r.created = f.Str("created");
    r.user = f.Str("user");
    r.host = f.Str("host");
    r.source_digest = f.Str("source_digest");
    r.config_digest = f.Str("config_digest");
    r.schema_level = f.Str("schema_level");
    r.seq = static_cast<uint64_t>(f.Int("seq"));
    r.base_of = f.Str("base_of");
    r.failed = f.Str("failed");
    VELIN_TRY(f.Check());
    VELIN_TRY(CheckStoredName(layout.Registry(), r.name));
    reg.versions.push_back(std::move(r));
  }
  if (!reg.current.empty()) VELIN_TRY(CheckStoredName(layout.Registry(), reg.current));
  // Above every seq in use even when next_seq is missing or behind (a hand-written registry):
  // a repeated seq would make the newer release look as old as another (retention, "back").
  for (const auto& v : reg.versions) reg.next_seq = std::max(reg.next_seq, v.seq + 1);
  return reg;
}

Status SaveRegistry(io::Env& env, const StateLayout& layout, const Registry& reg) {
  json versions = json::array();
  for (const auto& r : reg.versions) {
    json v = {{"name", r.name},
              {"description", r.description},
              {"kind", KindName(r.kind)},
              {"created", r.created},
              {"user", r.user},
              {"host", r.host},
              {"source_digest", r.source_digest},
              {"config_digest", r.config_digest},
              {"schema_level", r.schema_level},
              {"seq", r.seq}};
    if (!r.base_of.empty()) v["base_of"] = r.base_of;
    if (!r.failed.empty()) v["failed"] = r.failed;
    versions.push_back(std::move(v));
  }
  json doc = {{"format", kRegistryFormat},
              {"current", reg.current},
              {"next_seq", reg.next_seq},
              {"versions", versions}};
  return io::WriteFileDurably(env, layout.Registry(), DumpJson(doc, 2) + "\n");
}

namespace {

// One "; "-separated piece of an outcome: a text velin writes whole, or one with a value.
std::string OutcomePieceShown(const std::string& piece) {
  static constexpr std::string_view kWhole[] = {"failed",
                                                "health check failed",
                                                "nothing was changed",
                                                "nothing to switch back to",
                                                "switched",
                                                "pruned",
                                                "adopted",
                                                "committed",
                                                "rolled back by hand",
                                                "rolled back by timeout",
                                                "rollback failed",
                                                "the service is not running",
                                                "the configuration from before was put back"};
  for (std::string_view whole : kWhole) {
    if (piece == whole) return std::string(Tr(whole));
  }
  static constexpr std::string_view kOneValue[] = {
      "switched back to {} (healthy)",
      "switching back to {} failed too: {}",
      "the service runs {} but is not healthy",
      "the service is not running, unless {} still runs",
      "the service was not stopped (still {})",
      "rollback.stop had failed on the way: {}",
      "putting the configuration from before back failed: {}",
      "rollback failed: {}"};
  for (std::string_view with_value : kOneValue) {
    const size_t at = with_value.find("{}");
    const std::string_view prefix = with_value.substr(0, at);
    const std::string_view rest = with_value.substr(at + 2);
    if (piece.rfind(prefix, 0) != 0) continue;
    const size_t second = rest.find("{}");
    if (second != std::string_view::npos) {  // "switching back to {} failed too: {}"
      const std::string_view middle = rest.substr(0, second);
      const size_t value_end = piece.find(middle, prefix.size());
      if (value_end == std::string::npos) continue;
      return TrFormat(with_value, piece.substr(prefix.size(), value_end - prefix.size()),
                      piece.substr(value_end + middle.size()));
    }
    if (piece.size() < prefix.size() + rest.size() ||
        piece.compare(piece.size() - rest.size(), rest.size(), rest) != 0) {
      continue;
    }
    return TrFormat(with_value,
                    piece.substr(prefix.size(), piece.size() - prefix.size() - rest.size()));
  }
  return piece;  // an error message kept as it was
}

}  // namespace

std::string OutcomeShown(const std::string& outcome) {
  std::string shown;
  size_t start = 0;
  while (true) {
    const size_t end = outcome.find("; ", start);
    if (!shown.empty() || start > 0) shown += "; ";
    shown += OutcomePieceShown(outcome.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 2;
  }
  return NoTr(shown);
}

std::string ReasonShown(const std::string& reason) {
  if (reason == "transaction deadline passed" || reason == "transaction rolled back") {
    return std::string(Tr(reason));
  }
  return reason;
}

bool FailedHealthCheck(const HistoryEntry& e) {
  return (e.action == "switch" || e.action == "rollback") &&
         e.outcome.rfind("health check failed", 0) == 0;
}

Result<std::vector<HistoryEntry>> ReadHistory(io::Env& env, const StateLayout& layout) {
  return ReadHistory(env, layout, nullptr);
}

Result<std::vector<HistoryEntry>> ReadHistory(io::Env& env, const StateLayout& layout,
                                              std::vector<std::string>* unreadable) {
  std::vector<HistoryEntry> out;
  VELIN_ASSIGN(bool exists, env.Exists(layout.History()));
  if (!exists) return out;
  VELIN_ASSIGN(std::string text, env.ReadFile(layout.History()));
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      std::string bad =
          TrFormat("{}:{}: malformed entry", layout.History(), std::to_string(line_no));
      if (unreadable == nullptr) return DamageError(bad);
      unreadable->push_back(std::move(bad));
      continue;
    }
    if (line_no == 1 && j.contains("format")) {
      VELIN_TRY(ParseStateFile(layout.History(), line));
      continue;
    }
    Fields f(j, layout.History() + ":" + std::to_string(line_no));
    HistoryEntry e{.time = f.Str("time"),
                   .user = f.Str("user"),
                   .host = f.Str("host"),
                   .action = f.Str("action"),
                   .from = f.Str("from"),
                   .to = f.Str("to"),
                   .reason = f.Str("reason"),
                   .outcome = f.Str("outcome"),
                   .transaction = f.Str("transaction"),
                   .detail = f.Str("detail"),
                   .backup = f.Str("backup"),
                   .backup_version = f.Str("backup_version"),
                   .data = f.Str("data"),
                   .saved_config = f.Str("saved_config"),
                   .schema_level = f.Str("schema_level")};
    if (Status fits = f.Check(); !fits) {
      if (unreadable == nullptr) return tl::unexpected(fits.error());
      unreadable->push_back(fits.error().message);
      continue;
    }
    out.push_back(std::move(e));
  }
  return out;
}

Status AppendHistory(io::Env& env, const StateLayout& layout, const HistoryEntry& entry) {
  std::string text;
  VELIN_ASSIGN(bool exists, env.Exists(layout.History()));
  if (exists) {
    VELIN_ASSIGN(text, env.ReadFile(layout.History()));
    // Refuse to extend a newer velin's log; a line this velin cannot read stays as it is.
    std::vector<std::string> unreadable;
    VELIN_TRY(ReadHistory(env, layout, &unreadable));
  } else {
    text = json({{"format", kRegistryFormat}}).dump() + "\n";
  }
  text += DumpJson(HistoryToJson(entry)) + "\n";
  return io::WriteFileDurably(env, layout.History(), text);
}

Result<std::optional<TransactionRecord>> LoadTransaction(io::Env& env, const StateLayout& layout) {
  VELIN_ASSIGN(auto doc, LoadOptional(env, layout.Transaction()));
  if (!doc) return std::optional<TransactionRecord>();
  Fields f(*doc, layout.Transaction());
  TransactionRecord t;
  t.id = f.Str("id");
  const std::string state = f.Str("state");
  t.base = f.Str("base");
  t.started = f.Str("started");
  t.deadline_ms = f.Int("deadline_ms");
  t.reason = f.Str("reason");
  t.user = f.Str("user");
  t.host = f.Str("host");
  const std::string cause = f.Str("cause");
  t.outcome = f.Str("outcome");
  t.watchdog_pid = f.Int("watchdog_pid");
  t.backup = f.Str("backup");
  t.version = f.Str("version");
  t.restore_data = f.Bool("restore_data");
  t.data = f.Str("data");
  VELIN_TRY(f.Check());
  if (!t.base.empty()) VELIN_TRY(CheckStoredName(layout.Transaction(), t.base));
  if (t.id.empty() || state.empty()) {
    return DamageError(TrFormat("{}: transaction has no id or state", layout.Transaction()));
  }
  const auto parsed_state = ParseTransactionState(state);
  if (!parsed_state) {
    return DamageError(
        TrFormat("{}: transaction has an unknown state '{}'", layout.Transaction(), state));
  }
  t.state = *parsed_state;
  const auto parsed_cause = ParseRollbackCause(cause);
  if (!parsed_cause) {
    return DamageError(TrFormat("{}: transaction has an unknown rollback cause '{}'",
                                layout.Transaction(), cause));
  }
  t.cause = *parsed_cause;
  return std::optional<TransactionRecord>(std::move(t));
}

Status SaveTransaction(io::Env& env, const StateLayout& layout, const TransactionRecord& t) {
  json doc = {{"format", kRegistryFormat},
              {"id", t.id},
              {"state", std::string(TransactionStateName(t.state))},
              {"base", t.base},
              {"started", t.started},
              {"deadline_ms", t.deadline_ms},
              {"deadline", IsoTime(t.deadline_ms)},
              {"reason", t.reason},
              {"user", t.user},
              {"host", t.host},
              {"cause", std::string(RollbackCauseName(t.cause))},
              {"outcome", t.outcome},
              {"watchdog_pid", t.watchdog_pid}};
  if (!t.backup.empty()) {  // optional fields: a transaction without a backup is written as before
    doc["backup"] = t.backup;
    doc["version"] = t.version;
    doc["restore_data"] = t.restore_data;
    if (!t.data.empty()) doc["data"] = t.data;
  }
  return io::WriteFileDurably(env, layout.Transaction(), DumpJson(doc, 2) + "\n");
}

Status RemoveTransaction(io::Env& env, const StateLayout& layout) {
  return RemoveIfExists(env, layout.Transaction());
}

Result<std::optional<SwitchIntent>> LoadSwitchIntent(io::Env& env, const StateLayout& layout) {
  VELIN_ASSIGN(auto doc, LoadOptional(env, layout.SwitchIntent()));
  if (!doc) return std::optional<SwitchIntent>();
  Fields f(*doc, layout.SwitchIntent());
  SwitchIntent s{f.Str("from"), f.Str("to"), f.Str("reason"), f.Str("transaction"),
                 f.Str("started")};
  s.history_len = f.Int("history_len");
  s.action = f.Str("action");
  s.from_level = f.Str("from_level");
  s.saved_config = f.Str("saved_config");
  s.phase = f.Str("phase");
  s.failure = f.Str("failure");
  s.health_failed = f.Bool("health_failed");
  s.restore_backup = f.Str("restore_backup");
  s.data = f.Str("data");
  s.command = f.Str("command");
  s.command_pid = f.Int("command_pid");
  s.command_start_ticks = f.Int("command_start_ticks");
  s.command_deadline_ms = f.Int("command_deadline_ms");
  VELIN_TRY(f.Check());
  for (const std::string* name : {&s.from, &s.to}) {
    if (!name->empty()) VELIN_TRY(CheckStoredName(layout.SwitchIntent(), *name));
  }
  const std::string config = f.Str("config");
  s.config_saved = f.Str("config_saved");
  VELIN_TRY(f.Check());
  if (config == "keep") {
    s.config = SwitchConfig::kKeep;
  } else if (config == "saved") {
    s.config = SwitchConfig::kSaved;
  } else if (!config.empty()) {
    return DamageError(
        TrFormat("{}: field 'config' is '{}', not keep or saved", layout.SwitchIntent(), config));
  }
  // Directory names below saved-config/ (TIME-PID-before-NAME), put back over the live config.
  for (const auto& [key, name] :
       {std::pair{"saved_config", &s.saved_config}, std::pair{"config_saved", &s.config_saved}}) {
    if (!name->empty() && (name->front() == '.' || name->find('/') != std::string::npos)) {
      return DamageError(TrFormat(
          "{}: {} '{}' is not a name below {}; velin never writes such a name (the file was "
          "edited or damaged)",
          layout.SwitchIntent(), key, *name, layout.SavedConfigs()));
    }
  }
  if (s.config == SwitchConfig::kSaved && s.config_saved.empty()) {
    return DamageError(TrFormat("{}: field 'config' is saved, but 'config_saved' names none",
                                layout.SwitchIntent()));
  }
  return std::optional<SwitchIntent>(std::move(s));
}

Status SaveSwitchIntent(io::Env& env, const StateLayout& layout, const SwitchIntent& s) {
  json doc = {
      {"format", kRegistryFormat},    {"from", s.from},      {"to", s.to}, {"reason", s.reason},
      {"transaction", s.transaction}, {"started", s.started}};
  doc["history_len"] = s.history_len;
  doc["action"] = s.action;
  doc["from_level"] = s.from_level;
  doc["saved_config"] = s.saved_config;
  doc["phase"] = s.phase;
  doc["failure"] = s.failure;
  doc["health_failed"] = s.health_failed;
  if (!s.restore_backup.empty()) {
    doc["restore_backup"] = s.restore_backup;
    doc["data"] = s.data;
  }
  if (s.command_pid > 0) {
    doc["command"] = s.command;
    doc["command_pid"] = s.command_pid;
    doc["command_start_ticks"] = s.command_start_ticks;
    doc["command_deadline_ms"] = s.command_deadline_ms;
  }
  if (s.config == SwitchConfig::kKeep) doc["config"] = "keep";
  if (s.config == SwitchConfig::kSaved) {
    doc["config"] = "saved";
    doc["config_saved"] = s.config_saved;
  }
  return io::WriteFileDurably(env, layout.SwitchIntent(), DumpJson(doc, 2) + "\n");
}

Status RemoveSwitchIntent(io::Env& env, const StateLayout& layout) {
  return RemoveIfExists(env, layout.SwitchIntent());
}

Result<std::vector<std::string>> LoadRemovals(io::Env& env, const StateLayout& layout) {
  VELIN_ASSIGN(auto doc, LoadOptional(env, layout.Removals()));
  std::vector<std::string> names;
  if (!doc) return names;
  // velin writes valid names only: anything else is damage, named (the caller warns and drops
  // the whole file, so nothing outside the state dir is removed), not skipped unseen.
  auto list = doc->find("names");
  if (list == doc->end() || !list->is_array()) {
    return DamageError(TrFormat("{}: field '{}' is not a list", layout.Removals(), "names"));
  }
  for (const auto& n : *list) {
    if (!n.is_string()) {
      return DamageError(TrFormat("{}: field '{}' is not text", layout.Removals(), "names"));
    }
    VELIN_TRY(CheckStoredName(layout.Removals(), n.get<std::string>()));
    names.push_back(n.get<std::string>());
  }
  return names;
}

Status SaveRemovals(io::Env& env, const StateLayout& layout,
                    const std::vector<std::string>& names) {
  json doc = {{"format", kRegistryFormat}, {"names", names}};
  return io::WriteFileDurably(env, layout.Removals(), DumpJson(doc, 2) + "\n");
}

Status ClearRemovals(io::Env& env, const StateLayout& layout) {
  return RemoveIfExists(env, layout.Removals());
}

Status KeepRemovals(io::Env& env, const StateLayout& layout,
                    const std::vector<std::string>& names) {
  return names.empty() ? ClearRemovals(env, layout) : SaveRemovals(env, layout, names);
}

std::string IsoTime(int64_t unix_ms) { return FormatUtcTime(unix_ms / 1000); }

std::string LocalTime(int64_t unix_ms) { return FormatLocalTime(unix_ms / 1000); }

std::string LocalTimeOf(const std::string& iso) {
  const auto secs = ParseUtcTime(iso);
  return secs ? FormatLocalTime(*secs) : iso;
}

int64_t UnixMs(io::Env& env) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(env.Now().time_since_epoch())
      .count();
}

std::string CurrentUser(io::Env& env) {
  if (auto u = env.GetEnv("USER"); u && !u->empty()) return *u;
  return CurrentUserName();
}

Status CheckVersionName(const std::string& name) {
  if (name.empty()) return UsageError(std::string(Tr("a version needs a name")));
  if (name.size() > 128) return UsageError(TrFormat("version name '{}' is too long", name));
  if (name == kPreviousVersion) {
    return UsageError(
        TrFormat("'{}' cannot name a version: 'velin rollback to-version previous' means the "
                 "version that was live before the current one",
                 name));
  }
  if (name.front() == '.' || name.front() == '-') {
    return UsageError(TrFormat("version name '{}' must not start with '.' or '-'", name));
  }
  for (char c : name) {
    bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '+';
    if (!ok) {
      return UsageError(
          TrFormat("version name '{}' may hold only letters, digits, '.', '_', '-' and '+'", name));
    }
  }
  return Ok();
}

}  // namespace velin::rollback
