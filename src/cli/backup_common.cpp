#include "backup_common.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <thread>

#include "velin/backup/archiver.hpp"
#include "velin/backup/copy_keys.hpp"
#include "velin/backup/snapshot_copier.hpp"
#include "velin/core/duration.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/core/threads.hpp"
#include "velin/crypto/secret.hpp"
#include "velin/storage/remote_url.hpp"

namespace velin::cli {

void AddRepoFlags(CLI::App* cmd, RepoFlags& flags) {
  cmd->add_option("--destination", flags.destination,
                  "Repository directory or URL (default: backup.destination)");
  cmd->add_option("--lock-wait", flags.lock_wait,
                  "How long to wait for another velin's lock (e.g. 30s; default 0)");
}

void AddNoLockFlag(CLI::App* cmd, RepoFlags& flags) {
  cmd->add_flag("--no-lock", flags.no_lock,
                "Read without taking the shared lock (a read-only repository; a prune running "
                "meanwhile may remove what this reads)");
}

void AddSelectFlags(CLI::App* cmd, SelectFlags& flags, bool with_all) {
  flags.host_option = cmd->add_option("--host", flags.host,
                                      "Work on the backups of this host (default: [app] host, "
                                      "this machine; without a velin.toml every host)");
  flags.app_option = cmd->add_option(
      "--app", flags.app,
      "Work on the backups of this application (default: [app] name; without a velin.toml every "
      "application; '' for backups of older velins, which recorded none)");
  if (with_all) {
    cmd->add_flag("--all", flags.all, "Work on the backups of every host and application");
  }
}

std::string PathInBackup(const config::Config& cfg, std::string path) {
  if (path.empty()) return path;
  if (path[0] == '/') {
    const std::string root = cfg.app.root == "/" ? "/" : cfg.app.root + "/";
    if (cfg.file.empty() || !path.starts_with(root) || path.size() == root.size()) return path;
    path = path.substr(root.size());
  }
  std::string normal = backup::NormalizeInclude(path);
  return normal.empty() ? path : normal;
}

Result<repo::SnapshotFilter> FilterOf(const config::Config& cfg, const SelectFlags& flags) {
  const bool host_set = flags.host_option != nullptr && flags.host_option->count() > 0;
  const bool app_set = flags.app_option != nullptr && flags.app_option->count() > 0;
  if (flags.all && (host_set || app_set)) {
    return UsageError(
        std::string(Tr("--all means every host and application; leave out --host and --app")));
  }
  repo::SnapshotFilter f;
  // A repository alone (--repo, no velin.toml) is a new machine's look at a lost one's
  // backups: its own host and app name (this machine's, the current directory's) mean nothing
  // there, so every backup is in view and --host / --app only narrow: --host web1 alone is
  // every app of web1.
  const bool alone = cfg.file.empty();
  f.all = flags.all || (alone && !host_set && !app_set);
  f.host = host_set ? flags.host : cfg.app.host;
  f.app = app_set ? flags.app : cfg.app.name;
  f.any_host = alone && !host_set;
  f.any_app = alone && !app_set;
  if (f.any_host) f.host.clear();
  if (f.any_app) f.app.clear();
  f.latest_of_one_group = alone && !flags.all && !host_set && !app_set;
  return f;
}

namespace {
// For tests only: VELIN_TEST_LOCK_REFRESH_MS refreshes locks that often instead of every 5 min.
repo::LockOptions LockOptionsFor(io::Env& env, std::chrono::milliseconds wait) {
  repo::LockOptions o;
  o.wait = wait;
  if (auto ms = env.GetEnv("VELIN_TEST_LOCK_REFRESH_MS"); ms && !ms->empty()) {
    o.refresh_every = std::chrono::milliseconds(std::max(10L, std::atol(ms->c_str())));
  }
  return o;
}

bool ReadOnlyError(const Error& e) {
  return e.sys_errno == EROFS || e.sys_errno == EACCES || e.sys_errno == EPERM;
}

}  // namespace

storage::BackendOptions BackendOptionsFrom(const config::Config& cfg) {
  storage::BackendOptions o;
  o.s3_endpoint = cfg.s3.endpoint;
  o.s3_region = cfg.s3.region;
  o.s3_path_style = cfg.s3.path_style;
  o.s3_credentials_file = cfg.s3.credentials_file;
  o.s3_parallel_uploads = cfg.s3.parallel_uploads;
  o.sftp_key_file = cfg.sftp.key_file;
  o.sftp_known_hosts = cfg.sftp.known_hosts;
  o.sftp_key_passphrase_env = cfg.sftp.key_passphrase_env;
  o.sftp_key_passphrase_file = cfg.sftp.key_passphrase_file;
  o.allow_insecure = cfg.backup.allow_insecure;
  o.replaced_in_place = repo::ObjectsReplacedInPlace();
  return o;
}

namespace {
Result<Duration> ParseLockWait(const std::string& lock_wait) {
  auto wait = ParseDuration(lock_wait);
  if (!wait) {
    return UsageError(
        TrFormat("--lock-wait '{}' is not a duration (e.g. 30s; at most 36500d)", lock_wait));
  }
  return *wait;
}
}  // namespace

Result<std::chrono::milliseconds> LockWaitOf(const RepoFlags& flags) {
  return ParseLockWait(flags.lock_wait);
}

Result<std::unique_ptr<repo::RepoLock>> LockRepository(Context& ctx, storage::Backend& backend,
                                                       repo::LockKind kind,
                                                       const std::string& lock_wait) {
  VELIN_ASSIGN(auto wait, ParseLockWait(lock_wait));
  return repo::RepoLock::Acquire(ctx.env(), backend, kind, LockOptionsFor(ctx.env(), wait));
}

namespace {

// Whoever holds the storage can put an unencrypted repository where an encrypted one was (keys/
// removed and "encryption" dropped from its config, or one made with --encryption none): it
// opens without a passphrase, and a create would write plaintext there. velin.toml saying
// backup.encryption is a cipher is what tells that this is not the repository set up; a
// configured "none" with an encrypted repository is fine, and so is another cipher than the
// one configured (chosen at init; encrypted either way). docs/encryption.md, "Threat model".
Status RequireConfiguredEncryption(repo::Repository& repo, crypto::Cipher configured) {
  if (configured == crypto::Cipher::kNone || repo.encrypted()) return Ok();
  return DamageError(TrFormat(
      "repository {} is not encrypted but backup.encryption is {}: refusing (an encrypted "
      "repository may have been replaced by an unencrypted one; if it was created unencrypted on "
      "purpose, set backup.encryption = \"none\")",
      repo.backend().Location(), crypto::CipherName(configured)));
}

// The lock of OpenRepository, tried once on a thread of its own while Repository::Open derives
// the key (RepoKeyOptions::deriving): that derivation (scrypt, ~0.1 s of one core) and the
// lock's object (written durably: two fsyncs here, one or more round trips to remote storage)
// need nothing of each other, and an encrypted repository's every command waited for both in
// turn. Only a lock had at once is kept: one that another holder keeps out is released and
// left to OpenRepository's own Acquire after the open, with --lock-wait, so that what a wrong
// passphrase, a damaged key or a held lock report, and which comes first, is as before. The
// attempt starts only once the config is read (a repository is there) and only for an encrypted
// one; an unencrypted repository opens, then locks, as before.
class LockWhileDeriving {
 public:
  LockWhileDeriving(io::Env& env, repo::LockKind kind) : env_(env), kind_(kind) {}
  ~LockWhileDeriving() { Join(); }
  LockWhileDeriving(const LockWhileDeriving&) = delete;
  LockWhileDeriving& operator=(const LockWhileDeriving&) = delete;

