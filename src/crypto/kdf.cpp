#include "velin/crypto/kdf.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/mman.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "openssl_util.hpp"
#include "velin/core/i18n.hpp"

namespace velin::crypto {
namespace {

constexpr uint64_t kMaxScryptMemory = uint64_t{1} << 30;

std::atomic<uint64_t> scrypt_runs{0};

// The last derivation of this process. A repository made by the command that then uses it
// (the first `backup create`) wraps its master key and unwraps it again at once: the same
// passphrase, salt and parameters, so the second scrypt (~0.1 s, 32 MiB) is answered from
// here. The wrapping key is weaker than the master key the process holds anyway; both the
// passphrase and the key are wiped when replaced and at exit.
struct LastDerivation {
  std::mutex mu;
  bool valid = false;
  std::string passphrase;
  std::string salt;
  ScryptParams params;
  Key256 key;
  ~LastDerivation() { CleanseString(passphrase); }

  bool Matches(std::string_view pass, std::string_view s, const ScryptParams& p) const {
    return valid && p.n == params.n && p.r == params.r && p.p == params.p && s == salt &&
           pass.size() == passphrase.size() &&
           CRYPTO_memcmp(pass.data(), passphrase.data(), pass.size()) == 0;
  }
};

LastDerivation& Last() {
  static LastDerivation last;
  return last;
}

Result<Key256> RunScrypt(std::string_view passphrase, std::string_view salt,
                         const ScryptParams& params);

}  // namespace

uint64_t ScryptRuns() { return scrypt_runs.load(); }

Status ValidateScryptParams(const ScryptParams& params) {
  const uint64_t n = params.n;
  if (n < (uint64_t{1} << 10) || n > (uint64_t{1} << 22) || (n & (n - 1)) != 0) {
    return DamageError(
        TrFormat("scrypt N={} is not a power of two between 2^10 and 2^22", std::to_string(n)));
  }
  if (params.r < 1 || params.r > 32) {
    return DamageError(TrFormat("scrypt r={} is outside 1..32", std::to_string(params.r)));
  }
  if (params.p < 1 || params.p > 16) {
    return DamageError(TrFormat("scrypt p={} is outside 1..16", std::to_string(params.p)));
  }
  if (128 * n * params.r > kMaxScryptMemory) {
    return DamageError(TrFormat("scrypt N={} r={} needs more than 1 GiB of memory",
                                std::to_string(n), std::to_string(params.r)));
  }
  return Ok();
}

Result<Key256> DeriveKey(std::string_view passphrase, std::string_view salt,
                         const ScryptParams& params) {
  VELIN_TRY(ValidateScryptParams(params));
  LastDerivation& last = Last();
  {
    std::lock_guard lock(last.mu);
    if (last.Matches(passphrase, salt, params)) return last.key;
  }
  VELIN_ASSIGN(Key256 key, RunScrypt(passphrase, salt, params));
  std::lock_guard lock(last.mu);
  CleanseString(last.passphrase);
  last.passphrase.assign(passphrase);
  last.salt.assign(salt);
  last.params = params;
  last.key = key;
  last.valid = true;
  return key;
}

namespace {

// scrypt (RFC 7914) computed here rather than by OpenSSL's EVP_KDF "SCRYPT": the same function
// (tests check it against OpenSSL's for several parameter sets), but its 128·r·N bytes of V sit
// on transparent huge pages. ROMix reads V at random, and with 4 KiB pages nearly every read of
// its 32 MiB missed the TLB: on the VMs velin was measured on that doubled the derivation's
// time (154 → 65–70 ms, bench/README.md, "Twelfth pass"). PBKDF2-HMAC-SHA-256 is OpenSSL's.

// V: anonymous memory aligned to 2 MiB and advised as huge pages (a hint: without transparent
// huge pages it is ordinary memory), wiped and unmapped when done.
class RomixMemory {
 public:
  static constexpr size_t kHugePage = size_t{2} << 20;

  explicit RomixMemory(size_t bytes) : bytes_(bytes), mapped_(bytes + kHugePage) {
    void* m = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      errno_ = errno;
      return;
    }
    base_ = static_cast<char*>(m);
    const auto addr = reinterpret_cast<uintptr_t>(base_);
    data_ = base_ + ((kHugePage - addr % kHugePage) % kHugePage);
#ifdef MADV_HUGEPAGE
    ::madvise(data_, bytes_, MADV_HUGEPAGE);
#endif
  }
  ~RomixMemory() {
    if (base_ == nullptr) return;
    Cleanse(data_, bytes_);
    ::munmap(base_, mapped_);
  }
  RomixMemory(const RomixMemory&) = delete;
  RomixMemory& operator=(const RomixMemory&) = delete;

  // Null when the memory could not be mapped; error() then says why (an errno).
  uint32_t* words() const { return reinterpret_cast<uint32_t*>(data_); }
  int error() const { return errno_; }

