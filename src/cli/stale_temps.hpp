// The sweep of abandoned temp objects (issue 16): a writer killed mid-Put (kill -9, power loss)
// leaves "<name>.tmp-…" behind; the next create or prune removes those of dead writers
// (storage::Backend::RemoveStaleTemps, docs/storage.md "Temp files"). Not being able to is a
// warning, never a failed command: the backup or prune it follows stands.
#pragma once

#include "velin/cli/context.hpp"
#include "velin/storage/backend.hpp"

namespace velin::cli {

void RemoveStaleTemps(Context& ctx, storage::Backend& backend);

}  // namespace velin::cli
