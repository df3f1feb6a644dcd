// AEAD envelopes through OpenSSL EVP; layout in docs/encryption.md, "Envelope".
#include "velin/crypto/aead.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "aes_gcm_wide.hpp"
#include "context_pool.hpp"
#include "openssl_util.hpp"
#include "velin/core/i18n.hpp"

namespace velin::crypto {
namespace {

// Fetched once per process; OpenSSL picks the fastest implementation for this CPU.
const EVP_CIPHER* FetchCipher(Cipher cipher) {
  static EVP_CIPHER* aes = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  static EVP_CIPHER* chacha = EVP_CIPHER_fetch(nullptr, "ChaCha20-Poly1305", nullptr);
  switch (cipher) {
    case Cipher::kAes256Gcm:
      return aes;
    case Cipher::kChaCha20Poly1305:
      return chacha;
    case Cipher::kNone:
      break;
  }
  return nullptr;
}

// EVP's update functions take an int length; feed larger inputs in pieces.
constexpr size_t kMaxUpdate = size_t{1} << 30;

bool UpdateAad(EVP_CIPHER_CTX* ctx, bool encrypt, std::string_view aad) {
  int len = 0;
  for (size_t off = 0; off < aad.size(); off += kMaxUpdate) {
    size_t n = std::min(kMaxUpdate, aad.size() - off);
    auto* in = reinterpret_cast<const unsigned char*>(aad.data() + off);
    int ok = encrypt ? EVP_EncryptUpdate(ctx, nullptr, &len, in, static_cast<int>(n))
                     : EVP_DecryptUpdate(ctx, nullptr, &len, in, static_cast<int>(n));
    if (ok != 1) return false;
  }
  return true;
}

bool UpdateData(EVP_CIPHER_CTX* ctx, bool encrypt, std::string_view in, unsigned char* out) {
  int len = 0;
  for (size_t off = 0; off < in.size(); off += kMaxUpdate) {
    size_t n = std::min(kMaxUpdate, in.size() - off);
    auto* src = reinterpret_cast<const unsigned char*>(in.data() + off);
    int ok = encrypt ? EVP_EncryptUpdate(ctx, out + off, &len, src, static_cast<int>(n))
                     : EVP_DecryptUpdate(ctx, out + off, &len, src, static_cast<int>(n));
    if (ok != 1 || static_cast<size_t>(len) != n) return false;
  }
  return true;
}

}  // namespace

Result<Cipher> ParseCipher(std::string_view name) {
  if (name == "aes-256-gcm") return Cipher::kAes256Gcm;
  if (name == "chacha20-poly1305") return Cipher::kChaCha20Poly1305;
  if (name == "none") return Cipher::kNone;
  return UsageError(
      TrFormat("unknown encryption '{}' (expected aes-256-gcm, chacha20-poly1305 or none)", name));
}

std::string_view CipherName(Cipher cipher) {
  switch (cipher) {
    case Cipher::kAes256Gcm:
      return "aes-256-gcm";
    case Cipher::kChaCha20Poly1305:
      return "chacha20-poly1305";
    case Cipher::kNone:
      break;
  }
  return "none";
}

std::string AssociatedData(std::string_view kind, std::string_view id) {
  // "velin" NUL kind NUL id: the kind never contains NUL, so the split is unambiguous.
  std::string ad = "velin";
  ad.push_back('\0');
  ad.append(kind);
  ad.push_back('\0');
  ad.append(id);
  return ad;
}

using CipherPool = detail::ContextPool<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;

// Keyed contexts waiting to be reused, one pool per direction. A context is keyed when it is
// created; a seal or open only sets its nonce. AES-256-GCM on a CPU with VAES and AVX-512 runs
// velin's own 512-bit code instead (aes_gcm_wide.hpp): one keyed object, shared by all threads.
struct Sealer::Pool {
  CipherPool decrypt;
  CipherPool encrypt;
  std::unique_ptr<detail::WideAesGcm> wide;
};

namespace {

// VELIN_AES_GCM=openssl keeps OpenSSL's AES-GCM on every CPU (to compare the two).
bool UseWideAesGcm() {
  static const bool use = [] {
    const char* choice = std::getenv("VELIN_AES_GCM");
    return !(choice != nullptr && std::string_view(choice) == "openssl") &&
           detail::WideAesGcm::Supported();
  }();
  return use;
}

// A context keyed for `cipher` in one direction; nullptr on failure.
EVP_CIPHER_CTX* NewKeyedContext(Cipher cipher, const Key256& key, bool encrypt) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return nullptr;
  int ok = encrypt ? EVP_EncryptInit_ex2(ctx, FetchCipher(cipher), key.data(), nullptr, nullptr)
                   : EVP_DecryptInit_ex2(ctx, FetchCipher(cipher), key.data(), nullptr, nullptr);
  if (ok != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

}  // namespace

Result<std::unique_ptr<Sealer>> Sealer::Create(Cipher cipher, const Key256& key) {
  if (cipher == Cipher::kNone)
    return Failure(std::string(Tr("a sealer needs a cipher, not 'none'")));
  if (FetchCipher(cipher) == nullptr) {
    return Failure(TrFormat("OpenSSL has no {}", CipherName(cipher)));
  }
  return std::unique_ptr<Sealer>(new Sealer(cipher, key));
}

bool Sealer::UsesWideAesGcm() { return UseWideAesGcm(); }

Sealer::Sealer(Cipher cipher, const Key256& key)
    : cipher_(cipher), key_(key), pool_(std::make_unique<Pool>()) {
  if (cipher == Cipher::kAes256Gcm && UseWideAesGcm()) {
    pool_->wide = std::make_unique<detail::WideAesGcm>(key.data());
  }
}

Sealer::~Sealer() = default;

Status Sealer::Seal(std::string_view plaintext, std::string_view associated_data,
                    std::string& out) {
  const size_t start = out.size();
  out.resize(start + kEnvelopeOverhead + plaintext.size());
  Status st = SealInto(plaintext, associated_data, out.data() + start);
  if (!st) out.resize(start);
  return st;
}

Status Sealer::SealInto(std::string_view plaintext, std::string_view associated_data, char* dst) {
  auto* env = reinterpret_cast<unsigned char*>(dst);
  env[0] = kEnvelopeVersion;
  env[1] = static_cast<unsigned char>(cipher_);
  auto fail = [&](std::string_view what) { return detail::OpenSslError(what); };
  if (!detail::RandomBytes(env + 2, kNonceSize)) return fail("drawing a nonce");
  if (pool_->wide) {
    pool_->wide->Seal(env + 2, std::string_view(reinterpret_cast<const char*>(env), 2),
                      associated_data, reinterpret_cast<const uint8_t*>(plaintext.data()),
                      plaintext.size(), env + kEnvelopeHeaderSize,
                      env + kEnvelopeHeaderSize + plaintext.size());
    return Ok();
  }

  CipherPool::Lease lease(pool_->encrypt);
  if (lease.get() == nullptr) lease.Adopt(NewKeyedContext(cipher_, key_, true));
  EVP_CIPHER_CTX* ctx = lease.get();
  if (ctx == nullptr) return fail("creating a cipher context");
  const std::string_view header(reinterpret_cast<const char*>(env), 2);
  int len = 0;
  if (EVP_EncryptInit_ex2(ctx, nullptr, nullptr, env + 2, nullptr) != 1 ||
      !UpdateAad(ctx, true, header) || !UpdateAad(ctx, true, associated_data) ||
      !UpdateData(ctx, true, plaintext, env + kEnvelopeHeaderSize) ||
      EVP_EncryptFinal_ex(ctx, nullptr, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize),
                          env + kEnvelopeHeaderSize + plaintext.size()) != 1) {
    return fail("sealing with " + std::string(CipherName(cipher_)));
  }
  return Ok();
}

Result<std::string> Sealer::Seal(std::string_view plaintext, std::string_view associated_data) {
  std::string out;
  VELIN_TRY(Seal(plaintext, associated_data, out));
  return out;
}

Status Sealer::Open(std::string_view envelope, std::string_view associated_data, std::string& out) {
  Status st = OpenInto(envelope, associated_data, out);
  if (!st) out.clear();
  return st;
}

namespace {

Status CheckEnvelope(std::string_view envelope, Cipher cipher) {
  if (envelope.size() < kEnvelopeOverhead) {
    return DamageError(TrFormat("encrypted object too short ({} bytes, at least {} expected)",
                                std::to_string(envelope.size()),
                                std::to_string(kEnvelopeOverhead)));
  }
  auto* env = reinterpret_cast<const unsigned char*>(envelope.data());
  if (env[0] != kEnvelopeVersion) {
    return DamageError(TrFormat("unknown encryption envelope version {}", std::to_string(env[0])));
  }
  if (env[1] != static_cast<unsigned char>(cipher)) {
    const auto sealed_with = static_cast<Cipher>(env[1]);
    std::string name = sealed_with == Cipher::kAes256Gcm || sealed_with == Cipher::kChaCha20Poly1305
                           ? std::string(CipherName(sealed_with))
                           : "unknown cipher " + std::to_string(env[1]);
    return DamageError(
        TrFormat("object sealed with {}, not with the repository's {}", name, CipherName(cipher)));
  }
  return Ok();
}

}  // namespace

Status Sealer::OpenInto(std::string_view envelope, std::string_view associated_data,
                        std::string& out) {
  VELIN_TRY(CheckEnvelope(envelope, cipher_));
  // Not cleared first: a reused `out` keeps its memory and only a longer body zero-fills the
  // difference (every byte is then overwritten).
  out.resize(envelope.size() - kEnvelopeOverhead);
  return OpenTo(envelope, associated_data, out.data());
}

Status Sealer::OpenTo(std::string_view envelope, std::string_view associated_data, char* out) {
  VELIN_TRY(CheckEnvelope(envelope, cipher_));
  auto* env = reinterpret_cast<const unsigned char*>(envelope.data());
  const std::string_view body =
      envelope.substr(kEnvelopeHeaderSize, envelope.size() - kEnvelopeOverhead);
  unsigned char tag[kTagSize];
  std::memcpy(tag, env + envelope.size() - kTagSize, kTagSize);
  auto failed = [&] {
    Cleanse(out, body.size());
    return DamageError(
        std::string(Tr("authentication failed: the encrypted object was altered, truncated or "
                       "swapped, or belongs to another repository")));
  };
  if (pool_->wide) {
    if (!pool_->wide->Open(env + 2, envelope.substr(0, 2), associated_data,
                           reinterpret_cast<const uint8_t*>(body.data()), body.size(),
                           reinterpret_cast<uint8_t*>(out), tag)) {
      return failed();
    }
    return Ok();
  }

  CipherPool::Lease lease(pool_->decrypt);
  if (lease.get() == nullptr) lease.Adopt(NewKeyedContext(cipher_, key_, false));
  EVP_CIPHER_CTX* ctx = lease.get();
  if (ctx == nullptr) return detail::OpenSslError("creating a cipher context");
  int len = 0;
  // In place (out == body.data()) is what the GCM and ChaCha20-Poly1305 stream modes allow.
  bool ok = EVP_DecryptInit_ex2(ctx, nullptr, nullptr, env + 2, nullptr) == 1 &&
            UpdateAad(ctx, false, envelope.substr(0, 2)) &&
            UpdateAad(ctx, false, associated_data) &&
            UpdateData(ctx, false, body, reinterpret_cast<unsigned char*>(out)) &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize), tag) == 1 &&
            EVP_DecryptFinal_ex(ctx, nullptr, &len) == 1;
  if (!ok) {
    ERR_clear_error();
    return failed();
  }
  return Ok();
}

Result<std::string> Sealer::Open(std::string_view envelope, std::string_view associated_data) {
  std::string out;
  VELIN_TRY(Open(envelope, associated_data, out));
  return out;
}

}  // namespace velin::crypto
