// A repository's master key (docs/encryption.md, "Master key"): 64 random bytes from OpenSSL's
// RAND, made of two independent subkeys — one that seals every object (AEAD), one that keys
// the HMAC naming blobs. It never leaves memory unwrapped: key objects store it sealed under a
// passphrase-derived key (key_object.hpp). Both halves are wiped when destroyed.
#pragma once

#include <string>
#include <string_view>

#include "velin/core/error.hpp"
#include "velin/crypto/secret.hpp"

namespace velin::crypto {

struct MasterKey {
  Key256 encryption;  // seals objects and blobs
  Key256 mac;         // HMAC-SHA-256 key of blob ids

  static Result<MasterKey> Generate();

  // The wrapped form's plaintext: version byte 1, encryption key, MAC key (65 bytes). The
  // caller wipes the string with CleanseString when done.
  std::string Serialize() const;
  static Result<MasterKey> Parse(std::string_view bytes);
  // A key for one purpose besides these two (the config object's MAC): HKDF-SHA-256 (RFC 5869)
  // of the encryption key followed by the MAC key, no salt, `purpose` as info. Neither subkey
  // is used for anything else this way, so nothing velin stores in the clear (blob ids are
  // HMACs under the MAC key) gives one away.
  Result<Key256> Derive(std::string_view purpose) const;

  bool operator==(const MasterKey& o) const { return encryption == o.encryption && mac == o.mac; }
};

}  // namespace velin::crypto
