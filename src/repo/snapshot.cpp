#include "velin/repo/snapshot.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>

#include "velin/core/i18n.hpp"
#include "velin/core/json_int.hpp"
#include "velin/core/json_read.hpp"
#include "velin/core/text_encoding.hpp"

namespace velin::repo {

const SnapshotSource* Snapshot::FindSource(const std::string& name) const {
  for (const auto& s : sources) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string SnapshotFilter::Describe() const {
  if (all || (any_host && any_app)) return std::string(Tr("all hosts and apps"));
  if (any_app) return TrFormat("host '{}', every app", host);
  if (any_host) return TrFormat("app '{}', every host", app);
  return TrFormat("host '{}', app '{}'", host, app);
}

bool CouldBeSnapshotId(std::string_view name) {
  if (name.empty() || name[0] < '0' || name[0] > '9') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_' || c == ':';
  });
}

std::string ForeignSnapshotObjectWarning(const std::string& object) {
  return TrFormat(
      "{} is not a backup (its name cannot be a backup id): ignored; remove it from the "
      "repository",
      object);
}

std::pair<std::string_view, uint64_t> SplitSuffix(std::string_view id) {
  const size_t dash = id.rfind('-');
  if (dash == std::string_view::npos || dash + 1 == id.size() || id.size() - dash > 10) {
    return {id, 1};
  }
  uint64_t n = 0;
  for (char c : id.substr(dash + 1)) {
    if (c < '0' || c > '9') return {id, 1};
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return {id.substr(0, dash), n};
}

std::optional<int64_t> SnapshotIdMinute(std::string_view id) {
  // "YYYYMMDD-HHMM": the backup's start in its host's local time, to the minute.
  if (id.size() < 13 || id[8] != '-' || (id.size() > 13 && id[13] != '-')) return std::nullopt;
  auto number = [&](size_t at, size_t n) -> std::optional<int> {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (id[i] < '0' || id[i] > '9') return std::nullopt;
      v = v * 10 + (id[i] - '0');
    }
    return v;
  };
  const auto year = number(0, 4), month = number(4, 2), day = number(6, 2);
  const auto hour = number(9, 2), minute = number(11, 2);
  if (!year || !month || !day || !hour || !minute || *month < 1 || *month > 12 || *day < 1 ||
      *day > 31 || *hour > 23 || *minute > 59) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  const auto days = std::chrono::sys_days(date).time_since_epoch();
  return std::chrono::duration_cast<std::chrono::seconds>(days).count() + *hour * 3600 +
         *minute * 60;
}

bool SnapshotNewer(int64_t a_time, const std::string& a_id, int64_t b_time,
                   const std::string& b_id) {
  if (a_time != b_time) return a_time > b_time;
  auto [a_base, a_n] = SplitSuffix(a_id);
  auto [b_base, b_n] = SplitSuffix(b_id);
  if (a_base != b_base) return a_base > b_base;
  if (a_n != b_n) return a_n > b_n;
  return a_id > b_id;
}

bool SnapshotNewer(const Snapshot& a, const Snapshot& b) {
  if (a.unix_time == b.unix_time && a.time_ns != b.time_ns) return a.time_ns > b.time_ns;
  return SnapshotNewer(a.unix_time, a.id, b.unix_time, b.id);
}

std::chrono::system_clock::time_point SnapshotStart(const Snapshot& s) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(s.unix_time) + std::chrono::nanoseconds(s.time_ns)));
}

bool DatedInTheFuture(const Snapshot& s, std::chrono::system_clock::time_point now) {
  return std::chrono::seconds(s.unix_time) > now.time_since_epoch() + kClockSkew;
}

std::string_view SourceKindName(SourceKind kind) {
  return kind == SourceKind::kStream ? "stream" : "path";
}

std::optional<SourceKind> ParseSourceKind(std::string_view name) {
  if (name == "path") return SourceKind::kPath;
  if (name == "stream") return SourceKind::kStream;
  return std::nullopt;
}

std::string_view StrategyName(Strategy strategy) {
  return strategy == Strategy::kIncremental ? "incremental" : "full";
}

std::optional<Strategy> ParseStrategy(std::string_view name) {
  if (name == "full") return Strategy::kFull;
  if (name == "incremental") return Strategy::kIncremental;
  return std::nullopt;
}

