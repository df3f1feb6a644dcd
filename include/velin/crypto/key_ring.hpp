// The key objects of one repository in a storage::Backend (`keys/<id>`, docs/encryption.md,
// "Key objects"): create the key material of a new encrypted repository, open it with a
// passphrase, and add, list, remove or re-passphrase keys. Every key wraps the same master
// key, so none of these operations re-encrypts data and every snapshot stays readable.
//
// Guarantees: a new key object is written (atomically, by Backend::Put) before an old one is
// deleted, so a crash during `passwd` leaves the new passphrase or the old one working, never
// neither; the last key is never removed; a key is removed by a passphrase that opens it only
// while another key still opens with that passphrase; `add` gives no passphrase a second key.
// Keys are tried with velin's default scrypt parameters first, so a key object that asks for
// more work is derived only when no ordinary one opens. A wrong passphrase is one UsageError
// (exit 2) naming the repository and how many keys were tried.
#pragma once

#include <functional>
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

// The first key object `passphrase` opens. When key objects may have been copied in from
// another repository, TryRepositoryKeys tells which is this repository's.
Result<OpenedKey> OpenRepositoryKey(storage::Backend& backend, std::string_view passphrase);

// Whether an unlocked master key is the repository's (its config's MAC verifies with it, a
// sealed object opens with it).
using KeyBelongs = std::function<Result<bool>(const MasterKey&)>;

// Every key that opened, in the order tried; `accepted` when `belongs` accepted the last.
struct KeyTrial {
  std::vector<OpenedKey> opened;
  bool accepted = false;
};

// Tries the key objects with `passphrase` until one opens that `belongs` accepts (with
// `belongs` null: every key is tried and none accepted). A key copied from another repository
// with the same passphrase opens too: the repository decides, not the key ring. The
// wrong-passphrase UsageError when none opens.
Result<KeyTrial> TryRepositoryKeys(storage::Backend& backend, std::string_view passphrase,
                                   const KeyBelongs& belongs);

// Stores a new key object for the same master key under `new_passphrase`; returns its id. A
// UsageError when `new_passphrase` already opens a key of the repository.
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

struct PassphraseChange {
  std::string added;                 // the key of the new passphrase
  bool reused = false;               // it was there already (an earlier passwd that stopped)
  std::vector<std::string> removed;  // every key of the old passphrase, `current`'s first or not
};

// Replaces every key of `current.master` that `current_passphrase` opens (the key that opened
// `current` among them) by one key under `new_passphrase`, written before any is deleted.
// REQUIRES: the repository's exclusive lock.
Result<PassphraseChange> ChangePassphrase(storage::Backend& backend, const OpenedKey& current,
                                          std::string_view current_passphrase,
                                          std::string_view new_passphrase, const KeyOrigin& origin,
                                          const ScryptParams& params);

}  // namespace velin::crypto
