// Passphrase → key: scrypt (RFC 7914; ROMix here on huge pages, PBKDF2 from OpenSSL:
// docs/encryption.md, "Key objects"). scrypt is memory-hard: with the defaults N=2^15, r=8, p=1
// each guess costs 32 MiB and ~0.1 s, which makes offline guessing of a stolen key object
// expensive. The parameters are stored in each key object, so they can be raised later without
// breaking older keys; tests pass lower ones. Parameters read from a key object are bounded before
// use, so a damaged or hostile key object cannot make velin allocate gigabytes.
#pragma once

#include <cstdint>
#include <string_view>

#include "velin/core/error.hpp"
#include "velin/crypto/secret.hpp"

namespace velin::crypto {

struct ScryptParams {
  uint64_t n = uint64_t{1} << 15;  // CPU/memory cost, a power of two
  uint32_t r = 8;                  // block size
  uint32_t p = 1;                  // parallelism
};

inline constexpr size_t kSaltSize = 32;

// The most work N·r·p a key object may ask: 16 times the defaults' (2^22; about a second,
// and 512 MiB at most), so that a hostile key object costs a command little.
inline constexpr uint64_t kMaxScryptWork = 16 * ((uint64_t{1} << 15) * 8 * 1);

// Ok when N is a power of two in [2^10, 2^22], r in [1, 32], p in [1, 16], the memory
// 128·N·r stays within 1 GiB and the work N·r·p within kMaxScryptWork; a DamageError naming
// the bad value otherwise.
Status ValidateScryptParams(const ScryptParams& params);

// scrypt(passphrase, salt, params) → 32 bytes. The last result is remembered: the same
// passphrase, salt and parameters again (a key object wrapped and then unwrapped by one
// command) cost no second scrypt. REQUIRES: safe to call from several threads.
Result<Key256> DeriveKey(std::string_view passphrase, std::string_view salt,
                         const ScryptParams& params);

// How many scrypt computations this process has run (DeriveKey calls answered from the
// remembered result not counted). For tests and benchmarks.
uint64_t ScryptRuns();

}  // namespace velin::crypto
