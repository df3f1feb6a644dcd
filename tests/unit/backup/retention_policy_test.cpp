// Table tests of the retention policy: given snapshot times, rules and "now", exactly the right
// snapshots are kept, for the right reasons. Times are local to Europe/Berlin (set for the
// test process and restored afterwards), so month ends, leap days, ISO weeks across a year end
// and both DST changes are exercised with real time-zone rules.
#include "velin/backup/retention_policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace velin::backup {
namespace {

using Clock = std::chrono::system_clock;

// "2026-03-29 01:30:00" local time, or with a trailing 'Z' UTC.
Clock::time_point T(const std::string& text) {
  std::tm tm{};
  int sec = 0;
  const int n = std::sscanf(text.c_str(), "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &sec);
  EXPECT_GE(n, 5) << text;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_sec = sec;
  tm.tm_isdst = -1;
  const std::time_t t = text.back() == 'Z' ? ::timegm(&tm) : std::mktime(&tm);
  return Clock::from_time_t(t);
}

// Sets TZ for the test and restores the previous value (or its absence) afterwards.
class RetentionPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = std::getenv("TZ");
    if (old != nullptr) old_tz_ = old;
    ::setenv("TZ", "Europe/Berlin", 1);
    ::tzset();
  }
  void TearDown() override {
    if (old_tz_) {
      ::setenv("TZ", old_tz_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  std::optional<std::string> old_tz_;
};

// "id=daily+newest" for a kept snapshot, "id=forget" for one that goes.
std::vector<std::string> Summarize(const std::vector<RetentionDecision>& decisions,
                                   const RetentionRules& rules) {
  std::vector<std::string> out;
  for (const auto& d : decisions) {
    std::string reasons;
    for (KeepReason r : d.reasons) {
      if (!reasons.empty()) reasons += "+";
      reasons += r == KeepReason::kWithinDays ? "within" : KeepReasonName(r, rules);
    }
    EXPECT_EQ(d.keep, !d.reasons.empty()) << d.id;
    out.push_back(d.id + "=" + (d.keep ? reasons : "forget"));
  }
  return out;
}

struct Case {
  const char* name;
  std::vector<std::pair<const char*, const char*>> snapshots;  // id, time
  RetentionRules rules;
  const char* now;
  std::vector<std::string> expected;  // newest first
};

RetentionRules Rules(int days, int last, int daily, int weekly, int monthly, int yearly) {
  return RetentionRules{days, last, daily, weekly, monthly, yearly};
}

std::vector<Case> Cases() {
  return {
      {"EmptyInputGivesNothing", {}, Rules(42, 3, 7, 4, 12, 2), "2026-11-25 12:00", {}},
      {"NoRuleKeepsEverything",
       {{"a", "2020-01-01 10:00"}, {"b", "2026-11-01 10:00"}},
       Rules(0, 0, 0, 0, 0, 0),
       "2026-11-25 12:00",
       {"b=no retention rule", "a=no retention rule"}},
      {"KeepLastKeepsTheNewestN",
       {{"s1", "2026-11-01 10:00"},
        {"s2", "2026-11-02 10:00"},
        {"s3", "2026-11-03 10:00"},
        {"s4", "2026-11-04 10:00"}},
       Rules(0, 2, 0, 0, 0, 0),
       "2026-11-25 12:00",
       {"s4=last+newest", "s3=last", "s2=forget", "s1=forget"}},
      {"ABackupDatedInTheFutureIsKeptButTakesNoSlotOfTheOthers",
       {{"wrong-clock", "2030-01-01 10:00"},
        {"s1", "2026-11-24 10:00"},
        {"s2", "2026-11-25 11:50"}},
       Rules(0, 1, 0, 0, 0, 0),
       "2026-11-25 12:00",
       {"wrong-clock=dated in the future", "s2=last+newest", "s1=forget"}},
      {"WithinTheClockSkewABackupCountsAsNewest",
       {{"skewed", "2026-11-25 12:14"}, {"s1", "2026-11-25 11:00"}},
       Rules(0, 1, 1, 0, 0, 0),
       "2026-11-25 12:00",
       {"skewed=last+daily+newest", "s1=forget"}},
      {"NewestStaysWhenEveryRuleHasLetItGo",
       {{"old", "2026-01-01 10:00"}, {"older", "2025-12-01 10:00"}},
       Rules(7, 0, 0, 0, 0, 0),
       "2026-11-25 12:00",
       {"old=newest", "older=forget"}},
      {"DailyTakesTheNewestOfEachDayAndSkipsEmptyDays",
       {{"d1-morning", "2026-11-20 08:00"},
        {"d1-evening", "2026-11-20 20:00"},
        {"d3-noon", "2026-11-22 12:00"},
        {"d5-early", "2026-11-24 06:00"},
        {"d5-late", "2026-11-24 23:59:59"},
        {"d0", "2026-11-19 12:00"}},
       Rules(0, 0, 3, 0, 0, 0),
       "2026-11-25 12:00",
       {"d5-late=daily+newest", "d5-early=forget", "d3-noon=daily", "d1-evening=daily",
        "d1-morning=forget", "d0=forget"}},
      {"RetentionDaysBoundaryIsExclusive",
       {{"exact", "2026-11-18 12:00:00"},
        {"just-younger", "2026-11-18 12:00:01"},
        {"new", "2026-11-25 11:00"}},
       Rules(7, 0, 0, 0, 0, 0),
       "2026-11-25 12:00",
       {"new=within+newest", "just-younger=within", "exact=forget"}},
      // 14 calendar days before 2026-04-10 12:00 CEST is 2026-03-27 12:00 CET, which is 14 x 24 h
      // plus one hour earlier: the spring DST change does not shift the cut by an hour.
      {"RetentionDaysCountsCalendarDaysAcrossSpringDst",
       {{"before-cut", "2026-03-27 11:30"},
        {"after-cut", "2026-03-27 12:30"},
        {"new", "2026-04-10 11:00"}},
       Rules(14, 0, 0, 0, 0, 0),
       "2026-04-10 12:00",
       {"new=within+newest", "after-cut=within", "before-cut=forget"}},
      {"RetentionDaysCountsCalendarDaysAcrossAutumnDst",
       {{"before-cut", "2026-10-20 11:59"},
        {"after-cut", "2026-10-20 12:01"},
        {"new", "2026-10-27 11:00"}},
       Rules(7, 0, 0, 0, 0, 0),
       "2026-10-27 12:00",
       {"new=within+newest", "after-cut=within", "before-cut=forget"}},
      // 2026-10-25 has 25 hours in Berlin; 02:30 happens twice (00:30Z in CEST, 01:30Z in CET).
      {"AutumnDstDayIsOneDay",
       {{"d25-first-0230", "2026-10-25 00:30Z"},
        {"d25-second-0230", "2026-10-25 01:30Z"},
        {"d25-late", "2026-10-25 22:30Z"},
        {"d24", "2026-10-24 21:59Z"},
        {"d26", "2026-10-25 23:00Z"}},
       Rules(0, 0, 3, 0, 0, 0),
       "2026-10-27 12:00",
       {"d26=daily+newest", "d25-late=daily", "d25-second-0230=forget", "d25-first-0230=forget",
        "d24=daily"}},
      // 2026-03-29 has 23 hours; 01:59 CET and 03:00 CEST are a minute apart but the same day.
      {"SpringDstDayIsOneDay",
       {{"d29-before", "2026-03-29 00:59Z"},
        {"d29-after", "2026-03-29 01:00Z"},
        {"d28", "2026-03-28 22:59Z"},
        {"d30", "2026-03-29 22:00Z"}},
       Rules(0, 0, 2, 0, 0, 0),
       "2026-04-01 12:00",
       {"d30=daily+newest", "d29-after=daily", "d29-before=forget", "d28=forget"}},
      // 2026-01-31 23:30 UTC is already February in Berlin: periods are local.
      {"MonthEndsAreLocal",
       {{"jan-31-local", "2026-01-31 22:30Z"},
        {"feb-1-local", "2026-01-31 23:30Z"},
        {"feb-28", "2026-02-28 23:59"},
        {"mar-1", "2026-03-01 00:00"},
        {"dec-31", "2025-12-31 23:59:59"},
        {"jan-1", "2026-01-01 00:00:00"}},
       Rules(0, 0, 0, 0, 3, 0),
       "2026-03-05 12:00",
       {"mar-1=monthly+newest", "feb-28=monthly", "feb-1-local=forget", "jan-31-local=monthly",
        "jan-1=forget", "dec-31=forget"}},
      {"LeapDayIsItsOwnDay",
       {{"feb-28", "2024-02-28 12:00"},
        {"feb-29", "2024-02-29 12:00"},
        {"mar-1", "2024-03-01 12:00"}},
       Rules(0, 0, 3, 0, 0, 0),
       "2024-03-02 12:00",
       {"mar-1=daily+newest", "feb-29=daily", "feb-28=daily"}},
      // 365 days before 2025-03-01 is 2024-03-01: the leap day is older than that.
      {"RetentionDaysAcrossALeapYear",
       {{"feb-29", "2024-02-29 12:00"},
        {"mar-1-early", "2024-03-01 11:00"},
        {"mar-1-late", "2024-03-01 13:00"},
        {"new", "2025-03-01 10:00"}},
       Rules(365, 0, 0, 0, 0, 0),
       "2025-03-01 12:00",
       {"new=within+newest", "mar-1-late=within", "mar-1-early=forget", "feb-29=forget"}},
      // 2026-12-28 (Mon) to 2027-01-03 (Sun) is ISO week 2026-W53; 2027-01-04 starts 2027-W01.
      {"IsoWeeksSpanTheYearEnd",
       {{"w53-mon", "2026-12-28 10:00"},
        {"w53-thu", "2026-12-31 10:00"},
        {"w53-fri", "2027-01-01 10:00"},
        {"w01-mon", "2027-01-04 10:00"},
        {"w52-sun", "2026-12-27 10:00"}},
       Rules(0, 0, 0, 2, 0, 0),
       "2027-01-05 12:00",
       {"w01-mon=weekly+newest", "w53-fri=weekly", "w53-thu=forget", "w53-mon=forget",
        "w52-sun=forget"}},
      {"YearlyUsesLocalCalendarYears",
       {{"y2025-last", "2025-12-31 22:59Z"},
        {"y2026-first", "2025-12-31 23:00Z"},
        {"y2026-mid", "2026-06-01 12:00"},
        {"y2024", "2024-05-05 12:00"},
        {"y2023", "2023-05-05 12:00"}},
       Rules(0, 0, 0, 0, 0, 3),
       "2026-07-01 12:00",
       {"y2026-mid=yearly+newest", "y2026-first=forget", "y2025-last=yearly", "y2024=yearly",
        "y2023=forget"}},
      {"RulesCombineAndListEveryReason",
       {{"a", "2026-11-25 09:00"},
        {"b", "2026-11-24 09:00"},
        {"c", "2026-11-16 09:00"},
        {"d", "2026-10-31 09:00"},
        {"e", "2026-10-30 09:00"}},
       Rules(3, 1, 2, 2, 2, 1),
       "2026-11-25 12:00",
       {"a=within+last+daily+weekly+monthly+yearly+newest", "b=within+daily", "c=weekly",
        "d=monthly", "e=forget"}},
      {"EqualTimesAreOrderedByIdGreaterFirst",
       {{"20261125-0200-full", "2026-11-25 02:00"},
        {"20261125-0200-full-2", "2026-11-25 02:00"},
        {"20261124-0200-full", "2026-11-24 02:00"}},
       Rules(0, 1, 2, 0, 0, 0),
       "2026-11-25 12:00",
       {"20261125-0200-full-2=last+daily+newest", "20261125-0200-full=forget",
        "20261124-0200-full=daily"}},
      {"SnapshotsFromTheFutureAreKeptAndCountedApart",
       {{"future", "2026-12-01 00:00"}, {"past", "2026-11-01 00:00"}},
       Rules(1, 0, 0, 0, 0, 0),
       "2026-11-25 12:00",
       {"future=dated in the future", "past=newest"}},
  };
}

TEST_F(RetentionPolicy, DecidesEveryTableCaseExactly) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.name);
    std::vector<SnapshotTime> input;
    for (const auto& [id, time] : c.snapshots) input.push_back({id, T(time)});
    const auto got = Summarize(ApplyRetention(input, c.rules, T(c.now)), c.rules);
    EXPECT_EQ(got, c.expected);
    // The order of the input never matters.
    std::vector<SnapshotTime> reversed(input.rbegin(), input.rend());
    EXPECT_EQ(Summarize(ApplyRetention(reversed, c.rules, T(c.now)), c.rules), c.expected);
  }
}