  // For OpenUnlocked: starts the attempt on `backend` (kept alive as long as the lock is).
  void Start(std::shared_ptr<storage::Backend> backend) {
    if (thread_.joinable() || backend_) return;
    backend_ = std::move(backend);
    auto started = StartThread(
        [this] {
          auto lock = repo::RepoLock::Acquire(env_, *backend_, kind_,
                                              LockOptionsFor(env_, std::chrono::milliseconds(0)));
          if (lock) lock_ = std::move(*lock);
        },
        [](const Error&) {});  // no lock had early: OpenRepository takes it as before
    if (started) thread_ = std::move(*started);
  }
  // The lock had early, if any (then `backend` must be the backend it was taken on).
  std::unique_ptr<repo::RepoLock> Take(const storage::Backend& backend) {
    Join();
    if (backend_.get() != &backend) return nullptr;
    return std::move(lock_);
  }

 private:
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  io::Env& env_;
  const repo::LockKind kind_;
  std::shared_ptr<storage::Backend> backend_;  // declared before lock_: outlives it
  std::unique_ptr<repo::RepoLock> lock_;
  std::thread thread_;
};

Result<OpenRepo> OpenUnlocked(Context& ctx, const RepoFlags& flags, bool create,
                              std::shared_ptr<storage::Backend> backend,
                              LockWhileDeriving* lock_meanwhile) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  OpenRepo r;
  if (backend) {
    r.backend = std::move(backend);
  } else {
    VELIN_ASSIGN(std::string destination, ResolveDestination(*cfg, flags));
    auto opened = storage::OpenBackend(destination, BackendOptionsFrom(*cfg), ctx.env(), create);
    if (!opened && !create && opened.error().sys_errno == ENOENT &&
        !config::IsRemoteDestination(destination)) {
      // A new user's `backup list` before the first backup said only that the directory does
      // not exist; the same line is what a typo or an unmounted disk gives.
      Error missing = opened.error();
      missing.message = TrFormat(
          "{} (no backup made yet? the first 'velin backup create' makes it; else check "
          "backup.destination or --repo, and that its disk is mounted)",
          missing.message);
      return tl::unexpected(std::move(missing));
    }
    VELIN_ASSIGN(r.backend, std::move(opened));
  }
  VELIN_ASSIGN(auto keys, RepoKeyOptionsFor(ctx, *cfg, cfg->backup.encryption));
  if (lock_meanwhile != nullptr) {
    keys.deriving = [lock_meanwhile, b = r.backend] { lock_meanwhile->Start(b); };
  }
  VELIN_ASSIGN(r.repo, repo::Repository::Open(*r.backend, create, keys));
  VELIN_TRY(RequireConfiguredEncryption(*r.repo, keys.cipher));
  WarnForeignKeys(ctx, *r.backend, r.repo->foreign_keys(), r.repo->foreign_keys_told_by());
  return r;
}

}  // namespace

