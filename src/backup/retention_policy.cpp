#include "velin/backup/retention_policy.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <optional>

#include "velin/core/i18n.hpp"
#include "velin/repo/snapshot.hpp"

namespace velin::backup {
namespace {

using Clock = std::chrono::system_clock;

std::tm LocalTime(Clock::time_point tp) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(tp);
  const std::time_t t = static_cast<std::time_t>(secs.time_since_epoch().count());
  std::tm tm{};
  ::localtime_r(&t, &tm);
  return tm;
}

// The instant `days` calendar days before `now`, at the same local wall-clock time; the
// clock's earliest instant when that is before it. The clock counts nanoseconds in 64 bits
// (back to 1677): retention_days 200000 reaches back to the 15th century, and that instant
// in nanoseconds wrapped into the future, so every backup but the newest was "older" than it.
// Saturated, the cutoff keeps every backup by age, as so many days mean.
Clock::time_point DaysBefore(Clock::time_point now, int days) {
  const auto now_secs = std::chrono::floor<std::chrono::seconds>(now);
  const auto earliest = std::chrono::ceil<std::chrono::seconds>(Clock::time_point::min());
  const int64_t earliest_secs = earliest.time_since_epoch().count();
  std::tm tm = LocalTime(now);
  tm.tm_mday -= days;
  tm.tm_isdst = -1;  // let mktime decide whether DST applied on that day
  errno = 0;
  const std::time_t t = std::mktime(&tm);
  // mktime's -1 is also 1969-12-31 23:59:59 UTC; errno says whether it failed (EOVERFLOW).
  if ((t == -1 && errno != 0) || static_cast<int64_t>(t) <= earliest_secs) {
    return Clock::time_point::min();
  }
  return Clock::time_point(std::chrono::seconds(t)) + (now - now_secs);
}

// Period keys: equal keys mean the same local day / ISO week / month / year.
long DayKey(const std::tm& tm) {
  return (tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}
long WeekKey(const std::tm& tm) {
  char buf[16];
  std::strftime(buf, sizeof buf, "%G%V", &tm);  // ISO-8601 week-based year and week
  return std::strtol(buf, nullptr, 10);
}
long MonthKey(const std::tm& tm) { return (tm.tm_year + 1900L) * 100 + tm.tm_mon + 1; }
long YearKey(const std::tm& tm) { return tm.tm_year + 1900L; }

// One keep_<period> rule while walking the snapshots newest first: a snapshot is kept when it
// is the first (newest) one seen of its period and the rule still has counts left.
struct Bucket {
  KeepReason reason;
  int remaining;
  long (*key)(const std::tm&);
  std::optional<long> last = std::nullopt;

  bool Take(const std::tm& tm) {
    if (remaining <= 0) return false;
    const long k = key(tm);
    if (last && *last == k) return false;
    last = k;
    --remaining;
    return true;
  }
};

bool NewerFirst(const SnapshotTime& a, const SnapshotTime& b) {
  if (a.time != b.time) return a.time > b.time;
  return repo::SnapshotNewer(0, a.id, 0, b.id);
}

}  // namespace

bool RetentionRules::Empty() const {
  return retention_days <= 0 && keep_last <= 0 && keep_daily <= 0 && keep_weekly <= 0 &&
         keep_monthly <= 0 && keep_yearly <= 0;
}

std::vector<RetentionDecision> ApplyRetention(std::vector<SnapshotTime> snapshots,
                                              const RetentionRules& rules, Clock::time_point now) {
  std::sort(snapshots.begin(), snapshots.end(), NewerFirst);
  std::vector<RetentionDecision> out;
  out.reserve(snapshots.size());
  const bool empty = rules.Empty();
  const std::optional<Clock::time_point> cutoff =
      rules.retention_days > 0 ? std::optional(DaysBefore(now, rules.retention_days))
                               : std::nullopt;
  std::array<Bucket, 4> buckets = {{
      {KeepReason::kDaily, rules.keep_daily, DayKey},
      {KeepReason::kWeekly, rules.keep_weekly, WeekKey},
      {KeepReason::kMonthly, rules.keep_monthly, MonthKey},
      {KeepReason::kYearly, rules.keep_yearly, YearKey},
  }};

  // Backups dated after the clock (a clock was wrong) are kept, but take no keep_last, period
  // or "newest" slot: else one dated years ahead would have every real backup forgotten.
  const Clock::time_point future = now + repo::kClockSkew;
  long rank = 0;  // among the backups not in the future
  for (const SnapshotTime& s : snapshots) {
    RetentionDecision d{s.id, s.time, false, {}};
    if (empty) d.reasons.push_back(KeepReason::kNoPolicy);
    if (d.time > future) {
      d.reasons.push_back(KeepReason::kFuture);
      d.keep = true;
      out.push_back(std::move(d));
      continue;
    }
    if (cutoff && d.time > *cutoff) d.reasons.push_back(KeepReason::kWithinDays);
    if (rank < rules.keep_last) d.reasons.push_back(KeepReason::kLast);
    const std::tm tm = LocalTime(d.time);
    for (Bucket& b : buckets) {
      if (b.Take(tm)) d.reasons.push_back(b.reason);
    }
    if (rank == 0 && !empty) d.reasons.push_back(KeepReason::kNewest);
    ++rank;
    d.keep = !d.reasons.empty();
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<RetentionDecision> KeepLastTransactions(std::vector<SnapshotTime> snapshots, int keep) {
  std::sort(snapshots.begin(), snapshots.end(), NewerFirst);
  std::vector<RetentionDecision> out;
  out.reserve(snapshots.size());
  for (size_t i = 0; i < snapshots.size(); ++i) {
    RetentionDecision d{snapshots[i].id, snapshots[i].time, static_cast<long>(i) < keep, {}};
    if (d.keep) d.reasons.push_back(KeepReason::kTransaction);
    out.push_back(std::move(d));
  }
  return out;
}

std::string KeepReasonName(KeepReason reason, const RetentionRules& rules) {
  switch (reason) {
    case KeepReason::kNoPolicy:
      return "no retention rule";
    case KeepReason::kWithinDays:
      return "within " + std::to_string(rules.retention_days) + " days";
    case KeepReason::kLast:
      return "last";
    case KeepReason::kDaily:
      return "daily";
    case KeepReason::kWeekly:
      return "weekly";
    case KeepReason::kMonthly:
      return "monthly";
    case KeepReason::kYearly:
      return "yearly";
    case KeepReason::kNewest:
      return "newest";
    case KeepReason::kTransaction:
      return "transaction backup";
    case KeepReason::kFuture:
      return "dated in the future";
    case KeepReason::kJustCreated:
      return "just created";
  }
  return "unknown";
}

std::string DescribeReasons(const RetentionDecision& decision, const RetentionRules& rules) {
  std::string text;
  for (KeepReason r : decision.reasons) {
    if (!text.empty()) text += ", ";
    if (r == KeepReason::kWithinDays) {
      text += TrFormat("within {} days", rules.retention_days);
    } else {
      text += Tr(KeepReasonName(r, rules));
    }
  }
  return text;
}

}  // namespace velin::backup
