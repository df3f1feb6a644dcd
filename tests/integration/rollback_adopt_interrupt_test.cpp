// `rollback adopt` of a plain `current` directory interrupted, and run again. A signal during its
// stop/start waits for the adopt to end (as in a switch); a run that stored the snapshot and then
// failed is retried with --replace, which the message names and adopt takes. Before 2026-12-06
// Ctrl-C left the service stopped and nothing recorded, and the retry said "(use --replace to
// overwrite it)", a flag adopt rejected.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/background_velin.hpp"
#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// A toy app with plain files in current/; stop passes only while app/stop-ok exists, and waits
// while app/stop-hold exists (touching app/stop-reached first).
ToyAppOptions AdoptRetryOptions() {
  ToyAppOptions o = NoService();
  o.extra_rollback =
      "stop = \"touch stop-reached; while [ -f stop-hold ]; do sleep 0.02; done; test -f "
      "stop-ok\"\n"
      "start = \"true\"\n";
  return o;
}

void WritePlainCurrent(ToyApp& app) {
  WriteFile(app.app() + "/current/bin/VERSION", "old\n");
  WriteFile(app.app() + "/current/scripts/run.sh", "#!/bin/sh\n", 0755);
}

TEST(RollbackAdoptInterruptTest, ASignalDuringAdoptsStopWaitsForTheAdopt) {
  ToyApp app(AdoptRetryOptions());
  WritePlainCurrent(app);
  WriteFile(app.app() + "/stop-ok", "");
  WriteFile(app.app() + "/stop-hold", "");
  RunOptions options;
  options.cwd = app.root();
  BackgroundVelin velin({"--config", app.config(), "rollback", "adopt", "v0"}, options);
  ASSERT_TRUE(WaitForPath(app.app() + "/stop-reached"));
  velin.Signal(SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(velin.Running());
  std::filesystem::remove(app.app() + "/stop-hold");
  RunResult r = velin.Finish();
  EXPECT_EQ(r.exit_code, 128 + SIGINT) << r.out << r.err;
  EXPECT_NE(r.err.find("SIGINT received: the adopt as v0 finishes first, then velin stops"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(app.Current(), "v0");
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "old\n");
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}).out);
  EXPECT_EQ(doc["history"].back()["action"], "adopt");
  EXPECT_EQ(doc["history"].back()["outcome"], "adopted");
}

TEST(RollbackAdoptInterruptTest, AnAdoptThatStoredItsSnapshotIsRetriedWithReplace) {
  ToyApp app(AdoptRetryOptions());
  WritePlainCurrent(app);
  RunResult r = app.Velin({"rollback", "adopt", "v0"});  // stop fails: v0 stored, nothing else
  ASSERT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(std::filesystem::is_directory(app.app() + "/current"));

  WriteFile(app.app() + "/stop-ok", "");
  r = app.Velin({"rollback", "adopt", "v0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("version 'v0' exists already (an earlier adopt that was interrupted "
                       "stores it first): 'velin rollback adopt v0 --replace' stores the live "
                       "files as v0 again, or adopt under another name; nothing was changed"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("(use --replace to overwrite it)"), std::string::npos) << r.err;

  WriteFile(app.app() + "/current/bin/VERSION", "newer\n");  // what is live now is stored
  r = app.Velin({"rollback", "adopt", "v0", "--replace"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(app.Current(), "v0");
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "newer\n");
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current.pre-velin/bin/VERSION"), "newer\n");
}

TEST(RollbackAdoptInterruptTest, FilesMovedAsideByAKilledAdoptAreNotTakenForTheApp) {
  ToyApp app(AdoptRetryOptions());
  WriteFile(app.app() + "/current.pre-velin/bin/VERSION", "old\n");
  RunResult r = app.Velin({"rollback", "adopt", "v0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("does not exist but " + app.app() + "/current.pre-velin does"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(app.state() + "/releases/v0"));
}

}  // namespace
}  // namespace velin::testing
