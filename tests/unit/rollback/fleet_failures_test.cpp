// The fleet's failure reports against scripted hosts: a dry run, a status, a rollback and a
// switch that some hosts refuse or do not answer. Each names the hosts concerned, keeps the exit
// code a host gave when one did, and changes nothing it should not.
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "fleet_replies.hpp"
#include "velin/rollback/fleet.hpp"

namespace velin::rollback {
namespace {

// Answers by host and subcommand ("status", "to-version", "rollback"), or subcommand and its
// first argument ("to-version v1") when scripted so; a host in `silent` is not reached (ssh's
// 255); a subcommand without a script answers exit 0 with an empty document.
class Hosts : public HostRunner {
 public:
  std::map<std::string, std::map<std::string, HostReply>> script;
  std::map<std::string, bool> silent;
  std::vector<std::string> calls;

  HostReply Run(const FleetHost& host, const std::vector<std::string>& args) override {
    std::lock_guard lock(mu_);
    std::string line = host.name;
    for (const auto& a : args) line += " " + a;
    calls.push_back(line);
    if (silent[host.name]) {
      HostReply r;
      r.exit_code = 255;
      r.error = "ssh: connect to host " + host.name + " port 22: Connection refused";
      return r;
    }
    auto& mine = script[host.name];
    if (args.size() > 2) {
      if (auto it = mine.find(args[1] + " " + args[2]); it != mine.end()) return it->second;
    }
    if (auto it = mine.find(args[1]); it != mine.end()) return it->second;
    HostReply r;
    r.reached = true;
    r.document = nlohmann::json::object();
    return r;
  }

 private:
  std::mutex mu_;
};

FleetSettings WebHosts() {
  FleetSettings s;
  for (const char* n : {"web1", "web2", "web3"}) {
    s.hosts.push_back({.name = n, .destination = n, .config = "/v.toml"});
  }
  return s;
}

void ExpectHas(const Status& s, const std::string& part) {
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find(part), std::string::npos) << s.error().message;
}

TEST(FleetFailuresTest, ADryRunNamesTheHostsThatCannotSwitchAndKeepsTheirExitCode) {
  Hosts hosts;
  for (const char* n : {"web1", "web2", "web3"}) {
    hosts.script[n]["to-version"] = Answer({{"from", "v1"}, {"to", "v2"}});
  }
  hosts.script["web2"]["to-version"] = Refusal(2, "no version 'v2' (see velin rollback list)");
  hosts.silent["web3"] = true;
  NullReporter quiet;
  Fleet fleet(WebHosts(), hosts, quiet);
  FleetResult r = fleet.PlanToVersion("v2");
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ExitCode::kUsage);  // web2's, the host that answered
  ExpectHas(r.status, "fleet to-version v2 --dry-run: web2, web3 cannot switch");
  ExpectHas(r.status, "no version 'v2'");
  EXPECT_EQ(r.hosts[0].message, "v1 -> v2 (dry run)");
  EXPECT_TRUE(r.hosts[0].ok);
  for (const auto& call : hosts.calls) EXPECT_NE(call.find("--dry-run"), std::string::npos);

  // Only silent hosts: no exit code of theirs to keep.
  hosts.script["web2"]["to-version"] = Answer({{"from", "v1"}, {"to", "v2"}});
  FleetResult silent = fleet.PlanToVersion("v2");
  ASSERT_FALSE(silent.status);
  EXPECT_EQ(silent.status.error().code, ExitCode::kFailed);
  ExpectHas(silent.status, "web3 cannot switch");
}

TEST(FleetFailuresTest, StatusNamesTheHostsThatDidNotAnswer) {
  Hosts hosts;
  for (const char* n : {"web1", "web2", "web3"}) {
    hosts.script[n]["status"] = Answer({{"current", "v1"}, {"transaction", nullptr}});
  }
  hosts.silent["web2"] = true;
  NullReporter quiet;
  Fleet fleet(WebHosts(), hosts, quiet);
  FleetResult r = fleet.Inspect();
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ExitCode::kFailed);
  ExpectHas(r.status, "fleet status: web2 did not answer (");
  ExpectHas(r.status, "Connection refused");
  EXPECT_EQ(r.hosts[0].current, "v1");
  EXPECT_EQ(r.hosts[2].current, "v1");
  EXPECT_FALSE(r.hosts[1].ok);
}

