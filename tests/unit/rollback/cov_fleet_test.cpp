// The fleet when some hosts do and others do not (issue 16 §5): a begin opened on part of the
// fleet names where it is open and how to close it; a host whose switch back fails is named as
// not put back. Hosts answer as scripted (a HostRunner), as in fleet_test.cpp.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <mutex>

#include "fleet_replies.hpp"
#include "velin/core/reporter.hpp"
#include "velin/rollback/fleet.hpp"
#include "velin/rollback/registry.hpp"

namespace velin::rollback {
namespace {

class Scripted : public HostRunner {
 public:
  using Script = std::function<HostReply(const std::string& host, const std::vector<std::string>&)>;
  explicit Scripted(Script script) : script_(std::move(script)) {}
  HostReply Run(const FleetHost& host, const std::vector<std::string>& args) override {
    std::lock_guard lock(mu_);  // the fleet asks every host at once
    return script_(host.name, args);
  }

 private:
  Script script_;
  std::mutex mu_;
};

FleetSettings TwoHosts() {
  FleetSettings s;
  for (const char* n : {"web1", "web2"}) {
    s.hosts.push_back({.name = n, .destination = n, .config = "/v.toml"});
  }
  return s;
}

TEST(CovFleetTest, ABeginOpenOnPartOfTheFleetSaysWhereAndHowToClose) {
  Scripted hosts([](const std::string& host, const std::vector<std::string>&) {
    if (host == "web2") return Refusal(3, "another deploy is running: transaction t0");
    return Answer({{"id", "t1"}, {"deadline", "2026-11-30T17:00:00Z"}, {"base", "v1"}});
  });
  NullReporter quiet;
  FleetResult r = Fleet(TwoHosts(), hosts, quiet).Begin("10m", "deploy");
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ExitCode::kLocked);  // every failed host was locked
  EXPECT_EQ(r.status.error().message,
            "fleet begin failed on web2 (another deploy is running: transaction t0); open "
            "on web1: it rolls back at its deadline, or now with 'velin rollback --fleet "
            "rollback'");
  EXPECT_TRUE(r.hosts[0].ok);
  // In local time, as human output shows times (docs/cli.md, "Times").
  EXPECT_EQ(r.hosts[0].message,
            "transaction t1 open until " + LocalTimeOf("2026-11-30T17:00:00Z") + " (base v1)");
  EXPECT_EQ(r.hosts[0].message.find("T17:00:00Z"), std::string::npos);
  EXPECT_FALSE(r.hosts[1].ok);
}

TEST(CovFleetTest, AHostWhoseSwitchBackFailsIsNamedAsNotPutBack) {
  std::map<std::string, std::string> current = {{"web1", "v1"}, {"web2", "v1"}};
  Scripted hosts([&](const std::string& host, const std::vector<std::string>& args) {
    if (args[1] == "status") return Answer({{"current", current[host]}});
    const std::string& to = args[2];
    if (host == "web2" && to == "v2") return Refusal(1, "v2: rollback.start command failed");
    if (host == "web1" && to == "v1") {
      return Refusal(3, "another velin holds the rollback lock; try again later");
    }
    current[host] = to;
    return Answer({{"switched", true}, {"current", to}});
  });
  NullReporter quiet;
  FleetResult r = Fleet(TwoHosts(), hosts, quiet).ToVersion("v2", "");
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ExitCode::kFailed);
  EXPECT_NE(r.status.error().message.find("and web1 could not be put back"), std::string::npos)
      << r.status.error().message;
  EXPECT_EQ(r.hosts[0].message,
            "switched to v2; switching back to v1 failed: another velin holds the rollback lock; "
            "try again later");
  EXPECT_EQ(r.hosts[0].current, "v2");
  EXPECT_EQ(current["web1"], "v2");  // what the host runs, as reported
  EXPECT_EQ(current["web2"], "v1");
}

// A host's status is not trusted: a time left that is no integer in range (a float beyond
// int64_t, a negative, centuries) reads as none left or is clamped, never converted blindly.
TEST(CovFleetTest, AHostileTimeLeftIsReadAsNoneOrClamped) {
  const std::map<std::string, nlohmann::json> left = {{"web1", nlohmann::json::parse("1e300")},
                                                      {"web2", nlohmann::json::parse("-5")}};
  Scripted hosts([&](const std::string& host, const std::vector<std::string>&) {
    return Answer(
        {{"current", "v2"},
         {"transaction", {{"id", "t1"}, {"state", "open"}, {"seconds_left", left.at(host)}}}});
  });
  NullReporter quiet;
  FleetResult r = Fleet(TwoHosts(), hosts, quiet).Inspect();
  ASSERT_TRUE(r.status) << r.status.error().message;
  EXPECT_EQ(r.hosts[0].message, "current v2; transaction t1 open, 0s left");
  EXPECT_EQ(r.hosts[1].message, "current v2; transaction t1 open, 0s left");
  Scripted far([](const std::string&, const std::vector<std::string>&) {
    return Answer(
        {{"current", "v2"},
         {"transaction", {{"id", "t1"}, {"state", "open"}, {"seconds_left", INT64_MAX}}}});
  });
  r = Fleet(TwoHosts(), far, quiet).Inspect();
  ASSERT_TRUE(r.status) << r.status.error().message;
  EXPECT_EQ(r.hosts[0].message, "current v2; transaction t1 open, 36525d left");
}

}  // namespace
}  // namespace velin::rollback
