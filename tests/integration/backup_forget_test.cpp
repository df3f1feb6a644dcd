// velin backup forget on a real repository: 60 daily backups made with faked times
// (VELIN_NOW), then `forget --dry-run` lists exactly the right keepers for retention_days = 42
// and keep rules, and `forget` removes exactly the others while every kept backup restores.
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

constexpr const char* kRules =
    "retention_days = 42\nkeep_daily = 7\nkeep_weekly = 8\nkeep_monthly = 3\n"
    "prune_after_create = false\n";

RunOptions At(const std::string& utc) {
  RunOptions o;
  o.env = {{"VELIN_NOW", utc}, {"TZ", "Europe/Berlin"}, {"LANG", "C"}};
  o.unset_env = {"LC_ALL", "LC_MESSAGES"};
  return o;
}

// 02:00 in Berlin on 2026-08-31 + day, as a VELIN_NOW value (UTC).
std::string DailyAt0200(int day) {
  std::tm tm{};
  tm.tm_year = 2026 - 1900;
  tm.tm_mon = 7;
  tm.tm_mday = 31 + day;
  tm.tm_hour = 2;
  // Berlin is UTC+2 until 2026-10-25, then UTC+1.
  const std::time_t local_as_utc = ::timegm(&tm);
  const std::time_t utc = local_as_utc - (tm.tm_mon == 9 && tm.tm_mday >= 25 ? 3600 : 7200);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&utc));
  return buf;
}

