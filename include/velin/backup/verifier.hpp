// The verifier: proves that backups can be restored. It checks structure — every index object
// and snapshot reads and matches its checksum, every tree decodes, every blob a snapshot needs
// is in the index and in an existing pack — and then reads every needed pack once, checks the
// pack's hash against its name and each blob's hash against its id. Each problem is one line
// naming the object and the backups and paths it affects.
#pragma once

#include <string>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/repo/repository.hpp"

namespace velin::backup {

struct VerifyReport {
  std::vector<std::string> snapshots;  // ids checked
  // The (host, application) of the backups checked, each once: the verify record's groups.
  std::vector<std::pair<std::string, std::string>> groups;
  // For each of `groups`: the Unix time of the newest of its backups checked.
  std::vector<int64_t> groups_newest;
  std::vector<std::string> problems;  // empty when everything is intact
  uint64_t blobs_checked = 0;
  uint64_t packs_checked = 0;
  uint64_t bytes_checked = 0;
  // The packs read: found whole, found damaged (a blob or the pack's hash does not check, the
  // pack is shorter than its index says), found gone. For the verify record's damaged packs
  // (verify_record.hpp), which `create` stores the blobs of again.
  std::vector<repo::BlobId> packs_whole;
  std::vector<repo::BlobId> packs_damaged;
  std::vector<repo::BlobId> packs_gone;
};

// `ids` empty: every snapshot (and every index object). REQUIRES: repo.LoadIndex() done.
Result<VerifyReport> VerifyBackups(repo::Repository& repo, Reporter& reporter,
                                   const std::vector<std::string>& ids);

}  // namespace velin::backup
