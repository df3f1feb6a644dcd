#include "velin/crypto/kdf.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <atomic>
#include <mutex>
#include <string>

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

Result<Key256> RunScrypt(std::string_view passphrase, std::string_view salt,
                         const ScryptParams& params) {
  scrypt_runs.fetch_add(1);
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "SCRYPT", nullptr);
  if (kdf == nullptr) return detail::OpenSslError("fetching scrypt");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return detail::OpenSslError("creating a scrypt context");

  uint64_t n = params.n;
  uint32_t r = params.r;
  uint32_t p = params.p;
  // Room for V (128·r·N), B (128·r·p) and slack; the bounds above keep this small.
  uint64_t maxmem = 128 * n * r + 128 * uint64_t{r} * p + (uint64_t{1} << 20);
  OSSL_PARAM ossl_params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                        const_cast<char*>(passphrase.data()), passphrase.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end()};
  Key256 key;
  int ok = EVP_KDF_derive(ctx, key.data(), key.size(), ossl_params);
  EVP_KDF_CTX_free(ctx);  // wipes its copy of the passphrase
  if (ok != 1) return detail::OpenSslError("scrypt");
  return key;
}

}  // namespace

}  // namespace velin::crypto
