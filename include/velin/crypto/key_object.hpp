// Key objects (docs/encryption.md, "Key objects"): the repository's master key sealed under a
// key derived from one passphrase with scrypt. Each passphrase of a repository is one JSON
// object `keys/<id>`; all of them wrap the same master key, so passphrases can be added,
// changed and removed without re-encrypting any data.
//
// Everything in a key object is authenticated: the id, the labels, the scrypt parameters and
// the salt are the associated data of the wrapped master key, so editing any field — or
// renaming the object — makes it refuse every passphrase. Nothing secret is stored in clear.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "velin/core/error.hpp"
#include "velin/crypto/kdf.hpp"
#include "velin/crypto/master_key.hpp"

namespace velin::io {
class Env;
}

namespace velin::crypto {

// Where and when a key was made; shown by `velin backup key list`.
struct KeyOrigin {
  std::string hostname;
  std::string username;
  std::string created;  // UTC, "2026-11-25T16:02:10Z"
};

// This host, this user, now (env.Now(), so VELIN_NOW fixes it in tests).
KeyOrigin CurrentKeyOrigin(io::Env& env);

struct KeyObject {
  std::string id;  // 32 lowercase hex digits; the object is keys/<id>
  KeyOrigin origin;
  ScryptParams scrypt;
  std::string salt;        // kSaltSize raw bytes
  std::string master_key;  // the sealed master key (an AES-256-GCM envelope), raw bytes
};

// The storage name of a key: "keys/<id>".
std::string KeyObjectName(std::string_view id);

// Makes a new key object for `master` under `passphrase` (fresh id and salt).
Result<KeyObject> WrapMasterKey(const MasterKey& master, std::string_view passphrase,
                                const KeyOrigin& origin, const ScryptParams& params);

// The master key when `passphrase` opens this key object; nullopt when it does not (wrong
// passphrase, or the object was altered). Other failures (OpenSSL, bad parameters) are errors.
Result<std::optional<MasterKey>> UnwrapMasterKey(const KeyObject& key, std::string_view passphrase);

std::string SerializeKeyObject(const KeyObject& key);
// Parses the JSON of the object stored as `name` ("keys/<id>"); a DamageError naming it when
// the JSON, a field, or the id (which must match the name) is wrong.
Result<KeyObject> ParseKeyObject(std::string_view json, std::string_view name);

}  // namespace velin::crypto
