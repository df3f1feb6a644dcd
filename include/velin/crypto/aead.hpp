// Authenticated encryption of one object or blob (docs/encryption.md, "Envelope").
//
// A Sealer holds one 256-bit key and seals with AES-256-GCM or ChaCha20-Poly1305 through
// OpenSSL 3 EVP (which picks AES-NI/AVX code paths itself), or for AES-256-GCM on a CPU with
// VAES and AVX-512 through velin's own 512-bit code (OpenSSL 3.0 has none for GCM). Each Seal draws
// a fresh random 96-bit nonce from OpenSSL's RAND and writes a versioned envelope:
//   version(1) cipher(1) nonce(12) ciphertext(n) tag(16)
// The associated data names what the object is (AssociatedData("blob", id)), so an envelope
// moved to another name, cut short, or altered in any byte fails to open. Open never returns
// unauthenticated bytes.
//
// Cipher contexts are keyed once and reused: each thread that seals or opens takes a context
// from the Sealer's pool and puts it back, so the hot path does no allocation and no key
// schedule. Destroying the Sealer frees (and so wipes) every context and the key.
// REQUIRES: safe to call Seal/Open from several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "velin/core/error.hpp"
#include "velin/crypto/secret.hpp"

namespace velin::crypto {

// How a repository's objects are encrypted. The numeric values are stored in envelopes.
enum class Cipher : uint8_t { kNone = 0, kAes256Gcm = 1, kChaCha20Poly1305 = 2 };

// "aes-256-gcm" | "chacha20-poly1305" | "none"; a usage error naming the value otherwise.
Result<Cipher> ParseCipher(std::string_view name);
std::string_view CipherName(Cipher cipher);

inline constexpr uint8_t kEnvelopeVersion = 1;
inline constexpr size_t kNonceSize = 12;
inline constexpr size_t kTagSize = 16;
inline constexpr size_t kEnvelopeHeaderSize = 2 + kNonceSize;
inline constexpr size_t kEnvelopeOverhead = kEnvelopeHeaderSize + kTagSize;

// The associated data that binds an envelope to one object: its kind ("blob", "tree", "index",
// "snapshot", "key", ...) and its name or id. Unambiguous: ("a", "b:c") != ("a:b", "c").
std::string AssociatedData(std::string_view kind, std::string_view id);

class Sealer {
 public:
  // `cipher` must not be kNone.
  static Result<std::unique_ptr<Sealer>> Create(Cipher cipher, const Key256& key);
  ~Sealer();
  Sealer(const Sealer&) = delete;
  Sealer& operator=(const Sealer&) = delete;

  Cipher cipher() const { return cipher_; }
  // Whether AES-256-GCM runs velin's own code for CPUs with VAES and AVX-512 on this machine
  // (src/crypto/aes_gcm_wide.hpp) rather than OpenSSL's; VELIN_AES_GCM=openssl turns it off.
  static bool UsesWideAesGcm();

  // Appends the envelope of `plaintext` (bound to `associated_data`) to `out`.
  Status Seal(std::string_view plaintext, std::string_view associated_data, std::string& out);
  // Writes the envelope to dst[0, kEnvelopeOverhead + plaintext.size()) (a pack's buffer).
  Status SealInto(std::string_view plaintext, std::string_view associated_data, char* dst);
  Result<std::string> Seal(std::string_view plaintext, std::string_view associated_data);

  // Replaces `out` with the plaintext of `envelope`. A damaged, truncated or swapped envelope
  // (or one for another key) is a DamageError; `out` is then empty. `out` keeps its memory from
  // call to call (a loop opening many objects allocates nothing after the first).
  Status Open(std::string_view envelope, std::string_view associated_data, std::string& out);
  Result<std::string> Open(std::string_view envelope, std::string_view associated_data);
  // Writes the plaintext of `envelope` to out[0, envelope.size() - kEnvelopeOverhead): another
  // buffer of that size, or the envelope's own body (out == envelope.data() +
  // kEnvelopeHeaderSize: opened in place, no second buffer). On failure those bytes are wiped
  // and nothing unauthenticated is left in them.
  Status OpenTo(std::string_view envelope, std::string_view associated_data, char* out);

 private:
  struct Pool;
  Sealer(Cipher cipher, const Key256& key);
  Status OpenInto(std::string_view envelope, std::string_view associated_data, std::string& out);

  Cipher cipher_;
  Key256 key_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace velin::crypto
