// A fleet switch that fails on one host puts every other host back with exactly the live config
// it had before (docs/exit-codes.md, 5: "the previous version runs, is healthy and has its
// config back"), as a single host's own switch back does. Before, the fleet switched them back
// with a fresh `to-version BEFORE`: the target snapshot's config stayed in place, or the stored
// config of BEFORE (a snapshot) overwrote the live one. Real sshd on the loopback, as in
// rollback_fleet_test.cpp; each host is its own toy app.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/remote_servers.hpp"
#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// The deploying machine: a velin.toml with [fleet] naming web1, web2… through an ssh_config.
class UndoFleetRunner {
 public:
  UndoFleetRunner(SshServer& sshd, std::vector<ToyApp*> apps) {
    std::string hosts, ssh;
    for (size_t i = 0; i < apps.size(); ++i) {
      const std::string name = "web" + std::to_string(i + 1);
      hosts += (i ? ", \"" : "\"") + name + ":" + apps[i]->config() + "\"";
      ssh += "Host " + name + "\n  HostName 127.0.0.1\n  Port " + std::to_string(sshd.port()) +
             "\n  User " + sshd.user() + "\n  IdentityFile " + sshd.key_file() +
             "\n  IdentitiesOnly yes\n  UserKnownHostsFile " + sshd.known_hosts() + "\n";
    }
    WriteFile(dir_ / "ssh_config", ssh, 0600);
    WriteFile(dir_ / "velin.toml", "[fleet]\nhosts = [" + hosts + "]\nvelin = \"" + VelinBinary() +
                                       "\"\nssh_options = [\"-F\", \"" + (dir_ / "ssh_config") +
                                       "\"]\nconnect_timeout = \"5s\"\n");
  }

  RunResult Velin(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", dir_ / "velin.toml"});
    RunOptions options;
    options.cwd = dir_.path();
    options.timeout_seconds = 180;
    return RunVelin(args, options);
  }

 private:
  TempDir dir_;
};

std::string EnvOf(ToyApp& app) { return ReadFileOrDie(app.app() + "/.env"); }

void CreateOn(ToyApp& app, const std::string& command, const std::string& name) {
  RunResult r = app.Velin({"rollback", command, name});
  ASSERT_EQ(r.exit_code, 0) << name << ": " << r.out << r.err;
}

