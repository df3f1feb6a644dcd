// Copies snapshots from one repository to another — a local repository mirrored offsite
// (`velin backup copy`, `backup.offsite`). Only what the destination lacks travels: a snapshot
// already there (the same bytes under its id, or the same snapshot under another id of its
// minute, see below) is skipped, and of the blobs a snapshot needs (its trees, file chunks and
// stream chunks) only those missing from the destination's index are read (hash-checked) from
// the source and written through the destination's BlobWriter in its own packs, as the source
// stores them (CopySnapshots). Index objects
// are written as the copy goes (BlobWriterOptions::index_as_it_goes), so a copy that is killed
// part-way leaves its packs indexed and a rerun sends only what is still missing; every tree is
// therefore descended, even one the destination indexes (its subtree may be what was missing).
// Commit order is the destination's: packs → index → snapshot objects, so a copy that fails
// part-way leaves no snapshot in the destination that lacks data. A snapshot already there is
// walked too when the destination's index lists packs that are gone or damaged there (Repository::
// PackCheck::kAll): the blobs it lost with them are sent again. The packs a copy writes are
// merged into the destination's in-memory index (BlobWriterOptions::add_to_index), so a second
// copy into it in the same process sends none of them again.
//
// Ids are unique within a repository, not across them: two hosts whose repositories copy into
// one offsite repository at the same minute both have a "20261125-0230-full". When the
// destination holds another snapshot under a copied snapshot's id, the copy takes the next free
// id of that minute in the destination ("…-full-2"), as a second backup of that minute would,
// and reports it (CopyStats::renamed); the snapshot is sealed anew for its new id.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/blob_writer.hpp"
#include "velin/repo/repository.hpp"

namespace velin::backup {

// A snapshot that is in the destination under another id than in the source.
struct CopyRename {
  std::string id;      // in the source
  std::string as;      // in the destination
  std::string host;    // the host of the other snapshot that holds `id` in the destination
  bool copied = true;  // stored by this copy; false: an earlier copy stored it there
};

struct CopyStats {
  uint64_t snapshots_copied = 0;   // renamed ones included
  uint64_t snapshots_present = 0;  // already in the destination: skipped
  // Of those, the ones whose blobs the destination lacked (in packs gone there, cut short or
  // found damaged by a verify): sent again, blobs_resent of them (counted in blobs_copied).
  uint64_t snapshots_repaired = 0;
  uint64_t blobs_resent = 0;
  std::vector<CopyRename> renamed;  // the snapshots copied or found under another id
  uint64_t blobs_copied = 0;
  uint64_t blobs_present = 0;  // needed but already in the destination
  uint64_t bytes_copied = 0;   // plaintext bytes of the blobs copied
  uint64_t bytes_stored = 0;   // what the destination's packs hold for them (sent to a remote)
  uint64_t packs_written = 0;
};

// Copies the snapshots `ids` (resolved ids of `source`) into `destination`. A blob travels as
// the source stores it (compressed as it was, and sealed, since both have the same keys), checked
// against its id on the way; a delta blob, or every blob when `recompress`, is decoded and
// stored anew with `options`' compression. A renamed snapshot's id is picked under the
// destination's commit lock (repo::CommitSnapshot, waiting up to `commit_lock_wait`).
// REQUIRES: both repositories opened, locked and with LoadIndex() done.
Result<CopyStats> CopySnapshots(
    repo::Repository& source, repo::Repository& destination, const std::vector<std::string>& ids,
    const repo::BlobWriterOptions& options, io::Env& env, Reporter& reporter,
    bool recompress = false, std::chrono::milliseconds commit_lock_wait = std::chrono::minutes(1));

// Whether `destination` can hold copies of `source`'s snapshots: an encrypted repository names
// blobs by a keyed hash and seals its snapshot objects, so when either is encrypted both must
// have the same repository id and cipher (the destination was created from the source, or is an
// earlier copy of it). A usage error (exit 2) otherwise, saying which case it is.
Status CheckCopyKeys(repo::Repository& source, repo::Repository& destination);
// The same on the configs alone (repo::Repository::ReadConfig), before any key is tried: a
// destination with other keys often does not open with the source's passphrase at all.
Status CheckCopyKeys(const repo::RepoConfig& source, const std::string& source_location,
                     const repo::RepoConfig& destination, const std::string& destination_location);

}  // namespace velin::backup
