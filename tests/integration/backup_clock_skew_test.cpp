// A backup made while the machine's clock was years ahead (a dead RTC battery, a VM restored
// with a wrong clock) stayed "the newest" until that date: `backup status` said "0s ago, up to
// date" however long backups had stopped, and `restore latest` took it silently. Now status
// judges the age without such backups and names them; create and `restore latest` warn.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

// Human messages give times in local time (docs/cli.md, "Times"): Berlin, an hour after UTC
// in winter, shows that they are not UTC.
RunOptions InBerlin() {
  RunOptions in;
  in.env["TZ"] = "Europe/Berlin";
  return in;
}

RunOptions ClockAt(const std::string& utc) {
  RunOptions at = InBerlin();
  at.env["VELIN_NOW"] = utc;
  return at;
}

// Must show: with a backup dated 2099 in the repository, status judges the age on the others
// (exit 1 two days after the last real backup, where it said "up to date" before) and names
// the skewed one in a warning and in "future"; create and `restore latest` warn; a clock that is
// behind every backup is exit 1 of its own.
TEST(BackupClockSkewTest, ABackupDatedAfterNowNeitherHidesStaleBackupsNorPassesSilently) {
  BackupApp app;
  const std::string file = app.root() + "/storage/a.txt";
  WriteFile(file, "from the skewed clock\n");
  nlohmann::json skewed = app.Json({"backup", "create"}, 0, ClockAt("2099-01-01T00:00:00Z"));
  const std::string skewed_id = skewed.value("id", "");
  ASSERT_FALSE(skewed_id.empty());

  WriteFile(file, "newer, from the right clock\n");
  RunResult made = app.Run({"backup", "create", "--strategy", "incremental"}, InBerlin());
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_NE(made.err.find("warning: the newest backup of host '"), std::string::npos) << made.err;
  EXPECT_NE(made.err.find(skewed_id + ", is dated 2099-01-01 01:00:00, after this machine's "
                                      "clock"),
            std::string::npos)
      << made.err;

  nlohmann::json status = app.Json({"backup", "status"});
  EXPECT_EQ(status.value("ok", false), true) << status;
  EXPECT_NE(status["newest"].value("id", ""), skewed_id) << status;
  EXPECT_EQ(status["future"], nlohmann::json::array({skewed_id})) << status;
  RunResult human = app.Run({"backup", "status"}, InBerlin());
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.err.find("warning: 1 backup(s) are dated after this machine's clock (first: " +
                           skewed_id + " at 2099-01-01 01:00:00)"),
            std::string::npos)
      << human.err;

  // Two days without a backup: stale (monitor.max_age 26h), however far ahead the skewed one is.
  RunResult later = app.Run({"backup", "status"}, ClockAt(UtcFromNow(2 * 86400)));
  EXPECT_EQ(later.exit_code, 1) << later.out << later.err;
  EXPECT_NE(later.err.find("error: the newest backup "), std::string::npos) << later.err;
  EXPECT_NE(later.err.find("(monitor.max_age is 1d2h)"), std::string::npos) << later.err;

  // `latest` is still the newest by date (documented), and says what it took.
  RunResult restored =
      app.Run({"backup", "restore", "latest", "--target", app.path("out"), "--json"}, InBerlin());
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_NE(restored.err.find("warning: latest is backup " + skewed_id +
                              ", dated 2099-01-01 01:00:00, after this machine's clock"),
            std::string::npos)
      << restored.err;
  EXPECT_EQ(ReadFileOrDie(app.path("out") + "/storage/a.txt"), "from the skewed clock\n");

  // A clock behind every backup: nothing to judge the age by.
  RunResult behind = app.Run({"backup", "status"}, ClockAt("2020-01-01T00:00:00Z"));
  EXPECT_EQ(behind.exit_code, 1) << behind.out << behind.err;
  EXPECT_NE(behind.err.find("error: every backup of host '"), std::string::npos) << behind.err;
  EXPECT_NE(behind.err.find("is dated after this machine's clock (2020-01-01 01:00:00): is the "
                            "clock wrong?"),
            std::string::npos)
      << behind.err;
}

// Must show: a backup a few minutes ahead (another host's clock off by less than 15 minutes,
// kClockSkew) is no skew: no warning, and it is the newest, 0 seconds old in --json too.
TEST(BackupClockSkewTest, MinutesAheadAreNotASkew) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  nlohmann::json made = app.Json({"backup", "create"}, 0, ClockAt(UtcFromNow(5 * 60)));
  RunResult status = app.Run({"backup", "status", "--json"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(status.err, "");
  const nlohmann::json doc = nlohmann::json::parse(status.out);
  EXPECT_EQ(doc["newest"].value("id", ""), made.value("id", ""));
  // Its age is 0, as the human line's "0s ago"; it was -300.
  EXPECT_EQ(doc["newest"].value("age_seconds", int64_t{-1}), 0) << doc;
  RunResult human = app.Run({"backup", "status"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find(" (0s ago)"), std::string::npos) << human.out;
}

}  // namespace
}  // namespace velin::testing