namespace {

// A map of texts that may not be UTF-8 (paths, link texts): entries that are UTF-8 go under KEY,
// the others base64-encoded under KEY_base64; an empty half is left out.
void PutTextMap(nlohmann::json& j, const std::string& key,
                const std::map<std::string, std::string>& map) {
  nlohmann::json plain = nlohmann::json::object(), raw = nlohmann::json::object();
  for (const auto& [at, text] : map) {
    if (IsUtf8(at) && IsUtf8(text)) {
      plain[at] = text;
    } else {
      raw[Base64Encode(at)] = Base64Encode(text);
    }
  }
  if (!plain.empty()) j[key] = std::move(plain);
  if (!raw.empty()) j[key + "_base64"] = std::move(raw);
}

std::map<std::string, std::string> ReadTextMap(const nlohmann::json& j, const std::string& key) {
  std::map<std::string, std::string> map;
  if (j.contains(key)) map = j.at(key).get<std::map<std::string, std::string>>();
  const auto raw_key = key + "_base64";
  if (j.contains(raw_key)) {
    for (const auto& [at, text] : j.at(raw_key).items()) {
      auto path = Base64Decode(at);
      auto value = Base64Decode(text.get<std::string>());
      if (!path || !value) throw std::runtime_error("a link in " + raw_key + " is not base64");
      map[*path] = *value;
    }
  }
  return map;
}

nlohmann::json SourceToJson(const SnapshotSource& s) {
  nlohmann::json j = {{"name", s.name},
                      {"kind", std::string(SourceKindName(s.kind))},
                      {"files", s.files},
                      {"bytes", s.bytes}};
  if (s.kind == SourceKind::kStream) {
    nlohmann::json chunks = nlohmann::json::array();
    for (const auto& c : s.chunks) chunks.push_back(c.Hex());
    j["chunks"] = std::move(chunks);
    j["metadata"] = s.metadata;
  } else {
    j["tree"] = s.tree.Hex();
    // A link's text is written exactly: as base64 under "links_base64" when it is not UTF-8
    // (a velin that does not know the key follows no such link: it refuses to restore through
    // it instead of misreading it). Where they led, the same way (older velins ignore both).
    PutTextMap(j, "links", s.links);
    PutTextMap(j, "links_resolved", s.links_resolved);
  }
  return j;
}

BlobId IdField(const nlohmann::json& j, const char* key) {
  auto id = ParseBlobId(JsonText(j, key));
  if (!id) throw std::runtime_error(std::string("field '") + key + "' is not a blob id");
  return *id;
}

SnapshotSource SourceFromJson(const nlohmann::json& j) {
  SnapshotSource s;
  s.name = JsonText(j, "name");
  const auto kind_name = JsonText(j, "kind");
  const auto kind = ParseSourceKind(kind_name);
  if (!kind) throw std::runtime_error("unknown source kind '" + kind_name + "'");
  s.kind = *kind;
  s.files = JsonCount<uint64_t>(j, "files");
  s.bytes = JsonCount<uint64_t>(j, "bytes");
  if (s.kind == SourceKind::kStream) {
    for (const auto& c : JsonField(j, "chunks")) {
      auto id = c.is_string() ? ParseBlobId(c.get<std::string>()) : std::nullopt;
      if (!id) throw std::runtime_error("a stream chunk is not a blob id");
      s.chunks.push_back(*id);
    }
    s.metadata = JsonField(j, "metadata");
  } else {
    s.tree = IdField(j, "tree");
    s.links = ReadTextMap(j, "links");
    s.links_resolved = ReadTextMap(j, "links_resolved");
  }
  return s;
}

nlohmann::json ToJson(const Snapshot& s) {
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& src : s.sources) sources.push_back(SourceToJson(src));
  const SnapshotStats& st = s.stats;
  nlohmann::json j = {{"id", s.id},
                      {"time", s.time},
                      {"unix_time", s.unix_time},
                      {"host", s.host},
                      {"strategy", std::string(StrategyName(s.strategy))},
                      {"parent", s.parent},
                      {"velin_version", s.velin_version},
                      {"compression", s.compression},
                      {"sources", sources},
                      {"stats",
                       {{"files", st.files},
                        {"dirs", st.dirs},
                        {"bytes", st.bytes},
                        {"files_read", st.files_read},
                        {"bytes_read", st.bytes_read},
                        {"bytes_added", st.bytes_added},
                        {"blobs_added", st.blobs_added},
                        {"duration_ms", st.duration_ms}}}};
  // Written only when known, so a copied snapshot of an older velin stays as it was.
  if (!s.app.empty()) j["app"] = s.app;
  if (st.files_changed != 0) j["stats"]["files_changed"] = st.files_changed;
  if (st.files_vanished != 0) j["stats"]["files_vanished"] = st.files_vanished;
  if (s.time_ns != 0) j["time_ns"] = s.time_ns;
  return j;
}

