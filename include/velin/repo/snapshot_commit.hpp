// Writing a snapshot under a fresh id: the id is picked and the object written under the commit
// lock, so that two writers in one minute (two backups, or a backup and a copy that renames)
// never take the same id (docs/repository-format.md, "Snapshots" and "Locks").
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/repository.hpp"
#include "velin/repo/snapshot.hpp"

namespace velin::repo {

// The id `base` ("20261125-1430-full") without its numeric suffix: "…-full-3" -> "…-full".
std::string SnapshotIdBase(const std::string& id);

// Sets snapshot.id to `base`, or to `base` plus the first suffix above every id of that base in
// `repo` ("-2" after "…-full", "-4" after "…-full-3" even when "…-full-2" was forgotten, so of
// two snapshots with equal times the later has the greater id), then seals and writes it.
// Fails with exit code 3 when the commit lock is not free within `wait` (at least
// kMinCommitLockWait: repo/lock.hpp), and before it writes
// when the repository's shared lock (CheckCommitGuard) was lost; a snapshot written as that
// lock went (gone right after the write) is deleted again and the call fails the same way.
// `before_write`, when set, is called with the id under the commit lock right before the
// snapshot is written (a create notes there that the backup is due offsite).
Status CommitSnapshot(io::Env& env, Repository& repo, Snapshot& snapshot, const std::string& base,
                      std::chrono::milliseconds wait,
                      const std::function<void(const std::string& id)>& before_write = {});

struct CommittedSnapshot {
  std::string id;
  bool written = true;  // false: find_existing named a snapshot that holds it already
};

// The same with the snapshot object's text made by `encode` for the id picked. When
// `find_existing` is given it runs first, under the lock, with the repository's snapshot ids:
// an id it returns holds the snapshot already, and nothing is written (two copies at once of
// one snapshot store it once).
Result<CommittedSnapshot> CommitSnapshotText(
    io::Env& env, Repository& repo, const std::string& base, std::chrono::milliseconds wait,
    const std::function<Result<std::string>(const std::string& id)>& encode,
    const std::function<Result<std::string>(const std::vector<std::string>& ids)>& find_existing =
        nullptr);

// A snapshot object to write under its id: its bytes as a repository with the same keys stores
// them (a copy's); after CommitSnapshotObjects, `held` has the bytes of the object that already
// held the id (nullopt: this one was written).
struct SnapshotObjectToCommit {
  std::string id;
  std::string stored;
  std::optional<std::string> held;
};

// Writes each object under its id, under one hold of the commit lock, unless `repo` has an
// object of that id by then.
Status CommitSnapshotObjects(io::Env& env, Repository& repo,
                             std::vector<SnapshotObjectToCommit>& objects,
                             std::chrono::milliseconds wait);

}  // namespace velin::repo
