// AES-256-GCM on 512-bit vectors; see aes_gcm_wide.hpp.
#include "aes_gcm_wide.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

// GCC 12's AVX-512 intrinsics start some results from _mm512_undefined_*(), a self-initialised
// variable its flow analysis then reports as used uninitialised (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace velin::crypto::detail {

#if defined(__x86_64__)

#define VELIN_WIDE_TARGET                                                       \
  __attribute__((                                                               \
      target("aes,pclmul,ssse3,sse4.1,avx2,avx512f,avx512bw,avx512vl,avx512dq," \
             "vaes,vpclmulqdq")))

namespace {

// ---- AES-256 ----

// Each word XORed with all the words before it (w0, w0^w1, w0^w1^w2, w0^w1^w2^w3).
VELIN_WIDE_TARGET inline __m128i PrefixXor(__m128i v) {
  v = _mm_xor_si128(v, _mm_slli_si128(v, 4));
  return _mm_xor_si128(v, _mm_slli_si128(v, 8));
}

// The next even round key from the previous two (`assist`: aeskeygenassist of the odd one).
VELIN_WIDE_TARGET inline __m128i ExpandA(__m128i a, __m128i assist) {
  return _mm_xor_si128(PrefixXor(a), _mm_shuffle_epi32(assist, 0xff));
}

// The next odd round key: SubWord without the rotation and round constant.
VELIN_WIDE_TARGET inline __m128i ExpandB(__m128i a, __m128i b) {
  return _mm_xor_si128(PrefixXor(b), _mm_shuffle_epi32(_mm_aeskeygenassist_si128(a, 0), 0xaa));
}

// FIPS 197's key expansion for a 256-bit key (the round constant must be an immediate).
VELIN_WIDE_TARGET void ExpandKey(const uint8_t key[32], __m128i rk[15]) {
  __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
  __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key + 16));
  rk[0] = a;
  rk[1] = b;
#define VELIN_EXPAND_STEP(i, rcon)                    \
  a = ExpandA(a, _mm_aeskeygenassist_si128(b, rcon)); \
  rk[i] = a;                                          \
  b = ExpandB(a, b);                                  \
  rk[(i) + 1] = b;
  VELIN_EXPAND_STEP(2, 0x01)
  VELIN_EXPAND_STEP(4, 0x02)
  VELIN_EXPAND_STEP(6, 0x04)
  VELIN_EXPAND_STEP(8, 0x08)
  VELIN_EXPAND_STEP(10, 0x10)
  VELIN_EXPAND_STEP(12, 0x20)
  a = ExpandA(a, _mm_aeskeygenassist_si128(b, 0x40));
  rk[14] = a;
#undef VELIN_EXPAND_STEP
}

VELIN_WIDE_TARGET inline __m128i EncryptBlock(const __m128i rk[15], __m128i x) {
  x = _mm_xor_si128(x, rk[0]);
  for (int r = 1; r < 14; ++r) x = _mm_aesenc_si128(x, rk[r]);
  return _mm_aesenclast_si128(x, rk[14]);
}

// ---- GHASH in the bit-reflected representation ----

// The product (lo, mid, hi: 256 bits as a.lo*b.lo, the cross terms, a.hi*b.hi) shifted left by
// one and reduced modulo x^128 + x^7 + x^2 + x + 1. Linear: sums of products reduce at once.
VELIN_WIDE_TARGET inline __m128i Reduce(__m128i lo, __m128i mid, __m128i hi) {
  __m128i t3 = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
  __m128i t6 = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
  // The 256-bit value t6:t3 shifted left by one bit.
  __m128i t7 = _mm_srli_epi32(t3, 31);
  __m128i t8 = _mm_srli_epi32(t6, 31);
  t3 = _mm_slli_epi32(t3, 1);
  t6 = _mm_slli_epi32(t6, 1);
  __m128i t9 = _mm_srli_si128(t7, 12);
  t8 = _mm_slli_si128(t8, 4);
  t7 = _mm_slli_si128(t7, 4);
  t3 = _mm_or_si128(t3, t7);
  t6 = _mm_or_si128(t6, t8);
  t6 = _mm_or_si128(t6, t9);
  // The reduction.
  t7 = _mm_slli_epi32(t3, 31);
  t8 = _mm_slli_epi32(t3, 30);
  t9 = _mm_slli_epi32(t3, 25);
  t7 = _mm_xor_si128(t7, t8);
  t7 = _mm_xor_si128(t7, t9);
  t8 = _mm_srli_si128(t7, 4);
  t7 = _mm_slli_si128(t7, 12);
  t3 = _mm_xor_si128(t3, t7);
  __m128i t2 = _mm_srli_epi32(t3, 1);
  __m128i t4 = _mm_srli_epi32(t3, 2);
  __m128i t5 = _mm_srli_epi32(t3, 7);
  t2 = _mm_xor_si128(t2, t4);
  t2 = _mm_xor_si128(t2, t5);
  t2 = _mm_xor_si128(t2, t8);
  t3 = _mm_xor_si128(t3, t2);
  return _mm_xor_si128(t6, t3);
}