Result<OpenRepo> OpenRepository(Context& ctx, const RepoFlags& flags, repo::LockKind kind,
                                bool create, IndexUse index,
                                std::shared_ptr<storage::Backend> backend) {
  VELIN_ASSIGN(auto wait, ParseLockWait(flags.lock_wait));
  // Only the commands that read have --no-lock; a writer locks whatever its flags say.
  const bool reader = kind == repo::LockKind::kShared && !create;
  const bool locking = !flags.no_lock || !reader;
  LockWhileDeriving early(ctx.env(), kind);
  VELIN_ASSIGN(OpenRepo r,
               OpenUnlocked(ctx, flags, create, std::move(backend), locking ? &early : nullptr));
  if (locking) {
    Result<std::unique_ptr<repo::RepoLock>> lock = early.Take(*r.backend);
    if (!*lock) {
      lock = repo::RepoLock::Acquire(ctx.env(), *r.backend, kind, LockOptionsFor(ctx.env(), wait));
    }
    if (lock) {
      r.lock = std::move(*lock);
      r.repo->SetCommitGuard([l = r.lock.get()] { return l->Check(); });
      // The config was read before the lock: a `backup upgrade` may have raised its format
      // version since (then a create stored no extended attributes, saying the repository was
      // still at the old version). Under our lock no upgrade runs: read it again.
      if (!reader) VELIN_TRY(r.repo->ReloadConfig());
    } else if (reader && ReadOnlyError(lock.error())) {
      ctx.out().Warn(TrFormat("cannot write a lock in {} ({}); reading without one",
                              r.backend->Location(), lock.error().message));
      // Without a lock of its own it still waits for (and then refuses, exit 3) a live
      // exclusive one: a prune deleting the packs it is about to read.
      VELIN_TRY(repo::RepoLock::WaitUnlocked(ctx.env(), *r.backend, kind,
                                             LockOptionsFor(ctx.env(), wait)));
    } else {
      return tl::unexpected(lock.error());
    }
  }
  if (index != IndexUse::kNone) {
    VELIN_TRY(r.repo->LoadIndex(
        index == IndexUse::kLoadListingPacks      ? repo::Repository::PackCheck::kAll
        : index == IndexUse::kLoadDroppingDamaged ? repo::Repository::PackCheck::kDamaged
                                                  : repo::Repository::PackCheck::kDuplicates));
  }
  if (index == IndexUse::kLoad || index == IndexUse::kLoadListingPacks ||
      index == IndexUse::kLoadDroppingDamaged) {
    for (const auto& d : r.repo->index_damage()) {
      ctx.out().Warn(TrFormat(
          "index object {} is damaged ({}): the blobs it lists count as not stored (run `velin "
          "backup verify --all`)",
          d.object, d.message));
    }
  }
  return r;
}

