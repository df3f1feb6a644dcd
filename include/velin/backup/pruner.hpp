// Pruning a repository: removes the data no remaining snapshot references. It walks every
// snapshot (trees recursively, stream chunk lists) to find the used blobs, deletes packs that
// hold no used blob, repacks packs whose unused share exceeds the threshold (the still-used
// blobs are copied as stored — never recompressed — into new packs, each checked against its id
// on the way), writes one new index object covering every remaining pack, and only then deletes
// the old index objects and old packs. Guarantees:
//  - crash-safe at every instant: new packs, then the new index, then deletions (old index
//    objects before old packs), so a kill -9 anywhere leaves every snapshot restorable and a
//    second prune finishes the job (docs/repository-format.md, "Prune");
//  - it refuses (DamageError) to touch a repository with an unreadable snapshot or index object,
//    or a snapshot whose blobs are missing: what those reference cannot be known;
//  - a dry run reads only.
// REQUIRES: the caller holds the repository's exclusive lock (a shared one for a dry run) and
// has called LoadIndex().
#pragma once

#include <chrono>
#include <cstdint>

#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/repository.hpp"

namespace velin::backup {

struct PruneOptions {
  double repack_threshold = 0.2;  // repack a pack when more than this share of it is unused
  bool dry_run = false;
  // A pack no index object lists is left alone until it is this old (by the storage's times):
  // it may be a running create's, whose lock was taken for stale. The lock stale age.
  std::chrono::seconds unindexed_min_age{1800};
};

struct PruneResult {
  size_t snapshots = 0;
  size_t blobs_used = 0;
  size_t blobs_removed = 0;  // index entries not carried into the new index
  size_t packs_total = 0;
  size_t packs_deleted = 0;   // held no used blob (including packs no index lists)
  size_t packs_repacked = 0;  // their used blobs were copied into new packs
  size_t packs_written = 0;
  size_t index_objects_replaced = 0;
  size_t packs_young = 0;     // unindexed packs left alone: younger than unindexed_min_age
  uint64_t bytes_before = 0;  // packs + index objects
  uint64_t bytes_after = 0;   // for a dry run: what they would be
  uint64_t bytes_freed() const {
    return bytes_before > bytes_after ? bytes_before - bytes_after : 0;
  }
  bool changed = false;  // false: nothing to do (or a dry run)
};

Result<PruneResult> Prune(repo::Repository& repository, io::Env& env, const PruneOptions& options,
                          Reporter& reporter);

}  // namespace velin::backup
