// velin backup key list | add | remove | passwd: the passphrases (key objects) of an encrypted
// repository (docs/encryption.md, docs/cli.md "## crypto"). Passphrases come only from
// backup.password_env / backup.password_file, and a new one from --new-password-env /
// --new-password-file — never from argv — and are wiped from memory when the command ends.
// The engine is crypto/key_ring.hpp; this file parses flags and prints.
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "backup_common.hpp"
#include "velin/cli/context.hpp"
#include "velin/config/config.hpp"
#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/process.hpp"
#include "velin/crypto/key_ring.hpp"
#include "velin/crypto/secret.hpp"
#include "velin/repo/lock.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/backend.hpp"

namespace velin::cli {
namespace {

struct KeyFlags {
  std::string destination;  // --destination (else backup.destination)
  std::string new_password_env;
  std::string new_password_file;
  std::string key_id;  // remove
  std::string lock_wait = "0s";
};

// A passphrase held for one command; wiped when it goes out of scope.
class Passphrase {
 public:
  explicit Passphrase(std::string value) : value_(std::move(value)) {}
  Passphrase(Passphrase&& other) noexcept : value_(std::move(other.value_)) {
    crypto::CleanseString(other.value_);
  }
  Passphrase& operator=(Passphrase&& other) noexcept {
    crypto::CleanseString(value_);
    value_ = std::move(other.value_);
    crypto::CleanseString(other.value_);
    return *this;
  }
  Passphrase(const Passphrase&) = delete;
  Passphrase& operator=(const Passphrase&) = delete;
  ~Passphrase() { crypto::CleanseString(value_); }
  std::string_view view() const { return value_; }