// The "Must show": 60 daily snapshots at 02:00 from 2026-08-31 to 2026-10-29 (across the
// autumn DST change), retention_days = 42, keep_daily = 7, keep_weekly = 8, keep_monthly = 3.
TEST_F(RetentionPolicy, SixtyDailySnapshotsWithRetentionDaysAndKeepRules) {
  std::vector<SnapshotTime> input;
  for (int i = 0; i < 60; ++i) {
    std::tm tm{};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 7;  // August
    tm.tm_mday = 31 + i;
    tm.tm_hour = 2;
    tm.tm_isdst = -1;
    const std::time_t t = std::mktime(&tm);
    char id[32];
    std::strftime(id, sizeof id, "%Y%m%d-%H%M-full", &tm);
    input.push_back({id, Clock::from_time_t(t)});
  }
  const RetentionRules rules = Rules(42, 0, 7, 8, 3, 0);
  const auto decisions = ApplyRetention(input, rules, T("2026-10-29 12:00"));
  ASSERT_EQ(decisions.size(), 60u);

  std::vector<std::string> forgotten;
  std::vector<std::string> kept_outside_window;
  for (const auto& d : decisions) {
    if (!d.keep) forgotten.push_back(d.id.substr(0, 8));
    bool within = false;
    for (KeepReason r : d.reasons) within |= r == KeepReason::kWithinDays;
    if (d.keep && !within)
      kept_outside_window.push_back(d.id.substr(0, 8) + " " + DescribeReasons(d, rules));
  }
  // 42 days before 2026-10-29 12:00 is 2026-09-17 12:00: Sep 18 .. Oct 29 are within.
  const std::vector<std::string> expected_forgotten = {
      "20260917", "20260916", "20260915", "20260914", "20260912", "20260911",
      "20260910", "20260909", "20260908", "20260907", "20260906", "20260905",
      "20260904", "20260903", "20260902", "20260901"};
  EXPECT_EQ(forgotten, expected_forgotten);
  // The 8th ISO week back (Sep 7-13) keeps Sep 13; August keeps its newest, Aug 31.
  EXPECT_EQ(kept_outside_window, (std::vector<std::string>{"20260913 weekly", "20260831 monthly"}));
  EXPECT_EQ(decisions.front().id, "20261029-0200-full");
  EXPECT_EQ(DescribeReasons(decisions.front(), rules),
            "within 42 days, daily, weekly, monthly, newest");
  // The Sunday of the DST change is the newest of its ISO week.
  for (const auto& d : decisions) {
    if (d.id == "20261025-0200-full") {
      EXPECT_EQ(DescribeReasons(d, rules), "within 42 days, daily, weekly");
    }
  }
}

