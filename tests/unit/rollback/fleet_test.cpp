// The fleet's parts that need no host: which destination and config a [fleet] hosts entry
// names, the quoting of the remote command, the ssh options that are always there, and the
// all-or-nothing logic of a fleet switch against scripted hosts (fault injection: a host that
// answers what the test says, including not at all).
#include "velin/rollback/fleet.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace velin::rollback {
namespace {

TEST(ParseFleetHostTest, SplitsDestinationAndConfig) {
  auto h = ParseFleetHost("web1", "/srv/shop/velin.toml");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->destination, "web1");
  EXPECT_EQ(h->config, "/srv/shop/velin.toml");
  h = ParseFleetHost("deploy@web2:/srv/other/velin.toml", "/srv/shop/velin.toml");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->name, "deploy@web2");
  EXPECT_EQ(h->destination, "deploy@web2");
  EXPECT_EQ(h->config, "/srv/other/velin.toml");
  h = ParseFleetHost("ssh://deploy@web3:2222", "/a/velin.toml");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->destination, "ssh://deploy@web3:2222");
  EXPECT_EQ(h->config, "/a/velin.toml");
  h = ParseFleetHost("ssh://deploy@web3:2222:/b/velin.toml", "/a/velin.toml");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->destination, "ssh://deploy@web3:2222");
  EXPECT_EQ(h->config, "/b/velin.toml");
}

TEST(ParseFleetHostTest, RefusesOptionsAndShellWords) {
  for (const char* bad : {"", "-oProxyCommand=sh", "web1 rm", "web1;reboot", "we'b", "a$(x)",
                          ":/srv/velin.toml", "web\n1"}) {
    auto h = ParseFleetHost(bad, "/v.toml");
    EXPECT_FALSE(h) << bad;
    if (!h) {
      EXPECT_EQ(h.error().code, ExitCode::kUsage);
    }
  }
}

TEST(ParseFleetHostTest, NamesHostsByEntryWhenADestinationRepeats) {
  std::vector<std::string> entries = {"web1:/a/velin.toml", "web1:/b/velin.toml", "web2"};
  std::vector<FleetHost> hosts;
  for (const auto& e : entries) hosts.push_back(*ParseFleetHost(e, "/v.toml"));
  UniqueHostNames(hosts, entries);
  EXPECT_EQ(hosts[0].name, "web1:/a/velin.toml");
  EXPECT_EQ(hosts[2].name, "web2");
  hosts.pop_back();
  hosts.erase(hosts.begin());
  hosts[0].name = "web1";
  UniqueHostNames(hosts, {"web1:/b/velin.toml"});
  EXPECT_EQ(hosts[0].name, "web1");
}

TEST(ShellQuoteTest, QuotesEveryWordForTheRemoteShell) {
  EXPECT_EQ(ShellQuote("v2"), "'v2'");
  EXPECT_EQ(ShellQuote("it's $(rm -rf /)"), "'it'\\''s $(rm -rf /)'");
  EXPECT_EQ(ShellQuote(""), "''");
}

