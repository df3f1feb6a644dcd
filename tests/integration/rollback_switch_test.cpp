// velin rollback create-version / list / to-version against the real toy service.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

ToyAppOptions SwitchOpts(bool service) {
  ToyAppOptions o;
  o.with_service = service;
  return o;
}

uint64_t LinkCount(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_nlink;
}

TEST(RollbackSwitchTest, CreateVersionHardLinksUnchangedFiles) {
  ToyApp app(SwitchOpts(false));
  app.Build("v1");
  RunResult r = app.Velin({"rollback", "create-version", "v1 - First"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  app.Build("v2");
  r = app.Velin({"rollback", "create-version", "v2 - Second"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string rel = app.state() + "/releases/";
  EXPECT_EQ(LinkCount(rel + "v1/bin/lib.dat"), 2u);  // shared by v1 and v2
  EXPECT_EQ(LinkCount(rel + "v2/bin/server.py"), 2u);
  EXPECT_EQ(LinkCount(rel + "v2/scripts/migrate.sh"), 2u);
  EXPECT_EQ(LinkCount(rel + "v1/bin/VERSION"), 1u);  // differs
  EXPECT_EQ(ReadFileOrDie(rel + "v2/bin/VERSION"), "v2\n");
  // Names are unique unless --replace.
  r = app.Velin({"rollback", "create-version", "v2 - Again"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--replace"), std::string::npos) << r.err;
  r = app.Velin({"rollback", "create-version", "--replace", "v2 - Again"});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  r = app.Velin({"--json", "rollback", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["versions"].size(), 2u);  // newest first, like the table
  EXPECT_EQ(doc["versions"][0]["name"], "v2");
  EXPECT_EQ(doc["versions"][0]["description"], "Again");
  EXPECT_EQ(doc["versions"][1]["kind"], "version");
  EXPECT_FALSE(doc["versions"][1]["source_digest"].get<std::string>().empty());
  EXPECT_GT(doc["versions"][1]["size_bytes"].get<uint64_t>(), 64u * 1024);
}

TEST(RollbackSwitchTest, ToVersionSwitchesAndHealthSeesTarget) {
  ToyApp app;
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1 - First"}).exit_code, 0);
  app.Build("v2");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v2 - Second"}).exit_code, 0);

  RunResult r = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(app.Current(), "v2");
  EXPECT_EQ(app.Health(), "version=v2");
  r = app.Velin({"rollback", "to-version", "v1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Rolled back to v1"), std::string::npos) << r.out;
  EXPECT_EQ(app.Current(), "v1");
  EXPECT_EQ(app.Health(), "version=v1");

  r = app.Velin({"rollback", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Available versions:"), std::string::npos);
  EXPECT_NE(r.out.find("v1 - First"), std::string::npos);
  size_t v1 = r.out.find("v1 - First");
  EXPECT_NE(r.out.find("<- current", v1), std::string::npos) << r.out;  // "←" on a terminal

  r = app.Velin({"rollback", "history"});
  EXPECT_NE(r.out.find("v2 -> v1: switched"), std::string::npos) << r.out;
  EXPECT_EQ(app.Velin({"rollback", "to-version", "nope"}).exit_code, 2);
}

TEST(RollbackSwitchTest, FailingHealthSwitchesBackAndExits5) {
  ToyAppOptions options = SwitchOpts(true);
  options.health_as_url = true;  // the URL form of rollback.health
  ToyApp app(options);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  app.Build("bad", /*broken=*/true);
  ASSERT_EQ(app.Velin({"rollback", "create-version", "bad - Broken build"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);

  RunResult r = app.Velin({"rollback", "to-version", "bad"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_NE(r.err.find("health check"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("switched back to v1"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v1");
  EXPECT_EQ(app.Health(), "version=v1");
  r = app.Velin({"--json", "rollback", "history"});
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_NE(doc["history"].back()["outcome"].get<std::string>().find("health check failed"),
            std::string::npos);
}

// A health command that sends its output elsewhere closes velin's pipes at once: it is still
// killed at health_timeout, the check fails and the switch goes back (it passed once it ended).
TEST(RollbackSwitchTest, AHealthCommandThatClosedItsOutputFailsAtTheHealthTimeout) {
  ToyAppOptions options = SwitchOpts(true);
  options.health_timeout = "5s";  // also the switch back's, which starts v1 again
  ToyApp app(options);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}, {{"VELIN_ROLLBACK_HEALTH_TIMEOUT", "8s"}})
                .exit_code,
            0);

  // v2's check hangs with its output closed; v1's passes (the switch back's check).
  const std::string health =
      "exec >/dev/null 2>&1; if grep -q v2 current/bin/VERSION; then "
      "sleep 30; fi; curl -fsS --max-time 2 http://127.0.0.1:" +
      std::to_string(app.port()) + "/health";
  auto start = std::chrono::steady_clock::now();
  RunResult r = app.Velin({"rollback", "to-version", "v2"}, {{"VELIN_ROLLBACK_HEALTH", health}});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_NE(r.err.find("health check did not pass within 5s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("switched back to v1"), std::string::npos) << r.err;
  EXPECT_LT(seconds, 25.0);
  EXPECT_EQ(app.Current(), "v1");
  EXPECT_EQ(app.Health(), "version=v1");
}

TEST(RollbackSwitchTest, SnapshotRestoresConfig) {
  ToyApp app(SwitchOpts(false));
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-snapshot", "snap1 - Pre-Upgrade Snapshot"}).exit_code,
            0);
  WriteFile(app.app() + "/.env", "MODE=broken\n");
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  EXPECT_EQ(ReadFileOrDie(app.app() + "/.env"), "MODE=broken\n");
  RunResult r = app.Velin({"rollback", "to-version", "snap1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/.env"), "MODE=production\n");
  EXPECT_EQ(app.Current(), "snap1");
}

// Run as root (a timer, the watchdog) on an app.root the deploy user writes: that user makes a
// directory on a configured path a symlink to /etc (here: etc/), so that a switch to a snapshot
// writes the snapshot's file there as root. The switch (and its plan) refuses before it changes
// anything, and names the link; nothing is written where it leads.
TEST(RollbackSwitchTest, ASymlinkOfTheDeployUserOnAConfigPathIsNotWrittenThrough) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (a symlink of another owner)";
  ToyApp app(SwitchOpts(false));
  std::string toml = ReadFileOrDie(app.config());
  const std::string from = "config = [\".env\"]";
  ASSERT_NE(toml.find(from), std::string::npos);
  toml.replace(toml.find(from), from.size(), "config = [\".env\", \"config/app.yml\"]");
  WriteFile(app.config(), toml);
  WriteFile(app.app() + "/config/app.yml", "job: backup\n");
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-snapshot", "snap1"}).exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);

  const std::string etc = app.root() + "/etc";
  ASSERT_EQ(::mkdir(etc.c_str(), 0755), 0);
  ASSERT_EQ(::unlink((app.app() + "/config/app.yml").c_str()), 0);
  ASSERT_EQ(::rmdir((app.app() + "/config").c_str()), 0);
  ASSERT_EQ(::symlink(etc.c_str(), (app.app() + "/config").c_str()), 0);
  ASSERT_EQ(::lchown((app.app() + "/config").c_str(), 65534, static_cast<gid_t>(-1)), 0);
  const std::string named = app.app() + "/config is a symbolic link to " + etc +
                            " that user 65534 made, which leads out of " + app.app();
  for (const bool dry : {true, false}) {
    std::vector<std::string> args = {"rollback", "to-version", "snap1"};
    if (dry) args.push_back("--dry-run");
    RunResult r = app.Velin(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(app.Current(), "v2");
    EXPECT_FALSE(std::filesystem::exists(etc + "/app.yml"));
    EXPECT_TRUE(std::filesystem::is_empty(etc));
  }
  RunResult check = app.Velin({"--json", "config", "check"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  auto refused = nlohmann::json::parse(check.out)["refused_links"];
  ASSERT_EQ(refused.size(), 1u) << check.out;
  EXPECT_EQ(refused[0]["key"], "rollback.config 'config/app.yml'");
  EXPECT_NE(refused[0]["error"].get<std::string>().find(named), std::string::npos);
  RunResult history = app.Velin({"--json", "rollback", "history"});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_EQ(nlohmann::json::parse(history.out)["history"].back()["outcome"],
            "failed; nothing was changed");
  // The directory back in its place: the switch goes through (no interrupted switch was left).
  ASSERT_EQ(::unlink((app.app() + "/config").c_str()), 0);
  ASSERT_EQ(::mkdir((app.app() + "/config").c_str(), 0755), 0);
  RunResult r = app.Velin({"rollback", "to-version", "snap1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/config/app.yml"), "job: backup\n");
  EXPECT_TRUE(std::filesystem::is_empty(etc));
}

// The state dir inside app.root, which the deploy user may rename things in: made a symlink to
// a system directory by that user (`.velin -> /etc/sudoers.d`), it would get velin's lock file
// and registry written there, as root. Refused, naming the link; nothing is written there.
TEST(RollbackSwitchTest, AStateDirSymlinkOfTheDeployUserLeadingOutIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (a symlink of another owner)";
  ToyApp app(SwitchOpts(false));
  std::string toml = ReadFileOrDie(app.config());
  const std::string from = "state_dir = \".velin\"";
  ASSERT_NE(toml.find(from), std::string::npos);
  toml.replace(toml.find(from), from.size(), "state_dir = \"app/.velin\"");
  WriteFile(app.config(), toml);
  app.Build("v1");
  const std::string elsewhere = app.root() + "/sudoers.d";
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0755), 0);
  const std::string state = app.app() + "/.velin";
  ASSERT_EQ(::symlink(elsewhere.c_str(), state.c_str()), 0);
  ASSERT_EQ(::lchown(state.c_str(), 65534, static_cast<gid_t>(-1)), 0);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"rollback", "create-version", "v1"},
        std::vector<std::string>{"rollback", "to-version", "v1"}}) {
    RunResult r = app.Velin(args);
    EXPECT_NE(r.exit_code, 0) << r.out;
    EXPECT_NE(r.err.find("rollback.state_dir: " + state + " is a symbolic link to " + elsewhere +
                         " that user 65534 made, which leads out of " + app.app()),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(std::filesystem::is_empty(elsewhere)) << args[1];
  }
  // Made by root: followed, as an admin's link to another volume is.
  ASSERT_EQ(::lchown(state.c_str(), 0, static_cast<gid_t>(-1)), 0);
  RunResult r = app.Velin({"rollback", "create-version", "v1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(elsewhere + "/releases/v1"));
}

TEST(RollbackSwitchTest, KeepVersionsPrunesOldestButNeverCurrent) {
  ToyApp app(SwitchOpts(false));
  std::string toml = ReadFileOrDie(app.config());
  toml.replace(toml.find("keep_versions = 10"), 18, "keep_versions = 2");
  WriteFile(app.config(), toml);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  for (const char* v : {"v2", "v3", "v4"}) {
    app.Build(v);
    ASSERT_EQ(app.Velin({"rollback", "create-version", v}).exit_code, 0);
  }
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
  std::vector<std::string> names;
  for (const auto& v : doc["versions"]) names.push_back(v["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"v4", "v1"}));
  struct stat st {};
  EXPECT_NE(::stat((app.state() + "/releases/v2").c_str(), &st), 0);
  EXPECT_EQ(app.Current(), "v1");
}

TEST(RollbackSwitchTest, KeepVersionsNeverPrunesTheTransactionBase) {
  ToyApp app(SwitchOpts(false));
  std::string toml = ReadFileOrDie(app.config());
  toml.replace(toml.find("keep_versions = 10"), 18, "keep_versions = 1");
  WriteFile(app.config(), toml);
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-snapshot", "v1"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", "1h"}).exit_code, 0);
  for (const char* v : {"v2", "v3"}) {
    app.Build(v);
    ASSERT_EQ(app.Velin({"rollback", "create-version", v}).exit_code, 0);
    ASSERT_EQ(app.Velin({"rollback", "to-version", v}).exit_code, 0);
  }
  ASSERT_EQ(app.BuildVersion("v4").exit_code, 0);
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
  std::vector<std::string> names;
  for (const auto& v : doc["versions"]) names.push_back(v["name"]);
  // v1 is the base, v3 is live, v4 is new: only v2 could go.
  EXPECT_EQ(names, (std::vector<std::string>{"v4", "v3", "v1"}));
  EXPECT_TRUE(doc["versions"][2]["transaction_base"].get<bool>());
  RunResult r = app.Velin({"rollback", "rollback"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v1\n");
}

// The configuration a snapshot stores keeps its owner and group. velin runs as root (a timer,
// systemctl as stop/start) and the service as another user that reads its config by owner or
// group (`.env` 0640 root:www-data, a directory 0750 www-data:www-data). Before 2026-12-07 the
// copies were velin's own (root:root): a switch to a snapshot put the config back unreadable to
// the service, the health check failed, and the switch back put the saved live config back as
// root:root too, leaving the previous version unhealthy (exit 1 where 5 was due).
constexpr uid_t kServiceUid = 65534;
constexpr gid_t kServiceGid = 65534;

// "UID:GID:MODE" (octal) of `path`, not following a symlink; "" when it is missing.
std::string ConfigOwnerOf(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "";
  char mode[8];
  std::snprintf(mode, sizeof mode, "%o", st.st_mode & 07777);
  return std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) + ":" + mode;
}

void GiveConfigOwner(const std::string& path, uid_t uid, gid_t gid, mode_t mode) {
  ASSERT_EQ(::lchown(path.c_str(), uid, gid), 0) << path;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

TEST(RollbackConfigOwnerTest, ASwitchToASnapshotAndBackKeepsTheConfigsOwnerAndGroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (files of another owner)";
  TempDir dir;
  const std::string app = dir / "app";
  WriteFile(app + "/bin/app", "v1\n");
  WriteFile(app + "/.env", "SECRET=a\n");
  WriteFile(app + "/cfg/k.yml", "key: a\n");
  const std::string service = std::to_string(kServiceUid) + ":" + std::to_string(kServiceGid);
  // Healthy while the service user's config is its own, as a service that reads it would be.
  // (No single quote in it: it is a TOML literal string.)
  const std::string health = "test \"$(stat -c %u:%g:%a " + app + "/.env " + app + "/cfg " + app +
                             "/cfg/k.yml | tr \"\\n\" \" \")\" = \"" + service + ":640 " + service +
                             ":2750 " + service + ":640 \"";
  WriteFile(dir / "velin.toml",
            "[app]\nroot = \"app\"\n[rollback]\nartifacts = [\"bin\"]\n"
            "config = [\".env\", \"cfg\"]\nstop = \"true\"\n"
            "start = \"true\"\nhealth = '" +
                health + "'\nhealth_timeout = \"1s\"\n");
  const auto velin = [&](std::vector<std::string> args) {
    args.push_back("--config");
    args.push_back(dir / "velin.toml");
    return RunVelin(args);
  };
  const auto give_service = [&] {
    GiveConfigOwner(app + "/.env", kServiceUid, kServiceGid, 0640);
    GiveConfigOwner(app + "/cfg", kServiceUid, kServiceGid, 02750);
    GiveConfigOwner(app + "/cfg/k.yml", kServiceUid, kServiceGid, 0640);
  };

  // A snapshot of a config the service cannot read (root's), to fail a switch to it below. Its
  // k.yml has the content and mode of the service's: a copy of that must not be linked to it.
  GiveConfigOwner(app + "/.env", 0, 0, 0600);
  GiveConfigOwner(app + "/cfg/k.yml", 0, 0, 0640);
  ASSERT_EQ(velin({"rollback", "create-snapshot", "root-config"}).exit_code, 0);
  give_service();
  ASSERT_EQ(velin({"rollback", "create-snapshot", "s1"}).exit_code, 0);
  EXPECT_EQ(ConfigOwnerOf(dir / ".velin/configs/s1/.env"), service + ":640");
  // Out of the service user's reach (it owns the copy): it cannot edit what a switch puts back.
  EXPECT_EQ(ConfigOwnerOf(dir / ".velin/configs/s1"), "0:0:700");

  // The live config changed by hand (root's now): the switch puts the snapshot's back, its
  // owner, group and mode with it, and the service is healthy.
  WriteFile(app + "/.env", "SECRET=changed\n");
  GiveConfigOwner(app + "/.env", 0, 0, 0600);
  GiveConfigOwner(app + "/cfg", 0, 0, 0700);
  RunResult r = velin({"rollback", "to-version", "s1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(app + "/.env"), "SECRET=a\n");
  EXPECT_EQ(ConfigOwnerOf(app + "/.env"), service + ":640");
  EXPECT_EQ(ConfigOwnerOf(app + "/cfg"), service + ":2750");
  EXPECT_EQ(ConfigOwnerOf(app + "/cfg/k.yml"), service + ":640");

  // A switch to the snapshot whose config the service cannot read fails its health check; the
  // switch back puts the saved live config back as it was, owner and group too: healthy, exit 5.
  r = velin({"rollback", "to-version", "root-config"});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;
  EXPECT_EQ(ReadFileOrDie(app + "/.env"), "SECRET=a\n");
  EXPECT_EQ(ConfigOwnerOf(app + "/.env"), service + ":640");
  EXPECT_EQ(ConfigOwnerOf(app + "/cfg"), service + ":2750");
  EXPECT_EQ(ConfigOwnerOf(app + "/cfg/k.yml"), service + ":640");
}

}  // namespace
}  // namespace velin::testing
