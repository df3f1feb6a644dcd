// The key objects of a copy of an encrypted repository (`velin backup copy`, `backup.offsite`).
// A copy is created with its source's key objects (the same master key, the same passphrases,
// docs/encryption.md "Key objects"); when `backup key passwd`, `add` or `remove` later changes
// the source's, MatchCopyKeys brings an existing copy's in line again, so the passphrase that
// opens the source keeps opening its copies. Key objects travel byte for byte: each wraps the
// master key both repositories share (CheckCopyKeys has established that they are one
// repository), so a copy gains no passphrase that does not already open its source.
#pragma once

#include <string>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/lock.hpp"
#include "velin/storage/backend.hpp"

namespace velin::backup {

// What MatchCopyKeys changed in the destination: the ids of the key objects it put there and of
// those it deleted there.
struct CopyKeyChanges {
  std::vector<std::string> added;
  std::vector<std::string> removed;
};

// Whether `destination` holds exactly the key objects (by name) of `source`. Read without a
// lock: a false here is what makes MatchCopyKeys, under the lock, worth taking.
Result<bool> CopyKeysMatch(storage::Backend& source, storage::Backend& destination);

// Puts into `destination` the key objects of `source` it lacks, then deletes those `source` no
// longer has (a passphrase changed or removed there stops opening the copy too: docs/cli.md,
// "backup copy"). Puts come first, so a failure part-way leaves every passphrase that opened
// either repository working. Nothing is done when `source` has no key objects (unencrypted).
// REQUIRES: CheckCopyKeys passed for the two configs; `lock` is the destination's exclusive lock
// (as `backup key` takes it: two key changes at once could leave it none), checked before the
// puts and before the deletes; the source's keys do not change meanwhile (its shared lock held).
Result<CopyKeyChanges> MatchCopyKeys(storage::Backend& source, storage::Backend& destination,
                                     repo::RepoLock& lock);

}  // namespace velin::backup
