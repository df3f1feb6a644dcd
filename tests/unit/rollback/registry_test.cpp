// The registry files: round trips, a newer format refused, history append-only, and injected
// write faults leaving the previous registry intact.
#include "velin/rollback/registry.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.hpp"
#include "velin/io/fault_injection_env.hpp"
#include "velin/rollback/engine.hpp"

namespace velin::rollback {
namespace {

using velin::testing::TempDir;

TEST(ParseLabelTest, SplitsNameAndDescription) {
  EXPECT_EQ(ParseLabel("v1.2.0 - Feature X Release"),
            std::make_pair(std::string("v1.2.0"), std::string("Feature X Release")));
  EXPECT_EQ(ParseLabel("v1"), std::make_pair(std::string("v1"), std::string()));
  EXPECT_EQ(ParseLabel("  v1   "), std::make_pair(std::string("v1"), std::string()));
  EXPECT_EQ(ParseLabel("v1 - "), std::make_pair(std::string("v1"), std::string()));
  EXPECT_EQ(ParseLabel(""), std::make_pair(std::string(), std::string()));
  EXPECT_EQ(ParseLabel("Pre-Upgrade Snapshot"),
            std::make_pair(std::string("Pre-Upgrade"), std::string("Snapshot")));
}

TEST(CheckVersionNameTest, RefusesPathsAndDots) {
  EXPECT_TRUE(CheckVersionName("v1.2.0+build_7"));
  EXPECT_FALSE(CheckVersionName("../etc"));
  EXPECT_FALSE(CheckVersionName(".hidden"));
  EXPECT_FALSE(CheckVersionName("a/b"));
  EXPECT_FALSE(CheckVersionName(""));
  EXPECT_FALSE(CheckVersionName("previous"));  // the word of `to-version previous`
  EXPECT_TRUE(CheckVersionName("previous-1"));
}

// base_of and failed are optional: written only when set, read back, and absent in a
// registry an earlier velin wrote (whose bases are still recognised by name and description).
TEST(RegistryTest, OptionalBaseAndFailedFields) {
  TempDir dir;
  io::Env& env = io::Env::Default();
  StateLayout layout{dir.path()};
  Registry reg;
  VersionRecord named{"v1", "", VersionKind::kVersion, "t1", "u", "h", "d1", "", "", 1};
  named.failed = "2026-11-30T03:00:00Z";
  VersionRecord base{
      "base-T1", "Base of transaction T1", VersionKind::kSnapshot, "t2", "u", "h", "d1", "c", "",
      2};
  base.base_of = "T1";
  reg.versions = {named, base};
  ASSERT_TRUE(SaveRegistry(env, layout, reg));
  std::string text = velin::testing::ReadFileOrDie(layout.Registry());
  EXPECT_EQ(text.find("\"base_of\": \"\""), std::string::npos) << text;  // unset: not written
  auto loaded = LoadRegistry(env, layout);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->Find("v1")->failed, "2026-11-30T03:00:00Z");
  EXPECT_FALSE(loaded->Find("v1")->IsTransactionBase());
  EXPECT_EQ(loaded->Find("base-T1")->base_of, "T1");
  EXPECT_TRUE(loaded->Find("base-T1")->IsTransactionBase());

  velin::testing::WriteFile(layout.Registry(),
                            R"({"format": 1, "current": "", "next_seq": 4, "versions": [
           {"name": "base-T0", "description": "Base of transaction T0", "kind": "snapshot"},
           {"name": "base-line", "description": "the user's own", "kind": "snapshot"},
           {"name": "base-T2", "description": "Base of transaction T2", "kind": "version"}]})");
  loaded = LoadRegistry(env, layout);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_TRUE(loaded->Find("base-T0")->IsTransactionBase());
  EXPECT_FALSE(loaded->Find("base-line")->IsTransactionBase());
  EXPECT_FALSE(loaded->Find("base-T2")->IsTransactionBase());
  EXPECT_TRUE(loaded->Find("base-T0")->failed.empty());
}

TEST(HistoryTest, FailedHealthCheckMarksOnlyFailedSwitches) {
  HistoryEntry e;
  e.action = "switch";
  e.outcome = "health check failed; switched back to v1 (healthy)";
  EXPECT_TRUE(FailedHealthCheck(e));
  e.action = "rollback";
  EXPECT_TRUE(FailedHealthCheck(e));
  e.outcome = "switched";
  EXPECT_FALSE(FailedHealthCheck(e));
  e.action = "transaction";
  e.outcome = "health check failed; oddly";
  EXPECT_FALSE(FailedHealthCheck(e));
}

