// The rollback watchdog restores the database at the deadline from a remote repository whose
// credentials are in `begin`'s environment (docs/rollback.md, Passwords): it gets them, the
// hooks still do not. The real binary, s3rver on loopback and a SQLite database.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/remote_servers.hpp"
#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

TEST(RollbackWatchdogCredentials, TheWatchdogRestoresFromS3WithTheKeysOfItsEnvironment) {
  S3Server s3;
  TempDir cache;
  ToyAppOptions options;
  options.with_service = false;
  options.extra_rollback =
      "restore_data_on_timeout = true\n"
      "[hooks]\nbefore_switch = \"env > ../switch-hook.env\"\n"
      "[backup]\ninclude = [\"db\"]\ndestination = \"s3://bkt/velin/shop\"\n"
      "[storage.s3]\nendpoint = \"" +
      s3.endpoint() +
      "\"\nregion = \"us-east-1\"\npath_style = true\n"
      "[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n";
  ToyApp app(options);
  const std::map<std::string, std::string> env = S3Server::RunEnv(cache).env;
  const std::string db = app.app() + "/var/app.db";
  std::filesystem::create_directories(app.app() + "/var");
  ASSERT_EQ(RunProgram({"sqlite3", db,
                        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);"
                        "INSERT INTO users VALUES (1, 'ada'), (2, 'grace');"})
                .exit_code,
            0);
  const std::string before = RunProgram({"sqlite3", db, ".dump"}).out;
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1"}, env).exit_code, 0);
  app.Build("v2");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v2"}, env).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}, env).exit_code, 0);

  RunResult r = app.Velin({"rollback", "begin", "--backup", "--timeout", "8s"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = app.Velin({"rollback", "to-version", "v2"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(RunProgram({"sqlite3", db, "DROP TABLE users; CREATE TABLE junk (x);"}).exit_code, 0);
  ASSERT_NE(RunProgram({"sqlite3", db, ".dump"}).out, before);

  // No velin command runs meanwhile: the watchdog alone rolls back at the deadline.
  ASSERT_TRUE(app.WaitForTransactionEnd(90));
  EXPECT_EQ(RunProgram({"sqlite3", db, ".dump"}).out, before);
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}, env).out);
  nlohmann::json last;
  for (const auto& h : doc["history"]) {
    if (h["action"] == "transaction") last = h;
  }
  EXPECT_EQ(last["outcome"], "rolled back by timeout") << last;
  EXPECT_EQ(last["data"].get<std::string>().rfind("restored from backup", 0), 0u) << last;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v1\n");
  // The switch hooks, the watchdog's too, never saw the keys.
  const std::string hook_env = ReadFileOrDie(app.root() + "/switch-hook.env");
  EXPECT_NE(hook_env.find("VELIN_EVENT=before_switch"), std::string::npos) << hook_env;
  EXPECT_EQ(hook_env.find("AWS_SECRET_ACCESS_KEY"), std::string::npos) << hook_env;
  EXPECT_EQ(hook_env.find("AWS_ACCESS_KEY_ID"), std::string::npos) << hook_env;
}

}  // namespace
}  // namespace velin::testing
