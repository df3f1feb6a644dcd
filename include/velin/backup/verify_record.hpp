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
#include "velin/repo/snapshot.hpp"
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
  // The same outcome per host and application whose backups the verify covered ("groups" in
  // the object): `backup status` judges its own, so that another app's verify of the shared
  // repository neither clears its alarm nor counts as its verify. `has_groups` is false for a
  // record an older velin wrote (status then judges the repository-wide fields above).
  struct Group {
    std::string host;
    std::string app;
    int64_t last_time = 0;
    bool last_ok = false;
    int64_t last_ok_time = 0;
    // While the last verify failed: the Unix time of the newest backup it covered ("failed_newest"
    // in the object; 0: none recorded, as an older velin wrote it). A verify that passes clears
    // the failure only when it covered a backup as new: one of an older backup says nothing of
    // the newer one found damaged.
    int64_t failed_newest = 0;
  };
  std::vector<Group> groups;  // at most kMaxVerifyGroups
  bool has_groups = false;
};

inline constexpr size_t kMaxVerifyGroups = 10000;

// The host and application of backups a verify checked.
struct VerifiedGroup {
  std::string host;
  std::string app;
  int64_t newest = 0;  // the Unix time of the newest of its backups the verify checked
  bool operator==(const VerifiedGroup&) const = default;
};

// What one verify learnt of the packs it read. A pack it did not read keeps what an earlier
// verify recorded of it: a verify of one backup must not forget another's damage.
struct PackVerdicts {
  std::vector<repo::BlobId> whole;    // read and found whole
  std::vector<repo::BlobId> damaged;  // read and found damaged
  std::vector<repo::BlobId> gone;     // no longer in the repository: recorded as damaged
};

// nullopt when no verify was recorded; a damaged record counts as none.
Result<std::optional<VerifyRecord>> LoadVerifyRecord(storage::Backend& backend);
Status RecordVerify(storage::Backend& backend, int64_t now, bool ok, size_t backups,
                    bool restore_test, const PackVerdicts& packs = {},
                    const std::vector<VerifiedGroup>& covered = {});
// What the record says of the backups `filter` selects: the fields of their groups (the last
// verify of any of them, ok when each one's last was, its last ok time the oldest of theirs);
// none when the record has groups and none of them matches; the record as it is when it has
// no groups (an older velin's).
std::optional<VerifyRecord> VerifyRecordFor(const VerifyRecord& record,
                                            const repo::SnapshotFilter& filter);
// Drops `gone` (packs prune deleted or found missing) from the record's damaged packs. Writes
// only when that changes the record.
Status ForgetDamagedPacks(storage::Backend& backend, std::vector<repo::BlobId> gone);

}  // namespace velin::backup