TEST(SshRunnerTest, ChecksHostKeysAndNeverPromptsWhateverTheUserAdds) {
  FleetSettings s;
  s.velin = "sudo -n /usr/local/bin/velin";
  s.ssh_options = {"-o", "StrictHostKeyChecking=no", "-F", "/etc/fleet_ssh"};
  s.connect_timeout = Duration(7'000);
  SshRunner runner(s);
  FleetHost host{.name = "web1", .destination = "web1", .config = "/srv/my app/velin.toml"};
  auto argv = runner.Argv(host, {"rollback", "begin", "--reason", "fix 'x'"});
  auto at = [&](const std::string& word) {
    return std::find(argv.begin(), argv.end(), word) - argv.begin();
  };
  // ssh keeps the first value of an option: velin's come before the user's.
  EXPECT_LT(at("StrictHostKeyChecking=yes"), at("StrictHostKeyChecking=no"));
  EXPECT_LT(at("BatchMode=yes"), at("-F"));
  EXPECT_NE(at("ConnectTimeout=7"), static_cast<long>(argv.size()));
  ASSERT_GE(argv.size(), 3u);
  EXPECT_EQ(argv[argv.size() - 3], "--");
  EXPECT_EQ(argv[argv.size() - 2], "web1");
  EXPECT_EQ(argv.back(),
            "sudo -n /usr/local/bin/velin --config '/srv/my app/velin.toml' 'rollback' 'begin' "
            "'--reason' 'fix '\\''x'\\''' --json");
}

// Hosts that answer as scripted: "current" per host, and which switch fails how.
class ScriptedHosts : public HostRunner {
 public:
  std::map<std::string, std::string> current;      // host name -> version live
  std::map<std::string, int> switch_fails;         // host name -> exit code of to-version
  std::map<std::string, bool> silent;              // host name -> ssh fails (255)
  std::map<std::string, bool> open;                // host name -> has an open transaction
  std::map<std::string, bool> lost_before_commit;  // answers status, not commit
  std::vector<std::string> calls;

  HostReply Run(const FleetHost& host, const std::vector<std::string>& args) override {
    std::lock_guard lock(mu_);
    std::string line = host.name;
    for (const auto& a : args) line += " " + a;
    calls.push_back(line);
    HostReply r;
    if (silent[host.name]) {
      r.exit_code = 255;
      r.error = "ssh: connect to host " + host.name + " port 22: Connection refused";
      return r;
    }
    r.reached = true;
    if (args[1] == "status") {
      nlohmann::json txn = nullptr;
      if (open[host.name]) txn = {{"id", "t-" + host.name}, {"state", "open"}};
      r.document = {{"current", current[host.name]}, {"transaction", txn}};
    } else if (args[1] == "commit") {
      if (lost_before_commit[host.name]) {
        r.reached = false;
        r.exit_code = 255;
        r.error = "ssh: connect to host " + host.name + " port 22: Connection refused";
        return r;
      }
      open[host.name] = false;
      r.document = {{"id", "t-" + host.name}, {"outcome", "committed"}};
    } else if (args[1] == "to-version") {
      int fail = switch_fails[host.name];
      if (fail != 0 && args[2] == "v2") {
        r.exit_code = fail;
        r.error = "v2 failed its health check";
        r.document = {{"error", {{"message", r.error}, {"exit_code", fail}}}};
        if (fail == 1) current[host.name] = "v2";  // switched, and the switch back failed
        return r;
      }
      current[host.name] = args[2];
      r.document = {{"switched", true}, {"current", args[2]}};
    }
    return r;
  }

 private:
  std::mutex mu_;
};

FleetSettings ThreeHosts() {
  FleetSettings s;
  for (const char* n : {"web1", "web2", "web3"}) {
    s.hosts.push_back({.name = n, .destination = n, .config = "/v.toml"});
  }
  return s;
}

TEST(FleetTest, AHostFailingHealthPutsEachOtherHostBackOnItsOwnVersion) {
  ScriptedHosts hosts;
  hosts.current = {{"web1", "v1"}, {"web2", "v1"}, {"web3", "v0"}};
  hosts.switch_fails["web2"] = 5;
  NullReporter quiet;
  Fleet fleet(ThreeHosts(), hosts, quiet);
  FleetResult r = fleet.ToVersion("v2", "");
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ExitCode::kHealthFailed);
  EXPECT_NE(r.status.error().message.find("web2"), std::string::npos);
  EXPECT_EQ(hosts.current["web1"], "v1");
  EXPECT_EQ(hosts.current["web3"], "v0");
  EXPECT_TRUE(r.hosts[0].switched_back);
  EXPECT_FALSE(r.hosts[1].switched_back);  // its own velin switched it back
  EXPECT_EQ(r.hosts[2].current, "v0");
  // The switch back undoes each host's own switch (--undo): its live config comes back as it was
  // before, not the config stored with the version it returns to.
  std::vector<std::string> backs;
  for (const auto& call : hosts.calls) {
    if (call.find("rollback to-version") != std::string::npos &&
        call.find("rollback to-version v2") == std::string::npos) {
      backs.push_back(call);
    }
  }
  std::sort(backs.begin(), backs.end());
  ASSERT_EQ(backs.size(), 2u);
  EXPECT_EQ(backs[0],
            "web1 rollback to-version v1 --reason fleet to-version v2 failed on web2 --undo");
  EXPECT_EQ(backs[1],
            "web3 rollback to-version v0 --reason fleet to-version v2 failed on web2 --undo");
}