TEST(RegistryTest, RoundTripsVersionsAndCurrent) {
  TempDir dir;
  io::Env& env = io::Env::Default();
  StateLayout layout{dir.path()};
  Registry reg;
  reg.current = "v2";
  reg.next_seq = 3;
  reg.versions.push_back({"v1", "first", VersionKind::kVersion, "t1", "u", "h", "d1", "", "", 1});
  reg.versions.push_back({"v2", "", VersionKind::kSnapshot, "t2", "u", "h", "d2", "c2", "7", 2});
  ASSERT_TRUE(SaveRegistry(env, layout, reg));
  auto loaded = LoadRegistry(env, layout);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->current, "v2");
  EXPECT_EQ(loaded->next_seq, 3u);
  ASSERT_EQ(loaded->versions.size(), 2u);
  EXPECT_EQ(loaded->versions[1].kind, VersionKind::kSnapshot);
  EXPECT_EQ(loaded->versions[1].schema_level, "7");
  EXPECT_EQ(loaded->Find("v1")->description, "first");
}

TEST(RegistryTest, RefusesNewerFormatClearly) {
  TempDir dir;
  velin::testing::WriteFile(dir / "registry.json", R"({"format": 2, "versions": []})");
  auto loaded = LoadRegistry(io::Env::Default(), StateLayout{dir.path()});
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("newer velin"), std::string::npos);
  EXPECT_NE(loaded.error().message.find("registry.json"), std::string::npos);
}

TEST(RegistryTest, AFormatBeyondIntIsNewerNotNarrowed) {
  for (const char* format : {"4294967297", "18446744073709551615"}) {
    TempDir dir;
    velin::testing::WriteFile(dir / "registry.json",
                              std::string(R"({"format": )") + format + R"(, "versions": []})");
    auto loaded = LoadRegistry(io::Env::Default(), StateLayout{dir.path()});
    ASSERT_FALSE(loaded) << format;
    EXPECT_NE(loaded.error().message.find("newer velin (format " + std::string(format)),
              std::string::npos)
        << loaded.error().message;
  }
}

TEST(RegistryTest, MalformedRegistryIsDamage) {
  TempDir dir;
  velin::testing::WriteFile(dir / "registry.json", "{not json");
  auto loaded = LoadRegistry(io::Env::Default(), StateLayout{dir.path()});
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, ExitCode::kDamage);
}