// Backups made in one second (a fleet, or create after create): the one committed last has the
// greatest suffix, counted as a number, and is the one keep_last = 1 keeps.
TEST_F(RetentionPolicy, EqualTimesKeepTheGreatestSuffixAsANumber) {
  std::vector<SnapshotTime> input;
  for (const char* id : {"20261125-1430-full", "20261125-1430-full-2", "20261125-1430-full-9",
                         "20261125-1430-full-10"}) {
    input.push_back({id, T("2026-11-25 14:30:05")});
  }
  RetentionRules rules;
  rules.keep_last = 1;
  for (int turn = 0; turn < 2; ++turn) {
    const auto decisions = ApplyRetention(input, rules, T("2026-11-25 15:00"));
    EXPECT_EQ(Summarize(decisions, rules),
              (std::vector<std::string>{
                  "20261125-1430-full-10=last+newest", "20261125-1430-full-9=forget",
                  "20261125-1430-full-2=forget", "20261125-1430-full=forget"}));
    std::reverse(input.begin(), input.end());
  }
}

// Switches the zone inside one test; the fixture's TearDown restores the one before the test.
void RetentionUseZone(const char* zone) {
  ::setenv("TZ", zone, 1);
  ::tzset();
}

struct CutoffCase {
  const char* zone;
  const char* what;
  const char* now;        // UTC
  const char* cutoff;     // UTC
  bool in_gap;            // the cutoff is the end of a gap (one nanosecond before it)
  const char* kept;       // a backup after the cutoff's wall-clock time (UTC)
  const char* forgotten;  // one before it (UTC)
};

