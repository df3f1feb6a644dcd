// Crash safety of the real binary: velin killed (as by kill -9) between any two steps of a
// switch leaves `current` pointing at one complete release and recover finishes the switch;
// injected write faults (VELIN_FAULT_INJECT) never damage the registry.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// `current` names a registered, complete release: its VERSION file says its name.
void ExpectCompleteCurrent(ToyApp& app, const std::string& context) {
  std::string current = app.Current();
  ASSERT_TRUE(current == "v1" || current == "v2") << context << ": current=" << current;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), current + "\n") << context;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/lib.dat").size(), 64u * 1024) << context;
}

void SetUpTwoVersions(ToyApp& app) {
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
}

TEST(RollbackCrashTest, KillBetweenAnyTwoSwitchStepsLeavesOneCompleteRelease) {
  for (const char* step :
       {"switch-intent", "switch-stopped", "switch-temp-link", "switch-renamed", "switch-synced",
        "switch-registry", "switch-config", "switch-migrated", "switch-started"}) {
    ToyApp app(NoService());
    SetUpTwoVersions(app);
    RunResult r = app.Velin({"rollback", "to-version", "v2"}, {{"VELIN_TEST_CRASH_AT", step}});
    ASSERT_EQ(r.exit_code, 86) << step << ": " << r.err;
    ExpectCompleteCurrent(app, step);
    // A later switch is refused until recover finished the interrupted one.
    auto st = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}).out);
    ASSERT_TRUE(st.contains("interrupted_switch")) << step;
    EXPECT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 1) << step;
    r = app.Velin({"rollback", "recover"});
    ASSERT_EQ(r.exit_code, 0) << step << ": " << r.err;
    EXPECT_EQ(app.Current(), "v2") << step;
    ExpectCompleteCurrent(app, step);
    EXPECT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0) << step;
  }
}

TEST(RollbackCrashTest, KillDuringCreateLeavesRegistryUsable) {
  for (const char* step : {"create-materialised", "create-before-registry"}) {
    ToyApp app(NoService());
    ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
    app.Build("v2");
    RunResult r = app.Velin({"rollback", "create-version", "v2"}, {{"VELIN_TEST_CRASH_AT", step}});
    ASSERT_EQ(r.exit_code, 86) << step;
    auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
    EXPECT_EQ(doc["versions"].size(), 1u) << step;
    r = app.Velin({"rollback", "create-version", "v2"});
    ASSERT_EQ(r.exit_code, 0) << step << ": " << r.err;
    ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0) << step;
    ExpectCompleteCurrent(app, step);
  }
}

// A `create-version --replace v3` killed before its registry write came back as the new files
// under the old record (description, digests, schema level), and killed between the rename and
// the manifest write a switch "mended" the new files back towards the old manifest. Now the
// registry is the commit point: whatever command takes the lock next, v3 is the whole old
// version (killed before it) or the whole new one (killed after), and nothing is left over.
TEST(RollbackCrashTest, AKilledReplaceLeavesTheWholeOldOrTheWholeNewVersion) {
  namespace fs = std::filesystem;
  const std::vector<std::vector<std::string>> next_commands = {
      {"rollback", "to-version", "v3"},
      {"rollback", "create-version", "v4"},
      {"rollback", "recover"},
  };
  for (const char* step : {"create-materialised", "create-before-registry", "create-registered"}) {
    for (const auto& next : next_commands) {
      const std::string context = std::string(step) + " then " + next[1];
      ToyApp app(NoService());
      SetUpTwoVersions(app);
      app.Build("v3 old");
      ASSERT_EQ(app.Velin({"rollback", "create-version", "v3 - old"}).exit_code, 0);
      app.Build("v3 new");
      RunResult r = app.Velin({"rollback", "create-version", "--replace", "v3 - new"},
                              {{"VELIN_TEST_CRASH_AT", step}});
      ASSERT_EQ(r.exit_code, 86) << context << ": " << r.err;

      r = app.Velin(next);
      ASSERT_EQ(r.exit_code, 0) << context << ": " << r.out << r.err;
      const bool committed = std::string(step) == "create-registered";
      const std::string want = committed ? "new" : "old";
      std::string description;
      const auto listed = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
      for (const auto& v : listed["versions"]) {
        if (v["name"] == "v3") description = v["description"];
      }
      EXPECT_EQ(description, want) << context;
      for (const std::string dir : {"/releases", "/configs", "/manifests"}) {
        for (const auto& e : fs::directory_iterator(app.state() + dir)) {
          const std::string name = e.path().filename().string();
          EXPECT_TRUE(name.rfind(".install-", 0) != 0 && name.rfind(".old-", 0) != 0)
              << context << ": " << dir << "/" << name << " left over";
        }
      }
      if (next[1] != "to-version") {
        r = app.Velin({"rollback", "to-version", "v3"});
        ASSERT_EQ(r.exit_code, 0) << context << ": " << r.err;
      }
      // The release matches its manifest: the switch found nothing to mend or warn about.
      EXPECT_EQ(r.err.find("warning"), std::string::npos) << context << ": " << r.err;
      EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v3 " + want + "\n") << context;
    }
  }
}