// Each state file's fields, one at a time, replaced by a value of every other JSON type: the
// load is damage (exit 4) naming the file and the field, never an exception out of
// nlohmann::json (before: `"health_failed": "no"` or `"restore_data": 1` aborted velin, 134).
TEST(StateFileTypesTest, EveryWronglyTypedFieldIsDamageNamingIt) {
  using nlohmann::json;
  TempDir dir;
  io::Env& env = io::Env::Default();
  StateLayout layout{dir.path()};
  const json kValues[] = {"text", 7, true, json::array({1}), json::object(), 1.5, nullptr};
  const auto same_kind = [](const json& a, const json& b) {
    return a.type() == b.type() || (a.is_number_integer() && b.is_number_integer());
  };
  const json registry_entry = {
      {"name", "v1"},        {"description", "d"}, {"kind", "version"},    {"created", "t"},
      {"user", "u"},         {"host", "h"},        {"source_digest", "s"}, {"config_digest", "c"},
      {"schema_level", "1"}, {"seq", 1},           {"base_of", "T"},       {"failed", "t"}};
  const json transaction = {
      {"format", 1},          {"id", "t1"},     {"state", "open"},
      {"base", "v1"},         {"started", "t"}, {"deadline_ms", 99999999999999},
      {"deadline", "t"},      {"reason", "r"},  {"user", "u"},
      {"host", "h"},          {"cause", ""},    {"outcome", ""},
      {"watchdog_pid", 1},    {"backup", "b"},  {"version", "v1"},
      {"restore_data", true}, {"data", ""}};
  const json intent = {{"format", 1},
                       {"from", "v1"},
                       {"to", "v2"},
                       {"reason", ""},
                       {"transaction", ""},
                       {"started", "t"},
                       {"history_len", 3},
                       {"action", "switch"},
                       {"from_level", ""},
                       {"saved_config", ""},
                       {"phase", "forward"},
                       {"failure", ""},
                       {"health_failed", false},
                       {"restore_backup", "b"},
                       {"data", ""}};
  const json history_entry = {{"time", "t"},        {"user", "u"},           {"host", "h"},
                              {"action", "switch"}, {"from", "v1"},          {"to", "v2"},
                              {"reason", ""},       {"outcome", "switched"}, {"transaction", ""},
                              {"detail", ""},       {"backup", ""},          {"backup_version", ""},
                              {"data", ""}};
  int cases = 0;
  const auto expect_damage = [&](const std::string& what, const std::string& file,
                                 const std::string& field, const Status& loaded) {
    ++cases;
    ASSERT_FALSE(loaded) << what;
    EXPECT_EQ(loaded.error().code, ExitCode::kDamage) << what << ": " << loaded.error().message;
    EXPECT_NE(loaded.error().message.find(file), std::string::npos) << loaded.error().message;
    EXPECT_NE(loaded.error().message.find("'" + field + "'"), std::string::npos)
        << what << ": " << loaded.error().message;
  };
  const auto discard = [](auto result) -> Status {
    if (!result) return tl::unexpected(result.error());
    return Ok();
  };
  for (const json& value : kValues) {
    const std::string shown = value.dump();
    for (const auto& [key, good] : registry_entry.items()) {
      if (key == "name" || same_kind(good, value)) continue;  // a nameless entry: its own error
      json entry = registry_entry;
      entry[key] = value;
      json doc = {{"format", 1}, {"current", "v1"}, {"next_seq", 2}, {"versions", {entry}}};
      velin::testing::WriteFile(layout.Registry(), doc.dump());
      expect_damage("registry " + key + "=" + shown, "registry.json", key,
                    discard(LoadRegistry(env, layout)));
    }
    for (const char* key : {"current", "next_seq"}) {
      json doc = {{"format", 1}, {"current", "v1"}, {"next_seq", 2}, {"versions", json::array()}};
      if (same_kind(doc[key], value)) continue;
      doc[key] = value;
      velin::testing::WriteFile(layout.Registry(), doc.dump());
      expect_damage(std::string("registry ") + key + "=" + shown, "registry.json", key,
                    discard(LoadRegistry(env, layout)));
    }
    for (const auto& [key, good] : transaction.items()) {
      if (key == "format" || key == "deadline" || same_kind(good, value)) continue;  // not read
      json doc = transaction;
      doc[key] = value;
      velin::testing::WriteFile(layout.Transaction(), doc.dump());
      expect_damage("transaction " + key + "=" + shown, "transaction.json", key,
                    discard(LoadTransaction(env, layout)));
    }
    for (const auto& [key, good] : intent.items()) {
      if (key == "format" || same_kind(good, value)) continue;
      json doc = intent;
      doc[key] = value;
      velin::testing::WriteFile(layout.SwitchIntent(), doc.dump());
      expect_damage("switch " + key + "=" + shown, "switch.json", key,
                    discard(LoadSwitchIntent(env, layout)));
    }
    for (const auto& [key, good] : history_entry.items()) {
      if (same_kind(good, value)) continue;
      json entry = history_entry;
      entry[key] = value;
      velin::testing::WriteFile(layout.History(), "{\"format\": 1}\n" + entry.dump() + "\n");
      expect_damage("history " + key + "=" + shown, "history.jsonl:2", key,
                    discard(ReadHistory(env, layout)));
    }
  }
  EXPECT_GT(cases, 250);
  // The same documents with their own types load.
  velin::testing::WriteFile(layout.Transaction(), transaction.dump());
  EXPECT_TRUE(LoadTransaction(env, layout));
  velin::testing::WriteFile(layout.SwitchIntent(), intent.dump());
  EXPECT_TRUE(LoadSwitchIntent(env, layout));
}

TEST(HistoryTest, AppendsKeepEarlierEntries) {
  TempDir dir;
  io::Env& env = io::Env::Default();
  StateLayout layout{dir.path()};
  for (int i = 0; i < 3; ++i) {
    HistoryEntry e;
    e.action = "switch";
    e.to = "v" + std::to_string(i);
    e.outcome = "switched";
    ASSERT_TRUE(AppendHistory(env, layout, e));
  }
  auto h = ReadHistory(env, layout);
  ASSERT_TRUE(h);
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[0].to, "v0");
  EXPECT_EQ((*h)[2].to, "v2");
}

