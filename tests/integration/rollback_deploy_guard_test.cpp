// Deploys that must not step on each other or on the user's releases (issue 14, defects 4 and
// 5): a second `begin` never joins an open transaction, and transaction bases never push the
// user's named releases out of keep_versions.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <future>
#include <nlohmann/json.hpp>
#include <set>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

void SetKeepVersions(ToyApp& app, int keep) {
  std::string toml = ReadFileOrDie(app.config());
  toml.replace(toml.find("keep_versions = 10"), 18, "keep_versions = " + std::to_string(keep));
  WriteFile(app.config(), toml);
}

void CreateVersions(ToyApp& app, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    app.Build(name);
    RunResult r = app.Velin({"rollback", "create-version", name});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
  }
}

std::vector<std::string> Names(ToyApp& app, bool bases) {
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
  std::vector<std::string> out;
  for (const auto& v : doc["versions"]) {
    bool base = !v["base_of"].get<std::string>().empty();
    if (base == bases) out.push_back(v["name"]);
  }
  return out;
}

// A recorded UTC time as messages show it: local, to the second (docs/cli.md, "Times"); the
// child velin has this process's TZ.
std::string DeadGuardLocalTime(const std::string& iso) {
  std::tm tm{};
  EXPECT_NE(::strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr) << iso;
  const std::time_t t = ::timegm(&tm);
  std::tm local{};
  ::localtime_r(&t, &local);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &local);
  return buf;
}

nlohmann::json HistoryOf(ToyApp& app, const std::string& action) {
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}).out);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : doc["history"]) {
    if (h["action"] == action) out.push_back(h);
  }
  return out;
}

// Defect 4: two pipelines begin at the same moment. Exactly one opens the transaction; the
// other exits 3 naming it (id, reason, user@host, deadline) and changes nothing.
TEST(RollbackDeployGuardTest, ConcurrentBeginsExactlyOneWins) {
  ToyApp app(NoService());
  CreateVersions(app, {"v1"});
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  auto begin = [&app](const std::string& reason) {
    return app.Velin({"rollback", "begin", "--timeout", "1h", "--reason", reason});
  };
  auto a = std::async(std::launch::async, begin, "pipeline A");
  auto b = std::async(std::launch::async, begin, "pipeline B");
  RunResult ra = a.get();
  RunResult rb = b.get();
  ASSERT_TRUE((ra.exit_code == 0 && rb.exit_code == 3) || (ra.exit_code == 3 && rb.exit_code == 0))
      << "A: " << ra.exit_code << " " << ra.err << "\nB: " << rb.exit_code << " " << rb.err;
  const RunResult& loser = ra.exit_code == 3 ? ra : rb;
  std::string winner_reason = ra.exit_code == 0 ? "pipeline A" : "pipeline B";

  auto st = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}).out);
  const auto& txn = st["transaction"];
  EXPECT_EQ(txn["reason"], winner_reason);
  std::vector<std::string> parts = {
      txn["id"].get<std::string>(), "'" + winner_reason + "'",
      txn["user"].get<std::string>() + "@" + txn["host"].get<std::string>(),
      "open until " + DeadGuardLocalTime(txn["deadline"].get<std::string>()),
      "velin rollback extend"};
  for (const std::string& part : parts) {
    EXPECT_NE(loser.err.find(part), std::string::npos) << part << " missing in: " << loser.err;
  }

  // Sequentially too; `extend` still gives the open transaction more time.
  RunResult again = begin("pipeline C");
  EXPECT_EQ(again.exit_code, 3) << again.err;
  auto st2 = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}).out);
  EXPECT_EQ(st2["transaction"]["id"], txn["id"]);
  EXPECT_EQ(st2["transaction"]["deadline"], txn["deadline"]);  // the loser moved nothing
  RunResult ext = app.Velin({"rollback", "extend", "5m"});
  EXPECT_EQ(ext.exit_code, 0) << ext.err;
  auto st3 = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}).out);
  EXPECT_GT(st3["transaction"]["seconds_left"].get<int>(), 3600);
  ASSERT_EQ(app.Velin({"rollback", "commit"}).exit_code, 0);
  ASSERT_EQ(HistoryOf(app, "transaction").size(), 1u);
  EXPECT_EQ(HistoryOf(app, "transaction")[0]["reason"], winner_reason);
}