Result<std::string> ResolveDestination(const config::Config& cfg, const RepoFlags& flags) {
  std::string destination = flags.destination.empty() ? cfg.backup.destination : flags.destination;
  if (destination.empty()) return UsageError(std::string(Tr("no backup.destination configured")));
  if (config::IsRemoteDestination(destination)) return destination;
  return FromCurrentDirectory(destination);
}

Result<std::string> FromCurrentDirectory(const std::string& path) {
  // Without "." parts and doubled or trailing slashes ("./restored/" -> "/srv/restored"), as
  // messages and --json name it; ".." stays (a symlink before it would change its meaning).
  if (!path.empty() && path[0] == '/') return io::CleanPath(path);
  char cwd[4096];
  if (!::getcwd(cwd, sizeof cwd)) {
    return ErrnoError(
        TrFormat("'{}' is relative to the current directory, which cannot be read", path), errno);
  }
  return io::CleanPath(io::JoinPath(cwd, path));
}

namespace {

// "3f2a1b2c3d4e, 9b1c…" for a line; "-" for none.
std::string ShortKeyIds(const std::vector<std::string>& ids) {
  if (ids.empty()) return "-";
  std::vector<std::string> short_ids;
  for (const std::string& id : ids) short_ids.push_back(id.substr(0, 12));
  return fmt::format("{}", fmt::join(short_ids, ", "));
}

// An existing copy of an encrypted source gets the source's key objects again: after `backup key
// passwd` on the source its new passphrase opens none of the copy's, and every later copy failed
// with "wrong passphrase" (backup/copy_keys.hpp). Under the copy's exclusive lock, as `backup
// key` changes keys there, taken only when the keys differ: copies that find them equal keep
// running beside a verify or another copy there.
Status MatchDestinationKeys(Context& ctx, const RepoFlags& flags, storage::Backend& source,
                            storage::Backend& destination) {
  VELIN_ASSIGN(bool match, backup::CopyKeysMatch(source, destination));
  if (match) return Ok();
  const std::string what = TrFormat("updating the key objects of {} to those of {}",
                                    destination.Location(), source.Location());
  auto lock = LockRepository(ctx, destination, repo::LockKind::kExclusive, flags.lock_wait);
  if (!lock) return tl::unexpected(lock.error().Wrap(what));
  auto changes = backup::MatchCopyKeys(source, destination, **lock);
  if (!changes) return tl::unexpected(changes.error().Wrap(what));
  if (changes->added.empty() && changes->removed.empty()) return Ok();
  ctx.out().Warn(TrFormat(
      "updated the key objects of {} to those of {}: added {}, removed {} (a copy opens with its "
      "source's passphrases, no others)",
      destination.Location(), source.Location(), ShortKeyIds(changes->added),
      ShortKeyIds(changes->removed)));
  return Ok();
}

}  // namespace