TEST(TransactionRecordTest, RoundTripsAndRemoves) {
  TempDir dir;
  io::Env& env = io::Env::Default();
  StateLayout layout{dir.path()};
  TransactionRecord t;
  t.id = "x1";
  t.state = TransactionState::kOpen;
  t.base = "v1";
  t.deadline_ms = 1234567;
  ASSERT_TRUE(SaveTransaction(env, layout, t));
  auto loaded = LoadTransaction(env, layout);
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->deadline_ms, 1234567);
  ASSERT_TRUE(RemoveTransaction(env, layout));
  loaded = LoadTransaction(env, layout);
  ASSERT_TRUE(loaded);
  EXPECT_FALSE(loaded->has_value());
}

// The database fields of a transaction (docs/rollback-format.md#transactionjson) are optional:
// a transaction without a backup is written without them (as an older velin wrote it) and
// reads back empty; with a backup they round-trip, and so do the history's.
TEST(TransactionRecordTest, DatabaseFieldsAreOptionalAndRoundTrip) {
  TempDir dir;
  io::Env& env = io::Env::Default();
  StateLayout layout{dir.path()};
  TransactionRecord t;
  t.id = "x1";
  t.state = TransactionState::kOpen;
  t.base = "v1";
  ASSERT_TRUE(SaveTransaction(env, layout, t));
  std::string text = velin::testing::ReadFileOrDie(layout.Transaction());
  EXPECT_EQ(text.find("backup"), std::string::npos) << text;
  auto loaded = LoadTransaction(env, layout);
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->backup, "");
  EXPECT_FALSE((*loaded)->restore_data);

  t.backup = "20261130-0640-full";
  t.version = "v1";
  t.restore_data = true;
  t.data = "restored from backup 20261130-0640-full";
  ASSERT_TRUE(SaveTransaction(env, layout, t));
  loaded = LoadTransaction(env, layout);
  ASSERT_TRUE(loaded && loaded->has_value());
  EXPECT_EQ((*loaded)->backup, t.backup);
  EXPECT_EQ((*loaded)->version, "v1");
  EXPECT_TRUE((*loaded)->restore_data);
  EXPECT_EQ((*loaded)->data, t.data);

  HistoryEntry old_entry;  // no database fields: the line carries none of them
  old_entry.action = "transaction";
  ASSERT_TRUE(AppendHistory(env, layout, old_entry));
  EXPECT_EQ(velin::testing::ReadFileOrDie(layout.History()).find("backup"), std::string::npos);
  HistoryEntry entry = old_entry;
  entry.backup = t.backup;
  entry.backup_version = "v1";
  entry.data = t.data;
  ASSERT_TRUE(AppendHistory(env, layout, entry));
  auto history = ReadHistory(env, layout);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].backup, "");
  EXPECT_EQ((*history)[1].backup, t.backup);
  EXPECT_EQ((*history)[1].backup_version, "v1");
  EXPECT_EQ((*history)[1].data, t.data);
}

// Every write of a registry update may fail, also short (half its bytes written, then the
// error); whichever fails, the registry on disk is the old one or the new one, never torn, and
// it always loads.
TEST(RegistryFaultTest, EveryInjectedFaultLeavesOldOrNew) {
  using Case = std::pair<io::FaultOp, bool>;  // the call that fails, short write
  for (auto [op, short_write] : {Case{io::FaultOp::kWrite, false}, Case{io::FaultOp::kWrite, true},
                                 Case{io::FaultOp::kSync, false}, Case{io::FaultOp::kRename, false},
                                 Case{io::FaultOp::kCreate, false}}) {
    for (uint64_t nth = 1; nth <= 3; ++nth) {
      TempDir dir;
      io::FaultInjectionEnv env(io::Env::Default());
      StateLayout layout{dir.path()};
      Registry old_reg;
      old_reg.versions.push_back({"v1", "", VersionKind::kVersion, "", "", "", "", "", "", 1});
      ASSERT_TRUE(SaveRegistry(env, layout, old_reg));
      Registry new_reg = old_reg;
      new_reg.versions.push_back({"v2", "", VersionKind::kVersion, "", "", "", "", "", "", 2});
      env.SetRule(io::FaultRule{op, nth, 28, false, short_write});
      Status s = SaveRegistry(env, layout, new_reg);
      env.SetRule(std::nullopt);
      auto loaded = LoadRegistry(env, layout);
      ASSERT_TRUE(loaded) << loaded.error().message;
      size_t n = loaded->versions.size();
      EXPECT_TRUE(s ? n == 2 : (n == 1 || n == 2));
    }
  }
}

}  // namespace
}  // namespace velin::rollback
