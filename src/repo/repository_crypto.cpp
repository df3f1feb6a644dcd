// The encryption half of Repository (docs/encryption.md): key objects at init, unlocking at
// open, and the seal/open/hash hooks every object passes through. Unencrypted repositories
// take the same path with plain SHA-256 ids and no sealing.
#include <cstring>

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
  VELIN_ASSIGN(std::string passphrase, ReadPassphrase(backend_, keys));
  auto opened = crypto::OpenRepositoryKey(backend_, passphrase);
  crypto::CleanseString(passphrase);
  if (!opened) return tl::unexpected(opened.error());
  VELIN_ASSIGN(sealer_, crypto::Sealer::Create(config_.cipher, opened->master.encryption));
  VELIN_ASSIGN(hasher_, crypto::BlobIdHasher::Keyed(opened->master.mac));
  VELIN_ASSIGN(config_mac_key_, opened->master.Derive(kConfigMacPurpose));
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
