#include "velin/rollback/registry.hpp"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <utility>

#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/text_encoding.hpp"

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
  if (format == doc.end() || !format->is_number_integer()) {
    return DamageError(TrFormat("{}: missing 'format' version", path));
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

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

Result<std::optional<json>> LoadOptional(io::Env& env, const std::string& path) {
  VELIN_ASSIGN(bool exists, env.Exists(path));
  if (!exists) return std::optional<json>();
  VELIN_ASSIGN(std::string text, env.ReadFile(path));
  VELIN_ASSIGN(json doc, ParseStateFile(path, text));
  return std::optional<json>(std::move(doc));
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
  reg.current = Str(*doc, "current");
  reg.next_seq = static_cast<uint64_t>(std::max<int64_t>(1, Int(*doc, "next_seq")));
  auto versions = doc->find("versions");
  if (versions == doc->end() || !versions->is_array()) {
    return DamageError(TrFormat("{}: 'versions' is missing or not a list", layout.Registry()));
  }
  for (const json& v : *versions) {
    if (!v.is_object() || Str(v, "name").empty()) {
      return DamageError(TrFormat("{}: a version entry has no name", layout.Registry()));
    }
    VersionRecord r;
    r.name = Str(v, "name");
    r.description = Str(v, "description");
    r.kind = Str(v, "kind") == "snapshot" ? VersionKind::kSnapshot : VersionKind::kVersion;
    r.created = Str(v, "created");
    r.user = Str(v, "user");
    r.host = Str(v, "host");
    r.source_digest = Str(v, "source_digest");
    r.config_digest = Str(v, "config_digest");
    r.schema_level = Str(v, "schema_level");
    r.seq = static_cast<uint64_t>(Int(v, "seq"));
    r.base_of = Str(v, "base_of");
    r.failed = Str(v, "failed");
    reg.versions.push_back(std::move(r));
  }
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

bool FailedHealthCheck(const HistoryEntry& e) {
  return (e.action == "switch" || e.action == "rollback") &&
         e.outcome.rfind("health check failed", 0) == 0;
}

Result<std::vector<HistoryEntry>> ReadHistory(io::Env& env, const StateLayout& layout) {
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
      return DamageError(
          TrFormat("{}:{}: malformed entry", layout.History(), std::to_string(line_no)));
    }
    if (line_no == 1 && j.contains("format")) {
      VELIN_TRY(ParseStateFile(layout.History(), line));
      continue;
    }
    HistoryEntry e{.time = Str(j, "time"),
                   .user = Str(j, "user"),
                   .host = Str(j, "host"),
                   .action = Str(j, "action"),
                   .from = Str(j, "from"),
                   .to = Str(j, "to"),
                   .reason = Str(j, "reason"),
                   .outcome = Str(j, "outcome"),
                   .transaction = Str(j, "transaction"),
                   .detail = Str(j, "detail"),
                   .backup = Str(j, "backup"),
                   .backup_version = Str(j, "backup_version"),
                   .data = Str(j, "data")};
    out.push_back(std::move(e));
  }
  return out;
}

Status AppendHistory(io::Env& env, const StateLayout& layout, const HistoryEntry& entry) {
  std::string text;
  VELIN_ASSIGN(bool exists, env.Exists(layout.History()));
  if (exists) {
    VELIN_ASSIGN(text, env.ReadFile(layout.History()));
    VELIN_TRY(ReadHistory(env, layout));  // refuse to extend a damaged or newer log
  } else {
    text = json({{"format", kRegistryFormat}}).dump() + "\n";
  }
  text += DumpJson(HistoryToJson(entry)) + "\n";
  return io::WriteFileDurably(env, layout.History(), text);
}

Result<std::optional<TransactionRecord>> LoadTransaction(io::Env& env, const StateLayout& layout) {
  VELIN_ASSIGN(auto doc, LoadOptional(env, layout.Transaction()));
  if (!doc) return std::optional<TransactionRecord>();
  TransactionRecord t;
  t.id = Str(*doc, "id");
  const std::string state = Str(*doc, "state");
  t.base = Str(*doc, "base");
  t.started = Str(*doc, "started");
  t.deadline_ms = Int(*doc, "deadline_ms");
  t.reason = Str(*doc, "reason");
  t.user = Str(*doc, "user");
  t.host = Str(*doc, "host");
  const std::string cause = Str(*doc, "cause");
  t.outcome = Str(*doc, "outcome");
  t.watchdog_pid = Int(*doc, "watchdog_pid");
  t.backup = Str(*doc, "backup");
  t.version = Str(*doc, "version");
  t.restore_data = doc->value("restore_data", false);
  t.data = Str(*doc, "data");
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
  SwitchIntent s{Str(*doc, "from"), Str(*doc, "to"), Str(*doc, "reason"), Str(*doc, "transaction"),
                 Str(*doc, "started")};
  s.history_len = Int(*doc, "history_len");
  s.action = Str(*doc, "action");
  s.from_level = Str(*doc, "from_level");
  s.saved_config = Str(*doc, "saved_config");
  s.phase = Str(*doc, "phase");
  s.failure = Str(*doc, "failure");
  s.health_failed = doc->value("health_failed", false);
  s.restore_backup = Str(*doc, "restore_backup");
  s.data = Str(*doc, "data");
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
  return io::WriteFileDurably(env, layout.SwitchIntent(), DumpJson(doc, 2) + "\n");
}

Status RemoveSwitchIntent(io::Env& env, const StateLayout& layout) {
  return RemoveIfExists(env, layout.SwitchIntent());
}

Result<std::vector<std::string>> LoadRemovals(io::Env& env, const StateLayout& layout) {
  VELIN_ASSIGN(auto doc, LoadOptional(env, layout.Removals()));
  std::vector<std::string> names;
  if (!doc) return names;
  auto list = doc->find("names");
  if (list == doc->end() || !list->is_array()) return names;
  for (const auto& n : *list) {
    if (n.is_string() && CheckVersionName(n.get<std::string>())) {
      names.push_back(n.get<std::string>());
    }
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

std::string IsoTime(int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
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
