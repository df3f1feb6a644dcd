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

// Copies `ids` (or every snapshot when `ids` is empty) of the repository `source` names to
// `to`, creating the destination repository when it does not exist. "latest" among `ids` is
// the newest backup `latest_of` selects. `recompress`: blobs are stored anew with the
// configured compression instead of as the source stores them.
Result<backup::CopyStats> CopyToRepository(Context& ctx, const RepoFlags& source,
                                           const std::vector<std::string>& ids,
                                           const std::string& to,
                                           const repo::SnapshotFilter& latest_of,
                                           bool recompress = false);

// create's offsite copy (backup::CopyOffsite) in its --json document: null when none was due,
// {"to", "error"} when it failed, else {"to", "blobs_copied", "bytes_copied", "bytes_stored"}.
nlohmann::json OffsiteJson(const backup::OffsiteCopy& offsite);

void RegisterBackupCopy(CLI::App& group, Context& ctx);

}  // namespace velin::cli