VELIN_WIDE_TARGET inline __m128i GfMul(__m128i a, __m128i b) {
  __m128i lo = _mm_clmulepi64_si128(a, b, 0x00);
  __m128i hi = _mm_clmulepi64_si128(a, b, 0x11);
  __m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x10), _mm_clmulepi64_si128(a, b, 0x01));
  return Reduce(lo, mid, hi);
}

VELIN_WIDE_TARGET inline __m128i ByteSwapMask() {
  return _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
}

// One block of GHASH input (16 bytes, or fewer padded with zeros).
VELIN_WIDE_TARGET inline __m128i GhashBlock(__m128i x, __m128i h, const uint8_t* p, size_t n) {
  alignas(16) uint8_t block[16] = {};
  std::memcpy(block, p, n);
  __m128i c =
      _mm_shuffle_epi8(_mm_load_si128(reinterpret_cast<const __m128i*>(block)), ByteSwapMask());
  return GfMul(_mm_xor_si128(x, c), h);
}

// GHASH over aad1 then aad2 as one string, zero-padded to a block at its end.
VELIN_WIDE_TARGET __m128i GhashAad(__m128i x, __m128i h, std::string_view aad1,
                                   std::string_view aad2) {
  alignas(16) uint8_t block[16];
  size_t fill = 0;
  for (std::string_view part : {aad1, aad2}) {
    const auto* p = reinterpret_cast<const uint8_t*>(part.data());
    size_t n = part.size();
    while (n > 0) {
      size_t take = std::min(n, sizeof block - fill);
      std::memcpy(block + fill, p, take);
      fill += take;
      p += take;
      n -= take;
      if (fill == sizeof block) {
        x = GhashBlock(x, h, block, sizeof block);
        fill = 0;
      }
    }
  }
  if (fill > 0) x = GhashBlock(x, h, block, fill);
  return x;
}

VELIN_WIDE_TARGET inline __m512i Broadcast(__m128i x) { return _mm512_broadcast_i32x4(x); }

// Counter blocks: each 128-bit lane holds the nonce in bytes 0-11 and the block counter as a
// little-endian 32-bit integer in bytes 12-15 (so that adding counts with wrap-around is one
// 32-bit add, GCM's inc32); this shuffle turns the counter's bytes into GCM's order.
VELIN_WIDE_TARGET inline __m128i CounterOrderMask() {
  return _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 14, 13, 12);
}

VELIN_WIDE_TARGET inline __m512i ToBigEndian(__m512i ctr) {
  return _mm512_shuffle_epi8(ctr, Broadcast(CounterOrderMask()));
}

struct Keys {
  __m512i rk[15];
};

VELIN_WIDE_TARGET inline void Encrypt4(const Keys& k, __m512i& a, __m512i& b, __m512i& c,
                                       __m512i& d) {
  a = _mm512_xor_si512(a, k.rk[0]);
  b = _mm512_xor_si512(b, k.rk[0]);
  c = _mm512_xor_si512(c, k.rk[0]);
  d = _mm512_xor_si512(d, k.rk[0]);
  for (int r = 1; r < 14; ++r) {
    a = _mm512_aesenc_epi128(a, k.rk[r]);
    b = _mm512_aesenc_epi128(b, k.rk[r]);
    c = _mm512_aesenc_epi128(c, k.rk[r]);
    d = _mm512_aesenc_epi128(d, k.rk[r]);
  }
  a = _mm512_aesenclast_epi128(a, k.rk[14]);
  b = _mm512_aesenclast_epi128(b, k.rk[14]);
  c = _mm512_aesenclast_epi128(c, k.rk[14]);
  d = _mm512_aesenclast_epi128(d, k.rk[14]);
}

// The keystream of the next 16 blocks; advances `ctr` by 16.
VELIN_WIDE_TARGET inline void Keystream16(const Keys& k, __m512i& ctr, __m512i ks[4]) {
  const __m512i four = _mm512_set_epi32(4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0);
  __m512i c1 = _mm512_add_epi32(ctr, four);
  __m512i c2 = _mm512_add_epi32(c1, four);
  __m512i c3 = _mm512_add_epi32(c2, four);
  ks[0] = ToBigEndian(ctr);
  ks[1] = ToBigEndian(c1);
  ks[2] = ToBigEndian(c2);
  ks[3] = ToBigEndian(c3);
  ctr = _mm512_add_epi32(c3, four);
  Encrypt4(k, ks[0], ks[1], ks[2], ks[3]);
}

