// A create-version whose version got registered, and whose pruning of older versions then failed
// (the disk filled up with that very release), exits 0 with a warning: before, it exited 1 with
// only the prune's error (`cannot write …/removals.json…: No space left on device`), so a deploy
// script rolled back a version that had been stored, and its retry without --replace was refused
// (`exists already`, exit 2). The next create finishes the prune.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// The names `velin rollback list --json` shows.
std::set<std::string> PruneFaultListedVersions(ToyApp& app) {
  RunResult r = app.Velin({"--json", "rollback", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> out;
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  if (doc.is_discarded() || !doc.contains("versions")) return out;
  for (const auto& v : doc["versions"]) out.insert(v["name"].get<std::string>());
  return out;
}

TEST(RollbackCreatePruneFaultTest, AVersionThatWasRegisteredIsExitZeroWhenItsPruneFails) {
  ToyApp app(NoService());
  const std::map<std::string, std::string> keep_one = {{"VELIN_ROLLBACK_KEEP_VERSIONS", "1"}};
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1"}, keep_one).exit_code, 0);
  app.Build("v2");
  bool prune_failed = false;
  bool created = false;
  // From the Nth write on, every write fails (a disk that stays full): N walks through the
  // create and then through its prune.
  for (int nth = 1; nth <= 200 && !created; ++nth) {
    const std::string rule = "write:" + std::to_string(nth) + ":ENOSPC:sticky";
    std::map<std::string, std::string> env = keep_one;
    env["VELIN_FAULT_INJECT"] = rule;
    RunResult r = app.Velin({"rollback", "create-version", "v2"}, env);
    const bool registered = PruneFaultListedVersions(app).count("v2") != 0;
    if (r.exit_code == 0) {
      created = true;
      EXPECT_TRUE(registered) << rule;
      prune_failed = r.err.find("pruning older versions") != std::string::npos;
      if (prune_failed) {
        EXPECT_NE(r.err.find("version v2 was created, but pruning older versions "
                             "(keep_versions = 1) failed: "),
                  std::string::npos)
            << rule << ": " << r.err;
        EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
      }
      break;
    }
    // A create that failed left no version behind, and says why.
    EXPECT_FALSE(registered) << rule << ": exit " << r.exit_code
                             << " although v2 was stored: " << r.err;
    EXPECT_EQ(r.exit_code, 1) << rule << ": " << r.err;
    EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << rule << ": " << r.err;
    if (::testing::Test::HasFailure()) return;  // one rule's report is enough
  }
  ASSERT_TRUE(created);
  EXPECT_TRUE(prune_failed) << "the faults should have hit the prune after the create";
  // The next create (the disk has room again) finishes what the failed prune left.
  app.Build("v3");
  RunResult r = app.Velin({"rollback", "create-version", "v3"}, keep_one);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(PruneFaultListedVersions(app), std::set<std::string>{"v3"});
  EXPECT_FALSE(std::filesystem::exists(app.state() + "/releases/v1"));
  EXPECT_FALSE(std::filesystem::exists(app.state() + "/releases/v2"));
  EXPECT_FALSE(std::filesystem::exists(app.state() + "/removals.json"));
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v3"}).exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v3\n");
}

// The same for a rename that fails after the registry names the version (the staged manifest
// put into place): the version is whole, so exit 0 with a warning, and the next locked command
// finishes the install. A rename that fails before leaves no version behind, exit 1. With
// --replace, so that the release moved aside is among the renames.
TEST(RollbackCreatePruneFaultTest, ARenameThatFailsAfterTheRegistryIsAWarning) {
  ToyApp app(NoService());
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1"}).exit_code, 0);
  app.Build("v2");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v2"}).exit_code, 0);
  bool warned = false;
  std::string v2 = "v2\n";  // what the registered v2 holds
  for (int nth = 1; nth <= 40; ++nth) {
    app.Build("v2-" + std::to_string(nth));
    const std::string rule = "rename:" + std::to_string(nth) + ":EIO";
    RunResult r = app.Velin({"rollback", "create-version", "v2", "--replace"},
                            {{"VELIN_FAULT_INJECT", rule}});
    const bool hit = r.err.find("Input/output error") != std::string::npos;
    if (!hit) {
      EXPECT_EQ(r.exit_code, 0) << rule << ": " << r.err;
      break;  // past the last rename
    }
    const bool tidied =
        r.err.find("version v2 was created, but tidying up after it failed: ") != std::string::npos;
    warned = warned || tidied;
    EXPECT_EQ(r.exit_code, tidied ? 0 : 1) << rule << ": " << r.err;
    if (tidied) v2 = "v2-" + std::to_string(nth) + "\n";
    // Whichever: the next command finds one whole v2, the new one when it was registered.
    ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0) << rule;
    EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), v2) << rule;
    EXPECT_EQ(PruneFaultListedVersions(app), (std::set<std::string>{"v1", "v2"})) << rule;
    ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0) << rule;
    if (::testing::Test::HasFailure()) return;
  }
  EXPECT_TRUE(warned) << "no rename after the registry was reached";
}

}  // namespace
}  // namespace velin::testing
