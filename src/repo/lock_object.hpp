// What the two halves of the repository lock share: lock.cpp takes, refreshes and judges locks;
// lock_record.cpp reads and writes a lock object's body and probes the storage's clock.
#pragma once

#include <string>

#include "velin/storage/backend.hpp"

namespace velin::repo {

// Our own lock object goes, also when the run was asked to stop (its requests would be aborted):
// left behind, it would block other hosts until it is stale.
void RemoveLockObject(storage::Backend& backend, const std::string& name);

}  // namespace velin::repo