VELIN_WIDE_TARGET inline __m128i FoldLanes(__m512i z) {
  __m256i y = _mm256_xor_si256(_mm512_castsi512_si256(z), _mm512_extracti64x4_epi64(z, 1));
  return _mm_xor_si128(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
}

// GHASH over 16 ciphertext blocks (c[0] first) with one reduction: x·H^16 + c0·H^16 + ... +
// c15·H^1. `powers` is H^16 .. H^1 as four vectors.
VELIN_WIDE_TARGET inline __m128i Ghash16(__m128i x, const __m512i powers[4], const __m512i c[4]) {
  const __m512i swap = Broadcast(ByteSwapMask());
  __m512i lo = _mm512_setzero_si512();
  __m512i mid = _mm512_setzero_si512();
  __m512i hi = _mm512_setzero_si512();
  for (int i = 0; i < 4; ++i) {
    __m512i d = _mm512_shuffle_epi8(c[i], swap);
    if (i == 0) d = _mm512_xor_si512(d, _mm512_inserti32x4(_mm512_setzero_si512(), x, 0));
    lo = _mm512_xor_si512(lo, _mm512_clmulepi64_epi128(d, powers[i], 0x00));
    hi = _mm512_xor_si512(hi, _mm512_clmulepi64_epi128(d, powers[i], 0x11));
    mid = _mm512_xor_si512(mid, _mm512_clmulepi64_epi128(d, powers[i], 0x10));
    mid = _mm512_xor_si512(mid, _mm512_clmulepi64_epi128(d, powers[i], 0x01));
  }
  return Reduce(FoldLanes(lo), FoldLanes(mid), FoldLanes(hi));
}

}  // namespace

// CPUID itself: Clang 14's __builtin_cpu_supports knows neither "vaes" nor "vpclmulqdq".
bool WideAesGcm::Supported() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool ssse3 = c & (1u << 9), sse41 = c & (1u << 19), pclmul = c & (1u << 1),
             aes = c & (1u << 25), osxsave = c & (1u << 27), avx = c & (1u << 28);
  if (!(ssse3 && sse41 && pclmul && aes && osxsave && avx)) return false;
  // The OS saves the SSE, AVX, opmask and both halves of the 512-bit registers (XCR0).
  unsigned xcr0_lo = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0xe6) != 0xe6) return false;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx2 = b & (1u << 5), avx512f = b & (1u << 16), avx512dq = b & (1u << 17),
             avx512bw = b & (1u << 30), avx512vl = b & (1u << 31), vaes = c & (1u << 9),
             vpclmulqdq = c & (1u << 10);
  return avx2 && avx512f && avx512dq && avx512bw && avx512vl && vaes && vpclmulqdq;
}

namespace {

VELIN_WIDE_TARGET void Init(const uint8_t key[32], uint8_t round_keys_[15][16],
                            uint8_t powers_[16][16]) {
  __m128i rk[15];
  ExpandKey(key, rk);
  for (int i = 0; i < 15; ++i) _mm_store_si128(reinterpret_cast<__m128i*>(round_keys_[i]), rk[i]);
  const __m128i h = _mm_shuffle_epi8(EncryptBlock(rk, _mm_setzero_si128()), ByteSwapMask());
  __m128i p = h;
  for (int i = 15; i >= 0; --i) {  // powers_[15] = H^1, powers_[0] = H^16
    _mm_store_si128(reinterpret_cast<__m128i*>(powers_[i]), p);
    p = GfMul(p, h);
  }
  OPENSSL_cleanse(rk, sizeof rk);
  OPENSSL_cleanse(&p, sizeof p);
}

}  // namespace

WideAesGcm::WideAesGcm(const uint8_t key[32]) { Init(key, round_keys_, powers_); }

WideAesGcm::~WideAesGcm() {
  OPENSSL_cleanse(round_keys_, sizeof round_keys_);
  OPENSSL_cleanse(powers_, sizeof powers_);
}

