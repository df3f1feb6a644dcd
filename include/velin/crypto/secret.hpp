// Key material in memory. A SecretKey is a fixed-size byte array that is wiped with
// OPENSSL_cleanse when it is destroyed (and before it is overwritten by an assignment), so a
// freed key does not linger on the heap or stack for a later allocation or a core dump to
// reveal. Copies are independent and each wipes itself. CleanseString wipes a std::string that
// briefly held secret bytes (a decrypted key, a passphrase read from a file).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace velin::crypto {

// Overwrites `size` bytes at `data` with zeros in a way the compiler may not elide.
void Cleanse(void* data, size_t size);

// Wipes the string's whole buffer (capacity, not just size) and empties it.
void CleanseString(std::string& s);

template <size_t N>
class SecretKey {
 public:
  static constexpr size_t kSize = N;

  SecretKey() { bytes_.fill(0); }
  SecretKey(const SecretKey& other) : bytes_(other.bytes_) {}
  SecretKey& operator=(const SecretKey& other) {
    if (this != &other) bytes_ = other.bytes_;
    return *this;
  }
  ~SecretKey() { Cleanse(bytes_.data(), N); }

  uint8_t* data() { return bytes_.data(); }
  const uint8_t* data() const { return bytes_.data(); }
  constexpr size_t size() const { return N; }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes_.data()), N}; }
  bool operator==(const SecretKey& other) const { return bytes_ == other.bytes_; }

 private:
  std::array<uint8_t, N> bytes_;
};

// A 256-bit key: AES-256, ChaCha20, HMAC-SHA-256 and scrypt output all use this size.
using Key256 = SecretKey<32>;

}  // namespace velin::crypto