TEST(FleetFailuresTest, ARollbackSaysWhichHostsFailedAndThatSilentOnesRollBackByThemselves) {
  Hosts hosts;
  hosts.script["web1"]["rollback"] =
      Answer({{"id", "t1"}, {"outcome", "rolled back"}, {"base", "v1"}});
  hosts.script["web2"]["rollback"] = Refusal(1, "no open transaction");
  hosts.silent["web3"] = true;
  NullReporter quiet;
  Fleet fleet(WebHosts(), hosts, quiet);
  FleetResult r = fleet.RollbackNow("bad deploy");
  ASSERT_FALSE(r.status);
  ExpectHas(r.status, "fleet rollback failed on web2, web3 (");
  ExpectHas(r.status, "a host not reached rolls back at its deadline");
  EXPECT_EQ(r.hosts[0].message, "transaction t1 rolled back (back to v1)");
  for (const auto& call : hosts.calls)
    EXPECT_NE(call.find("--reason bad deploy"), std::string::npos);

  // Every host reached: nothing about deadlines.
  hosts.silent["web3"] = false;
  FleetResult reached = fleet.RollbackNow("");
  ASSERT_FALSE(reached.status);
  ExpectHas(reached.status, "fleet rollback failed on web2 (no open transaction)");
  EXPECT_EQ(reached.status.error().message.find("deadline"), std::string::npos);
}

TEST(FleetFailuresTest, ASwitchNoHostTookReturnsTheHostsExitCodeAndSwitchesNothingBack) {
  Hosts hosts;
  for (const char* n : {"web1", "web2", "web3"}) {
    hosts.script[n]["status"] = Answer({{"current", "v1"}, {"transaction", nullptr}});
    hosts.script[n]["to-version"] = Refusal(2, "no version 'v9' (see velin rollback list)");
  }
  NullReporter quiet;
  Fleet fleet(WebHosts(), hosts, quiet);
  FleetResult r = fleet.ToVersion("v9", "");
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ExitCode::kUsage);
  ExpectHas(r.status, "fleet to-version v9: no host switched: web1, web2, web3 failed (");
  for (const auto& h : r.hosts) {
    EXPECT_FALSE(h.switched_back) << h.host;
    EXPECT_EQ(h.current, "v1") << h.host;
  }
  size_t back = 0;  // no host ran "to-version v1": none had left v1
  for (const auto& call : hosts.calls) back += call.find("to-version v1") != std::string::npos;
  EXPECT_EQ(back, 0u);
}

TEST(FleetFailuresTest, AHostThatFailedWithoutAVersionLiveBeforeCannotBePutBack) {
  Hosts hosts;
  hosts.script["web1"]["status"] = Answer({{"current", "v1"}, {"transaction", nullptr}});
  hosts.script["web2"]["status"] = Answer({{"current", "v1"}, {"transaction", nullptr}});
  // web3 ran no version yet; its switch failed in a way that left it on v2.
  hosts.script["web3"]["status"] = Answer({{"current", ""}, {"transaction", nullptr}});
  hosts.script["web3"]["to-version"] = Refusal(1, "start command failed");
  for (const char* n : {"web1", "web2"}) {
    hosts.script[n]["to-version v2"] = Answer({{"switched", true}, {"current", "v2"}});
    hosts.script[n]["to-version v1"] = Answer({{"switched", true}, {"current", "v1"}});
  }
  NullReporter quiet;
  // After its failed switch, web3's status says v2.
  class AfterSwitch : public HostRunner {
   public:
    explicit AfterSwitch(Hosts& inner) : inner_(inner) {}
    HostReply Run(const FleetHost& host, const std::vector<std::string>& args) override {
      HostReply r = inner_.Run(host, args);
      if (host.name == "web3" && args[1] == "to-version") {
        inner_.script["web3"]["status"] = Answer({{"current", "v2"}, {"transaction", nullptr}});
      }
      return r;
    }

   private:
    Hosts& inner_;
  } runner(hosts);
  Fleet watched(WebHosts(), runner, quiet);
  FleetResult r = watched.ToVersion("v2", "");
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ExitCode::kFailed);
  ExpectHas(r.status, "web3 could not be put back");
  EXPECT_EQ(r.hosts[2].message, "switched to v2; nothing to switch back to (no version was live)");
  EXPECT_TRUE(r.hosts[0].switched_back);
}

}  // namespace
}  // namespace velin::rollback
