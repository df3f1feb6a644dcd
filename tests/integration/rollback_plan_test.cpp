// What a user sees and can ask before a switch (issue 14): `to-version previous`,
// `to-version NAME --dry-run` (a plan, and no change at all), and the failed mark a release
// keeps after its health check failed, until a switch to it passes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

ToyAppOptions PlanOpts(bool service, std::string extra = "") {
  ToyAppOptions o;
  o.with_service = service;
  o.extra_rollback = std::move(extra);
  return o;
}

// Everything below `root` that a change would touch: path, type, mode, size, mtime, content,
// link target.
std::string Fingerprint(const std::string& root) {
  std::ostringstream out;
  std::vector<fs::path> paths;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    paths.push_back(it->path());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    struct stat st {};
    ::lstat(p.c_str(), &st);
    out << p.string() << " " << std::oct << st.st_mode << std::dec << " " << st.st_size << " "
        << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;
    if (S_ISLNK(st.st_mode)) out << " -> " << fs::read_symlink(p).string();
    if (S_ISREG(st.st_mode)) out << " " << std::hash<std::string>()(ReadFileOrDie(p.string()));
    out << "\n";
  }
  return out.str();
}

TEST(RollbackPlanTest, ToVersionPrevious) {
  ToyApp app(PlanOpts(false));
  for (const char* v : {"v1", "v2", "v3"}) {
    app.Build(v);
    ASSERT_EQ(app.Velin({"rollback", "create-version", v}).exit_code, 0);
  }
  RunResult r = app.Velin({"rollback", "to-version", "previous"});
  EXPECT_EQ(r.exit_code, 2) << r.err;  // nothing is live yet
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  r = app.Velin({"rollback", "to-version", "previous"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no version was live before v1"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("Switching"), std::string::npos) << r.out;
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v3"}).exit_code, 0);
  r = app.Velin({"rollback", "to-version", "previous"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(app.Current(), "v1");
  EXPECT_NE(r.out.find("Rolled back to v1"), std::string::npos) << r.out;
  r = app.Velin({"rollback", "to-version", "previous"});  // like `cd -`
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(app.Current(), "v3");
  // "previous" is a word, never a version name.
  r = app.Velin({"rollback", "create-version", "previous"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'previous'"), std::string::npos) << r.err;
}

// The plan names every step and changes nothing: not the state, not the live files, not the
// running service.
TEST(RollbackPlanTest, DryRunPrintsThePlanAndChangesNothing) {
  ToyApp app(PlanOpts(true,
                      "migration_status = \"cat LEVEL\"\n"
                      "migrate_down = \"echo {level} > LEVEL\"\n"));
  app.Build("v1");
  WriteFile(app.app() + "/LEVEL", "1\n");
  ASSERT_EQ(app.Velin({"rollback", "create-snapshot", "snap1 - Before the upgrade"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "snap1"}).exit_code, 0);
  WriteFile(app.app() + "/.env", "MODE=staging\n");
  app.Build("v2");
  WriteFile(app.app() + "/LEVEL", "2\n");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v2"}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string pid = ReadFileOrDie(app.app() + "/server.pid");
  std::string before = Fingerprint(app.root());

  r = app.Velin({"rollback", "to-version", "snap1", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* part :
       {"Plan for v2 -> snap1 (dry run: nothing is changed)", "1. stop: if [ -f server.pid ]",
        "2. current: v2 -> snap1", "3. config files: 0 added, 1 changed, 0 removed", "~ .env",
        "4. migrate_down: to level 1 (live level 2)", "5. start: nohup ",
        "python3 current/bin/server.py", "6. health: curl -fsS"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << " missing in:\n" << r.out;
  }
  EXPECT_EQ(r.out.find("MODE="), std::string::npos) << "no contents: " << r.out;
  r = app.Velin({"--json", "rollback", "to-version", "snap1", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto plan = nlohmann::json::parse(r.out);
  EXPECT_EQ(plan["from"], "v2");
  EXPECT_EQ(plan["to"], "snap1");
  EXPECT_EQ(plan["steps"]["config"]["changed"], nlohmann::json::array({".env"}));
  EXPECT_TRUE(plan["steps"]["migrate_down"]["run"].get<bool>());
  EXPECT_EQ(plan["steps"]["migrate_down"]["level"], "1");
  r = app.Velin({"rollback", "to-version", "previous", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("current: v2 -> snap1"), std::string::npos) << r.out;
  EXPECT_EQ(app.Velin({"rollback", "to-version", "nope", "--dry-run"}).exit_code, 2);

  EXPECT_EQ(Fingerprint(app.root()), before);
  EXPECT_EQ(ReadFileOrDie(app.app() + "/server.pid"), pid);
  EXPECT_EQ(app.Health(), "version=v2");
}

// An expired transaction is named by the plan, not rolled back by it.
TEST(RollbackPlanTest, DryRunLeavesAnExpiredTransactionAlone) {
  ToyApp app(PlanOpts(false));
  for (const char* v : {"v1", "v2"}) {
    app.Build(v);
    ASSERT_EQ(app.Velin({"rollback", "create-version", v}).exit_code, 0);
  }
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  // The plan runs an hour later (VELIN_NOW), past the deadline of a watchdog killed long before
  // it: no sleep over a short deadline.
  ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", "10m"}).exit_code, 0);
  KillPid(WatchdogPid(app.state()));
  std::string before = Fingerprint(app.root());
  RunResult r =
      app.Velin({"rollback", "to-version", "v2", "--dry-run"}, ClockAhead(std::chrono::hours(1)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("would be rolled back"), std::string::npos) << r.err;
  EXPECT_EQ(Fingerprint(app.root()), before);
  EXPECT_EQ(app.Current(), "v1");  // not the transaction's base snapshot
}

// helm's revision status: a release whose health check failed is marked in list and history
// (human and JSON) until a later switch to it passes.
TEST(RollbackPlanTest, FailedReleaseIsMarkedUntilASwitchPasses) {
  ToyApp app(PlanOpts(true));
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  app.Build("bad", /*broken=*/true);
  ASSERT_EQ(app.Velin({"rollback", "create-version", "bad"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "bad"}).exit_code, 5);

  auto list = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
  ASSERT_EQ(list["versions"][0]["name"], "bad");
  EXPECT_TRUE(list["versions"][0]["failed"].get<bool>());
  EXPECT_FALSE(list["versions"][0]["failed_at"].get<std::string>().empty());
  EXPECT_FALSE(list["versions"][1]["failed"].get<bool>());
  RunResult r = app.Velin({"rollback", "list"});
  EXPECT_NE(r.out.find("[failed "), std::string::npos) << r.out;
  auto history = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}).out);
  EXPECT_TRUE(history["history"].back()["failed"].get<bool>());
  EXPECT_FALSE(history["history"].front()["failed"].get<bool>());
  r = app.Velin({"rollback", "history"});
  EXPECT_NE(r.out.find("v1 -> bad [failed]"), std::string::npos) << r.out;
  r = app.Velin({"rollback", "to-version", "bad", "--dry-run"});
  EXPECT_NE(r.err.find("bad failed its health check"), std::string::npos) << r.err;

  // What made it fail is gone (say, the database it needed is back): the next switch passes.
  // (The marker made a dangling link, not deleted: a release with a deleted file is refused.)
  const std::string marker = app.state() + "/releases/bad/bin/BROKEN";
  ASSERT_EQ(::unlink(marker.c_str()), 0);
  ASSERT_EQ(::symlink("/nonexistent-velin-marker", marker.c_str()), 0);
  r = app.Velin({"rollback", "to-version", "bad"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  list = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
  EXPECT_FALSE(list["versions"][0]["failed"].get<bool>());
  EXPECT_EQ(app.Velin({"rollback", "list"}).out.find("[failed"), std::string::npos);
  // The history keeps the failed switch as it was.
  history = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}).out);
  size_t n = history["history"].size();
  EXPECT_TRUE(history["history"][n - 2]["failed"].get<bool>());
  EXPECT_FALSE(history["history"][n - 1]["failed"].get<bool>());
}

}  // namespace
}  // namespace velin::testing