Status CreateCopyDestination(Context& ctx, const RepoFlags& flags, storage::Backend& source) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(std::string destination, ResolveDestination(*cfg, flags));
  VELIN_ASSIGN(auto backend,
               storage::OpenBackend(destination, BackendOptionsFrom(*cfg), ctx.env(), true));
  VELIN_ASSIGN(auto existing, backend->Stat("config"));
  if (existing) {
    // Compared before the destination is unlocked: with other keys the passphrase may open
    // none of them, and "wrong passphrase" would not say what is wrong.
    VELIN_ASSIGN(repo::RepoConfig ours, repo::Repository::ReadConfig(source));
    VELIN_ASSIGN(repo::RepoConfig theirs, repo::Repository::ReadConfig(*backend));
    VELIN_TRY(backup::CheckCopyKeys(ours, source.Location(), theirs, backend->Location()));
    // The same repository (id and cipher), so the same master key: the source's key objects
    // open it, and after a `backup key` command there only they do.
    if (ours.cipher == crypto::Cipher::kNone) return Ok();
    return MatchDestinationKeys(ctx, flags, source, *backend);
  }
  // Keys first, config last (as init does): the config is what makes it a repository.
  VELIN_ASSIGN(auto keys, source.List("keys/"));
  for (const storage::ObjectInfo& key : keys) {
    VELIN_ASSIGN(std::string bytes, source.Get(key.name));
    VELIN_TRY(backend->Put(key.name, bytes));
  }
  VELIN_ASSIGN(std::string config, source.Get("config"));
  return backend->Put("config", config);
}

Result<OpenRepo> OpenCopyDestination(Context& ctx, const RepoFlags& flags, const std::string& to,
                                     storage::Backend& source) {
  RepoFlags dest_flags = flags;
  dest_flags.destination = to;
  // A copy into the repository it comes from copies nothing, and "copied" would let the user
  // believe a second copy exists (`--to` the destination, backup.offsite the destination).
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(const std::string from_location, ResolveDestination(*cfg, flags));
  VELIN_ASSIGN(const std::string to_location, ResolveDestination(*cfg, dest_flags));
  if (backup::SameRepositoryLocation(ctx.env(), from_location, to_location)) {
    return UsageError(
        TrFormat("{} is the repository the backups are copied from: a copy there "
                 "would be no second copy",
                 storage::WithoutPassword(to)));
  }
  VELIN_TRY(CreateCopyDestination(ctx, dest_flags, source));
  // As create does: packs its index lists that are gone from the destination (a lifecycle rule
  // on the offsite bucket) count as not there, so their blobs are copied again and the copy is
  // whole. Not on SFTP/FTP, for the same reason as in create: there only the packs a verify
  // found damaged count as not there.
  VELIN_ASSIGN(OpenRepo r,
               OpenRepository(ctx, dest_flags, repo::LockKind::kShared, true,
                              storage::IsFileServerUrl(to) ? IndexUse::kLoadDroppingDamaged
                                                           : IndexUse::kLoadListingPacks));
  if (const auto missing = PacksGoneOrShort(*r.repo); !missing.empty()) {
    ctx.out().Warn(TrCount(
        missing.size(),
        "{} pack listed in the index of {} is missing there or truncated ({}); what the "
        "backups copied now need of it is copied again — run 'velin backup verify --all' on it "
        "to see which other backups there are damaged",
        "{} packs listed in the index of {} are missing there or truncated (first: {}); what the "
        "backups copied now need of them is copied again — run 'velin backup verify --all' on it "
        "to see which other backups there are damaged",
        missing.size(), r.backend->Location(), missing.front().Short()));
  }
  if (const auto& damaged = r.repo->damaged_packs(); !damaged.empty()) {
    ctx.out().Warn(TrCount(
        damaged.size(),
        "{} pack of {} that a verify found damaged is not used ({}); what the backups "
        "copied now need of it is copied again",
        "{} packs of {} that a verify found damaged are not used (first: {}); what the backups "
        "copied now need of them is copied again",
        damaged.size(), r.backend->Location(), damaged.front().Short()));
  }
  return r;
}

