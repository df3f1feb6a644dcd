// Shared by the `velin backup …` command files: opening the configured repository with a lock.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "velin/backup/after_create.hpp"
#include "velin/cli/context.hpp"
#include "velin/output/console.hpp"
#include "velin/repo/lock.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/backend.hpp"

namespace velin::cli {

// Flags every repository command takes.
struct RepoFlags {
  std::string destination;  // --destination (else backup.destination)
  std::string lock_wait = "0s";
  bool no_lock = false;  // --no-lock (list, restore, verify): read without a shared lock
};

void AddRepoFlags(CLI::App* cmd, RepoFlags& flags);
// --no-lock, for the commands that only read (list, restore, verify).
void AddNoLockFlag(CLI::App* cmd, RepoFlags& flags);

// --host / --app (and --all): whose backups a command works on (docs/cli.md, "Hosts and
// applications"). Unset, they are [app] host and [app] name.
struct SelectFlags {
  std::string host;
  std::string app;
  bool all = false;
  CLI::Option* host_option = nullptr;
  CLI::Option* app_option = nullptr;
};

// Adds --host and --app, and with `with_all` --all (verify and copy have an --all of their own:
// every backup).
void AddSelectFlags(CLI::App* cmd, SelectFlags& flags, bool with_all);
// The filter the flags and [app] make; --all with --host or --app is a usage error.
Result<repo::SnapshotFilter> FilterOf(const config::Config& cfg, const SelectFlags& flags);
// A path in a backup as a user may write it (restore --only, ls, dump) in the spelling backups
// record: "./storage//uploads/" is "storage/uploads", and so is the absolute path of
// app.root/storage/uploads (copied from a shell). Anything else stays as given, for the
// command to refuse with its own message.
std::string PathInBackup(const config::Config& cfg, std::string path);

// An open repository with its lock; members are destroyed in reverse order (lock first).
using OpenRepo = backup::OpenedRepository;

// Opens (with `create`, initialises) the repository, takes the lock and loads the index. A
// shared lock of a command that only reads (not `create`) that cannot be written because the
// repository is read-only (EROFS, EACCES/EPERM, HTTP 403) is a warning, and the command goes on
// without it; so it does with --no-lock. The lock guards every commit (Repository::
// SetCommitGuard): a run whose lock is lost stops before it commits. Commands that read only
// snapshots (list, forget) pass IndexUse::kNone: the index is every index object of the
// repository (one per backup), read and hash-checked for nothing. A damaged index object is a
// warning at kLoad (a read that needs one of its blobs names it too); verify and prune, which
// report it themselves, pass kLoadUnwarned. `create` passes kLoadListingPacks: the packs are
// listed too, and those gone are not taken as stored (Repository::PackCheck::kAll); into an
// SFTP/FTP repository, where that listing is slow, it passes kLoadDroppingDamaged: only the
// packs a verify found damaged are not taken as stored (PackCheck::kDamaged).
enum class IndexUse { kLoad, kLoadUnwarned, kNone, kLoadListingPacks, kLoadDroppingDamaged };
// index().missing_packs() less the damaged_packs(): the packs gone from the storage or cut
// short, as opposed to those there that a verify found damaged (PackCheck::kAll).
std::vector<repo::BlobId> PacksGoneOrShort(const repo::Repository& repo);
// `backend`, if given, is the repository's backend already open (its connections kept).
Result<OpenRepo> OpenRepository(Context& ctx, const RepoFlags& flags, repo::LockKind kind,
                                bool create, IndexUse index = IndexUse::kLoad,
                                std::shared_ptr<storage::Backend> backend = nullptr);

// --lock-wait as a duration (exit 2 when it is none). Also the commit lock's wait (at least
// repo::kMinCommitLockWait).
Result<std::chrono::milliseconds> LockWaitOf(const RepoFlags& flags);

// Takes a lock of `kind` on the repository `backend` is, waiting up to `lock_wait` (--lock-wait:
// a duration, "0s" by default): exit 3, naming the holder, when another velin holds a
// conflicting one. For the commands that change a repository without opening it (`key`).
Result<std::unique_ptr<repo::RepoLock>> LockRepository(Context& ctx, storage::Backend& backend,
                                                       repo::LockKind kind,
                                                       const std::string& lock_wait);

// How to create (with `encryption`: "aes-256-gcm" | "chacha20-poly1305" | "none") or unlock
// the repository: the passphrase is read from backup.password_env / password_file only when
// needed. Defined in backup_key_cmd.cpp.
Result<repo::RepoKeyOptions> RepoKeyOptionsFor(Context& ctx, const config::Config& cfg,
                                               const std::string& encryption);

// One warning per key that opened with the passphrase but belongs to another repository
// (repo::RepositoryKey::foreign), once per key in a process. Defined in backup_key_cmd.cpp.
void WarnForeignKeys(Context& ctx, const storage::Backend& backend,
                     const std::vector<std::string>& foreign, repo::ForeignKeyEvidence told_by);

// What `config check` asks of the passphrase settings when backup.encryption is on: what the
// commands would refuse (none named, a file or variable that holds an empty one), save a
// variable unset here, which cron's environment may set. Reads the passphrase and forgets it.
// Defined in backup_key_cmd.cpp.
Status CheckPassphraseSource(const config::Config& cfg);

// The destination of `backup copy` when it does not exist yet: created with the source's config
// and key objects (the same master key, chunker and passphrases). An encrypted repository names
// blobs by a keyed hash and seals its snapshot objects, so a copy under other keys would be
// unreadable. An existing destination is left as it is.
Status CreateCopyDestination(Context& ctx, const RepoFlags& flags, storage::Backend& source);
// The destination `to` of a copy of the repository `flags` name (`backup copy --to`,
// backup.offsite), created as above when it does not exist, under a shared lock, index loaded.
Result<OpenRepo> OpenCopyDestination(Context& ctx, const RepoFlags& flags, const std::string& to,
                                     storage::Backend& source);

// `path` made absolute against the current directory, without "." parts or extra slashes; a current
// directory that cannot be read (removed meanwhile) is an error naming `path`.
Result<std::string> FromCurrentDirectory(const std::string& path);

// The repository the flags name: --destination, else backup.destination; a local one made
// absolute. Not opened.
Result<std::string> ResolveDestination(const config::Config& cfg, const RepoFlags& flags);

// The storage options of velin.toml ([s3], [sftp], backup.allow_insecure) for OpenBackend.
storage::BackendOptions BackendOptionsFrom(const config::Config& cfg);

// Opens the repository without a lock and without loading the index (status, unlock).
Result<OpenRepo> OpenRepositoryUnlocked(Context& ctx, const RepoFlags& flags, bool create,
                                        std::shared_ptr<storage::Backend> backend = nullptr);

// The repositories `backup create`'s follow-up steps (backup/after_create.hpp) open, as the
// other commands open them: the configured one (--destination, --lock-wait) and its offsite
// copy. Forget + prune wait at least 60 s for the exclusive lock: a verify may be finishing.
class CreateFollowUpRepos : public backup::AfterCreateRepos {
 public:
  // `backend`: the configured repository's, already open; the steps open it again on it, so
  // that a remote repository is not connected to anew (0.4 s to SFTP 20 ms away).
  // `committed`: the create's repository, which forget decides on before it locks.
  CreateFollowUpRepos(Context& ctx, const RepoFlags& flags,
                      std::shared_ptr<storage::Backend> backend, repo::Repository* committed)
      : ctx_(ctx), flags_(flags), backend_(std::move(backend)), committed_(committed) {}
  Result<OpenRepo> OpenSource() override;
  Result<OpenRepo> OpenCopyDestination(const std::string& to, storage::Backend& source) override;
  Result<OpenRepo> OpenExclusive() override;
  repo::Repository* Committed() override { return committed_; }