// retention_days = 7 where "7 days ago, same wall-clock time" fell into a DST gap (no instant
// has it) or into the repeated hour of autumn (two have it). mktime with tm_isdst = -1 had moved
// a time in the gap forward by the gap's length and taken the later instant of a repeated time:
// a backup 6 days 23 hours old (after the wall-clock time 7 days back) was forgotten. The cutoff
// is now the earlier instant of a repeated time and the end of a gap.
TEST_F(RetentionPolicy, RetentionDaysCutoffInDstGapsAndRepeatedHoursKeepsTheYoungerBackups) {
  const std::vector<CutoffCase> cases = {
      // Berlin: 2026-03-29 02:00 CET -> 03:00 CEST at 01:00Z; now 2026-04-05 02:30 CEST.
      {"Europe/Berlin", "gap", "2026-04-05 00:30Z", "2026-03-29 01:00Z", true, "2026-03-29 01:15Z",
       "2026-03-29 00:59:59Z"},
      // 2026-10-25 03:00 CEST -> 02:00 CET at 01:00Z; 02:30 is 00:30Z and 01:30Z.
      {"Europe/Berlin", "repeated hour", "2026-11-01 01:30Z", "2026-10-25 00:30Z", false,
       "2026-10-25 00:45Z", "2026-10-25 00:15Z"},
      // New York: 2026-03-08 02:00 EST -> 03:00 EDT at 07:00Z; now 2026-03-15 02:30 EDT.
      {"America/New_York", "gap", "2026-03-15 06:30Z", "2026-03-08 07:00Z", true,
       "2026-03-08 07:10Z", "2026-03-08 06:59:59Z"},
      // 2026-11-01 02:00 EDT -> 01:00 EST at 06:00Z; 01:30 is 05:30Z and 06:30Z.
      {"America/New_York", "repeated hour", "2026-11-08 06:30Z", "2026-11-01 05:30Z", false,
       "2026-11-01 05:45Z", "2026-11-01 05:15Z"},
      // Lord Howe Island: half-hour changes. 2026-10-04 02:00 +10:30 -> 02:30 +11 at
      // 2026-10-03 15:30Z; now 2026-10-11 02:15 +11.
      {"Australia/Lord_Howe", "gap", "2026-10-10 15:15Z", "2026-10-03 15:30Z", true,
       "2026-10-03 15:40Z", "2026-10-03 15:29:59Z"},
      // 2026-04-05 02:00 +11 -> 01:30 +10:30 at 2026-04-04 15:00Z; 01:45 is 14:45Z and 15:15Z.
      {"Australia/Lord_Howe", "repeated hour", "2026-04-11 15:15Z", "2026-04-04 14:45Z", false,
       "2026-04-04 14:50Z", "2026-04-04 14:40Z"},
      // An ordinary day in each zone: exactly the same wall-clock time.
      {"Europe/Berlin", "ordinary", "2026-06-10 10:00Z", "2026-06-03 10:00Z", false,
       "2026-06-03 10:00:01Z", "2026-06-03 10:00Z"},
      {"America/New_York", "ordinary", "2026-06-10 10:00Z", "2026-06-03 10:00Z", false,
       "2026-06-03 10:00:01Z", "2026-06-03 10:00Z"},
      {"Australia/Lord_Howe", "ordinary", "2026-06-10 10:00Z", "2026-06-03 10:00Z", false,
       "2026-06-03 10:00:01Z", "2026-06-03 10:00Z"},
  };
  const RetentionRules rules = Rules(7, 0, 0, 0, 0, 0);
  for (const CutoffCase& c : cases) {
    SCOPED_TRACE(std::string(c.zone) + " " + c.what);
    RetentionUseZone(c.zone);
    const Clock::time_point want =
        c.in_gap ? T(c.cutoff) - std::chrono::nanoseconds(1) : T(c.cutoff);
    EXPECT_EQ(RetentionCutoff(T(c.now), 7), want);
    // Through the policy: the newest is kept anyway; the two others are decided by age alone.
    const std::vector<SnapshotTime> input = {{"newest", T(c.now) - std::chrono::minutes(1)},
                                             {"kept", T(c.kept)},
                                             {"forgotten", T(c.forgotten)}};
    EXPECT_EQ(
        Summarize(ApplyRetention(input, rules, T(c.now)), rules),
        (std::vector<std::string>{"newest=within+newest", "kept=within", "forgotten=forget"}));
  }
}

