// Forgetting snapshots by the retention policy (retention_policy.hpp): reads every snapshot of
// a repository, decides which to keep, and — unless it is a dry run — deletes the snapshot
// objects of the others. Only snapshot objects are removed; the packs and index entries their
// data used stay until `velin backup prune` collects what no snapshot references. Guarantees:
//  - a snapshot that cannot be read is never deleted (it is reported, and counts as kept);
//  - deleting is idempotent: a forget interrupted half-way leaves a repository in which every
//    remaining snapshot is whole, and running it again finishes the job;
//  - the newest snapshot is never deleted (the policy keeps it).
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

struct ForgetResult {
  std::vector<RetentionDecision> decisions;    // newest first
  std::vector<repo::ObjectDamage> unreadable;  // snapshots that were left alone
  size_t forgotten = 0;                        // snapshot objects deleted (0 in a dry run)
};

// The deploy transaction a backup was taken for (its stream's metadata "transaction", written
// by `velin rollback begin --backup`), "" for any other backup.
std::string TransactionOf(const repo::Snapshot& snapshot);
// The version live when that transaction began ("" when none).
std::string TransactionVersionOf(const repo::Snapshot& snapshot);

Result<ForgetResult> ForgetSnapshots(repo::Repository& repository, const RetentionRules& rules,
                                     std::chrono::system_clock::time_point now, bool dry_run,
                                     Reporter& reporter);

}  // namespace velin::backup
