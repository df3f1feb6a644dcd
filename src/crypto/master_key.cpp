#include "velin/crypto/master_key.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <cstring>
#include <memory>

#include "openssl_util.hpp"
#include "velin/core/i18n.hpp"

namespace velin::crypto {
namespace {

constexpr char kMasterKeyVersion = 1;
constexpr size_t kSerializedSize = 1 + 2 * Key256::kSize;

}  // namespace

Result<MasterKey> MasterKey::Generate() {
  MasterKey key;
  VELIN_TRY(detail::RandomBytes(key.encryption.data(), key.encryption.size()));
  VELIN_TRY(detail::RandomBytes(key.mac.data(), key.mac.size()));
  return key;
}

std::string MasterKey::Serialize() const {
  std::string out;
  out.reserve(kSerializedSize);
  out.push_back(kMasterKeyVersion);
  out.append(encryption.view());
  out.append(mac.view());
  return out;
}

Result<MasterKey> MasterKey::Parse(std::string_view bytes) {
  if (bytes.size() != kSerializedSize || bytes[0] != kMasterKeyVersion) {
    return DamageError(TrFormat("master key has an unknown format (version {}, {} bytes)",
                                std::to_string(bytes.empty() ? -1 : bytes[0]),
                                std::to_string(bytes.size())));
  }
  MasterKey key;
  std::memcpy(key.encryption.data(), bytes.data() + 1, Key256::kSize);
  std::memcpy(key.mac.data(), bytes.data() + 1 + Key256::kSize, Key256::kSize);
  return key;
}

Result<Key256> MasterKey::Derive(std::string_view purpose) const {
  static EVP_KDF* hkdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (hkdf == nullptr) return detail::OpenSslError("HKDF");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(hkdf),
                                                                EVP_KDF_CTX_free);
  if (!ctx) return detail::OpenSslError("HKDF");
  SecretKey<2 * Key256::kSize> ikm;  // wiped when it goes
  std::memcpy(ikm.data(), encryption.data(), Key256::kSize);
  std::memcpy(ikm.data() + Key256::kSize, mac.data(), Key256::kSize);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm.data(), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(purpose.data()),
                                        purpose.size()),
      OSSL_PARAM_construct_end()};
  Key256 out;
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return detail::OpenSslError("HKDF");
  }
  return out;
}

}  // namespace velin::crypto