// The fraction of a second of `now` carries over to an ordinary cutoff.
TEST_F(RetentionPolicy, RetentionDaysCutoffKeepsTheFractionOfNow) {
  const Clock::time_point now = T("2026-06-10 10:00Z") + std::chrono::milliseconds(250);
  EXPECT_EQ(RetentionCutoff(now, 1), T("2026-06-09 10:00Z") + std::chrono::milliseconds(250));
}

// The deploy transactions' group: the `keep` newest stay, ordered as ApplyRetention orders
// (time, then the suffix as a number), whatever the input order.
TEST_F(RetentionPolicy, KeepLastTransactionsKeepsTheNewestInTheSameOrder) {
  std::vector<SnapshotTime> input = {{"20261125-1430-full-2", T("2026-11-25 14:30:05")},
                                     {"20261124-0900-full", T("2026-11-24 09:00")},
                                     {"20261125-1430-full-10", T("2026-11-25 14:30:05")},
                                     {"20261126-0800-full", T("2026-11-26 08:00")}};
  RetentionRules rules;
  for (int turn = 0; turn < 2; ++turn) {
    EXPECT_EQ(
        Summarize(KeepLastTransactions(input, 2, T("2026-11-26 12:00")), rules),
        (std::vector<std::string>{"20261126-0800-full=transaction backup",
                                  "20261125-1430-full-10=transaction backup",
                                  "20261125-1430-full-2=forget", "20261124-0900-full=forget"}));
    std::reverse(input.begin(), input.end());
  }
  EXPECT_TRUE(KeepLastTransactions({}, 3, T("2026-11-26 12:00")).empty());
}

