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
  // The memory bound alone let N=2^22 r=2 p=16 through: 88 s of one core on every command that
  // tries that key object. The work N·r·p is bounded too, at 16 times the defaults'.
  if (n * params.r * params.p > kMaxScryptWork) {
    return DamageError(TrFormat(
        "scrypt N={} r={} p={} is more than 16 times the work of velin's default parameters",
        std::to_string(n), std::to_string(params.r), std::to_string(params.p)));
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
  void* data() const { return data_; }
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

// Salsa20/8 on four vectors of four words each, in the diagonal order of scrypt's reference
// SSE code: lane k of row vector j holds word kDiagonal[4 * j + k] of the 16-word block, so
// that a column round and a row round are each four vector steps, with lane rotations
// between them. The whole ROMix keeps its blocks (X, Y and V) in this order, converting once
// on the way in and once on the way out: V's XOR is word by word, and Integerify's word 0 of
// the last block stays lane 0 of its first vector. GCC's and Clang's vector types compile to
// SSE2 on x86-64 (and NEON on arm64). Against the scalar Salsa20/8 this takes 40 % off a
// derivation (96 → 56 ms for N=2^15, r=8, medians of `BM_Scrypt`; bench/README.md,
// "Nineteenth pass").
typedef uint32_t Words4 __attribute__((vector_size(16)));

constexpr int kDiagonal[16] = {0, 5, 10, 15, 12, 1, 6, 11, 8, 13, 2, 7, 4, 9, 14, 3};

VELIN_ROMIX_UNINSTRUMENTED inline Words4 Rotl(Words4 a, int b) {
  return (a << b) | (a >> (32 - b));
}

// Half a double round: the four quarter-rounds of the columns, as
// HalfRound(x0, x1, x2, x3), or of the rows, as HalfRound(x0, x3, x2, x1); then the lanes
// rotated into place for the other half.
VELIN_ROMIX_UNINSTRUMENTED inline void HalfRound(Words4& a, Words4& b, Words4& c, Words4& d) {
  d ^= Rotl(a + b, 7);
  c ^= Rotl(d + a, 9);
  b ^= Rotl(c + d, 13);
  a ^= Rotl(b + c, 18);
  d = __builtin_shufflevector(d, d, 3, 0, 1, 2);
  c = __builtin_shufflevector(c, c, 2, 3, 0, 1);
  b = __builtin_shufflevector(b, b, 1, 2, 3, 0);
}

// Salsa20/8 core: B = B + the 8-round permutation of B.
VELIN_ROMIX_UNINSTRUMENTED inline void Salsa208(Words4& b0, Words4& b1, Words4& b2, Words4& b3) {
  Words4 x0 = b0, x1 = b1, x2 = b2, x3 = b3;
  for (int i = 0; i < 8; i += 2) {
    HalfRound(x0, x1, x2, x3);  // columns
    HalfRound(x0, x3, x2, x1);  // rows
  }
  b0 += x0;
  b1 += x1;
  b2 += x2;
  b3 += x3;
}

// scryptBlockMix of `in` XOR `mask` (when not null): 2r blocks of four vectors; `out` gets
// the even blocks' results first, then the odd ones'. The mask is ROMix's V_j, so that the
// second loop reads its block once.
VELIN_ROMIX_UNINSTRUMENTED inline void BlockMix(const Words4* in, const Words4* mask, Words4* out,
                                                size_t r) {
  const size_t last = (2 * r - 1) * 4;
  Words4 x0 = in[last], x1 = in[last + 1], x2 = in[last + 2], x3 = in[last + 3];
  if (mask != nullptr) {
    x0 ^= mask[last];
    x1 ^= mask[last + 1];
    x2 ^= mask[last + 2];
    x3 ^= mask[last + 3];
  }
  for (size_t i = 0; i < 2 * r; ++i) {
    const Words4* b = in + i * 4;
    x0 ^= b[0];
    x1 ^= b[1];
    x2 ^= b[2];
    x3 ^= b[3];
    if (mask != nullptr) {
      const Words4* m = mask + i * 4;
      x0 ^= m[0];
      x1 ^= m[1];
      x2 ^= m[2];
      x3 ^= m[3];
    }
    Salsa208(x0, x1, x2, x3);
    Words4* o = out + ((i & 1) * r + i / 2) * 4;
    o[0] = x0;
    o[1] = x1;
    o[2] = x2;
    o[3] = x3;
  }
}

// scryptROMix on one 128·r-byte block of B, in place; `v` holds N·8·r vectors, `x` and `y`
// 8·r each.
VELIN_ROMIX_UNINSTRUMENTED void RoMix(unsigned char* block, size_t r, uint64_t n, Words4* v,
                                      Words4* x, Words4* y) {
  const size_t w = 8 * r;  // vectors in a 128·r-byte block
  auto* xw = reinterpret_cast<uint32_t*>(x);
  auto* yw = reinterpret_cast<const uint32_t*>(y);
  for (size_t k = 0; k < 4 * w; ++k) {
    const unsigned char* p = block + 4 * (k / 16 * 16 + kDiagonal[k % 16]);
    xw[k] = uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
  }
  // N is a power of two ≥ 2^10: the loops take two steps at a time, X → Y → X.
  for (uint64_t i = 0; i < n; i += 2) {
    std::memcpy(v + i * w, x, w * sizeof(Words4));
    BlockMix(x, nullptr, y, r);
    std::memcpy(v + (i + 1) * w, y, w * sizeof(Words4));
    BlockMix(y, nullptr, x, r);
  }
  const size_t last = (2 * r - 1) * 16;  // Integerify: the last block's word 0, lane 0
  for (uint64_t i = 0; i < n; i += 2) {
    BlockMix(x, v + (xw[last] & (n - 1)) * w, y, r);
    BlockMix(y, v + (yw[last] & (n - 1)) * w, x, r);
  }
  for (size_t k = 0; k < 4 * w; ++k) {
    unsigned char* p = block + 4 * (k / 16 * 16 + kDiagonal[k % 16]);
    p[0] = static_cast<unsigned char>(xw[k]);
    p[1] = static_cast<unsigned char>(xw[k] >> 8);
    p[2] = static_cast<unsigned char>(xw[k] >> 16);
    p[3] = static_cast<unsigned char>(xw[k] >> 24);
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
  if (v.data() == nullptr) {
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
  std::vector<Words4> x(8 * r), y(8 * r);
  for (uint32_t i = 0; i < params.p; ++i) {
    RoMix(b.data() + i * block, r, n, static_cast<Words4*>(v.data()), x.data(), y.data());
  }
  Cleanse(x.data(), x.size() * sizeof(Words4));
  Cleanse(y.data(), y.size() * sizeof(Words4));
  Key256 key;
  const bool ok = pbkdf2(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()),
                         key.data(), key.size());
  Cleanse(b.data(), b.size());
  if (!ok) return detail::OpenSslError("scrypt's PBKDF2");
  return key;
}

}  // namespace

}  // namespace velin::crypto
