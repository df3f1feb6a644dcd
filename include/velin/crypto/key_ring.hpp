// The key objects of one repository in a storage::Backend (`keys/<id>`, docs/encryption.md,
// "Key objects"): create the key material of a new encrypted repository, open it with a
// passphrase, and add, list, remove or re-passphrase keys. Every key wraps the same master
// key, so none of these operations re-encrypts data and every snapshot stays readable.
//
// Guarantees: a new key object is written (atomically, by Backend::Put) before an old one is
// deleted, so a crash during `passwd` leaves both passphrases working, never neither; the last
// key is never removed; a key is removed by a passphrase that opens it only while another key
// still opens with that passphrase. A wrong passphrase is one UsageError (exit 2) naming the
// repository and how many keys were tried.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/crypto/key_object.hpp"
#include "velin/crypto/master_key.hpp"
#include "velin/storage/backend.hpp"

namespace velin::crypto {

// The unlocked repository: its master key and the key object that opened it.
struct OpenedKey {
  MasterKey master;
  std::string key_id;
};

// Generates a master key and stores its first key object. An error when the repository
// already has key objects.
Result<OpenedKey> CreateRepositoryKey(storage::Backend& backend, std::string_view passphrase,
                                      const KeyOrigin& origin, const ScryptParams& params);

// Tries every key object with `passphrase`.
Result<OpenedKey> OpenRepositoryKey(storage::Backend& backend, std::string_view passphrase);

// Stores a new key object for the same master key under `new_passphrase`; returns its id.
Result<std::string> AddKey(storage::Backend& backend, const MasterKey& master,
                           std::string_view new_passphrase, const KeyOrigin& origin,
                           const ScryptParams& params);

// Every readable key object, sorted by creation time then id. Unreadable ones are described
// in `damaged` ("keys/<id>: ...") when it is given.
Result<std::vector<KeyObject>> ListKeys(storage::Backend& backend,
                                        std::vector<std::string>* damaged = nullptr);

// Removes the key whose id is `id_or_prefix` (a unique prefix is enough), authorised by
// `passphrase`, which must open some key of the repository. The keys are listed again right
// before the delete, which happens only while another key `passphrase` opens is still there.
// REQUIRES: the repository's exclusive lock (two removals at once could otherwise each delete
// the key the other keeps).
Result<std::string> RemoveKey(storage::Backend& backend, std::string_view id_or_prefix,
                              std::string_view passphrase);

// Replaces the key that opened `current` by one under `new_passphrase`; returns the new id.
Result<std::string> ChangePassphrase(storage::Backend& backend, const OpenedKey& current,
                                     std::string_view new_passphrase, const KeyOrigin& origin,
                                     const ScryptParams& params);

}  // namespace velin::crypto
