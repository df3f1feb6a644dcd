// The sweep of abandoned temp objects (issue 16): a writer killed mid-Put (kill -9, power loss)
// leaves "<name>.tmp-…" behind; the next create or prune removes those of dead writers
// (storage::Backend::RemoveStaleTemps, docs/storage.md "Temp files"). Not being able to is a
// warning, never a failed command: the backup or prune it follows stands. The same for what a
// killed restore test left in $TMPDIR.
#pragma once

#include "velin/cli/context.hpp"
#include "velin/storage/backend.hpp"

namespace velin::cli {

void RemoveStaleTemps(Context& ctx, storage::Backend& backend);

// A restore test's temporary directory, "velin-restore-test-<pid>-<tag>-XXXXXX" under $TMPDIR
// (io::WriterMark): made by MakeRestoreTestDir, removed by its run, or, when that run was killed
// (kill -9, the OOM killer) with a whole copy of a backup's files in it, by the next restore
// test's RemoveDeadRestoreTestDirs. Only directories of that name whose run is provably gone
// (io::IsDeadWriter) go: a live run's, another host's or one from before a reboot stay.
Result<std::string> MakeRestoreTestDir(Context& ctx);
void RemoveDeadRestoreTestDirs(Context& ctx);

}  // namespace velin::cli
