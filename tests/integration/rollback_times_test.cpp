// `rollback history` and `rollback list` print times as every human listing does (docs/cli.md,
// "Times"): local time to the second; --json keeps RFC 3339 in UTC. A POSIX TZ string (no
// tzdata needed) puts local time 5:30 ahead of UTC, so a UTC time shown as it is would differ.
#include <gtest/gtest.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// "2026-11-25T14:30:05Z" shifted by `offset_seconds`, as "2026-11-25 20:00:05".
std::string Shifted(const std::string& utc, long offset_seconds) {
  std::tm tm{};
  EXPECT_NE(::strptime(utc.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr) << utc;
  std::time_t t = ::timegm(&tm) + offset_seconds;
  std::tm shown{};
  ::gmtime_r(&t, &shown);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &shown);
  return buf;
}

TEST(RollbackTimes, HistoryAndListShowLocalTimeAndJsonUtc) {
  ToyApp app(NoService());
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1 - First"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  const std::map<std::string, std::string> tz = {{"TZ", "VLN-05:30"}};

  RunResult r = app.Velin({"--json", "rollback", "history"}, tz);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto history = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(history.is_object() && !history["history"].empty()) << r.out;

  r = app.Velin({"rollback", "history"}, tz);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult in_utc = app.Velin({"rollback", "history"}, {{"TZ", "UTC0"}});
  ASSERT_EQ(in_utc.exit_code, 0) << in_utc.err;
  std::vector<std::string> lines = SplitLines(r.out), utc_lines = SplitLines(in_utc.out);
  ASSERT_EQ(lines.size(), history["history"].size()) << r.out;
  ASSERT_EQ(utc_lines.size(), lines.size()) << in_utc.out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string utc = history["history"][i]["time"];
    ASSERT_EQ(utc.size(), 20u) << utc;
    EXPECT_EQ(utc.back(), 'Z') << utc;
    EXPECT_EQ(lines[i].rfind(Shifted(utc, 5 * 3600 + 30 * 60) + "  ", 0), 0u) << r.out;
    EXPECT_EQ(utc_lines[i].rfind(Shifted(utc, 0) + "  ", 0), 0u) << in_utc.out;
  }

  r = app.Velin({"--json", "rollback", "list"}, tz);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto list = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(list.is_object() && list["versions"].size() == 1) << r.out;
  const std::string created = list["versions"][0]["created"];
  ASSERT_EQ(created.size(), 20u) << created;
  r = app.Velin({"rollback", "list"}, tz);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("  " + Shifted(created, 5 * 3600 + 30 * 60) + "  "), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find(created), std::string::npos) << r.out;
}

}  // namespace
}  // namespace velin::testing
