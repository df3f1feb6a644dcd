// Forgetting snapshots by the retention policy (retention_policy.hpp): reads every snapshot of
// a repository, groups those the filter selects by (host, app, sources) — each group is kept by
// the rules on its own, so one host's or app's backups never use up another's counts — decides
// which to keep, and — unless it is a dry run — deletes the snapshot objects of the others.
// Snapshots outside the filter are not touched. Only snapshot objects are removed; the packs and
// index entries their data used stay until `velin backup prune` collects what no snapshot
// references. Guarantees:
//  - a snapshot that cannot be read is never deleted (it is reported, and counts as kept);
//  - deleting is idempotent: a forget interrupted half-way leaves a repository in which every
//    remaining snapshot is whole, and running it again finishes the job;
//  - the newest snapshot of each group is never deleted (the policy keeps it).
// REQUIRES: the caller holds the repository's exclusive lock (a shared one for a dry run).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "velin/backup/retention_policy.hpp"
#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/repo/repository.hpp"

namespace velin::backup {

// One retention group: the snapshots of one host and app with the same sources.
struct ForgetGroup {
  std::string host;
  std::string app;                   // "" for snapshots of velins that recorded none
  std::vector<std::string> sources;  // source names, sorted
  bool transactions = false;  // deploy transactions' backups, kept by keep_transaction_backups
  std::vector<RetentionDecision> decisions;  // newest first
};

struct ForgetResult {
  std::vector<ForgetGroup> groups;             // ordered by host, app, sources
  std::vector<repo::ObjectDamage> unreadable;  // snapshots that were left alone
  size_t forgotten = 0;                        // snapshot objects deleted (0 in a dry run)
};

// The deploy transaction a backup was taken for (its stream's metadata "transaction", written
// by `velin rollback begin --backup`), "" for any other backup.
std::string TransactionOf(const repo::Snapshot& snapshot);
// The version live when that transaction began ("" when none).
std::string TransactionVersionOf(const repo::Snapshot& snapshot);

// `spare`: a backup id that stays whatever the rules say (KeepReason::kJustCreated): the one
// `create` just made, which its own maintenance must never forget ("" for none).
Result<ForgetResult> ForgetSnapshots(repo::Repository& repository, const RetentionRules& rules,
                                     std::chrono::system_clock::time_point now, bool dry_run,
                                     const repo::SnapshotFilter& filter, Reporter& reporter,
                                     const std::string& spare = "");

}  // namespace velin::backup
