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

// Seconds east of UTC of the local time zone at `t`.
long OffsetAt(std::time_t t) {
  std::tm tm{};
  ::localtime_r(&t, &tm);
  return tm.tm_gmtoff;
}

// The earliest instant whose local wall-clock time is `wall` (seconds counted as if local time
// were UTC: timegm of the fields); or, where no instant has it (a DST gap), the instant the gap
// ends, the first whose wall-clock time is later, with `in_gap`. Only localtime_r decides:
// mktime with tm_isdst = -1 had moved a time in the gap an hour forward (so a backup taken after
// that wall-clock time fell before the cutoff) and took the later of the two instants of a time
// in the repeated hour of autumn.
struct WallInstant {
  std::time_t time;
  bool in_gap;
};
WallInstant EarliestInstantOf(int64_t wall) {
  // The offsets in force a day before, at and a day after (no offset reaches a day, so the
  // instants of `wall` lie between); a change between gives two.
  std::vector<long> offsets;
  for (int64_t probe : {wall - 86400, wall, wall + 86400}) {
    offsets.push_back(OffsetAt(static_cast<std::time_t>(probe)));
  }
  std::optional<std::time_t> best;
  for (size_t i = 0; i < 3; ++i) {
    const auto t = static_cast<std::time_t>(wall - offsets[i]);
    const long at = OffsetAt(t);
    if (at == offsets[i] && (!best || t < *best)) best = t;
    offsets.push_back(at);
  }
  if (best) return {*best, false};
  // A gap: read with the larger offset, `wall` is an instant whose wall-clock time is still
  // before it; read with the smaller one, an instant whose wall-clock time is already past it.
  // Between lies the jump; search for the first instant past `wall`.
  const auto [lowest, highest] = std::minmax_element(offsets.begin(), offsets.end());
  int64_t before = wall - *highest;
  int64_t after = wall - *lowest;
  while (after - before > 1) {
    const int64_t mid = before + (after - before) / 2;
    if (mid + OffsetAt(static_cast<std::time_t>(mid)) > wall) {
      after = mid;
    } else {
      before = mid;
    }
  }
  return {static_cast<std::time_t>(after), true};
}

}  // namespace

// The clock counts nanoseconds in 64 bits (back to 1677): retention_days 200000 reaches back to
// the 15th century, and that instant in nanoseconds wrapped into the future, so every backup but
// the newest was "older" than it. Saturated, the cutoff keeps every backup by age, as so many
// days mean.
Clock::time_point RetentionCutoff(Clock::time_point now, int days) {
  const auto now_secs = std::chrono::floor<std::chrono::seconds>(now);
  const auto earliest = std::chrono::ceil<std::chrono::seconds>(Clock::time_point::min());
  const int64_t earliest_secs = earliest.time_since_epoch().count();
  std::tm tm = LocalTime(now);
  tm.tm_mday -= days;
  // The wall-clock time N days back, counted as if it were UTC: timegm only normalises the
  // fields (the day of the month below 1), it knows nothing of DST.
  errno = 0;
  const int64_t wall = static_cast<int64_t>(::timegm(&tm));
  // timegm's -1 is also 1969-12-31 23:59:59; errno says whether it failed (EOVERFLOW). Two days
  // of margin: no offset is that large, and the instants probed stay in the clock's range.
  if ((wall == -1 && errno != 0) || wall <= earliest_secs + 2 * 86400) {
    return Clock::time_point::min();
  }
  const WallInstant cut = EarliestInstantOf(wall);
  const Clock::time_point at{std::chrono::seconds(cut.time)};
  // In a gap every snapshot from its end on is after that wall-clock time, the first one too.
  if (cut.in_gap) return at - std::chrono::nanoseconds(1);
  return at + (now - now_secs);
}

namespace {

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

namespace {

// The rules applied to `snapshots` as one list (ApplyRetention without the second pass).
std::vector<RetentionDecision> DecideAll(std::vector<SnapshotTime> snapshots,
                                         const RetentionRules& rules, Clock::time_point now) {
  std::sort(snapshots.begin(), snapshots.end(), NewerFirst);
  std::vector<RetentionDecision> out;
  out.reserve(snapshots.size());
  const bool empty = rules.Empty();
  const std::optional<Clock::time_point> cutoff =
      rules.retention_days > 0 ? std::optional(RetentionCutoff(now, rules.retention_days))
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
    RetentionDecision d{s.id, s.time, false, {}, s.complete};
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

}  // namespace

std::vector<RetentionDecision> ApplyRetention(std::vector<SnapshotTime> snapshots,
                                              const RetentionRules& rules, Clock::time_point now) {
  std::vector<SnapshotTime> complete;
  for (const SnapshotTime& s : snapshots) {
    if (s.complete) complete.push_back(s);
  }
  const bool mixed = complete.size() != snapshots.size() && !complete.empty();
  std::vector<RetentionDecision> out = DecideAll(std::move(snapshots), rules, now);
  if (!mixed || rules.Empty()) return out;
  // The complete backups alone: a backup without its database takes no place from them.
  std::vector<RetentionDecision> alone = DecideAll(std::move(complete), rules, now);
  for (RetentionDecision& d : out) {
    if (d.keep) continue;
    const auto it = std::find_if(alone.begin(), alone.end(),
                                 [&](const RetentionDecision& a) { return a.id == d.id; });
    if (it == alone.end() || !it->keep) continue;
    d.keep = true;
    d.reasons.push_back(KeepReason::kComplete);
  }
  return out;
}

std::vector<RetentionDecision> KeepLastTransactions(std::vector<SnapshotTime> snapshots, int keep,
                                                    Clock::time_point now) {
  std::sort(snapshots.begin(), snapshots.end(), NewerFirst);
  std::vector<RetentionDecision> out;
  out.reserve(snapshots.size());
  const Clock::time_point future = now + repo::kClockSkew;
  long rank = 0;  // among the backups not in the future, as ApplyRetention counts
  for (const SnapshotTime& s : snapshots) {
    RetentionDecision d{s.id, s.time, false, {}, s.complete};
    if (d.time > future) {
      d.reasons.push_back(KeepReason::kFuture);
    } else if (rank++ < keep) {
      d.reasons.push_back(KeepReason::kTransaction);
    }
    d.keep = !d.reasons.empty();
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
    case KeepReason::kComplete:
      return "complete backup";
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
