// The retention policy: given the snapshots of a repository, the rules of velin.toml's [backup]
// section and the current time, decides for every snapshot whether it is kept or forgotten and
// which rules keep it. Pure logic: no repository, no clock, no file access, so `forget
// --dry-run`, `forget` and `prune_after_create` all see the same answer for the same input.
//
// The rules (docs/operations.md, "Retention"):
//  - retention_days N: every snapshot younger than N days is kept. "N days ago" is the same
//    local wall-clock time N calendar days before `now` (so a DST change does not shift it by
//    an hour); a snapshot exactly at that instant is already too old. Where that time happened
//    twice (the repeated hour when the clocks go back) it is the first time; where it never
//    happened (the hour skipped when they go forward) it is the end of the gap: the cutoff
//    errs to keeping more (RetentionCutoff).
//  - keep_last N: the N newest snapshots.
//  - keep_daily / keep_weekly / keep_monthly / keep_yearly N: the newest snapshot of each of the
//    last N days / ISO-8601 weeks / months / years that have snapshots, in local time (TZ) —
//    restic's definition; a period without snapshots does not use up a count.
// A snapshot kept by any rule stays. The newest snapshot always stays. Where the group holds
// incomplete snapshots (SnapshotTime::complete false: a database dump failed), the rules are
// applied a second time to its complete snapshots alone, and a complete one that pass keeps
// stays too (KeepReason::kComplete): backups without their database never push the last good
// dumps out (keep_last = 3 and three failed dumps in a row used to forget every backup that
// holds the database). With no rule at all
// (every count 0) nothing is forgotten. A snapshot dated more than repo::kClockSkew after `now`
// (made while a clock was wrong) stays too, counted apart: it takes no keep_last, period or
// "newest" slot from the others.
//
// Snapshots are ordered newest first; equal times are ordered by id (repo::SnapshotNewer: the
// suffix counts as a number, "…-full-10" is newer than "…-full-9", which is newer than
// "…-full"), so the result never depends on the order of the input, and of two backups made in
// one second the one committed last — the one `prune_after_create` follows — is the newest.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace velin::backup {

struct RetentionRules {
  int retention_days = 0;  // 0: no age rule
  int keep_last = 0;
  int keep_daily = 0;
  int keep_weekly = 0;
  int keep_monthly = 0;
  int keep_yearly = 0;
  // The backups deploy transactions took (TransactionOf, forget.hpp) are their own group: the
  // last N stay, the rules above never count or forget them. 0: they are treated like any other.
  int keep_transaction_backups = 0;

  // True when no rule above keep_transaction_backups is set: then every snapshot is kept.
  bool Empty() const;
};

struct SnapshotTime {
  std::string id;
  std::chrono::system_clock::time_point time;
  // False for a backup committed without a usable stream (a database dump that failed under
  // `backup create --continue-on-error`): ApplyRetention keeps the complete ones apart too.
  bool complete = true;
};

enum class KeepReason {
  kNoPolicy,    // no rule is configured
  kWithinDays,  // younger than retention_days
  kLast,        // one of the keep_last newest
  kDaily,
  kWeekly,
  kMonthly,
  kYearly,
  kNewest,       // the newest snapshot, which always stays
  kTransaction,  // one of the keep_transaction_backups newest backups of deploy transactions
  kFuture,       // dated after the clock (beyond repo::kClockSkew): kept, counted apart
  kComplete,     // kept by the rules applied to the group's complete backups alone
  kJustCreated,  // the backup `create` just made, which its maintenance never forgets
};

struct RetentionDecision {
  std::string id;
  std::chrono::system_clock::time_point time;
  bool keep = false;
  std::vector<KeepReason> reasons;  // empty exactly when !keep; in the order of KeepReason
  bool complete = true;  // SnapshotTime::complete: false for a backup without its database
};

// Decides for every snapshot; the result is ordered newest first (see above).
std::vector<RetentionDecision> ApplyRetention(std::vector<SnapshotTime> snapshots,
                                              const RetentionRules& rules,
                                              std::chrono::system_clock::time_point now);

// The cutoff of retention_days = `days` at `now`: the earliest instant whose local wall-clock
// time is that of `now` `days` calendar days before; in a DST gap, where no instant has it, the
// instant the gap ends. Snapshots after it are kept. Clock::time_point::min() when it lies before
// the clock's range (every snapshot is kept by age).
std::chrono::system_clock::time_point RetentionCutoff(std::chrono::system_clock::time_point now,
                                                      int days);

// The rule of the deploy transactions' group (keep_transaction_backups): the `keep` newest
// stay, for KeepReason::kTransaction, the others go; ordered newest first as above. One dated
// more than repo::kClockSkew after `now` stays (KeepReason::kFuture) and takes no place: else a
// transaction backup dated years ahead had the backup of the transaction open now forgotten.
std::vector<RetentionDecision> KeepLastTransactions(std::vector<SnapshotTime> snapshots, int keep,
                                                    std::chrono::system_clock::time_point now);

// A short English name of a reason ("daily", "within 42 days"), for --json and logs.
std::string KeepReasonName(KeepReason reason, const RetentionRules& rules);

// The reasons of a decision, translated and joined: "täglich, wöchentlich".
std::string DescribeReasons(const RetentionDecision& decision, const RetentionRules& rules);

}  // namespace velin::backup
