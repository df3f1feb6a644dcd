// First adoption of an app deployed as plain files, and the migration hooks of to-version.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

ToyAppOptions NoService(std::string extra = "") {
  ToyAppOptions o;
  o.with_service = false;
  o.extra_rollback = std::move(extra);
  return o;
}

TEST(RollbackAdoptTest, AdoptsPlainFilesAndLinksCurrent) {
  ToyApp app(NoService());
  app.Build("plain");
  RunResult r = app.Velin({"rollback", "begin"});
  EXPECT_EQ(r.exit_code, 2);  // nothing to return to yet
  EXPECT_NE(r.err.find("adopt"), std::string::npos) << r.err;
  r = app.Velin({"rollback", "adopt", "v0 - As found"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(app.Current(), "v0");
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "plain\n");
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
  EXPECT_EQ(doc["versions"][0]["kind"], "snapshot");
  EXPECT_TRUE(doc["versions"][0]["current"].get<bool>());
  EXPECT_EQ(app.Velin({"rollback", "adopt"}).exit_code, 2);  // already managed
}

TEST(RollbackAdoptTest, AdoptsAPlainCurrentDirectory) {
  ToyApp app(NoService());
  WriteFile(app.app() + "/current/bin/VERSION", "old\n");
  WriteFile(app.app() + "/current/scripts/run.sh", "#!/bin/sh\n");
  RunResult r = app.Velin({"rollback", "to-version", "x"});
  EXPECT_EQ(r.exit_code, 2);
  r = app.Velin({"rollback", "adopt"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(app.Current().rfind("adopted-", 0), 0u) << app.Current();
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "old\n");
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current.pre-velin/bin/VERSION"), "old\n");
}

// A new machine: the application's files came back from a backup with its `current` link, but
// velin's state (registry, releases) did not. The link points at nothing; adopt said "velin
// manages this application" and left no way on. It now says what is missing and what to do, and
// that way works.
TEST(RollbackAdoptTest, ALinkToAReleaseThatIsGoneSaysToRemoveIt) {
  ToyApp app(NoService());
  app.Build("plain");
  ASSERT_EQ(app.Velin({"rollback", "adopt", "v3"}).exit_code, 0);
  std::filesystem::remove_all(app.state());  // the state was not restored
  RunResult r = app.Velin({"rollback", "adopt", "v4"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("points at release 'v3', which does not exist"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("remove the link ('rm " + app.app() + "/current')"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("velin manages this application"), std::string::npos) << r.err;
  std::filesystem::remove(app.app() + "/current");
  r = app.Velin({"rollback", "adopt", "v4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(app.Current(), "v4");
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "plain\n");
}

// `rollback status` said "Current: v3" when `current` pointed at a release directory that is no
// longer there (velin's state lost, the release deleted by hand): nothing runs from it. It now
// says the release is missing, and --json carries it in `current_missing`.
TEST(RollbackAdoptTest, StatusSaysTheCurrentReleaseIsMissing) {
  ToyApp app(NoService());
  app.Build("plain");
  ASSERT_EQ(app.Velin({"rollback", "adopt", "v3"}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Current: v3\n"), std::string::npos) << r.out;
  auto fine = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}).out);
  EXPECT_EQ(fine["current"], "v3");
  EXPECT_TRUE(fine["current_missing"].is_null()) << fine.dump();

  const std::string release = app.state() + "/releases/v3";
  std::filesystem::remove_all(release);  // deleted by hand; the registry still names it
  r = app.Velin({"rollback", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Current: v3 (missing: " + release + " does not exist)"), std::string::npos)
      << r.out;
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}).out);
  EXPECT_EQ(doc["current"], "v3");  // kept as it was
  EXPECT_EQ(doc["current_missing"], release) << doc.dump();

  std::filesystem::remove_all(app.state());  // the state was not restored at all
  r = app.Velin({"rollback", "status"},
                {{"LANG", "de_DE.UTF-8"}, {"LC_ALL", ""}, {"LC_MESSAGES", ""}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Aktuell: v3 (fehlt: " + release + " existiert nicht)"), std::string::npos)
      << r.out;
}

TEST(RollbackMigrationTest, GoingBackRunsMigrateDownWithTheTargetLevel) {
  ToyApp app(
      NoService("migration_status = \"cat schema_level\"\n"
                "migrate_down = \"echo {level} > migrated_to && echo {level} > schema_level\"\n"));
  WriteFile(app.app() + "/schema_level", "7\n");
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  WriteFile(app.app() + "/schema_level", "12\n");  // v2's deploy migrated up
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  EXPECT_NE(::access((app.app() + "/migrated_to").c_str(), F_OK), 0);  // not going back

  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
  EXPECT_EQ(doc["versions"][1]["schema_level"], "7");  // newest first
  EXPECT_EQ(doc["versions"][0]["schema_level"], "12");
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/migrated_to"), "7\n");
  EXPECT_NE(r.out.find("migrated down to level 7"), std::string::npos) << r.out;
}

// migrate_down's {level} is one shell-quoted word: alembic's "ae1027a6acg (head)" was a syntax
// error for sh, and a level holding $(…) ran it. VELIN_ROLLBACK_LEVEL holds it as it is.
TEST(RollbackMigrationTest, TheLevelIsOneQuotedWordInMigrateDown) {
  ToyApp app(NoService(
      "migration_status = \"cat schema_level\"\n"
      "migrate_down = \"printf '%s|' {level} \\\"$VELIN_ROLLBACK_LEVEL\\\" > migrated_to && "
      "printf '%s\\\\n' \\\"$VELIN_ROLLBACK_LEVEL\\\" > schema_level\"\n"));
  const std::string v1_level = "ae1027a6acg (head) $(touch pwned) `touch pwned` it's";
  WriteFile(app.app() + "/schema_level", v1_level + "\n");
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  WriteFile(app.app() + "/schema_level", "bf52c1d2e3f4 (head)\n");  // v2's deploy migrated up
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/migrated_to"), v1_level + "|" + v1_level + "|");
  EXPECT_NE(::access((app.app() + "/pwned").c_str(), F_OK), 0) << "the level ran as a command";
}

TEST(RollbackMigrationTest, WarnsWhenGoingBackWithADatabaseButNoHook) {
  ToyApp app(NoService());
  std::string toml = ReadFileOrDie(app.config());
  WriteFile(app.config(), toml + "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n");
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("migrate_down is not set"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace velin::testing
