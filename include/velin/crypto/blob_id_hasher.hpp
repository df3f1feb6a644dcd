// The hash that names blobs for deduplication (docs/encryption.md, "Blob ids").
//
// An unencrypted repository names a blob by the plain SHA-256 of its plaintext. An encrypted
// one names it by HMAC-SHA-256 keyed with the master key's MAC subkey, so whoever holds the
// storage cannot confirm that a known file is in the repository by hashing it; equal plaintexts
// still get equal ids within the repository, so deduplication keeps working. Ids are
// deterministic for a given key (adding or changing a passphrase keeps them).
//
// Contexts are prepared once (digest fetched, HMAC keyed) and reused across calls.
// REQUIRES: Hash may be called from several threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

#include "velin/core/error.hpp"
#include "velin/crypto/secret.hpp"

namespace velin::crypto {

using Digest = std::array<uint8_t, 32>;

class BlobIdHasher {
 public:
  // Plain SHA-256, for unencrypted repositories.
  static Result<std::unique_ptr<BlobIdHasher>> Plain();
  // HMAC-SHA-256 keyed with `mac_key`, for encrypted repositories.
  static Result<std::unique_ptr<BlobIdHasher>> Keyed(const Key256& mac_key);
  ~BlobIdHasher();
  BlobIdHasher(const BlobIdHasher&) = delete;
  BlobIdHasher& operator=(const BlobIdHasher&) = delete;

  bool keyed() const { return keyed_; }
  Result<Digest> Hash(std::string_view data);

 private:
  struct Impl;
  BlobIdHasher(bool keyed, std::unique_ptr<Impl> impl);

  bool keyed_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace velin::crypto