// A prune unregisters before it deletes, and a create renames its release into place before
// it registers it: killed in between, each left a release no version named, holding its disk
// space for good. removals.json names them first; the next create removes them, and nothing
// else (not a directory merely missing from the registry, never the live release).
TEST(RollbackCrashTest, ReleasesAKilledPruneOrCreateLeftAreRemovedByTheNextCreate) {
  namespace fs = std::filesystem;
  ToyApp app(NoService());
  const std::string releases = app.state() + "/releases/";
  const std::string manifests = app.state() + "/manifests/";
  const auto names = [&app] {
    std::vector<std::string> out;
    auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
    for (const auto& v : doc["versions"]) out.push_back(v["name"]);
    std::sort(out.begin(), out.end());
    return out;
  };
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  app.Build("v3");
  // keep_versions = 2 prunes v2 (v1 is live); killed once v2 is unregistered.
  RunResult r = app.Velin(
      {"rollback", "create-version", "v3"},
      {{"VELIN_ROLLBACK_KEEP_VERSIONS", "2"}, {"VELIN_TEST_CRASH_AT", "prune-unregistered"}});
  ASSERT_EQ(r.exit_code, 86) << r.err;
  EXPECT_EQ(names(), (std::vector<std::string>{"v1", "v3"}));
  EXPECT_TRUE(fs::exists(releases + "v2/bin/VERSION"));
  EXPECT_TRUE(fs::exists(manifests + "v2.json"));
  const auto expect_removed = [&](const RunResult& run, const std::string& name) {
    EXPECT_NE(run.out.find("Removed release " + name +
                           ": an interrupted prune or create-version left it unregistered"),
              std::string::npos)
        << run.out;
    EXPECT_FALSE(fs::exists(releases + name)) << name;
    EXPECT_FALSE(fs::exists(manifests + name + ".json")) << name;
  };
  // The next create removes v2 first; this one is killed after its rename, before the
  // registry named v4.
  app.Build("v4");
  r = app.Velin({"rollback", "create-version", "v4"},
                {{"VELIN_TEST_CRASH_AT", "create-before-registry"}});
  ASSERT_EQ(r.exit_code, 86) << r.err;
  expect_removed(r, "v2");
  EXPECT_TRUE(fs::exists(releases + "v4/bin/VERSION"));
  // Not velin's leftover: a directory the registry does not name for another reason.
  WriteFile(releases + "by-hand/bin/VERSION", "by-hand\n");

  app.Build("v5");
  r = app.Velin({"rollback", "create-version", "v5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_removed(r, "v4");
  EXPECT_TRUE(fs::exists(releases + "by-hand/bin/VERSION"));
  EXPECT_FALSE(fs::exists(app.state() + "/removals.json"));
  EXPECT_EQ(names(), (std::vector<std::string>{"v1", "v3", "v5"}));
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v3"}).exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v3\n");

  // Never the live release, named or not, and nothing outside releases/ whatever the file says.
  auto reg = nlohmann::json::parse(ReadFileOrDie(app.state() + "/registry.json"));
  auto& versions = reg["versions"];
  versions.erase(std::remove_if(versions.begin(), versions.end(),
                                [](const nlohmann::json& v) { return v["name"] == "v3"; }),
                 versions.end());
  WriteFile(app.state() + "/registry.json", reg.dump(2));
  WriteFile(app.state() + "/removals.json",
            R"({"format": 1, "names": ["v3", "../../app", "by-hand/../../app"]})");
  app.Build("v6");
  r = app.Velin({"rollback", "create-version", "v6"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("Removed release"), std::string::npos) << r.out;
  // The names velin never writes are named, not dropped unseen.
  EXPECT_NE(r.err.find("removals.json: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("velin never writes such a name"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v3\n");
  EXPECT_TRUE(fs::exists(app.app() + "/bin/VERSION"));
  EXPECT_FALSE(fs::exists(app.state() + "/removals.json"));

  // A damaged file only costs the space it would have freed.
  WriteFile(app.state() + "/removals.json", "{not json");
  app.Build("v7");
  r = app.Velin({"rollback", "create-version", "v7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("removals.json: not a valid velin rollback state file (malformed JSON); "
                       "ignored"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(app.state() + "/removals.json"));
}

// A hotfix edited inside current/ by an editor that writes into the file (vim does so for a
// file with several links) changed the stored inode every release with that file shares. The
// next version must hold the build's bytes, not the edit: such a file is copied, not linked,
// and velin says which release no longer holds what it recorded. A switch to such a release
// first puts the file back from an identical one another release still holds, and says when
// none does.
TEST(RollbackCrashTest, AFileEditedInPlaceInsideCurrentIsNotLinkedAndIsMendedBeforeASwitch) {
  ToyApp app(NoService());
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  {
    FILE* f = std::fopen((app.app() + "/current/bin/lib.dat").c_str(), "r+");
    ASSERT_NE(f, nullptr);
    std::fputs("HOTFIX", f);  // the same size: only the content tells
    std::fclose(f);
  }
  app.Build("v2");
  RunResult r = app.Velin({"rollback", "create-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: 1 file(s) stored in earlier releases no longer hold what their "
                       "versions recorded (first: " +
                       app.state() + "/releases/v1/bin/lib.dat): edited in place?"),
            std::string::npos)
      << r.err;
  r = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string good(64 * 1024, 'L');
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/lib.dat"), good);
  // Each stored file's mtime is recorded: an unchanged one is checked without being read.
  EXPECT_NE(ReadFileOrDie(app.state() + "/manifests/v2.json").find("\"mtime_ns\":"),
            std::string::npos);
  // The next version links to v2's good copy again, without a word.
  app.Build("v3");
  r = app.Velin({"rollback", "create-version", "v3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("(3 hard-linked to earlier releases, 1 copied"), std::string::npos) << r.out;

  // The dry run says what the switch would find and put back, and changes nothing.
  r = app.Velin({"--json", "rollback", "to-version", "v1", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto plan = nlohmann::json::parse(r.out);
  EXPECT_EQ(plan["release_changed"],
            nlohmann::json::array({app.state() + "/releases/v1/bin/lib.dat"}));
  EXPECT_EQ(plan["release_mendable"], 1);
  r = app.Velin({"rollback", "to-version", "v1", "--dry-run"});
  EXPECT_NE(r.err.find("warning: release v1: 1 file(s) no longer hold what it recorded (first: " +
                       app.state() +
                       "/releases/v1/bin/lib.dat; edited in place?); the switch would put back "
                       "1 from identical files of other releases"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFileOrDie(app.state() + "/releases/v1/bin/lib.dat").substr(0, 6), "HOTFIX");

  // Back to v1: its edited file is put back from v2's identical one before the switch.
  r = app.Velin({"rollback", "to-version", "v1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "warning: release v1: 1 file(s) no longer held what it recorded (first: " +
                       app.state() +
                       "/releases/v1/bin/lib.dat; edited in place?): put back from identical "
                       "files of other releases\n");
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/lib.dat"), good);
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v1\n");

  // Edited again: now every release shares that file, nothing can put it back. The switch
  // goes on, and says so.
  {
    FILE* f = std::fopen((app.app() + "/current/bin/lib.dat").c_str(), "r+");
    ASSERT_NE(f, nullptr);
    std::fputs("AGAIN", f);
    std::fclose(f);
  }
  r = app.Velin({"rollback", "to-version", "v3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: release v3: 1 file(s) no longer hold what it recorded (first: " +
                       app.state() + "/releases/v3/bin/lib.dat; edited in place?"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("0 put back from other releases; switching to it as it is"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v3\n");
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/lib.dat").substr(0, 5), "AGAIN");
}

TEST(RollbackCrashTest, KillDuringTransactionRollbackIsFinishedByRecoverOnce) {
  ToyApp app(NoService());
  SetUpTwoVersions(app);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", "1h"}).exit_code, 0);
  KillPid(WatchdogPid(app.state()));
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "rollback"}, {{"VELIN_TEST_CRASH_AT", "switch-renamed"}});
  ASSERT_EQ(r.exit_code, 86);
  r = app.Velin({"rollback", "recover"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v1\n");
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}).out);
  int ends = 0;
  for (const auto& h : doc["history"]) ends += h["action"] == "transaction" ? 1 : 0;
  EXPECT_EQ(ends, 1);
  EXPECT_EQ(doc["history"].back()["outcome"], "rolled back by hand");
}

TEST(RollbackCrashTest, InjectedWriteFaultsNeverDamageTheRegistry) {
  for (const char* op : {"write", "sync", "rename", "create"}) {
    for (int nth = 1; nth <= 4; ++nth) {
      std::string rule = std::string(op) + ":" + std::to_string(nth) + ":ENOSPC";
      ToyApp app(NoService());
      SetUpTwoVersions(app);
      app.Build("v3");
      RunResult r = app.Velin({"rollback", "create-version", "v3"}, {{"VELIN_FAULT_INJECT", rule}});
      if (r.exit_code != 0) {
        EXPECT_EQ(r.exit_code, 1) << rule << ": " << r.err;
        EXPECT_NE(r.err.find("No space left"), std::string::npos) << rule << ": " << r.err;
      }
      r = app.Velin({"rollback", "to-version", "v2"}, {{"VELIN_FAULT_INJECT", rule}});
      EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << rule << ": " << r.err;
      ExpectCompleteCurrent(app, rule);
      // Without faults everything works again.
      r = app.Velin({"rollback", "recover"});
      ASSERT_EQ(r.exit_code, 0) << rule << ": " << r.err;
      r = app.Velin({"rollback", "create-version", "--replace", "v3"});
      ASSERT_EQ(r.exit_code, 0) << rule << ": " << r.err;
      r = app.Velin({"rollback", "to-version", "v3"});
      ASSERT_EQ(r.exit_code, 0) << rule << ": " << r.err;
      EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v3\n") << rule;
    }
  }
}

TEST(RollbackCrashTest, NewerRegistryFormatIsRefusedAndLeftAlone) {
  ToyApp app(NoService());
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  std::string newer = R"({"format": 2, "versions": [], "future": true})";
  WriteFile(app.state() + "/registry.json", newer);
  for (std::vector<std::string> args : {std::vector<std::string>{"rollback", "list"},
                                        {"rollback", "create-version", "v2"},
                                        {"rollback", "to-version", "v1"}}) {
    RunResult r = app.Velin(args);
    EXPECT_EQ(r.exit_code, 1) << args[1];
    EXPECT_NE(r.err.find("registry.json: written by a newer velin (format 2"), std::string::npos)
        << r.err;
  }
  EXPECT_EQ(ReadFileOrDie(app.state() + "/registry.json"), newer);
}

}  // namespace
}  // namespace velin::testing