namespace {

VELIN_WIDE_TARGET void Crypt(const uint8_t round_keys_[15][16], const uint8_t powers_[16][16],
                             bool encrypt, const uint8_t nonce[12], std::string_view aad1,
                             std::string_view aad2, const uint8_t* in, size_t n, uint8_t* out,
                             uint8_t tag[16]) {
  Keys k;
  __m128i rk[15];
  for (int i = 0; i < 15; ++i) {
    rk[i] = _mm_load_si128(reinterpret_cast<const __m128i*>(round_keys_[i]));
    k.rk[i] = Broadcast(rk[i]);
  }
  __m512i powers[4];
  for (int i = 0; i < 4; ++i) {
    powers[i] = _mm512_load_si512(reinterpret_cast<const void*>(powers_[4 * i]));
  }
  const __m128i h = _mm_load_si128(reinterpret_cast<const __m128i*>(powers_[15]));

  // J0 = nonce || 1; the data's first counter block is J0 + 1.
  alignas(16) uint8_t j0[16];
  std::memcpy(j0, nonce, 12);
  const uint32_t one = 1;
  std::memcpy(j0 + 12, &one, 4);  // little-endian in the lane, as the counters below
  const __m128i j0_le = _mm_load_si128(reinterpret_cast<const __m128i*>(j0));
  __m512i ctr = _mm512_add_epi32(Broadcast(j0_le),
                                 _mm512_set_epi32(4, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0));

  __m128i x = GhashAad(_mm_setzero_si128(), h, aad1, aad2);
  size_t off = 0;
  __m512i ks[4];
  for (; n - off >= 256; off += 256) {
    Keystream16(k, ctr, ks);
    __m512i c[4];
    for (int i = 0; i < 4; ++i) {
      __m512i v = _mm512_loadu_si512(in + off + 64 * i);
      __m512i o = _mm512_xor_si512(v, ks[i]);
      c[i] = encrypt ? o : v;
      _mm512_storeu_si512(out + off + 64 * i, o);
    }
    x = Ghash16(x, powers, c);
  }
  if (off < n) {  // fewer than 16 blocks left
    const size_t rest = n - off;
    alignas(64) uint8_t stream[256];
    Keystream16(k, ctr, ks);
    for (int i = 0; i < 4; ++i) _mm512_store_si512(stream + 64 * i, ks[i]);
    if (!encrypt) {  // GHASH the ciphertext before an in-place open overwrites it
      for (size_t b = 0; b < rest; b += 16)
        x = GhashBlock(x, h, in + off + b, std::min<size_t>(16, rest - b));
    }
    for (size_t i = 0; i < rest; ++i) out[off + i] = static_cast<uint8_t>(in[off + i] ^ stream[i]);
    if (encrypt) {
      for (size_t b = 0; b < rest; b += 16)
        x = GhashBlock(x, h, out + off + b, std::min<size_t>(16, rest - b));
    }
    OPENSSL_cleanse(stream, sizeof stream);
  }
  const size_t aad_bytes = aad1.size() + aad2.size();
  const __m128i lengths =
      _mm_set_epi64x(static_cast<long long>(aad_bytes * 8), static_cast<long long>(n * 8));
  x = GfMul(_mm_xor_si128(x, lengths), h);
  const __m128i mask = EncryptBlock(rk, _mm_shuffle_epi8(j0_le, CounterOrderMask()));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(tag),
                   _mm_xor_si128(_mm_shuffle_epi8(x, ByteSwapMask()), mask));
  OPENSSL_cleanse(&k, sizeof k);
  OPENSSL_cleanse(rk, sizeof rk);
  OPENSSL_cleanse(ks, sizeof ks);
}

}  // namespace

void WideAesGcm::Seal(const uint8_t nonce[12], std::string_view aad1, std::string_view aad2,
                      const uint8_t* in, size_t n, uint8_t* out, uint8_t tag[16]) const {
  Crypt(round_keys_, powers_, true, nonce, aad1, aad2, in, n, out, tag);
}

bool WideAesGcm::Open(const uint8_t nonce[12], std::string_view aad1, std::string_view aad2,
                      const uint8_t* in, size_t n, uint8_t* out, const uint8_t tag[16]) const {
  uint8_t computed[16];
  Crypt(round_keys_, powers_, false, nonce, aad1, aad2, in, n, out, computed);
  const bool ok = CRYPTO_memcmp(computed, tag, sizeof computed) == 0;
  OPENSSL_cleanse(computed, sizeof computed);
  return ok;
}

#else  // not x86-64: OpenSSL's code serves

bool WideAesGcm::Supported() { return false; }
WideAesGcm::WideAesGcm(const uint8_t*) {}
WideAesGcm::~WideAesGcm() = default;
void WideAesGcm::Seal(const uint8_t*, std::string_view, std::string_view, const uint8_t*, size_t,
                      uint8_t*, uint8_t*) const {}
bool WideAesGcm::Open(const uint8_t*, std::string_view, std::string_view, const uint8_t*, size_t,
                      uint8_t*, const uint8_t*) const {
  return false;
}

#endif

}  // namespace velin::crypto::detail