// A transaction backup made while a clock was years ahead: kept, but it takes no place. It used
// to take the one place of keep_transaction_backups = 1, so the next create's maintenance forgot
// (and pruned) the backup of the transaction open now, which its rollback restores the data from.
TEST_F(RetentionPolicy, KeepLastTransactionsGivesABackupDatedInTheFutureNoPlace) {
  const std::vector<SnapshotTime> input = {{"20300101-1000-full", T("2030-01-01 10:00")},
                                           {"20261125-0900-full", T("2026-11-25 09:00")},
                                           {"20261124-0900-full", T("2026-11-24 09:00")}};
  RetentionRules rules;
  EXPECT_EQ(Summarize(KeepLastTransactions(input, 1, T("2026-11-25 12:00")), rules),
            (std::vector<std::string>{"20300101-1000-full=dated in the future",
                                      "20261125-0900-full=transaction backup",
                                      "20261124-0900-full=forget"}));
}

// Backups whose database dump failed (--continue-on-error) used to take the places of the rules
// like any other: keep_last = 2 and two failed dumps in a row forgot every backup holding the
// database. The rules also apply to the complete backups alone, and keep what that keeps.
TEST_F(RetentionPolicy, BackupsWithoutTheirDatabaseDoNotPushTheLastGoodDumpsOut) {
  const std::vector<SnapshotTime> input = {{"s5-no-db", T("2026-11-05 02:00"), false},
                                           {"s4-no-db", T("2026-11-04 02:00"), false},
                                           {"s3", T("2026-11-03 02:00")},
                                           {"s2", T("2026-11-02 02:00")},
                                           {"s1", T("2026-11-01 02:00")}};
  const RetentionRules last = Rules(0, 2, 0, 0, 0, 0);
  EXPECT_EQ(Summarize(ApplyRetention(input, last, T("2026-11-05 12:00")), last),
            (std::vector<std::string>{"s5-no-db=last+newest", "s4-no-db=last", "s3=complete backup",
                                      "s2=complete backup", "s1=forget"}));
  // keep_daily counts the days of complete backups apart as well; retention_days is an age and
  // needs no second pass, but gets it harmlessly.
  const RetentionRules daily = Rules(1, 0, 1, 0, 0, 0);
  EXPECT_EQ(Summarize(ApplyRetention(input, daily, T("2026-11-05 12:00")), daily),
            (std::vector<std::string>{"s5-no-db=within+daily+newest", "s4-no-db=forget",
                                      "s3=complete backup", "s2=forget", "s1=forget"}));
  // Only complete or only failed backups: one pass, as before.
  std::vector<SnapshotTime> failed_only(input.begin(), input.begin() + 2);
  EXPECT_EQ(Summarize(ApplyRetention(failed_only, last, T("2026-11-05 12:00")), last),
            (std::vector<std::string>{"s5-no-db=last+newest", "s4-no-db=last"}));
  // No rule: nothing goes, and no second reason is added.
  const RetentionRules none = Rules(0, 0, 0, 0, 0, 0);
  for (const std::string& s : Summarize(ApplyRetention(input, none, T("2026-11-05 12:00")), none)) {
    EXPECT_NE(s.find("=no retention rule"), std::string::npos) << s;
  }
}