// The audit's repro: both hosts on v20 (a version); s10 is a snapshot holding A=new-config,
// broken on web2. The config is edited to A=live-before, then the fleet switches to s10.
TEST(RollbackFleetUndoTest, HostsPutBackFromASnapshotGetTheirLiveConfigBack) {
  SshServer sshd;
  ToyApp a, b;
  for (ToyApp* app : {&a, &b}) {
    app->Build("v1");
    CreateOn(*app, "create-version", "v1");
    ASSERT_EQ(app->Velin({"rollback", "to-version", "v1"}).exit_code, 0);
    WriteFile(app->app() + "/.env", "A=new-config\n");
    app->Build("s10", /*broken=*/app == &b);
    CreateOn(*app, "create-snapshot", "s10");
    app->Build("v20");
    CreateOn(*app, "create-version", "v20");
  }
  UndoFleetRunner fleet(sshd, {&a, &b});
  RunResult r = fleet.Velin({"rollback", "--fleet", "to-version", "v20"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  WriteFile(a.app() + "/.env", "A=live-before\n");
  WriteFile(b.app() + "/.env", "A=live-before\n");

  r = fleet.Velin({"--json", "rollback", "--fleet", "to-version", "s10"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["hosts"].size(), 2u) << r.out;
  EXPECT_TRUE(doc["hosts"][0]["switched_back"].get<bool>()) << doc;
  EXPECT_EQ(doc["hosts"][1]["exit_code"], 5) << doc;
  for (ToyApp* app : {&a, &b}) {
    EXPECT_EQ(app->Current(), "v20");
    EXPECT_EQ(app->Health(), "version=v20");
    EXPECT_EQ(EnvOf(*app), "A=live-before\n") << (app == &a ? "web1" : "web2");
  }
}

// The other direction: the hosts run a snapshot (v1, stored with A=1), the fleet switches to a
// plain version (touching no config) after the secret was rotated by hand.
TEST(RollbackFleetUndoTest, HostsPutBackOnASnapshotKeepTheirLiveConfig) {
  SshServer sshd;
  ToyApp a, b;
  for (ToyApp* app : {&a, &b}) {
    WriteFile(app->app() + "/.env", "A=1\n");
    app->Build("v1");
    CreateOn(*app, "create-snapshot", "v1");
    ASSERT_EQ(app->Velin({"rollback", "to-version", "v1"}).exit_code, 0);
    app->Build("v20", /*broken=*/app == &b);
    CreateOn(*app, "create-version", "v20");
    WriteFile(app->app() + "/.env", "A=rotated-secret\n");
  }
  UndoFleetRunner fleet(sshd, {&a, &b});
  RunResult r = fleet.Velin({"rollback", "--fleet", "to-version", "v20"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  for (ToyApp* app : {&a, &b}) {
    EXPECT_EQ(app->Current(), "v1");
    EXPECT_EQ(app->Health(), "version=v1");
    EXPECT_EQ(EnvOf(*app), "A=rotated-secret\n") << (app == &a ? "web1" : "web2");
  }
  // web1's history: the undo is a switch of its own, with the fleet's reason.
  auto history = nlohmann::json::parse(a.Velin({"--json", "rollback", "history"}).out);
  const auto& last = history["history"].back();
  EXPECT_EQ(last["from"], "v20");
  EXPECT_EQ(last["to"], "v1");
  EXPECT_NE(last["reason"].get<std::string>().find("fleet to-version v20 failed on web2"),
            std::string::npos)
      << last;
}

TEST(RollbackFleetUndoTest, AnUnknownVersionSwitchesNothingAndSaysNothingOfSwitchingBack) {
  SshServer sshd;
  ToyApp a(NoService()), b(NoService());
  for (ToyApp* app : {&a, &b}) {
    app->Build("v1");
    CreateOn(*app, "create-version", "v1");
    ASSERT_EQ(app->Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  }
  UndoFleetRunner fleet(sshd, {&a, &b});
  RunResult r = fleet.Velin({"rollback", "--fleet", "to-version", "v9"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("no host switched"), std::string::npos) << r.err;
  EXPECT_EQ((r.out + r.err).find("switching every host back"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(a.Current(), "v1");
  EXPECT_EQ(b.Current(), "v1");
}

// On one host: `to-version NAME --undo` undoes only the last switch, and only from NAME.
TEST(RollbackFleetUndoTest, UndoOnOneHostPutsTheSavedConfigBackAndRefusesAnyOtherSwitch) {
  ToyApp app(NoService());
  WriteFile(app.app() + "/.env", "A=stored\n");
  app.Build("v1");
  CreateOn(app, "create-snapshot", "s1");
  app.Build("v2");
  CreateOn(app, "create-version", "v2");
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  WriteFile(app.app() + "/.env", "A=live\n");
  ASSERT_EQ(app.Velin({"rollback", "to-version", "s1"}).exit_code, 0);
  ASSERT_EQ(EnvOf(app), "A=stored\n");
  RunResult r = app.Velin({"rollback", "to-version", "s1", "--undo"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // the last switch came from v2, not s1
  EXPECT_NE(r.err.find("the last switch here went from v2 to s1; nothing was changed"),
            std::string::npos)
      << r.err;
  r = app.Velin({"rollback", "to-version", "v2", "--undo"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(app.Current(), "v2");
  EXPECT_EQ(EnvOf(app), "A=live\n");
  // Undone twice: back on s1 with the config live before the undo (s1's stored one).
  r = app.Velin({"rollback", "to-version", "s1", "--undo"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(app.Current(), "s1");
  EXPECT_EQ(EnvOf(app), "A=stored\n");
  r = app.Velin({"rollback", "to-version", "v2", "--undo", "--dry-run"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

}  // namespace
}  // namespace velin::testing
