// The encryption half of Repository (docs/encryption.md): key objects at init, unlocking at
// open, and the seal/open/hash hooks every object passes through. Unencrypted repositories
// take the same path with plain SHA-256 ids and no sealing.
#include <algorithm>
#include <cstring>

#include "config_checksum.hpp"
#include "velin/core/i18n.hpp"
#include "velin/crypto/key_ring.hpp"
#include "velin/repo/repository.hpp"

namespace velin::repo {
namespace {

Result<std::string> ReadPassphrase(const storage::Backend& backend, const RepoKeyOptions& keys) {
  const std::string missing =
      TrFormat("repository {} is encrypted: set backup.password_env or backup.password_file",
               backend.Location());
  if (!keys.passphrase) return UsageError(missing);
  VELIN_ASSIGN(std::string passphrase, keys.passphrase());
  if (passphrase.empty()) return UsageError(missing);
  return passphrase;
}

}  // namespace

Result<crypto::MasterKey> Repository::CreateKeys(storage::Backend& backend,
                                                 const RepoKeyOptions& keys) {
  VELIN_ASSIGN(std::string passphrase, ReadPassphrase(backend, keys));
  VELIN_ASSIGN(auto existing, backend.List("keys/"));
  // Key objects without a config: an init that stopped before its commit point. Reuse them
  // when this passphrase opens one, so the config written next finishes that init.
  Result<crypto::OpenedKey> opened =
      existing.empty() ? crypto::CreateRepositoryKey(backend, passphrase, keys.origin, keys.scrypt)
                       : crypto::OpenRepositoryKey(backend, passphrase);
  crypto::CleanseString(passphrase);
  if (!opened && !existing.empty() && opened.error().code == ExitCode::kUsage) {
    return UsageError(TrFormat(
        "repository {} holds {} key object(s) of an interrupted init and no config, and this "
        "passphrase opens none of them: run `velin backup init` with the passphrase it was "
        "started with to finish it, or move the directory aside for a new, empty repository",
        backend.Location(), std::to_string(existing.size())));
  }
  if (!opened) return tl::unexpected(opened.error());
  return std::move(opened->master);
}

namespace {

// A sealed object of the repository to tell its master key by, when its config has no
// checksum: the stored bytes of its object `name` of `kind` ("snapshot", "index").
struct SampleObject {
  std::string kind;
  std::string name;
  std::string stored;
};

// The first snapshot object and the first index object, as far as there are any.
Result<std::vector<SampleObject>> SampleObjects(storage::Backend& backend) {
  std::vector<SampleObject> samples;
  for (auto [prefix, kind] : {std::pair{"snapshots/", "snapshot"}, std::pair{"index/", "index"}}) {
    VELIN_ASSIGN(auto objects, backend.List(prefix));
    std::sort(objects.begin(), objects.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& o : objects) {
      if (o.name.find(".tmp") != std::string::npos) continue;  // an unfinished write
      auto stored = backend.Get(o.name);
      if (!stored) {
        if (storage::IsNotFound(stored.error())) continue;
        return tl::unexpected(stored.error());
      }
      samples.push_back({kind, o.name.substr(o.name.find('/') + 1), std::move(*stored)});
      break;
    }
  }
  return samples;
}

std::string ShortIds(const std::vector<crypto::OpenedKey>& keys) {
  std::string ids;
  for (const auto& k : keys) ids += (ids.empty() ? "" : ", ") + k.key_id.substr(0, 12);
  return ids;
}

}  // namespace

Result<RepositoryKey> Repository::SelectKey(storage::Backend& backend, const RepoConfig& config,
                                            const std::string& canonical,
                                            std::string_view passphrase) {
  // A key object copied in from another repository whose passphrase is the same opens too, and
  // with its id sorted first it used to be taken: the config's MAC then failed ("changed or
  // damaged", with the right key right there), and without a checksum new backups were sealed
  // under the other repository's master key. The config's MAC tells whose a master key is.
  RepositoryKey out;
  if (!config.checksum.empty()) {
    VELIN_ASSIGN(crypto::KeyTrial trial,
                 crypto::TryRepositoryKeys(
                     backend, passphrase, [&](const crypto::MasterKey& master) -> Result<bool> {
                       VELIN_ASSIGN(crypto::Key256 mac, master.Derive(kConfigMacPurpose));
                       VELIN_ASSIGN(std::string expected, ConfigChecksum(canonical, &mac));
                       return ChecksumsEqual(expected, config.checksum);
                     }));
    if (!trial.accepted) return ConfigChanged(backend);
    out.key = std::move(trial.opened.back());
    trial.opened.pop_back();
    for (const auto& k : trial.opened) out.foreign.push_back(k.key_id);
    return out;
  }
  // No checksum (an older velin's config): every key is tried, and when they hold different
  // master keys, a sealed object of the repository tells which is its own.
  VELIN_ASSIGN(crypto::KeyTrial trial, crypto::TryRepositoryKeys(backend, passphrase, nullptr));
  const crypto::MasterKey& first = trial.opened.front().master;
  if (std::all_of(trial.opened.begin(), trial.opened.end(),
                  [&](const crypto::OpenedKey& k) { return k.master == first; })) {
    out.key = std::move(trial.opened.front());
    return out;
  }
  VELIN_ASSIGN(auto samples, SampleObjects(backend));
  std::optional<crypto::MasterKey> owner;
  for (const auto& k : trial.opened) {
    VELIN_ASSIGN(auto sealer, crypto::Sealer::Create(config.cipher, k.master.encryption));
    for (const auto& sample : samples) {
      std::string plain;
      const bool opens =
          sealer->Open(sample.stored, crypto::AssociatedData(sample.kind, sample.name), plain)
              .has_value();
      crypto::CleanseString(plain);
      if (opens) owner = k.master;
      if (opens) break;
    }
    if (owner) break;
  }
  if (!owner) {
    return DamageError(TrFormat(
        "repository {}: keys {} open with this passphrase but hold different master keys, and "
        "its config has no checksum (an older velin wrote it) and no snapshot or index object "
        "tells which is the repository's: remove the key copied in from another repository "
        "(velin backup key remove ID), then run 'velin backup upgrade'",
        backend.Location(), ShortIds(trial.opened)));
  }
  out.told_by = ForeignKeyEvidence::kSealedObject;
  for (auto& k : trial.opened) {
    if (!(k.master == *owner)) {
      out.foreign.push_back(k.key_id);
    } else if (out.key.key_id.empty()) {
      out.key = std::move(k);
    }
  }
  return out;
}

Status Repository::Unlock(const RepoKeyOptions& keys) {
  if (config_.cipher == crypto::Cipher::kNone) {
    // Refuse a config that was edited to "unencrypted": velin would write plaintext next to
    // encrypted data.
    VELIN_ASSIGN(auto key_objects, backend_.List("keys/"));
    if (!key_objects.empty()) {
      return DamageError(
          TrFormat("repository {} has key objects but its config says it is unencrypted (the "
                   "config was altered)",
                   backend_.Location()));
    }
    VELIN_ASSIGN(hasher_, crypto::BlobIdHasher::Plain());
    return CheckConfigChecksum();
  }
  if (keys.deriving) keys.deriving();
  VELIN_ASSIGN(std::string passphrase, ReadPassphrase(backend_, keys));
  auto selected = SelectKey(backend_, config_, config_canonical_, passphrase);
  crypto::CleanseString(passphrase);
  if (!selected && selected.error().code == ExitCode::kUsage && keys.unstripped_passphrase) {
    // The variable's value with its trailing newline, as velins before 2026-12 took it: a
    // repository initialised from it opens with nothing else.
    VELIN_ASSIGN(std::string as_given, keys.unstripped_passphrase());
    if (!as_given.empty()) {
      auto again = SelectKey(backend_, config_, config_canonical_, as_given);
      crypto::CleanseString(as_given);
      if (again || again.error().code != ExitCode::kUsage) selected = std::move(again);
    }
  }
  if (!selected) return tl::unexpected(selected.error());
  foreign_keys_ = std::move(selected->foreign);
  foreign_told_by_ = selected->told_by;
  const crypto::MasterKey& master = selected->key.master;
  VELIN_ASSIGN(sealer_, crypto::Sealer::Create(config_.cipher, master.encryption));
  VELIN_ASSIGN(hasher_, crypto::BlobIdHasher::Keyed(master.mac));
  VELIN_ASSIGN(config_mac_key_, master.Derive(kConfigMacPurpose));
  return CheckConfigChecksum();
}

Result<BlobId> Repository::HashBlob(std::string_view data) const {
  VELIN_ASSIGN(crypto::Digest digest, hasher_->Hash(data));
  BlobId id;
  id.bytes = digest;
  return id;
}

Result<std::string> Repository::SealObject(std::string_view kind, std::string_view name,
                                           std::string plain) const {
  if (!sealer_) return plain;
  return sealer_->Seal(plain, crypto::AssociatedData(kind, name));
}

size_t Repository::SealedSize(size_t plain_size) const {
  return sealer_ ? plain_size + crypto::kEnvelopeOverhead : plain_size;
}

Status Repository::SealObjectInto(std::string_view kind, std::string_view name,
                                  std::string_view plain, char* dst) const {
  if (!sealer_) {
    std::memcpy(dst, plain.data(), plain.size());
    return Ok();
  }
  return sealer_->SealInto(plain, crypto::AssociatedData(kind, name), dst);
}

Result<std::string> Repository::OpenObject(std::string_view kind, std::string_view name,
                                           std::string stored) const {
  if (!sealer_) return stored;
  auto plain = sealer_->Open(stored, crypto::AssociatedData(kind, name));
  if (!plain) return tl::unexpected(plain.error().Wrap(TrFormat("{} {}", Tr(kind), name)));
  return plain;
}

}  // namespace velin::repo