 private:
  std::string value_;
};

// `unstripped`, when given, gets the variable's value with its trailing newlines when it had
// any (config::ReadSecret), else "".
Result<Passphrase> RepositoryPassphrase(const config::Config& cfg,
                                        Passphrase* unstripped = nullptr) {
  // A repository alone (--repo, no velin.toml): its passphrase variable unset is the one line
  // naming both ways to give it.
  const std::string& var = cfg.backup.password_env;
  if (cfg.file.empty() && cfg.backup.password_file.empty() &&
      (var.empty() || !GetEnvironment(var).has_value())) {
    return UsageError(TrFormat("no repository passphrase: set {} or pass --password-file FILE",
                               var.empty() ? std::string("VELIN_PASSPHRASE") : var));
  }
  std::string as_given;
  auto secret = config::ReadSecret(cfg.backup.password_env, cfg.backup.password_file,
                                   std::string(Tr("repository passphrase")), &as_given);
  Passphrase raw(std::move(as_given));
  if (!secret && !var.empty() && cfg.backup.password_file.empty() && !GetEnvironment(var)) {
    // Exported by hand, every try in the shell passed; then each scheduled run failed: cron and
    // systemd start velin without the login shell's variables (as database.password_env).
    return UsageError(TrFormat(
        "{} (backup.password_env); cron and systemd pass none of your shell's variables: for "
        "scheduled runs put the passphrase in a file only velin's user may read (chmod 600) and "
        "name it in backup.password_file instead",
        secret.error().message));
  }
  if (!secret) return tl::unexpected(secret.error());
  Passphrase passphrase(std::move(*secret));
  if (unstripped != nullptr) *unstripped = std::move(raw);
  // Set but empty (`MYPASS= velin …`, a secret store that handed out nothing): that is what
  // to fix, not the config, which does name where the passphrase is.
  if (passphrase.view().empty() && !var.empty() && GetEnvironment(var).has_value()) {
    return UsageError(TrFormat("repository passphrase: environment variable {} is empty", var));
  }
  if (passphrase.view().empty() && !cfg.backup.password_file.empty()) {
    return UsageError(TrFormat("repository passphrase: {} is empty", cfg.backup.password_file));
  }
  if (passphrase.view().empty()) {
    return UsageError(
        TrFormat("no repository passphrase: set backup.password_env or backup.password_file in {}",
                 cfg.file));
  }
  return passphrase;
}

Result<Passphrase> NewPassphrase(const KeyFlags& flags) {
  if (flags.new_password_env.empty() && flags.new_password_file.empty()) {
    return UsageError(std::string(
        Tr("say where the new passphrase is: --new-password-env VAR or --new-password-file FILE "
           "(0600); velin never takes a passphrase from the command line")));
  }
  RegisterSecretEnvironmentVariable(flags.new_password_env);  // for no child to see
  VELIN_ASSIGN(std::string secret,
               config::ReadSecret(flags.new_password_env, flags.new_password_file,
                                  std::string(Tr("new passphrase"))));
  Passphrase passphrase(std::move(secret));
  if (passphrase.view().empty()) return UsageError(std::string(Tr("the new passphrase is empty")));
  return passphrase;
}

Result<std::unique_ptr<storage::Backend>> OpenKeyBackend(Context& ctx, const config::Config& cfg,
                                                         const KeyFlags& flags) {
  std::string destination = flags.destination.empty() ? cfg.backup.destination : flags.destination;
  if (destination.empty()) {
    return UsageError(std::string(
        Tr("no repository: set backup.destination in velin.toml or pass --destination")));
  }
  // A relative directory (--destination, --repo, $VELIN_REPOSITORY) is from here, as for
  // every other command (ResolveDestination).
  if (!config::IsRemoteDestination(destination)) {
    VELIN_ASSIGN(destination, FromCurrentDirectory(destination));
  }
  return storage::OpenBackend(destination, BackendOptionsFrom(cfg), ctx.env(), /*create=*/false);
}

// The commands that add or remove key objects hold the repository's exclusive lock: two
// removals at once, each of the key the other's passphrase opens, would otherwise each see two
// keys, each delete one, and leave the repository with none (docs/encryption.md, "Key
// objects"). `list` only reads and takes none.
enum class KeyLock { kNone, kExclusive };

// The repository's backend, with the lock when the command changes keys. Members are destroyed
// in reverse order: the lock is released before the backend closes.
struct KeyRepository {
  std::unique_ptr<storage::Backend> backend;
  std::unique_ptr<repo::RepoLock> lock;
};

Result<KeyRepository> OpenKeyRepository(Context& ctx, const config::Config& cfg,
                                        const KeyFlags& flags, KeyLock lock) {
  KeyRepository r;
  VELIN_ASSIGN(r.backend, OpenKeyBackend(ctx, cfg, flags));
  if (lock == KeyLock::kExclusive) {
    VELIN_ASSIGN(r.lock,
                 LockRepository(ctx, *r.backend, repo::LockKind::kExclusive, flags.lock_wait));
  }
  return r;
}

// Opens the repository's backend (locked as `lock` says) and unlocks its master key with the
// configured passphrase: the key the repository's config verifies, not one copied in from
// another repository (each named in a warning).
struct Unlocked {
  KeyRepository repo;
  crypto::OpenedKey key;
  Passphrase passphrase;  // the one that opened it
};

// The repository's key with the configured passphrase; when that opens none and its variable
// had trailing newlines, with the value as it is (an older velin took it verbatim).
Result<repo::RepositoryKey> OpenKeyWith(storage::Backend& backend, Passphrase& passphrase,
                                        Passphrase& unstripped) {
  auto key = repo::Repository::OpenKey(backend, passphrase.view());
  if (key || key.error().code != ExitCode::kUsage || unstripped.view().empty()) return key;
  auto again = repo::Repository::OpenKey(backend, unstripped.view());
  if (!again && again.error().code == ExitCode::kUsage) return key;
  if (again) passphrase = std::move(unstripped);
  return again;
}

Result<Unlocked> Unlock(Context& ctx, const KeyFlags& flags, KeyLock lock) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  Passphrase unstripped("");
  VELIN_ASSIGN(Passphrase passphrase, RepositoryPassphrase(*cfg, &unstripped));
  VELIN_ASSIGN(KeyRepository repo, OpenKeyRepository(ctx, *cfg, flags, lock));
  VELIN_ASSIGN(repo::RepositoryKey key, OpenKeyWith(*repo.backend, passphrase, unstripped));
  WarnForeignKeys(ctx, *repo.backend, key.foreign, key.told_by);
  return Unlocked{std::move(repo), std::move(key.key), std::move(passphrase)};
}

nlohmann::json KeyToJson(const crypto::KeyObject& key, bool current) {
  return {{"id", key.id},
          {"created", key.origin.created},
          {"hostname", key.origin.hostname},
          {"username", key.origin.username},
          {"kdf", "scrypt"},
          {"scrypt", {{"n", key.scrypt.n}, {"r", key.scrypt.r}, {"p", key.scrypt.p}}},
          {"current", current}};
}

// When a key was made, as human output shows times: local, to the second (docs/cli.md, "Times");
// JSON keeps the recorded UTC text. A text of another shape as it is.
std::string ShownCreated(const crypto::KeyObject& key) {
  const std::optional<int64_t> when = output::ParseUtcTime(key.origin.created);
  return when ? output::FormatLocalTime(*when) : key.origin.created;
}

Status ListKeys(Context& ctx, const KeyFlags& flags) {
  VELIN_ASSIGN(Unlocked u, Unlock(ctx, flags, KeyLock::kNone));
  std::vector<std::string> damaged;
  VELIN_ASSIGN(auto keys, crypto::ListKeys(*u.repo.backend, &damaged));
  output::Console& out = ctx.out();
  if (out.json()) {
    nlohmann::json doc = {{"repository", u.repo.backend->Location()},
                          {"keys", nlohmann::json::array()},
                          {"damaged", damaged}};
    for (const auto& key : keys) doc["keys"].push_back(KeyToJson(key, key.id == u.key.key_id));
    out.Json(doc);
    return Ok();
  }
  out.Line(NoTr(
      fmt::format("  {:<12}  {:<20}  {:<24}  {}", "ID", Tr("Created"), Tr("User@host"), "KDF")));
  for (const auto& key : keys) {
    const bool current = key.id == u.key.key_id;
    out.Line(NoTr(fmt::format("{} {:<12}  {:<20}  {:<24}  scrypt N={} r={} p={}",
                              current ? "*" : " ", key.id.substr(0, 12), ShownCreated(key),
                              key.origin.username + "@" + key.origin.hostname, key.scrypt.n,
                              key.scrypt.r, key.scrypt.p)));
  }
  for (const auto& d : damaged) out.Warn(d);
  return Ok();
}

Status AddKey(Context& ctx, const KeyFlags& flags) {
  VELIN_ASSIGN(Passphrase fresh, NewPassphrase(flags));
  VELIN_ASSIGN(Unlocked u, Unlock(ctx, flags, KeyLock::kExclusive));
  VELIN_TRY(u.repo.lock->Check());
  VELIN_ASSIGN(std::string id, crypto::AddKey(*u.repo.backend, u.key.master, fresh.view(),
                                              crypto::CurrentKeyOrigin(ctx.env()), {}));
  if (ctx.out().json()) {
    ctx.out().Json({{"added", id}});
  } else {
    ctx.out().Done(TrFormat("Key {} added", id.substr(0, 12)));
  }
  return Ok();
}

Status RemoveKey(Context& ctx, const KeyFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  Passphrase unstripped("");
  VELIN_ASSIGN(Passphrase passphrase, RepositoryPassphrase(*cfg, &unstripped));
  VELIN_ASSIGN(KeyRepository repo, OpenKeyRepository(ctx, *cfg, flags, KeyLock::kExclusive));
  if (!unstripped.view().empty()) {
    // Nothing opens with the variable's value stripped: the value as it is (an older velin's).
    auto stripped_opens = crypto::OpenRepositoryKey(*repo.backend, passphrase.view());
    if (!stripped_opens && stripped_opens.error().code == ExitCode::kUsage &&
        crypto::OpenRepositoryKey(*repo.backend, unstripped.view())) {
      passphrase = std::move(unstripped);
    }
  }
  VELIN_ASSIGN(std::string id, crypto::RemoveKey(*repo.backend, flags.key_id, passphrase.view()));
  if (ctx.out().json()) {
    ctx.out().Json({{"removed", id}});
  } else {
    ctx.out().Done(TrFormat("Key {} removed", id.substr(0, 12)));
  }
  return Ok();
}

std::string ShortIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ", ") + id.substr(0, 12);
  return out;
}

