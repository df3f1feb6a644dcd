// Version names read back from velin's state files name directories below the state dir: one
// velin never writes (a hand edit of registry.json to `../../victim`) must be refused as damage
// before a prune removes, or a switch points `current` at, a directory outside it. And `status`
// and `recover`, which show only the link, still say when registry.json is damaged or newer.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// `app`'s velin.toml with keep_versions = 1: the next create prunes every older named version.
void KeepOneVersionForNames(ToyApp& app) {
  std::string toml = ReadFileOrDie(app.config());
  const std::string from = "keep_versions = 10";
  toml.replace(toml.find(from), from.size(), "keep_versions = 1");
  WriteFile(app.config(), toml);
}

// registry.json with an entry named `name` put first (the oldest, pruned first).
void InsertRegistryName(ToyApp& app, const std::string& name) {
  const std::string path = app.state() + "/registry.json";
  nlohmann::json doc = nlohmann::json::parse(ReadFileOrDie(path));
  nlohmann::json entry = doc["versions"][0];
  entry["name"] = name;
  entry["seq"] = 0;
  doc["versions"].insert(doc["versions"].begin(), entry);
  WriteFile(path, doc.dump(2));
}

TEST(RollbackStateNamesTest, ARegistryNameLeadingOutIsDamageAndNothingOutsideIsRemoved) {
  for (const std::string name : {"../../victim", "..", "."}) {
    ToyApp app(NoService());
    KeepOneVersionForNames(app);
    ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
    // What a prune of that name would remove: the toy's temp dir (`..`: releases/.., the state
    // dir; `.`: releases/ itself) and a directory beside it.
    WriteFile(app.root() + "/victim/precious.txt", "keep me\n");
    InsertRegistryName(app, name);
    app.Build("v2");
    RunResult r = app.Velin({"rollback", "create-version", "v2"});
    EXPECT_EQ(r.exit_code, 4) << name << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("registry.json"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("'" + name + "'"), std::string::npos) << r.err;
    EXPECT_EQ(ReadFileOrDie(app.root() + "/victim/precious.txt"), "keep me\n") << name;
    EXPECT_TRUE(std::filesystem::is_directory(app.state() + "/releases/v1")) << name;
    for (std::vector<std::string> args : {std::vector<std::string>{"rollback", "list"},
                                          {"rollback", "to-version", "v1"},
                                          {"rollback", "status"},
                                          {"rollback", "recover"}}) {
      r = app.Velin(args);
      EXPECT_EQ(r.exit_code, 4) << name << " " << args[1] << ": " << r.out << r.err;
      EXPECT_NE(r.err.find("registry.json"), std::string::npos) << args[1] << ": " << r.err;
    }
  }
}

TEST(RollbackStateNamesTest, ASwitchIntentNameLeadingOutIsDamage) {
  ToyApp app(NoService());
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  for (const auto& [key, value] : {std::pair{"to", "../../victim"}, std::pair{"from", ".."},
                                   std::pair{"saved_config", "../../etc"}}) {
    nlohmann::json intent = {
        {"format", 1},      {"from", "v1"},       {"to", "v1"},
        {"reason", ""},     {"transaction", ""},  {"started", "2026-12-06T00:00:00Z"},
        {"history_len", 0}, {"action", "switch"}, {"phase", "forward"}};
    intent[key] = value;
    WriteFile(app.state() + "/switch.json", intent.dump());
    RunResult r = app.Velin({"rollback", "recover"});
    EXPECT_EQ(r.exit_code, 4) << key << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("switch.json"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(value), std::string::npos) << r.err;
  }
  EXPECT_EQ(app.Current(), "v1");
}

TEST(RollbackStateNamesTest, StatusAndRecoverSayARegistryIsDamagedOrNewer) {
  ToyApp app(NoService());
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  const std::string path = app.state() + "/registry.json";
  WriteFile(path, "{\"format\": 1, \"versions\": [");
  for (const char* command : {"status", "recover"}) {
    RunResult r = app.Velin({"rollback", command});
    EXPECT_EQ(r.exit_code, 4) << command << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("registry.json: not a valid velin rollback state file"), std::string::npos)
        << r.err;
  }
  WriteFile(path, R"({"format": 2, "versions": []})");
  for (const char* command : {"status", "recover"}) {
    RunResult r = app.Velin({"rollback", command});
    EXPECT_EQ(r.exit_code, 1) << command << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("registry.json: written by a newer velin (format 2"), std::string::npos)
        << r.err;
  }
}

}  // namespace
}  // namespace velin::testing
