// Content addresses. Every blob, pack and index object of a repository is named by the SHA-256
// of its bytes (OpenSSL EVP; SHA-NI where the CPU has it), so a name is also a checksum: reading
// an object back and hashing it tells whether it is the one that was written
// (docs/repository-format.md, "Names").
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace velin::repo {

struct BlobId {
  std::array<uint8_t, 32> bytes{};

  std::string Hex() const;
  std::string Short() const { return Hex().substr(0, 12); }
  bool operator==(const BlobId& o) const { return bytes == o.bytes; }
  bool operator!=(const BlobId& o) const { return bytes != o.bytes; }
  bool operator<(const BlobId& o) const { return bytes < o.bytes; }
};

// Parses 64 lowercase or uppercase hex digits; nullopt otherwise.
std::optional<BlobId> ParseBlobId(std::string_view hex);

// SHA-256 of `data`.
BlobId Sha256(std::string_view data);

// SHA-256 of data given in pieces (a pack read a few MiB at a time).
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void Update(std::string_view data);
  BlobId Final();

 private:
  void* ctx_;  // EVP_MD_CTX
};

struct BlobIdHash {
  size_t operator()(const BlobId& id) const {
    size_t h;
    std::memcpy(&h, id.bytes.data(), sizeof h);
    return h;
  }
};

}  // namespace velin::repo