TEST(FleetTest, AHostLeftOnTheNewVersionMakesExitCodeOne) {
  ScriptedHosts hosts;
  hosts.current = {{"web1", "v1"}, {"web2", "v1"}, {"web3", "v1"}};
  hosts.switch_fails["web3"] = 1;  // its switch back failed: it runs v2
  NullReporter quiet;
  Fleet fleet(ThreeHosts(), hosts, quiet);
  FleetResult r = fleet.ToVersion("v2", "");
  ASSERT_FALSE(r.status);
  // The fleet saw web3 on v2 (status) and switched it back too.
  EXPECT_EQ(hosts.current["web3"], "v1");
  EXPECT_EQ(r.status.error().code, ExitCode::kHealthFailed);
  hosts.current = {{"web1", "v1"}, {"web2", "v1"}, {"web3", "v1"}};
  hosts.silent["web3"] = false;
  hosts.switch_fails["web3"] = 1;
  hosts.switch_fails["web1"] = 0;
  // web3 goes silent after its failed switch: its state is unknown.
  class SilentAfterSwitch : public HostRunner {
   public:
    explicit SilentAfterSwitch(ScriptedHosts& inner) : inner_(inner) {}
    HostReply Run(const FleetHost& host, const std::vector<std::string>& args) override {
      HostReply r = inner_.Run(host, args);
      if (host.name == "web3" && args[1] == "to-version") inner_.silent["web3"] = true;
      return r;
    }

   private:
    ScriptedHosts& inner_;
  } wrapped(hosts);
  Fleet fleet2(ThreeHosts(), wrapped, quiet);
  r = fleet2.ToVersion("v2", "");
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ExitCode::kFailed);
  EXPECT_NE(r.status.error().message.find("web3 could not be put back"), std::string::npos)
      << r.status.error().message;
  EXPECT_EQ(hosts.current["web1"], "v1");
}

// Keeps the lines an engine reports as Info.
class FleetInfoLines : public NullReporter {
 public:
  void Info(std::string_view message) override { lines.emplace_back(message); }
  std::vector<std::string> lines;
};

TEST(FleetTest, NoSwitchingBackIsAnnouncedWhenNoHostSwitched) {
  ScriptedHosts hosts;
  hosts.current = {{"web1", "v1"}, {"web2", "v1"}, {"web3", "v1"}};
  for (const char* n : {"web1", "web2", "web3"}) hosts.switch_fails[n] = 2;  // no version v2
  FleetInfoLines said;
  Fleet fleet(ThreeHosts(), hosts, said);
  FleetResult r = fleet.ToVersion("v2", "");
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ExitCode::kUsage);
  for (const auto& line : said.lines) {
    EXPECT_EQ(line.find("switching every host back"), std::string::npos) << line;
  }
  // One host switched: then it is said.
  hosts.switch_fails["web1"] = 0;
  Fleet fleet2(ThreeHosts(), hosts, said);
  r = fleet2.ToVersion("v2", "");
  ASSERT_FALSE(r.status);
  EXPECT_TRUE(std::any_of(said.lines.begin(), said.lines.end(), [](const std::string& line) {
    return line.find("switching every host back") != std::string::npos;
  }));
}

TEST(FleetTest, AnUnreachableHostStopsTheSwitchBeforeAnyHostChanges) {
  ScriptedHosts hosts;
  hosts.current = {{"web1", "v1"}, {"web2", "v1"}, {"web3", "v1"}};
  hosts.silent["web2"] = true;
  NullReporter quiet;
  Fleet fleet(ThreeHosts(), hosts, quiet);
  FleetResult r = fleet.ToVersion("v2", "");
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ExitCode::kFailed);
  for (const auto& call : hosts.calls) EXPECT_EQ(call.find("to-version"), std::string::npos);
  EXPECT_EQ(hosts.current["web1"], "v1");
}

TEST(FleetTest, CommitNamesTheHostsItReachedAndTheOnesItDidNot) {
  ScriptedHosts hosts;
  hosts.open = {{"web1", true}, {"web2", true}, {"web3", true}};
  hosts.lost_before_commit["web2"] = true;  // lost between the check and its commit
  NullReporter quiet;
  Fleet fleet(ThreeHosts(), hosts, quiet);
  FleetResult r = fleet.Commit();
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ExitCode::kFailed);
  EXPECT_NE(r.status.error().message.find("reached only web1, web3: web2 not committed"),
            std::string::npos)
      << r.status.error().message;
  EXPECT_TRUE(r.hosts[0].ok);
  EXPECT_FALSE(r.hosts[1].ok);
  EXPECT_FALSE(hosts.open["web1"]);
  EXPECT_TRUE(hosts.open["web2"]);  // rolls back at its deadline by itself
}

TEST(FleetTest, CommitCommitsNowhereWhenAHostHasNoOpenTransaction) {
  ScriptedHosts hosts;
  hosts.open = {{"web1", true}, {"web2", false}, {"web3", true}};
  NullReporter quiet;
  Fleet fleet(ThreeHosts(), hosts, quiet);
  FleetResult r = fleet.Commit();
  ASSERT_FALSE(r.status);
  EXPECT_NE(r.status.error().message.find("nothing committed, web2 cannot commit"),
            std::string::npos)
      << r.status.error().message;
  EXPECT_TRUE(hosts.open["web1"]);
  EXPECT_TRUE(hosts.open["web3"]);
  for (const auto& call : hosts.calls) EXPECT_EQ(call.find("commit"), std::string::npos) << call;
}

}  // namespace
}  // namespace velin::rollback