// Defect 5: five CI deploys (begin, switch, commit) with keep_versions = 3 keep all three of
// the user's releases. A base identical to an earlier one is reused, bases of ended
// transactions go by their own rule, and nothing named is pruned.
TEST(RollbackDeployGuardTest, FiveBeginCommitCyclesKeepNamedReleases) {
  ToyApp app(NoService());
  SetKeepVersions(app, 3);
  CreateVersions(app, {"v1", "v2", "v3"});
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  std::vector<std::string> bases;
  for (int i = 0; i < 5; ++i) {
    RunResult r = app.Velin(
        {"rollback", "begin", "--timeout", "1h", "--reason", "deploy " + std::to_string(i)});
    ASSERT_EQ(r.exit_code, 0) << i << ": " << r.err;
    EXPECT_EQ(r.err.find("pruned version"), std::string::npos) << i << ": " << r.err;
    auto st = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}).out);
    bases.push_back(st["transaction"]["base"]);
    r = app.Velin({"rollback", "to-version", i % 2 == 0 ? "v2" : "v3"});
    ASSERT_EQ(r.exit_code, 0) << i << ": " << r.err;
    ASSERT_EQ(app.Velin({"rollback", "commit"}).exit_code, 0) << i;
  }
  // Deploys 1 and 3 started from v2, 2 and 4 from v3 (with the same .env): one base each.
  EXPECT_EQ(bases[3], bases[1]);
  EXPECT_EQ(bases[4], bases[2]);
  EXPECT_EQ(std::set<std::string>(bases.begin(), bases.end()).size(), 3u);
  EXPECT_EQ(Names(app, false), (std::vector<std::string>{"v3", "v2", "v1"}));
  // Kept: the live version's base (v3's, from deploy 4) and no other ended one but the last.
  std::vector<std::string> kept = Names(app, true);
  EXPECT_LE(kept.size(), 2u);
  EXPECT_NE(std::find(kept.begin(), kept.end(), bases[4]), kept.end());
  EXPECT_EQ(std::find(kept.begin(), kept.end(), bases[0]), kept.end());  // v1's: pruned
  EXPECT_EQ(HistoryOf(app, "prune").size(), 0u);
  // The user's release is there to go back to.
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v1\n");
}

// Begin twice on an unchanged live version: the second base is the first one, not a copy.
TEST(RollbackDeployGuardTest, IdenticalBaseIsReused) {
  ToyApp app(NoService());
  CreateVersions(app, {"v1"});
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  std::string first;
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", "1h"}).exit_code, 0);
    auto st = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}).out);
    std::string base = st["transaction"]["base"];
    if (i == 0) first = base;
    EXPECT_EQ(base, first);
    ASSERT_EQ(app.Velin({"rollback", "commit"}).exit_code, 0);
  }
  EXPECT_EQ(Names(app, true), (std::vector<std::string>{first}));
}

// Pruning one of the user's releases is never silent: a warning, and a history entry.
TEST(RollbackDeployGuardTest, PruningANamedReleaseIsWarnedAndRecorded) {
  ToyApp app(NoService());
  SetKeepVersions(app, 2);
  CreateVersions(app, {"v1", "v2"});
  app.Build("v3");
  RunResult r = app.Velin({"rollback", "create-version", "v3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("pruned version v1"), std::string::npos) << r.err;
  auto pruned = HistoryOf(app, "prune");
  ASSERT_EQ(pruned.size(), 1u);
  EXPECT_EQ(pruned[0]["from"], "v1");
  EXPECT_EQ(pruned[0]["reason"], "keep_versions = 2");
  r = app.Velin({"rollback", "history"});
  EXPECT_NE(r.out.find("prune v1: pruned"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace velin::testing
