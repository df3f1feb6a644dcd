#include "velin/crypto/kdf.hpp"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "openssl_util.hpp"
#include "velin/core/i18n.hpp"

namespace velin::crypto {
namespace {

constexpr uint64_t kMaxScryptMemory = uint64_t{1} << 30;

}  // namespace

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

}  // namespace velin::crypto
