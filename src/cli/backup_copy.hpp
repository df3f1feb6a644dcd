// `velin backup copy` and the offsite copy that `backup create` runs when backup.offsite is
// set (backup/after_create.hpp): both copy snapshots of the configured repository to another
// one (a directory or an s3://, sftp://, ftp:// URL) through backup::CopySnapshots.
#pragma once

#include <string>
#include <vector>

#include "backup_common.hpp"
#include "velin/backup/after_create.hpp"
#include "velin/backup/snapshot_copier.hpp"

namespace velin::cli {

// Copies `ids` (or, when `ids` is empty, every snapshot `latest_of` selects, and every one
// that cannot be read, whose host and app are unknown) of the repository `source` names to
// `to`, creating the destination repository when it does not exist. "latest" among `ids` is
// the newest backup `latest_of` selects. `recompress`: blobs are stored anew with the
// configured compression instead of as the source stores them.
Result<backup::CopyStats> CopyToRepository(Context& ctx, const RepoFlags& source,
                                           const std::vector<std::string>& ids,
                                           const std::string& to,
                                           const repo::SnapshotFilter& latest_of,
                                           bool recompress = false);

// create's offsite copy (backup::CopyOffsite) in its --json document: null when none was due,
// {"to", "error"} when it failed, else {"to", "blobs_copied", "bytes_copied", "bytes_stored"}
// and "as": the backup's id there when it differs (backup::CopyRename).
nlohmann::json OffsiteJson(const backup::OffsiteCopy& offsite);

// The snapshots in the destination under another id, for --json:
// [{"id", "as", "host", "copied"}, ...] (backup::CopyRename).
nlohmann::json RenamedJson(const backup::CopyStats& stats);
// One line a snapshot in `to` under another id (the id the user restores it by there): a
// warning when this copy stored it so, a note when an earlier copy did.
void ReportRenamed(output::Console& out, const backup::CopyStats& stats, const std::string& to);

void RegisterBackupCopy(CLI::App& group, Context& ctx);

}  // namespace velin::cli
