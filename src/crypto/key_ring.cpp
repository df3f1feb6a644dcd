#include "velin/crypto/key_ring.hpp"

#include <algorithm>

#include "velin/core/i18n.hpp"

namespace velin::crypto {
namespace {

constexpr std::string_view kKeyPrefix = "keys/";

struct StoredKey {
  std::string name;
  Result<KeyObject> key;
};

// Every object under keys/, parsed, in name order.
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

// The ids of the key objects that `passphrase` opens, and the master key.
struct Unlocked {
  std::vector<std::string> ids;
  std::optional<MasterKey> master;
  size_t tried = 0;
  std::vector<std::string> damaged;
};

Result<Unlocked> Unlock(storage::Backend& backend, std::string_view passphrase, bool all) {
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
    out.ids.push_back(stored.key->id);
    if (!out.master) out.master = std::move(master);
    if (!all) break;
  }
  return out;
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
  VELIN_ASSIGN(Unlocked u, Unlock(backend, passphrase, /*all=*/false));
  if (!u.master) return WrongPassphrase(backend, u);
  return OpenedKey{std::move(*u.master), u.ids.front()};
}

Result<std::string> AddKey(storage::Backend& backend, const MasterKey& master,
                           std::string_view new_passphrase, const KeyOrigin& origin,
                           const ScryptParams& params) {
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
  VELIN_ASSIGN(Unlocked u, Unlock(backend, passphrase, /*all=*/true));
  if (!u.master) return WrongPassphrase(backend, u);
  if (u.ids.size() == 1 && u.ids.front() == target) {
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
    } else if (std::find(u.ids.begin(), u.ids.end(), id) != u.ids.end()) {
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

Result<std::string> ChangePassphrase(storage::Backend& backend, const OpenedKey& current,
                                     std::string_view new_passphrase, const KeyOrigin& origin,
                                     const ScryptParams& params) {
  // The new key first: a crash in between leaves two working keys, never none.
  VELIN_ASSIGN(std::string id,
               StoreNewKey(backend, current.master, new_passphrase, origin, params));
  VELIN_TRY(backend.Delete(KeyObjectName(current.key_id)));
  VELIN_TRY(backend.SyncDeletes());  // the old passphrase stops working, crash or not
  return id;
}

}  // namespace velin::crypto