Status ChangePassphrase(Context& ctx, const KeyFlags& flags) {
  VELIN_ASSIGN(Passphrase fresh, NewPassphrase(flags));
  VELIN_ASSIGN(Unlocked u, Unlock(ctx, flags, KeyLock::kExclusive));
  VELIN_TRY(u.repo.lock->Check());
  VELIN_ASSIGN(crypto::PassphraseChange change,
               crypto::ChangePassphrase(*u.repo.backend, u.key, u.passphrase.view(), fresh.view(),
                                        crypto::CurrentKeyOrigin(ctx.env()), {}));
  if (ctx.out().json()) {
    ctx.out().Json({{"removed", u.key.key_id},
                    {"removed_all", change.removed},
                    {"added", change.added},
                    {"reused", change.reused}});
  } else if (change.removed.size() == 1) {
    ctx.out().Done(TrFormat("Passphrase changed: key {} replaces key {}",
                            change.added.substr(0, 12), change.removed.front().substr(0, 12)));
  } else {
    // More than one key opened with the old passphrase (an older velin's `key add` of it, one
    // run again): every one is gone, or the old passphrase would still open the repository.
    ctx.out().Done(
        TrFormat("Passphrase changed: key {} replaces keys {} (each opened with the old "
                 "passphrase)",
                 change.added.substr(0, 12), ShortIds(change.removed)));
  }
  return Ok();
}

void AddDestinationFlag(CLI::App* cmd, KeyFlags& flags) {
  cmd->add_option("--destination", flags.destination, "Repository (default: backup.destination)");
}

void AddLockWaitFlag(CLI::App* cmd, KeyFlags& flags) {
  cmd->add_option("--lock-wait", flags.lock_wait,
                  "How long to wait for another velin's lock (e.g. 30s; default 0)");
}

