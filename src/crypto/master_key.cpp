#include "velin/crypto/master_key.hpp"

#include <cstring>

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

}  // namespace velin::crypto