std::vector<repo::BlobId> PacksGoneOrShort(const repo::Repository& repo) {
  std::vector<repo::BlobId> out;
  const std::vector<repo::BlobId>& damaged = repo.damaged_packs();  // as found: few
  for (const repo::BlobId& pack : repo.index().missing_packs()) {
    if (std::find(damaged.begin(), damaged.end(), pack) == damaged.end()) out.push_back(pack);
  }
  return out;
}

Result<OpenRepo> CreateFollowUpRepos::OpenSource() {
  return OpenRepository(ctx_, flags_, repo::LockKind::kShared, false, IndexUse::kLoadUnwarned,
                        backend_);
}

Result<OpenRepo> CreateFollowUpRepos::OpenCopyDestination(const std::string& to,
                                                          storage::Backend& source) {
  return cli::OpenCopyDestination(ctx_, flags_, to, source);
}

Result<OpenRepo> CreateFollowUpRepos::OpenExclusive() {
  RepoFlags waiting = flags_;
  if (waiting.lock_wait == "0s") waiting.lock_wait = "60s";  // a verify may be finishing
  return OpenRepository(ctx_, waiting, repo::LockKind::kExclusive, false, IndexUse::kNone,
                        backend_);
}

Result<OpenRepo> OpenRepositoryUnlocked(Context& ctx, const RepoFlags& flags, bool create,
                                        std::shared_ptr<storage::Backend> backend) {
  return OpenUnlocked(ctx, flags, create, std::move(backend), nullptr);
}

void RegisterBackupInit(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<RepoFlags>();
  auto encryption = std::make_shared<std::string>();
  CLI::App* cmd = AddCommand(group, "init", "Create an empty backup repository");
  cmd->add_option("--destination", flags->destination,
                  "Repository directory or URL (default: backup.destination)");
  cmd->add_option("--encryption", *encryption,
                  "aes-256-gcm | chacha20-poly1305 | none (default: backup.encryption)");
  cmd->callback([&ctx, flags, encryption] {
    ctx.Execute([&ctx, flags, encryption]() -> Status {
      VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
      VELIN_ASSIGN(std::string destination, ResolveDestination(*cfg, *flags));
      VELIN_ASSIGN(
          auto keys,
          RepoKeyOptionsFor(ctx, *cfg, encryption->empty() ? cfg->backup.encryption : *encryption));
      // The passphrase first: opening the backend creates the repository's directory, which a
      // refused passphrase left behind, empty.
      if (keys.cipher != crypto::Cipher::kNone) {
        VELIN_ASSIGN(std::string passphrase, keys.passphrase());
        crypto::CleanseString(passphrase);
      }
      VELIN_ASSIGN(auto backend,
                   storage::OpenBackend(destination, BackendOptionsFrom(*cfg), ctx.env(), true));
      VELIN_TRY(repo::Repository::Init(*backend, keys));
      if (ctx.out().json()) {
        ctx.out().Json({{"repository", backend->Location()},
                        {"format_version", repo::kFormatVersion},
                        {"encryption", std::string(crypto::CipherName(keys.cipher))}});
      } else {
        ctx.out().Done(TrFormat("Repository created at {}", backend->Location()));
      }
      return Ok();
    });
  });
}

std::string BackupStopNotice() {
  return std::string(Tr("stopping the backup (a second signal ends velin at once)"));
}

std::string RestoreStopNotice() {
  return std::string(Tr("stopping the restore (a second signal ends velin at once)"));
}

tl::unexpected<Error> RestoreInterrupted() {
  return Failure(TrFormat("restore interrupted by {}: it is incomplete; run it again to finish it",
                          TerminationSignalName(HeldTerminationSignal())));
}

tl::unexpected<Error> BackupInterrupted() {
  return Failure(TrFormat("backup interrupted by {}; nothing was committed",
                          TerminationSignalName(HeldTerminationSignal())));
}

}  // namespace velin::cli
