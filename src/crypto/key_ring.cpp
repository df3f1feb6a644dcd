#include "velin/crypto/key_ring.hpp"

#include <algorithm>
#include <functional>

#include "velin/core/i18n.hpp"

namespace velin::crypto {
namespace {

constexpr std::string_view kKeyPrefix = "keys/";

struct StoredKey {
  std::string name;
  Result<KeyObject> key;
};

bool HasDefaultParams(const StoredKey& stored) {
  const ScryptParams defaults;
  return stored.key && stored.key->scrypt.n == defaults.n && stored.key->scrypt.r == defaults.r &&
         stored.key->scrypt.p == defaults.p;
}

// Every object under keys/, parsed: those with velin's default scrypt parameters first, then the
// others, each in name order. A key object whose parameters ask more (a hostile one, within
// ValidateScryptParams' bounds: up to a second) is tried only when no ordinary key opens.
Result<std::vector<StoredKey>> ReadKeys(storage::Backend& backend) {
  VELIN_ASSIGN(auto infos, backend.List(std::string(kKeyPrefix)));
  std::sort(infos.begin(), infos.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<StoredKey> keys;
  for (const auto& info : infos) {
    auto data = backend.Get(info.name);
    if (!data) {
      if (storage::IsNotFound(data.error())) continue;  // removed meanwhile
      return tl::unexpected(data.error().Wrap(NoTr(info.name)));
    }
    keys.push_back({info.name, ParseKeyObject(*data, info.name)});
  }
  std::stable_partition(keys.begin(), keys.end(), HasDefaultParams);
  return keys;
}

Result<std::string> StoreNewKey(storage::Backend& backend, const MasterKey& master,
                                std::string_view passphrase, const KeyOrigin& origin,
                                const ScryptParams& params) {
  VELIN_ASSIGN(KeyObject key, WrapMasterKey(master, passphrase, origin, params));
  const std::string name = KeyObjectName(key.id);
  VELIN_TRY(backend.Put(name, SerializeKeyObject(key)).map_error([&](const Error& e) {
    return e.Wrap(TrFormat("writing {}", name));
  }));
  return key.id;
}

// The key objects that `passphrase` opens, in the order tried, and how many were tried.
struct Unlocked {
  std::vector<OpenedKey> opened;
  size_t tried = 0;
  std::vector<std::string> damaged;

  bool Opens(std::string_view id) const {
    return std::any_of(opened.begin(), opened.end(),
                       [&](const OpenedKey& k) { return k.key_id == id; });
  }
};

// Tries the keys in ReadKeys' order until `enough` says so of one that opened (never, when it
// is null: every key is tried).
Result<Unlocked> Unlock(storage::Backend& backend, std::string_view passphrase,
                        const std::function<Result<bool>(const OpenedKey&)>& enough) {
  VELIN_ASSIGN(auto keys, ReadKeys(backend));
  Unlocked out;
  for (const auto& stored : keys) {
    ++out.tried;
    if (!stored.key) {
      out.damaged.push_back(stored.key.error().message);
      continue;
    }
    VELIN_ASSIGN(auto master, UnwrapMasterKey(*stored.key, passphrase));
    if (!master) continue;
    out.opened.push_back(OpenedKey{std::move(*master), stored.key->id});
    if (!enough) continue;
    VELIN_ASSIGN(bool stop, enough(out.opened.back()));
    if (stop) break;
  }
  return out;
}

Result<Unlocked> UnlockFirst(storage::Backend& backend, std::string_view passphrase) {
  return Unlock(backend, passphrase, [](const OpenedKey&) -> Result<bool> { return true; });
}

tl::unexpected<Error> WrongPassphrase(storage::Backend& backend, const Unlocked& u) {
  if (u.tried == 0) {
    return UsageError(TrFormat(
        "repository {} has no key objects (keys/): it is not encrypted, or its keys are gone",
        backend.Location()));
  }
  std::string msg = TrFormat(u.tried == 1 ? "wrong passphrase for repository {} (tried {} key)"
                                          : "wrong passphrase for repository {} (tried {} keys)",
                             backend.Location(), u.tried);
  for (const auto& d : u.damaged) msg = TrFormat("{}; {}", msg, d);  // one translated line
  return UsageError(msg);
}

}  // namespace

Result<OpenedKey> CreateRepositoryKey(storage::Backend& backend, std::string_view passphrase,
                                      const KeyOrigin& origin, const ScryptParams& params) {
  VELIN_ASSIGN(auto existing, backend.List(std::string(kKeyPrefix)));
  if (!existing.empty()) {
    return UsageError(TrFormat("repository {} already has key objects", backend.Location()));
  }
  VELIN_ASSIGN(MasterKey master, MasterKey::Generate());
  VELIN_ASSIGN(std::string id, StoreNewKey(backend, master, passphrase, origin, params));
  return OpenedKey{std::move(master), std::move(id)};
}

Result<OpenedKey> OpenRepositoryKey(storage::Backend& backend, std::string_view passphrase) {
  VELIN_ASSIGN(Unlocked u, UnlockFirst(backend, passphrase));
  if (u.opened.empty()) return WrongPassphrase(backend, u);
  return std::move(u.opened.front());
}

Result<KeyTrial> TryRepositoryKeys(storage::Backend& backend, std::string_view passphrase,
                                   const KeyBelongs& belongs) {
  KeyTrial trial;
  VELIN_ASSIGN(Unlocked u, Unlock(backend, passphrase, [&](const OpenedKey& k) -> Result<bool> {
                 if (!belongs) return false;
                 VELIN_ASSIGN(trial.accepted, belongs(k.master));
                 return trial.accepted;
               }));
  if (u.opened.empty()) return WrongPassphrase(backend, u);
  trial.opened = std::move(u.opened);
  return trial;
}

Result<std::string> AddKey(storage::Backend& backend, const MasterKey& master,
                           std::string_view new_passphrase, const KeyOrigin& origin,
                           const ScryptParams& params) {
  // A second key for a passphrase is one that `passwd` of that passphrase would once have left
  // working (it replaced only the key that opened), and it adds nothing: refused, with a line
  // that also explains a `key add` run again after it was stopped.
  VELIN_ASSIGN(Unlocked taken, UnlockFirst(backend, new_passphrase));
  if (!taken.opened.empty()) {
    return UsageError(
        TrFormat("the new passphrase already opens key {} of repository {} (added before?): give a "
                 "passphrase the repository does not have yet",
                 taken.opened.front().key_id.substr(0, 12), backend.Location()));
  }
  return StoreNewKey(backend, master, new_passphrase, origin, params);
}

Result<std::vector<KeyObject>> ListKeys(storage::Backend& backend,
                                        std::vector<std::string>* damaged) {
  VELIN_ASSIGN(auto stored, ReadKeys(backend));
  std::vector<KeyObject> keys;
  for (auto& s : stored) {
    if (s.key) {
      keys.push_back(std::move(*s.key));
    } else if (damaged != nullptr) {
      damaged->push_back(s.key.error().message);
    }
  }
  std::sort(keys.begin(), keys.end(), [](const KeyObject& a, const KeyObject& b) {
    return std::tie(a.origin.created, a.id) < std::tie(b.origin.created, b.id);
  });
  return keys;
}

Result<std::string> RemoveKey(storage::Backend& backend, std::string_view id_or_prefix,
                              std::string_view passphrase) {
  VELIN_ASSIGN(auto stored, ReadKeys(backend));
  std::vector<std::string> matches;
  for (const auto& s : stored) {
    std::string_view id = std::string_view(s.name).substr(kKeyPrefix.size());
    if (!id_or_prefix.empty() && id.starts_with(id_or_prefix)) matches.emplace_back(id);
  }
  const std::string where = " in repository " + backend.Location();
  if (matches.empty()) return UsageError(TrFormat("no key '{}'{}", id_or_prefix, where));
  if (matches.size() > 1) {
    return UsageError(TrFormat("key prefix '{}' is ambiguous{}", id_or_prefix, where));
  }
  const std::string& target = matches.front();
  if (stored.size() == 1) {
    return UsageError(
        TrFormat("refusing to remove key {}, the last key{}: without it nothing can be restored",
                 target, where));
  }
  VELIN_ASSIGN(Unlocked u, Unlock(backend, passphrase, nullptr));
  if (u.opened.empty()) return WrongPassphrase(backend, u);
  if (u.opened.size() == 1 && u.opened.front().key_id == target) {
    return UsageError(
        TrFormat("refusing to remove key {}: it is the only key your passphrase opens; add or use "
                 "another key first",
                 target));
  }
  // The checks above ran on a listing made before the key derivations (a second per key). The
  // command holds the repository's exclusive lock, but a velin without that lock (an older one)
  // may have removed keys meanwhile: two removals at once, each of the other's key, would
  // leave none. So the keys are listed once more right before the delete, and it goes ahead
  // only if a key this passphrase opens stays.
  VELIN_ASSIGN(auto now, backend.List(std::string(kKeyPrefix)));
  bool target_present = false;
  bool opener_stays = false;
  for (const auto& info : now) {
    std::string_view id = std::string_view(info.name).substr(kKeyPrefix.size());
    if (id == target) {
      target_present = true;
    } else if (u.Opens(id)) {
      opener_stays = true;
    }
  }
  if (!target_present) return UsageError(TrFormat("no key '{}'{}", target, where));
  if (!opener_stays) {
    return UsageError(
        TrFormat("refusing to remove key {}{}: no other key your passphrase opens is left (another "
                 "velin removed it meanwhile)",
                 target, where));
  }
  VELIN_TRY(backend.Delete(KeyObjectName(target)));
  VELIN_TRY(backend.SyncDeletes());  // a removed key (a leaked passphrase) stays removed
  return target;
}

Result<PassphraseChange> ChangePassphrase(storage::Backend& backend, const OpenedKey& current,
                                          std::string_view current_passphrase,
                                          std::string_view new_passphrase, const KeyOrigin& origin,
                                          const ScryptParams& params) {
  if (new_passphrase == current_passphrase) {
    return UsageError(
        TrFormat("the new passphrase is the one in use for repository {}", backend.Location()));
  }
  // Every key of this master key that the current passphrase opens goes, not only the one that
  // opened: with two (a `key add` of the same passphrase by an older velin, one run again after
  // it was stopped), the old passphrase kept opening the repository after "Passphrase changed".
  // Keys of other master keys (copied from another repository) are not this repository's and
  // are left alone.
  VELIN_ASSIGN(Unlocked old_keys, Unlock(backend, current_passphrase, nullptr));
  PassphraseChange change;
  for (const OpenedKey& k : old_keys.opened) {
    if (k.master == current.master) change.removed.push_back(k.key_id);
  }
  if (std::find(change.removed.begin(), change.removed.end(), current.key_id) ==
      change.removed.end()) {
    return UsageError(
        TrFormat("key {} of repository {} no longer opens with the passphrase in "
                 "use (another velin changed it meanwhile)",
                 current.key_id.substr(0, 12), backend.Location()));
  }
  // The new key first: a crash before the last delete leaves the new passphrase working, and
  // the old one too until then, never neither. A passwd run again after such a crash finds its
  // new key and only finishes the deletes.
  VELIN_ASSIGN(Unlocked taken, UnlockFirst(backend, new_passphrase));
  if (!taken.opened.empty()) {
    const OpenedKey& existing = taken.opened.front();
    if (!(existing.master == current.master)) {
      return UsageError(TrFormat(
          "the new passphrase already opens key {} in repository {}, which belongs to another "
          "repository: give another passphrase, or remove that key first",
          existing.key_id.substr(0, 12), backend.Location()));
    }
    change.added = existing.key_id;
    change.reused = true;
  } else {
    VELIN_ASSIGN(change.added,
                 StoreNewKey(backend, current.master, new_passphrase, origin, params));
  }
  for (const std::string& id : change.removed) {
    Status deleted = backend.Delete(KeyObjectName(id));
    if (!deleted && !storage::IsNotFound(deleted.error())) return tl::unexpected(deleted.error());
  }
  VELIN_TRY(backend.SyncDeletes());  // the old passphrase stops working, crash or not
  return change;
}

}  // namespace velin::crypto