// The clock counts nanoseconds in 64 bits, back to 1677. A cutoff further back (retention_days
// 150000 and more, up to the 1000000 velin.toml allows) once wrapped into the future and had
// every backup but the newest forgotten; it keeps all of them by age. Just inside the clock's
// range the cutoff is exact: 110000 days back is 1725, after a backup dated 1700.
TEST_F(RetentionPolicy, RetentionDaysReachingBeforeTheClocksRangeKeepsEverything) {
  const std::vector<SnapshotTime> input = {{"s3", T("2026-11-25 11:59")},
                                           {"s2", T("2026-11-25 11:58")},
                                           {"s1", T("2026-11-25 11:57")},
                                           {"old", T("1700-01-01 12:00Z")}};
  for (int days : {150000, 200000, 1000000, std::numeric_limits<int>::max()}) {
    SCOPED_TRACE(days);
    const RetentionRules rules = Rules(days, 0, 0, 0, 0, 0);
    EXPECT_EQ(
        Summarize(ApplyRetention(input, rules, T("2026-11-25 12:00")), rules),
        (std::vector<std::string>{"s3=within+newest", "s2=within", "s1=within", "old=within"}));
  }
  const RetentionRules exact = Rules(110000, 0, 0, 0, 0, 0);
  EXPECT_EQ(Summarize(ApplyRetention(input, exact, T("2026-11-25 12:00")), exact),
            (std::vector<std::string>{"s3=within+newest", "s2=within", "s1=within", "old=forget"}));
}

// The counts velin.toml allows at their largest: every backup is kept, none for a wrong reason.
TEST_F(RetentionPolicy, LargestKeepCountsKeepEveryBackup) {
  const std::vector<SnapshotTime> input = {{"b", T("2026-11-25 11:00")},
                                           {"a", T("1700-06-01 12:00Z")}};
  const RetentionRules rules = Rules(0, 1000000, 1000000, 1000000, 1000000, 1000000);
  EXPECT_EQ(Summarize(ApplyRetention(input, rules, T("2026-11-25 12:00")), rules),
            (std::vector<std::string>{"b=last+daily+weekly+monthly+yearly+newest",
                                      "a=last+daily+weekly+monthly+yearly"}));
}

TEST_F(RetentionPolicy, RulesAreEmptyOnlyWhenEveryCountIsZero) {
  EXPECT_TRUE(Rules(0, 0, 0, 0, 0, 0).Empty());
  EXPECT_FALSE(Rules(42, 0, 0, 0, 0, 0).Empty());
  EXPECT_FALSE(Rules(0, 0, 0, 0, 0, 1).Empty());
}

}  // namespace
}  // namespace velin::backup
