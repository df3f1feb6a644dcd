// A release whose files were deleted under state_dir (rm -rf .velin/releases/v2, a cleanup
// script): what another release holds identically is put back before a switch, and a release
// that cannot be made whole again is never switched to. Before 2026-12-06 the switch warned
// "edited in place?" and pointed `current` at an empty directory with exit 0, and a
// transaction's rollback to such a base stopped the deploy and started nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// v1 and v2 (they differ in bin/VERSION only), v1 live.
void SetUpPartialReleaseApp(ToyApp& app) {
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
}

// The open transaction's base (a snapshot: the toy app has config files), and its release and
// v1's deleted, so that no release holds v1's files any more.
std::string DeleteBaseOfPartialReleaseApp(ToyApp& app) {
  auto txn = nlohmann::json::parse(ReadFileOrDie(app.state() + "/transaction.json"));
  const std::string base = txn["base"];
  fs::remove_all(app.state() + "/releases/" + base);
  fs::remove_all(app.state() + "/releases/v1");
  return base;
}

TEST(RollbackPartialReleaseTest, ToVersionRefusesAReleaseWhoseDirectoryWasDeleted) {
  ToyApp app(NoService());
  SetUpPartialReleaseApp(app);
  const std::string release = app.state() + "/releases/v2";
  fs::remove_all(release);

  const std::string refusal =
      "switch to v2 refused: 1 file(s) of release " + release +
      " are missing and no other release holds them (first: " + release +
      "/bin/VERSION); nothing was changed (still v1): make the version again from its build "
      "('velin rollback create-version v2 --replace') or put the release back from a backup of " +
      app.state();
  // The dry run refuses it the same way.
  RunResult r = app.Velin({"--json", "rollback", "to-version", "v2", "--dry-run"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("switch to v2 refused"), std::string::npos) << r.out << r.err;
  r = app.Velin({"rollback", "to-version", "v2"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(refusal), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("edited in place"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v1");
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v1\n");
  EXPECT_FALSE(fs::exists(release)) << "a refused release is left as it was found";
  EXPECT_FALSE(fs::exists(app.state() + "/switch.json"));

  // What the message says works.
  app.Build("v2");
  r = app.Velin({"rollback", "create-version", "v2", "--replace"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("edited in place"), std::string::npos) << r.err;  // deleted, not edited
  r = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v2\n");
}

TEST(RollbackPartialReleaseTest, DeletedFilesThatAnotherReleaseHoldsArePutBackFirst) {
  ToyApp app(NoService());
  SetUpPartialReleaseApp(app);
  const std::string release = app.state() + "/releases/v2";
  fs::remove(release + "/bin/lib.dat");
  fs::remove_all(release + "/scripts");

  // The dry run and the switch agree: the directory is made again, its file linked into it.
  RunResult r = app.Velin({"--json", "rollback", "to-version", "v2", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto plan = nlohmann::json::parse(r.out);
  EXPECT_EQ(plan["release_mendable"], 3) << r.out;
  EXPECT_EQ(plan["release_missing"].size(), 3u) << r.out;
  EXPECT_FALSE(fs::exists(release + "/scripts"));
  r = app.Velin({"rollback", "to-version", "v2", "--dry-run"});
  EXPECT_NE(r.err.find("warning: release v2: 3 file(s) are missing (first: "), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("edited in place"), std::string::npos) << r.err;

  r = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: release v2: 3 file(s) were missing (first: "), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("deleted?): put back from identical files of other releases"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("edited in place"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v2\n");
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/lib.dat"), std::string(64 * 1024, 'L'));
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/scripts/migrate.sh"), "#!/bin/sh\necho migrate\n");
  // Whole again: the next switch to it finds nothing to say.
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  r = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

// The transaction's rollback goes back to a base whose release is gone: the deploy keeps
// running (stopping it for an empty release is worse), the transaction ends as a failed
// rollback in the history, exit 1.
TEST(RollbackPartialReleaseTest, ATransactionRollbackToADeletedBaseLeavesTheDeployRunning) {
  ToyApp app;
  SetUpPartialReleaseApp(app);
  ASSERT_TRUE(app.WaitForVersion("v1", 10));
  ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", "1h"}).exit_code, 0);
  KillPid(WatchdogPid(app.state()));
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  const std::string base = DeleteBaseOfPartialReleaseApp(app);

  RunResult r = app.Velin({"rollback", "rollback"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("rollback failed: rollback to " + base + " refused: 1 file(s) of release " +
                       app.state() + "/releases/" + base + " are missing"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("nothing was changed, the service was not stopped (still v2)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(app.Current(), "v2");
  EXPECT_EQ(app.Health(), "version=v2");
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}).out);
  const auto& last = doc["history"].back();
  EXPECT_EQ(last["action"], "transaction");
  EXPECT_NE(last["outcome"].get<std::string>().find("rollback to " + base + " refused"),
            std::string::npos)
      << last;
  EXPECT_FALSE(fs::exists(app.state() + "/transaction.json"));
}

// The same at the deadline (the watchdog's and every later command's path).
TEST(RollbackPartialReleaseTest, ATimedOutTransactionWhoseBaseIsGoneIsNotSwitched) {
  ToyApp app(NoService());
  SetUpPartialReleaseApp(app);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", "1m"}).exit_code, 0);
  KillPid(WatchdogPid(app.state()));
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  const std::string base = DeleteBaseOfPartialReleaseApp(app);
  RunResult r = app.Velin({"rollback", "recover"}, ClockAhead(std::chrono::seconds(3600)));
  EXPECT_NE(r.err.find("rollback to " + base + " refused"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v2");
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v2\n");
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}).out);
  const auto& last = doc["history"].back();
  EXPECT_EQ(last["action"], "transaction");
  EXPECT_NE(last["outcome"].get<std::string>().find("rollback to " + base + " refused"),
            std::string::npos)
      << last;
}

// `begin` takes the transaction's base from the live release: deleted files that no other
// release holds refuse it (the rollback would bring back a partial release); the others are
// put back first.
TEST(RollbackPartialReleaseTest, BeginRefusesALiveReleaseWithFilesGoneForGood) {
  ToyApp app(NoService());
  SetUpPartialReleaseApp(app);
  const std::string release = app.state() + "/releases/v1";
  fs::remove(release + "/bin/VERSION");  // v1's alone
  RunResult r = app.Velin({"rollback", "begin", "--timeout", "1h"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("transaction not opened: the live version v1: 1 file(s) of release " +
                       release + " are missing and no other release holds them (first: " + release +
                       "/bin/VERSION); nothing was changed"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(app.state() + "/transaction.json"));
}

TEST(RollbackPartialReleaseTest, BeginPutsBackDeletedFilesOfTheLiveRelease) {
  ToyApp app(NoService());
  SetUpPartialReleaseApp(app);
  const std::string release = app.state() + "/releases/v1";
  fs::remove(release + "/bin/lib.dat");
  RunResult r = app.Velin({"rollback", "begin", "--timeout", "1h"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  KillPid(WatchdogPid(app.state()));
  EXPECT_NE(r.err.find("warning: release v1: 1 file(s) were missing (first: " + release +
                       "/bin/lib.dat; deleted?): put back"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFileOrDie(release + "/bin/lib.dat"), std::string(64 * 1024, 'L'));
  ASSERT_EQ(app.Velin({"rollback", "commit"}).exit_code, 0) << r.err;
}

}  // namespace
}  // namespace velin::testing
