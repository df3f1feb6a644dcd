// Copies snapshots from one repository to another — a local repository mirrored offsite
// (`velin backup copy`, `backup.offsite`). Only what the destination lacks travels: a snapshot
// already there is skipped, and of the blobs a snapshot needs (its trees, file chunks and
// stream chunks) only those missing from the destination's index are read (hash-checked) from
// the source and written through the destination's BlobWriter in its own packs, as the source
// stores them (CopySnapshots). Index objects
// are written as the copy goes (BlobWriterOptions::index_as_it_goes), so a copy that is killed
// part-way leaves its packs indexed and a rerun sends only what is still missing; every tree is
// therefore descended, even one the destination indexes (its subtree may be what was missing).
// Commit order is the destination's: packs → index → snapshot objects, so a copy that fails
// part-way leaves no snapshot in the destination that lacks data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/repo/blob_writer.hpp"
#include "velin/repo/repository.hpp"

namespace velin::backup {

struct CopyStats {
  uint64_t snapshots_copied = 0;
  uint64_t snapshots_present = 0;  // already in the destination: skipped
  uint64_t blobs_copied = 0;
  uint64_t blobs_present = 0;  // needed but already in the destination
  uint64_t bytes_copied = 0;   // plaintext bytes of the blobs copied
  uint64_t bytes_stored = 0;   // what the destination's packs hold for them (sent to a remote)
  uint64_t packs_written = 0;
};

// Copies the snapshots `ids` (resolved ids of `source`) into `destination`. A blob travels as
// the source stores it (compressed as it was, and sealed, since both have the same keys), checked
// against its id on the way; a delta blob, or every blob when `recompress`, is decoded and
// stored anew with `options`' compression.
// REQUIRES: both repositories opened, locked and with LoadIndex() done.
Result<CopyStats> CopySnapshots(repo::Repository& source, repo::Repository& destination,
                                const std::vector<std::string>& ids,
                                const repo::BlobWriterOptions& options, Reporter& reporter,
                                bool recompress = false);

// Whether `destination` can hold copies of `source`'s snapshots: an encrypted repository names
// blobs by a keyed hash and seals its snapshot objects, so when either is encrypted both must
// have the same repository id and cipher (the destination was created from the source, or is an
// earlier copy of it). A usage error (exit 2) otherwise.
Status CheckCopyKeys(repo::Repository& source, repo::Repository& destination);

}  // namespace velin::backup