void AddNewPassphraseFlags(CLI::App* cmd, KeyFlags& flags) {
  CLI::Option* env = cmd->add_option("--new-password-env", flags.new_password_env,
                                     "Environment variable holding the new passphrase");
  CLI::Option* file = cmd->add_option("--new-password-file", flags.new_password_file,
                                      "File (0600) holding the new passphrase");
  // One new passphrase, from one place: given both, which one is meant is a guess.
  env->excludes(file);
}

}  // namespace

void WarnForeignKeys(Context& ctx, const storage::Backend& backend,
                     const std::vector<std::string>& foreign, repo::ForeignKeyEvidence told_by) {
  // Once per key and process: `backup create` opens its repository again for the offsite copy
  // and the prune after it.
  static std::set<std::string> warned;
  for (const std::string& id : foreign) {
    if (!warned.insert(backend.Location() + "\n" + id).second) continue;
    // Each says how it was told: a config without a checksum verifies no key.
    ctx.out().Warn(
        told_by == repo::ForeignKeyEvidence::kConfigChecksum
            ? TrFormat("key {} opens with this passphrase but belongs to another repository "
                       "(it does not verify the config of {}): it was not used",
                       id, backend.Location())
            : TrFormat("key {} opens with this passphrase but belongs to another repository "
                       "(the config of {} has no checksum, and its first snapshot or index "
                       "object opens with another key, not this one): it was not used",
                       id, backend.Location()));
  }
}

Result<repo::RepoKeyOptions> RepoKeyOptionsFor(Context& ctx, const config::Config& cfg,
                                               const std::string& encryption) {
  repo::RepoKeyOptions keys;
  VELIN_ASSIGN(keys.cipher, crypto::ParseCipher(encryption));
  keys.origin = crypto::CurrentKeyOrigin(ctx.env());
  config::Config only_secrets;
  only_secrets.file = cfg.file;
  only_secrets.backup.password_env = cfg.backup.password_env;
  only_secrets.backup.password_file = cfg.backup.password_file;
  keys.passphrase = [only_secrets]() -> Result<std::string> {
    VELIN_ASSIGN(Passphrase passphrase, RepositoryPassphrase(only_secrets));
    return std::string(passphrase.view());
  };
  keys.unstripped_passphrase = [only_secrets]() -> Result<std::string> {
    Passphrase unstripped("");
    VELIN_TRY(RepositoryPassphrase(only_secrets, &unstripped));
    return std::string(unstripped.view());
  };
  return keys;
}

Status CheckPassphraseSource(const config::Config& cfg) {
  const std::string& var = cfg.backup.password_env;
  if (!var.empty() && !GetEnvironment(var).has_value() && cfg.backup.password_file.empty()) {
    return Ok();
  }
  VELIN_TRY(RepositoryPassphrase(cfg));  // the Passphrase wipes itself
  return Ok();
}

void RegisterBackupKeyCommands(CLI::App& group, Context& ctx) {
  CLI::App* key = AddCommand(group, "key", "Manage the passphrases of an encrypted repository");
  key->require_subcommand(1);
  static KeyFlags flags;  // lives as long as the command tree
  // On the group too, as before (`key --destination R list`); each command's own shows in its
  // --help.
  key->add_option("--destination", flags.destination, "Repository (default: backup.destination)");

  CLI::App* list = AddCommand(*key, "list", "List the key objects");
  AddDestinationFlag(list, flags);
  list->callback([&ctx] { ctx.Execute([&ctx] { return ListKeys(ctx, flags); }); });
  CLI::App* add = AddCommand(*key, "add", "Add a passphrase for the same repository");
  AddDestinationFlag(add, flags);
  AddNewPassphraseFlags(add, flags);
  AddLockWaitFlag(add, flags);
  add->callback([&ctx] { ctx.Execute([&ctx] { return AddKey(ctx, flags); }); });
  CLI::App* remove = AddCommand(*key, "remove", "Remove a key object");
  AddDestinationFlag(remove, flags);
  AddLockWaitFlag(remove, flags);
  remove->add_option("id", flags.key_id, "Key id (a unique prefix is enough)")->required();
  remove->callback([&ctx] { ctx.Execute([&ctx] { return RemoveKey(ctx, flags); }); });
  CLI::App* passwd = AddCommand(*key, "passwd", "Replace the passphrase in use by a new one");
  AddDestinationFlag(passwd, flags);
  AddNewPassphraseFlags(passwd, flags);
  AddLockWaitFlag(passwd, flags);
  passwd->callback([&ctx] { ctx.Execute([&ctx] { return ChangePassphrase(ctx, flags); }); });
}

}  // namespace velin::cli
