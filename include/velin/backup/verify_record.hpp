// The verify record: the repository object "state/verify" (JSON) remembers the outcome of the
// last `backup verify` and the time of the last successful one, so `backup status` can tell
// whether verification is overdue (monitor.max_verify_age) from any host, and the packs verifies
// found damaged, which `create` then does not count as storing anything (repo/damaged_packs.hpp).
// It is written with one durable Put (read-modify-write, no lock beyond verify's shared one: two
// verifies finishing together may lose one record, never corrupt it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/blob_id.hpp"
#include "velin/repo/damaged_packs.hpp"
#include "velin/storage/backend.hpp"

namespace velin::backup {

using repo::kVerifyRecordObject;

struct VerifyRecord {
  int64_t last_time = 0;  // Unix seconds of the last verify (0: none recorded)
  bool last_ok = false;
  size_t last_backups = 0;
  bool last_restore_test = false;
  int64_t last_ok_time = 0;  // Unix seconds of the last successful verify (0: none)
  // Sorted; at most repo::kMaxDamagedPacks.
  std::vector<repo::BlobId> damaged_packs;
};

// What one verify learnt of the packs it read. A pack it did not read keeps what an earlier
// verify recorded of it: a verify of one backup must not forget another's damage.
struct PackVerdicts {
  std::vector<repo::BlobId> whole;    // read and found whole
  std::vector<repo::BlobId> damaged;  // read and found damaged
  std::vector<repo::BlobId> gone;     // no longer in the repository
};

// nullopt when no verify was recorded; a damaged record counts as none.
Result<std::optional<VerifyRecord>> LoadVerifyRecord(storage::Backend& backend);
Status RecordVerify(storage::Backend& backend, int64_t now, bool ok, size_t backups,
                    bool restore_test, const PackVerdicts& packs = {});
// Drops `gone` (packs prune deleted or found missing) from the record's damaged packs. Writes
// only when that changes the record.
Status ForgetDamagedPacks(storage::Backend& backend, std::vector<repo::BlobId> gone);

}  // namespace velin::backup