class BackupForgetTest : public ::testing::Test {
 protected:
  void MakeSixtyDailyBackups() {
    for (int day = 0; day < 60; ++day) {
      WriteFile(app_.root() + "/storage/day.txt", "day " + std::to_string(day) + "\n");
      auto r = app_.Run({"backup", "create", "--strategy", "incremental"}, At(DailyAt0200(day)));
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  BackupApp app_{{"storage"}, kRules};
};

TEST_F(BackupForgetTest, DryRunListsTheKeepersThenForgetRemovesTheRest) {
  WriteFile(app_.root() + "/storage/static.bin", RandomData(1 << 20, 7));
  MakeSixtyDailyBackups();
  const RunOptions now = At("2026-10-29T11:00:00Z");  // 12:00 in Berlin

  RunResult dry = app_.Run({"backup", "forget", "--dry-run"}, now);
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("keep     20261029-0200-incr         2026-10-29 02:00:00  within 42 days, "
                         "daily, weekly, monthly, newest"),
            std::string::npos)
      << dry.out;
  EXPECT_NE(dry.out.find("keep     20260913-0200-incr         2026-09-13 02:00:00  weekly"),
            std::string::npos)
      << dry.out;
  EXPECT_NE(dry.out.find("keep     20260831-0200-incr         2026-08-31 02:00:00  monthly"),
            std::string::npos)
      << dry.out;
  EXPECT_NE(dry.out.find("forget   20260917-0200-incr         2026-09-17 02:00:00"),
            std::string::npos)
      << dry.out;
  EXPECT_NE(dry.out.find("16 of 60 backups would be forgotten, 44 kept (dry run)"),
            std::string::npos)
      << dry.out;

  nlohmann::json plan = app_.Json({"backup", "forget", "--dry-run"}, 0, now);
  std::set<std::string> expected_forgotten;
  for (int d = 1; d <= 17; ++d) {
    if (d == 13) continue;
    char id[32];
    std::snprintf(id, sizeof id, "202609%02d-0200-incr", d);
    expected_forgotten.insert(id);
  }
  std::set<std::string> forgotten;
  for (const auto& id : plan["forgotten"]) forgotten.insert(id.get<std::string>());
  EXPECT_EQ(forgotten, expected_forgotten);
  ASSERT_EQ(plan["backups"].size(), 60u);
  EXPECT_EQ(plan["backups"][0]["id"], "20261029-0200-incr");
  EXPECT_EQ(plan["backups"][0]["time"], "2026-10-29T01:00:00Z");  // 02:00 CET
  EXPECT_EQ(plan["backups"][0]["reasons"],
            nlohmann::json({"within 42 days", "daily", "weekly", "monthly", "newest"}));
  EXPECT_EQ(plan["dry_run"], true);
  EXPECT_EQ(app_.Json({"backup", "list"}, 0, now)["backups"].size(), 60u);  // dry run: nothing gone

  RunResult real = app_.Run({"backup", "forget"}, now);
  ASSERT_EQ(real.exit_code, 0) << real.err;
  EXPECT_NE(real.out.find("16 of 60 backups forgotten, 44 kept"), std::string::npos) << real.out;
  nlohmann::json list = app_.Json({"backup", "list"}, 0, now);
  ASSERT_EQ(list["backups"].size(), 44u);
  for (const auto& b : list["backups"]) {
    EXPECT_EQ(expected_forgotten.count(b["id"].get<std::string>()), 0u) << b["id"];
  }
  // The kept backups are whole: the oldest one restores its own day's file.
  RunResult restore = app_.Run(
      {"backup", "restore", "20260831-0200-incr", "--target", app_.path("out"), "--yes"}, now);
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(ReadFileOrDie(app_.path("out") + "/storage/day.txt"), "day 0\n");
  // Running it again forgets nothing more.
  RunResult again = app_.Run({"backup", "forget"}, now);
  EXPECT_NE(again.out.find("0 of 44 backups forgotten, 44 kept"), std::string::npos) << again.out;
}

TEST_F(BackupForgetTest, WithoutRulesNothingIsForgotten) {
  BackupApp bare({"storage"}, "prune_after_create = false\n");
  WriteFile(bare.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(bare.Run({"backup", "create"}, At("2020-01-01T00:00:00Z")).exit_code, 0);
  ASSERT_EQ(bare.Run({"backup", "create"}, At("2021-01-01T00:00:00Z")).exit_code, 0);
  RunResult r = bare.Run({"backup", "forget"}, At("2026-01-01T00:00:00Z"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no retention rule"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("0 of 2 backups forgotten, 2 kept"), std::string::npos) << r.out;
  RunOptions german = At("2026-01-01T00:00:00Z");
  german.env["LANG"] = "de_DE.UTF-8";
  RunResult de = bare.Run({"backup", "forget", "--dry-run"}, german);
  EXPECT_NE(de.out.find("0 von 2 Backups würden vergessen, 2 behalten (Probelauf)"),
            std::string::npos)
      << de.out;
}

}  // namespace
}  // namespace velin::testing

namespace velin::testing {
namespace {

std::set<std::string> BackupIds(const BackupApp& app) {
  std::set<std::string> ids;
  const nlohmann::json list = app.Json({"backup", "list"}, 0, At("2026-11-25T12:00:00Z"));
  for (const auto& b : list.value("backups", nlohmann::json::array())) {
    ids.insert(b.value("id", ""));
  }
  return ids;
}

// keep_last = 1 and a backup dated 2030 (made while a clock was wrong): each new backup used to
// be forgotten and pruned right after create wrote it, with exit 0.
TEST(BackupForgetFutureTest, ABackupDatedInTheFutureTakesNoKeepLastSlotAfterCreate) {
  BackupApp app({"storage"}, "keep_last = 1\nprune_after_create = true\n");
  WriteFile(app.root() + "/storage/a.txt", "made while the clock was wrong\n");
  nlohmann::json future = app.Json({"backup", "create"}, 0, At("2030-01-01T10:00:00Z"));
  WriteFile(app.root() + "/storage/a.txt", "today\n");
  nlohmann::json first = app.Json({"backup", "create"}, 0, At("2026-11-24T10:00:00Z"));
  WriteFile(app.root() + "/storage/a.txt", "tomorrow\n");
  nlohmann::json second = app.Json({"backup", "create"}, 0, At("2026-11-25T10:00:00Z"));
  const std::string future_id = future.value("id", "");
  const std::string first_id = first.value("id", "");
  const std::string second_id = second.value("id", "");
  ASSERT_FALSE(future_id.empty() || first_id.empty() || second_id.empty());
  // The real backups count among themselves: the newest stays, the one before goes; the one
  // dated 2030 is kept, never deleted silently.
  EXPECT_EQ(BackupIds(app), (std::set<std::string>{future_id, second_id}));
  const std::string out = app.path("out");
  RunResult restore =
      app.Run({"backup", "restore", second_id, "--target", out}, At("2026-11-25T12:00:00Z"));
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(ReadFileOrDie(out + "/storage/a.txt"), "tomorrow\n");

  nlohmann::json plan = app.Json({"backup", "forget", "--dry-run"}, 0, At("2026-11-25T12:00:00Z"));
  bool future_reason = false;
  for (const auto& b : plan.value("backups", nlohmann::json::array())) {
    if (b.value("id", "") != future_id) continue;
    EXPECT_TRUE(b.value("keep", false)) << plan;
    for (const auto& r : b.value("reasons", nlohmann::json::array())) {
      future_reason = future_reason || r == "dated in the future";
    }
  }
  EXPECT_TRUE(future_reason) << plan;
}

}  // namespace
}  // namespace velin::testing

namespace velin::testing {
namespace {

constexpr const char* kForgetIncompleteConfig =
    "keep_last = 2\nprune_after_create = false\n"
    "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n";

// Three backups with the database (`good`, oldest first), then two that --continue-on-error
// committed without it (`failed`): the database file was replaced by garbage.
void ForgetIncompleteMakeBackups(BackupApp& app, std::vector<std::string>& good,
                                 std::vector<std::string>& failed) {
  std::filesystem::create_directories(app.root() + "/var");
  const std::string db = app.root() + "/var/app.db";
  RunProgram({"sqlite3", db, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('good');"});
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  for (const char* at : {"2026-11-01T01:00:00Z", "2026-11-02T01:00:00Z", "2026-11-03T01:00:00Z"}) {
    nlohmann::json made = app.Json({"backup", "create"}, 0, At(at));
    good.push_back(made.value("id", ""));
  }
  std::filesystem::rename(db, db + ".saved");
  WriteFile(db, "this is not an SQLite database, not at all, not even close\n");
  for (const char* at : {"2026-11-04T01:00:00Z", "2026-11-05T01:00:00Z"}) {
    RunResult r = app.Run({"backup", "create", "--continue-on-error", "--json"}, At(at));
    ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
    failed.push_back(nlohmann::json::parse(r.out, nullptr, false).value("id", ""));
  }
  ASSERT_EQ(good.size(), 3u);
  ASSERT_EQ(failed.size(), 2u);
  ASSERT_FALSE(good[0].empty() || good[1].empty() || good[2].empty() || failed[0].empty() ||
               failed[1].empty());
}

// keep_last = 2, and the database broke: two creates with --continue-on-error committed the
// files without it. A scheduled `backup forget` then forgot every backup that held the database
// (the two failed ones took both places), with exit 0; the next prune deleted the last good dump.
// The rules now also count the complete backups alone, which keeps the two newest good ones.
TEST(BackupForgetIncompleteTest, BackupsWithoutTheDatabaseDoNotForgetTheLastGoodDumps) {
  BackupApp app({"db", "storage"}, kForgetIncompleteConfig);
  std::vector<std::string> good;
  std::vector<std::string> failed;
  ASSERT_NO_FATAL_FAILURE(ForgetIncompleteMakeBackups(app, good, failed));

  const RunOptions now = At("2026-11-05T12:00:00Z");
  RunResult dry = app.Run({"backup", "forget", "--dry-run"}, now);
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("keep     " + good[2]), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("complete backup"), std::string::npos) << dry.out;
  RunResult real = app.Run({"backup", "forget"}, now);
  ASSERT_EQ(real.exit_code, 0) << real.err;
  EXPECT_EQ(BackupIds(app), (std::set<std::string>{failed[1], failed[0], good[2], good[1]}));
  // The newest good dump still restores the database.
  const std::string out = app.path("out");
  std::filesystem::create_directories(out);
  RunResult restore = app.Run({"backup", "restore", good[2], "--target", out, "--only", "db",
                               "--database-url", "sqlite:" + out + "/restored.db", "--yes"},
                              now);
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_EQ(RunProgram({"sqlite3", out + "/restored.db", "SELECT v FROM t;"}).out, "good\n");
}

// The listing showed "complete backup" as a reason but not which backups lack their database;
// --json had no field for it, and its "rules" left out keep_transaction_backups.
TEST(BackupForgetIncompleteTest, ListingMarksTheBackupsWithoutTheDatabase) {
  BackupApp app({"db", "storage"}, kForgetIncompleteConfig);
  std::vector<std::string> good;
  std::vector<std::string> failed;
  ASSERT_NO_FATAL_FAILURE(ForgetIncompleteMakeBackups(app, good, failed));
  const RunOptions now = At("2026-11-05T12:00:00Z");

  RunResult dry = app.Run({"backup", "forget", "--dry-run"}, now);
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  std::map<std::string, std::string> lines;  // id -> its line in the listing
  std::istringstream in(dry.out);
  for (std::string line; std::getline(in, line);) {
    for (const auto& id : good) {
      if (line.find(id) != std::string::npos) lines[id] = line;
    }
    for (const auto& id : failed) {
      if (line.find(id) != std::string::npos) lines[id] = line;
    }
  }
  ASSERT_EQ(lines.size(), 5u) << dry.out;
  for (const auto& id : failed) {
    EXPECT_NE(lines[id].find("(without the database)"), std::string::npos) << dry.out;
  }
  for (const auto& id : good) {
    EXPECT_EQ(lines[id].find("without the database"), std::string::npos) << dry.out;
  }

  nlohmann::json plan = app.Json({"backup", "forget", "--dry-run"}, 0, now);
  const nlohmann::json backups = plan.value("backups", nlohmann::json::array());
  ASSERT_EQ(backups.size(), 5u) << plan;
  for (const auto& b : backups) {
    const std::string id = b.value("id", "");
    const bool is_failed = id == failed[0] || id == failed[1];
    ASSERT_TRUE(b.contains("complete") && b["complete"].is_boolean()) << b;
    EXPECT_EQ(b["complete"].get<bool>(), !is_failed) << b;
  }
  const nlohmann::json rules = plan.value("rules", nlohmann::json::object());
  EXPECT_EQ(rules.value("keep_last", -1), 2) << plan;
  ASSERT_TRUE(rules.contains("keep_transaction_backups")) << plan;
  EXPECT_TRUE(rules["keep_transaction_backups"].is_number_integer()) << plan;
}

}  // namespace
}  // namespace velin::testing
