// What the commands print on a fresh repository (issue 16 §5): the first steps of a new
// installation, each in its human form and its --json document, before there is anything to
// list, upgrade, unlock or roll back; and the dry run of the first backup with a database.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

TEST(CovCliOutput, AFreshRepositoryFromInitToTheFirstDryRun) {
  BackupApp app({"storage", "db"}, "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n");
  WriteFile(app.root() + "/storage/a.txt", "alpha");
  fs::create_directories(app.root() + "/var");
  RunProgram({"sqlite3", app.root() + "/var/app.db", "CREATE TABLE t (v TEXT);"});
  RunOptions en;
  en.env = {{"LANG", "C"}};

  RunResult r = app.Run({"backup", "init"}, en);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Repository created at " + app.repo()), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(app.repo() + "/config"));
  nlohmann::json init = app.Json({"backup", "init", "--destination", app.path("second")});
  EXPECT_EQ(init["repository"], app.path("second"));
  EXPECT_EQ(init["encryption"], "none");
  ASSERT_TRUE(init["format_version"].is_number());
  const int format = init["format_version"].get<int>();

  r = app.Run({"backup", "list"}, en);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("No backups yet"), std::string::npos) << r.out;

  // Upgrading a repository of the current format changes nothing and says so.
  const std::string config_before = ReadFileOrDie(app.repo() + "/config");
  r = app.Run({"backup", "upgrade"}, en);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(app.repo() + " is already at format version " + std::to_string(format)),
            std::string::npos)
      << r.out;
  nlohmann::json upgraded = app.Json({"backup", "upgrade"});
  EXPECT_EQ(upgraded["from"], format);
  EXPECT_EQ(upgraded["to"], format);
  EXPECT_EQ(ReadFileOrDie(app.repo() + "/config"), config_before);

  r = app.Run({"backup", "unlock", "--stale"}, en);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("0 lock(s) removed, 0 left"), std::string::npos) << r.out;
  nlohmann::json unlocked = app.Json({"backup", "unlock"});  // no lock: no question either
  EXPECT_EQ(unlocked["removed"], nlohmann::json::array());
  EXPECT_EQ(unlocked["remaining"], 0);

  // The dry run names the database it would dump, and dumps nothing.
  r = app.Run({"backup", "create", "--dry-run"}, en);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Dry run: 1 file (5 B) would be read"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("The database (sqlite " + app.root() +
                       "/var/app.db) would be dumped; a dry run does not dump it"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(app.repo() + "/snapshots") && !fs::is_empty(app.repo() + "/snapshots"));

  // No version yet: the rollback commands say so instead of printing an empty table.
  r = app.Run({"rollback", "list"}, en);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Available versions:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(none yet)"), std::string::npos) << r.out;
  r = app.Run({"rollback", "status"}, en);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Current: -"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("No open transaction"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace velin::testing
