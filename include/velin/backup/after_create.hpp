// What `velin backup create` does once its snapshot is committed (docs/cli.md "backup.offsite",
// docs/config.md "prune_after_create"): the follow-up steps, the rule for each step's failure, and
// one record of what happened (AfterCreateResult, which the command prints). In this order, with
// the command's hooks between 2 and 3:
//   1. the offsite copy (CopyOffsite): the new snapshot into backup.offsite, as
//      `backup copy ID --to …` does it. The local snapshot is committed before the copy starts,
//      so a failure (the destination unreachable or with other keys, a transfer failing half-way)
//      never harms it: it is the create's exit 1, "backup ID was created, but the offsite copy to
//      … failed: …", and the copy's commit order leaves no snapshot offsite that lacks data.
//      The backup stays noted as due offsite in the source repository until its copy goes
//      through, and the next create's copy catches it up (unless it was forgotten meanwhile);
//   2. the create's outcome (also CopyOffsite): Ok when the backup is complete; otherwise its one
//      error line, where a missing database (--continue-on-error) outranks an offsite failure;
//   3. forget + prune (MaintainAfterCreate), only when the backup is complete and
//      prune_after_create is on, with the create's own lock released: forgets by the retention
//      rules in this host's and app's groups only and, when that forgot a backup, prunes, under
//      the exclusive lock (taken only when a backup is due to go: AfterCreateRepos::Committed).
//      Never the create's failure: an error is a warning, kept in the record.
// The engine opens no repository itself: the caller knows the backends, keys and locks and opens
// them on request (AfterCreateRepos).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "velin/backup/pruner.hpp"
#include "velin/backup/retention_policy.hpp"
#include "velin/backup/snapshot_copier.hpp"
#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/blob_writer.hpp"
#include "velin/repo/lock.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/backend.hpp"

namespace velin::backup {

// A repository opened for one step, with what keeps it open. Members go in reverse order, so
// destroying it releases the lock first.
struct OpenedRepository {
  // Shared: `backup create`'s follow-up steps open the repository again on the same backend
  // (its connections to a remote server kept).
  std::shared_ptr<storage::Backend> backend;
  std::unique_ptr<repo::Repository> repo;
  std::unique_ptr<repo::RepoLock> lock;  // null when read without one
};

// Opens the repositories of the follow-up steps; implemented by the command (velin.toml, keys,
// --lock-wait), and by the tests on a MemEnv. Each step closes what it opened before it returns.
class AfterCreateRepos {
 public:
  virtual ~AfterCreateRepos() = default;
  // The repository the snapshot was committed to, under a shared lock, its index loaded: the
  // source of the offsite copy.
  virtual Result<OpenedRepository> OpenSource() = 0;
  // The offsite repository `to` under a shared lock, its index loaded; created with `source`'s
  // config and keys when it does not exist (so that an encrypted copy stays readable).
  virtual Result<OpenedRepository> OpenCopyDestination(const std::string& to,
                                                       storage::Backend& source) = 0;
  // The repository under the exclusive lock, its index not loaded: forget needs none, and the
  // prune after it loads it (most runs forget nothing, and an index of hundreds of objects is
  // then not read a second time).
  virtual Result<OpenedRepository> OpenExclusive() = 0;
  // The repository the snapshot was committed to, as the create left it (its lock released), or
  // nullptr. Forget first decides on it, unlocked, whether any backup is due to go, and takes
  // the exclusive lock only then: most runs forget nothing, and the lock is five requests to a
  // remote repository (0.4 s to SFTP 20 ms away). Reading unlocked is safe for that decision: a
  // snapshot that another command removes meanwhile reads as unreadable, and an unreadable one
  // sends forget the locked way (which names it).
  virtual repo::Repository* Committed() { return nullptr; }
};

// The follow-up steps as configured (cli::PlanCreate maps velin.toml to them).
struct AfterCreateOptions {
  std::string offsite;                     // backup.offsite: "" copies nothing
  repo::BlobWriterOptions offsite_writer;  // how the packs offsite are compressed
  bool prune_after_create = false;
  RetentionRules rules;       // none set (nor keep_transaction_backups): nothing is forgotten
  repo::SnapshotFilter mine;  // the groups forget works in: [app] host and name
  PruneOptions prune;         // backup.repack_threshold
};

// Step 1's record.
struct OffsiteCopy {
  std::string to;                   // options.offsite ("": no copy was due)
  std::optional<CopyStats> copied;  // the copy went through
  // Earlier backups whose own offsite copy had failed, copied now (oldest first).
  std::vector<std::string> caught_up;
  // It failed, or catching up an earlier backup did: exit 1, naming the backup and `to`.
  std::optional<Error> error;
};

// Step 3's record.
struct Maintenance {
  size_t forgotten = 0;              // snapshots forget deleted
  std::optional<PruneResult> prune;  // pruned: forget forgot a backup
  std::optional<Error> error;        // forget or prune failed (a warning was reported)
};

struct AfterCreateResult {
  std::string created;  // the backup's id: step 3 never forgets it
  OffsiteCopy offsite;
  Status outcome;         // step 2: Ok when the backup is complete, else the create's error
  bool maintain = false;  // step 3 is due: complete and prune_after_create
  // What step 3 did; nullopt when it did not run or no retention rule is set.
  std::optional<Maintenance> maintenance;
};

// Notes in `source` (the repository backed up to) that backup `id` is due at options.offsite
// (state/offsite-pending/ID). `backup create` does it under the commit lock before the snapshot
// is written: noted only after the commit, a create killed in between left a backup that no
// later create copied offsite, without a word. A note whose backup was never written is dropped
// by the next create's catching up.
Status NoteDueOffsite(const AfterCreateOptions& options, storage::Backend& source,
                      const std::string& id);

// Steps 1 and 2 for the committed snapshot `id`. `database_failure` is the database dump's
// error under --continue-on-error (nullptr: the database is in the backup, or none is
// configured). Progress goes to `reporter`.
AfterCreateResult CopyOffsite(const AfterCreateOptions& options, const std::string& id,
                              const Error* database_failure, AfterCreateRepos& repos, io::Env& env,
                              Reporter& reporter);

// Step 3, when `result.maintain`: fills `result.maintenance`. A failure is reported as a
// warning ("the backup stands, but forget/prune after it failed: …") and leaves `outcome` as it
// is.
// REQUIRES: the create's own lock is released (the exclusive lock would wait for it).
void MaintainAfterCreate(const AfterCreateOptions& options, AfterCreateRepos& repos, io::Env& env,
                         Reporter& reporter, AfterCreateResult& result);

// Whether the repository locations `a` and `b` (absolute paths or URLs, as the config resolves
// them) are one repository: URLs compared as the offsite notes compare them, decoded as velin
// opens them ("s3://b/p/" and "s3://b/%70" are "s3://b/p"); paths as the same directory (a
// symlink or bind mount to it too) and, below the part that exists yet, the same names. A copy from
// one to the other copies nothing: it is no second copy, and saying "copied" would let the user
// believe there is one.
bool SameRepositoryLocation(io::Env& env, const std::string& a, const std::string& b);

}  // namespace velin::backup