 private:
  size_t bytes_;
  size_t mapped_;
  char* base_ = nullptr;
  char* data_ = nullptr;
  int errno_ = 0;
};

// ROMix's functions are not instrumented by the sanitizers: in the sanitizer build each
// derivation took 10 s, checking 2^21 accesses to memory that is velin's own and fixed in size
// (their bounds are ValidateScryptParams'). The tests compare the result with OpenSSL's.
#if defined(__clang__)
#define VELIN_ROMIX_UNINSTRUMENTED __attribute__((no_sanitize("address", "undefined", "coverage")))
#elif defined(__GNUC__)
#define VELIN_ROMIX_UNINSTRUMENTED __attribute__((no_sanitize("address", "undefined")))
#else
#define VELIN_ROMIX_UNINSTRUMENTED
#endif

VELIN_ROMIX_UNINSTRUMENTED inline uint32_t Rotl(uint32_t a, int b) {
  return (a << b) | (a >> (32 - b));
}

// One quarter-round of Salsa20 on the words a, b, c, d of x.
VELIN_ROMIX_UNINSTRUMENTED inline void QuarterRound(uint32_t* x, int a, int b, int c, int d) {
  x[b] ^= Rotl(x[a] + x[d], 7);
  x[c] ^= Rotl(x[b] + x[a], 9);
  x[d] ^= Rotl(x[c] + x[b], 13);
  x[a] ^= Rotl(x[d] + x[c], 18);
}

// Salsa20/8 core: B = B + the 8-round permutation of B.
VELIN_ROMIX_UNINSTRUMENTED void Salsa208(uint32_t b[16]) {
  uint32_t x[16];
  std::memcpy(x, b, sizeof x);
  for (int i = 0; i < 8; i += 2) {
    QuarterRound(x, 0, 4, 8, 12);  // columns
    QuarterRound(x, 5, 9, 13, 1);
    QuarterRound(x, 10, 14, 2, 6);
    QuarterRound(x, 15, 3, 7, 11);
    QuarterRound(x, 0, 1, 2, 3);  // rows
    QuarterRound(x, 5, 6, 7, 4);
    QuarterRound(x, 10, 11, 8, 9);
    QuarterRound(x, 15, 12, 13, 14);
  }
  for (int i = 0; i < 16; ++i) b[i] += x[i];
}

// scryptBlockMix: `in` is 2r blocks of 16 words; `out` gets the even blocks' results first,
// then the odd ones'.
VELIN_ROMIX_UNINSTRUMENTED void BlockMix(const uint32_t* in, uint32_t* out, size_t r) {
  uint32_t x[16];
  std::memcpy(x, in + (2 * r - 1) * 16, sizeof x);
  for (size_t i = 0; i < 2 * r; ++i) {
    for (int k = 0; k < 16; ++k) x[k] ^= in[i * 16 + k];
    Salsa208(x);
    std::memcpy(out + ((i & 1) * r + i / 2) * 16, x, sizeof x);
  }
}

// scryptROMix on one 128·r-byte block of B, in place; `v` holds N·32·r words, `x` and `y`
// 32·r each.
VELIN_ROMIX_UNINSTRUMENTED void RoMix(unsigned char* block, size_t r, uint64_t n, uint32_t* v,
                                      uint32_t* x, uint32_t* y) {
  const size_t w = 32 * r;
  for (size_t k = 0; k < w; ++k) {
    const unsigned char* p = block + 4 * k;
    x[k] = uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  }
  // N is a power of two ≥ 2^10: the loops take two steps at a time, X → Y → X.
  for (uint64_t i = 0; i < n; i += 2) {
    std::memcpy(v + i * w, x, w * 4);
    BlockMix(x, y, r);
    std::memcpy(v + (i + 1) * w, y, w * 4);
    BlockMix(y, x, r);
  }
  const size_t last = (2 * r - 1) * 16;  // Integerify: the last block's first word
  for (uint64_t i = 0; i < n; i += 2) {
    const uint32_t* vj = v + (x[last] & (n - 1)) * w;
    for (size_t k = 0; k < w; ++k) x[k] ^= vj[k];
    BlockMix(x, y, r);
    vj = v + (y[last] & (n - 1)) * w;
    for (size_t k = 0; k < w; ++k) y[k] ^= vj[k];
    BlockMix(y, x, r);
  }
  for (size_t k = 0; k < w; ++k) {
    unsigned char* p = block + 4 * k;
    p[0] = static_cast<unsigned char>(x[k]);
    p[1] = static_cast<unsigned char>(x[k] >> 8);
    p[2] = static_cast<unsigned char>(x[k] >> 16);
    p[3] = static_cast<unsigned char>(x[k] >> 24);
  }
}

Result<Key256> RunScrypt(std::string_view passphrase, std::string_view salt,
                         const ScryptParams& params) {
  scrypt_runs.fetch_add(1);
  const size_t r = params.r;
  const uint64_t n = params.n;
  const size_t block = 128 * r;
  // The memory first: when it cannot be had, nothing else has been computed.
  RomixMemory v(static_cast<size_t>(block * n));  // within 1 GiB: ValidateScryptParams
  if (v.words() == nullptr) {
    return MakeError(ExitCode::kFailed,
                     TrFormat("scrypt needs {} MiB of memory: {}", std::to_string(block * n >> 20),
                              std::strerror(v.error())));
  }
  std::vector<unsigned char> b(block * params.p);
  auto pbkdf2 = [&](std::string_view s, unsigned char* out, size_t out_size) {
    return PKCS5_PBKDF2_HMAC(passphrase.data(), static_cast<int>(passphrase.size()),
                             reinterpret_cast<const unsigned char*>(s.data()),
                             static_cast<int>(s.size()), 1, EVP_sha256(),
                             static_cast<int>(out_size), out) == 1;
  };
  if (!pbkdf2(salt, b.data(), b.size())) return detail::OpenSslError("scrypt's PBKDF2");
  std::vector<uint32_t> x(32 * r), y(32 * r);
  for (uint32_t i = 0; i < params.p; ++i) {
    RoMix(b.data() + i * block, r, n, v.words(), x.data(), y.data());
  }
  Cleanse(x.data(), x.size() * 4);
  Cleanse(y.data(), y.size() * 4);
  Key256 key;
  const bool ok = pbkdf2(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()),
                         key.data(), key.size());
  Cleanse(b.data(), b.size());
  if (!ok) return detail::OpenSslError("scrypt's PBKDF2");
  return key;
}

}  // namespace

}  // namespace velin::crypto