 private:
  Context& ctx_;
  RepoFlags flags_;
  std::shared_ptr<storage::Backend> backend_;
  repo::Repository* committed_;
};

// The `--json` documents of a prune (backup_prune_cmd.cpp) and of create's forget + prune:
// null when it did not run, {"error"} when it failed, else {"forgotten"[, "prune"]}.
nlohmann::json PruneJson(const backup::PruneResult& r, bool dry_run);
nlohmann::json MaintenanceJson(const std::optional<backup::Maintenance>& m);
// "N old backup(s) forgotten, … freed" after create's forget + prune, when it pruned.
void PrintMaintenance(output::Console& out, const std::optional<backup::Maintenance>& m);

// A backup (`backup create`, `rollback begin --backup`) stops cleanly on SIGINT, SIGTERM or
// SIGHUP (core/termination.hpp): the line written when one arrives, and the failure it becomes
// when the backup stopped before its commit.
std::string BackupStopNotice();
tl::unexpected<Error> BackupInterrupted();
// The same for a restore (`backup restore`, from its confirmation on).
std::string RestoreStopNotice();
tl::unexpected<Error> RestoreInterrupted();

void RegisterBackupInit(CLI::App& group, Context& ctx);
void RegisterBackupCreate(CLI::App& group, Context& ctx);
void RegisterBackupList(CLI::App& group, Context& ctx);
void RegisterBackupRestore(CLI::App& group, Context& ctx);
void RegisterBackupVerify(CLI::App& group, Context& ctx);
void RegisterBackupForget(CLI::App& group, Context& ctx);   // backup_forget_cmd.cpp (ops)
void RegisterBackupPrune(CLI::App& group, Context& ctx);    // backup_prune_cmd.cpp
void RegisterBackupStatus(CLI::App& group, Context& ctx);   // backup_status_cmd.cpp
void RegisterBackupUnlock(CLI::App& group, Context& ctx);   // backup_unlock_cmd.cpp
void RegisterBackupUpgrade(CLI::App& group, Context& ctx);  // backup_upgrade_cmd.cpp

}  // namespace velin::cli