Snapshot FromJson(const nlohmann::json& j) {
  Snapshot s;
  s.id = JsonText(j, "id");
  s.time = JsonText(j, "time");
  s.unix_time = JsonCount<int64_t>(j, "unix_time");
  // Optional: snapshots of older velins have no "time_ns".
  if (j.contains("time_ns")) {
    s.time_ns = JsonCount<int64_t>(j, "time_ns");
    if (s.time_ns < 0 || s.time_ns > 999'999'999) {
      throw std::runtime_error("time_ns " + std::to_string(s.time_ns) + " is not within a second");
    }
  }
  s.host = JsonText(j, "host");
  // Optional: snapshots of older velins have no "app" (docs/repository-format.md, "Snapshots").
  if (j.contains("app")) s.app = JsonText(j, "app");
  const auto strategy_name = JsonText(j, "strategy");
  const auto strategy = ParseStrategy(strategy_name);
  if (!strategy) throw std::runtime_error("unknown strategy '" + strategy_name + "'");
  s.strategy = *strategy;
  s.parent = JsonText(j, "parent");
  s.velin_version = JsonText(j, "velin_version");
  s.compression = JsonText(j, "compression");
  for (const auto& src : JsonField(j, "sources")) s.sources.push_back(SourceFromJson(src));
  const auto& st = JsonField(j, "stats");
  s.stats.files = JsonCount<uint64_t>(st, "files", "stats.");
  s.stats.dirs = JsonCount<uint64_t>(st, "dirs", "stats.");
  s.stats.bytes = JsonCount<uint64_t>(st, "bytes", "stats.");
  s.stats.files_read = JsonCount<uint64_t>(st, "files_read", "stats.");
  s.stats.bytes_read = JsonCount<uint64_t>(st, "bytes_read", "stats.");
  s.stats.bytes_added = JsonCount<uint64_t>(st, "bytes_added", "stats.");
  s.stats.blobs_added = JsonCount<uint64_t>(st, "blobs_added", "stats.");
  s.stats.duration_ms = JsonCount<uint64_t>(st, "duration_ms", "stats.");
  if (st.contains("files_changed"))
    s.stats.files_changed = JsonCount<uint64_t>(st, "files_changed", "stats.");
  if (st.contains("files_vanished")) {
    s.stats.files_vanished = JsonCount<uint64_t>(st, "files_vanished", "stats.");
  }
  return s;
}

}  // namespace

std::string EncodeSnapshot(const Snapshot& snapshot) {
  nlohmann::json body = ToJson(snapshot);
  // Descriptive text that is not UTF-8 (a host name, a database's metadata) is written with
  // U+FFFD, so the checksum is over what a reader parses back.
  std::string canonical = DumpJson(body);
  nlohmann::json wrapper = {
      {"format", kSnapshotFormat}, {"sha256", Sha256(canonical).Hex()}, {"snapshot", body}};
  return DumpJson(wrapper, 1) + "\n";
}

namespace {

// The wrapper's "format": every velin has written 1, and one without it is read as 1. A greater
// one is a later velin's snapshot, which this one would misread (its checksum, its fields): that
// is "upgrade velin" (exit 2, as a newer repository format is), not damage. Checked before the
// checksum, which a later format may compute otherwise.
Status CheckSnapshotFormat(const nlohmann::json& wrapper) {
  const auto f = wrapper.find("format");
  if (f == wrapper.end()) return Ok();
  if (f->is_number_unsigned() && f->get<uint64_t>() > static_cast<uint64_t>(kSnapshotFormat)) {
    return UsageError(TrFormat(
        "written by a newer velin (snapshot format {}; this velin reads format {}): upgrade velin",
        f->dump(), kSnapshotFormat));
  }
  if (f->is_number_unsigned() && f->get<uint64_t>() == static_cast<uint64_t>(kSnapshotFormat)) {
    return Ok();
  }
  return DamageError(TrFormat("invalid snapshot format {}", f->dump()));
}

// The body of the snapshot object `text`, its format and checksum checked.
Result<nlohmann::json> CheckedBody(std::string_view text) {
  try {
    nlohmann::json wrapper = nlohmann::json::parse(text);
    VELIN_TRY(CheckSnapshotFormat(wrapper));
    nlohmann::json body = JsonField(wrapper, "snapshot");
    std::string expected = JsonText(wrapper, "sha256");
    if (Sha256(body.dump()).Hex() != expected) {
      return DamageError(
          std::string(Tr("checksum mismatch (the snapshot object was modified or damaged)")));
    }
    return body;
  } catch (const std::exception& e) {
    return DamageError(JsonProblem(text, e));
  }
}

}  // namespace

Result<Snapshot> DecodeSnapshot(std::string_view text) {
  VELIN_ASSIGN(nlohmann::json body, CheckedBody(text));
  try {
    return FromJson(body);
  } catch (const std::exception& e) {
    return DamageError(JsonProblem(text, e));
  }
}

Result<std::string> RenameSnapshotText(std::string_view text, const std::string& id) {
  VELIN_ASSIGN(nlohmann::json body, CheckedBody(text));
  nlohmann::json wrapper = nlohmann::json::parse(text);  // parsed once already: no throw
  body["id"] = id;
  wrapper["sha256"] = Sha256(body.dump()).Hex();
  wrapper["snapshot"] = std::move(body);
  return wrapper.dump(1) + "\n";
}

Result<bool> SameSnapshotButId(std::string_view a, std::string_view b) {
  VELIN_ASSIGN(nlohmann::json one, CheckedBody(a));
  VELIN_ASSIGN(nlohmann::json two, CheckedBody(b));
  one.erase("id");
  two.erase("id");
  return one == two;
}

}  // namespace velin::repo
