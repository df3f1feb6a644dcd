// AES-256-GCM on 512-bit vectors (VAES and VPCLMULQDQ), for the CPUs that have them.
//
// Debian 12's OpenSSL (3.0) has no AVX-512 code for GCM: on a CPU with VAES it runs the AVX
// (128-bit) code at ~3.3 GB/s a core, which made the encrypted restore's and verify's CPU
// 1.11 × the plain ones (bench/README.md, "Twentieth pass"). This is the same function,
// NIST SP 800-38D with a 96-bit nonce and a 128-bit tag, four blocks to a vector: counter mode
// sixteen blocks a step, GHASH over them with one reduction a step (H^16 .. H^1 precomputed,
// the bit-reflected representation of Gueron and Kounavis' "Intel Carry-Less Multiplication
// Instruction and its Usage for Computing the GCM Mode"). The unit tests compare it with
// OpenSSL's over every length up to a few blocks past a step and around several steps, with
// associated data of many lengths, in place and not (tests/unit/crypto/aes_gcm_wide_test.cpp).
//
// Supported() says whether this CPU (and its OS, which must save the 512-bit registers) can
// run it; aead.cpp uses OpenSSL otherwise, and when VELIN_AES_GCM=openssl is set (to compare).
// REQUIRES: Seal and Open are const and may run on many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace velin::crypto::detail {

class WideAesGcm {
 public:
  static bool Supported();

  // REQUIRES: Supported().
  explicit WideAesGcm(const uint8_t key[32]);
  ~WideAesGcm();  // wipes the round keys and the powers of H
  WideAesGcm(const WideAesGcm&) = delete;
  WideAesGcm& operator=(const WideAesGcm&) = delete;

  // The associated data is aad1 followed by aad2 (one string to GCM). `out` may equal `in`.
  void Seal(const uint8_t nonce[12], std::string_view aad1, std::string_view aad2,
            const uint8_t* in, size_t n, uint8_t* out, uint8_t tag[16]) const;
  // False when the tag does not match; `out` then holds unauthenticated bytes, which the caller
  // must wipe. `out` may equal `in`.
  bool Open(const uint8_t nonce[12], std::string_view aad1, std::string_view aad2,
            const uint8_t* in, size_t n, uint8_t* out, const uint8_t tag[16]) const;

 private:
  alignas(64) uint8_t round_keys_[15][16];
  alignas(64) uint8_t powers_[16][16];  // H^16, H^15, ..., H^1, bit-reflected
};

}  // namespace velin::crypto::detail
