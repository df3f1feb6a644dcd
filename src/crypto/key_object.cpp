#include "velin/crypto/key_object.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

#include "openssl_util.hpp"
#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/json_int.hpp"
#include "velin/core/json_read.hpp"
#include "velin/core/text_encoding.hpp"
#include "velin/crypto/aead.hpp"
#include "velin/io/env.hpp"

namespace velin::crypto {
namespace {

constexpr int kKeyObjectVersion = 1;
constexpr size_t kKeyIdBytes = 16;

// Every field except the sealed master key, unambiguously joined: the associated data.
std::string KeyBinding(const KeyObject& key) {
  std::string fields;
  for (const std::string& f :
       {key.id, key.origin.hostname, key.origin.username, key.origin.created, std::string("scrypt"),
        std::to_string(key.scrypt.n), std::to_string(key.scrypt.r), std::to_string(key.scrypt.p),
        detail::HexEncode(key.salt)}) {
    fields += std::to_string(f.size());
    fields += ':';
    fields += f;
  }
  return AssociatedData("key", fields);
}

std::string FormatUtc(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool IsKeyId(std::string_view id) {
  if (id.size() != 2 * kKeyIdBytes) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

KeyOrigin CurrentKeyOrigin(io::Env& env) {
  KeyOrigin origin;
  origin.hostname = env.HostName();
  origin.username = CurrentUserName();
  origin.created = FormatUtc(env.Now());
  return origin;
}

std::string KeyObjectName(std::string_view id) { return "keys/" + std::string(id); }

Result<KeyObject> WrapMasterKey(const MasterKey& master, std::string_view passphrase,
                                const KeyOrigin& origin, const ScryptParams& params) {
  if (passphrase.empty()) return UsageError(std::string(Tr("the repository passphrase is empty")));
  KeyObject key;
  std::string id_bytes(kKeyIdBytes, '\0');
  VELIN_TRY(detail::RandomBytes(id_bytes.data(), id_bytes.size()));
  key.id = detail::HexEncode(id_bytes);
  key.origin = origin;
  key.scrypt = params;
  key.salt.assign(kSaltSize, '\0');
  VELIN_TRY(detail::RandomBytes(key.salt.data(), key.salt.size()));

  VELIN_ASSIGN(Key256 wrapping, DeriveKey(passphrase, key.salt, params));
  VELIN_ASSIGN(auto sealer, Sealer::Create(Cipher::kAes256Gcm, wrapping));
  std::string plain = master.Serialize();
  auto sealed = sealer->Seal(plain, KeyBinding(key));
  CleanseString(plain);
  if (!sealed) return tl::unexpected(sealed.error());
  key.master_key = std::move(*sealed);
  return key;
}

Result<std::optional<MasterKey>> UnwrapMasterKey(const KeyObject& key,
                                                 std::string_view passphrase) {
  VELIN_ASSIGN(Key256 wrapping, DeriveKey(passphrase, key.salt, key.scrypt));
  VELIN_ASSIGN(auto sealer, Sealer::Create(Cipher::kAes256Gcm, wrapping));
  std::string plain;
  auto opened = sealer->Open(key.master_key, KeyBinding(key), plain);
  if (!opened) {
    if (opened.error().code == ExitCode::kDamage) return std::optional<MasterKey>();
    return tl::unexpected(opened.error());
  }
  auto master = MasterKey::Parse(plain);
  CleanseString(plain);
  if (!master) return tl::unexpected(master.error().Wrap(NoTr(KeyObjectName(key.id))));
  return std::optional<MasterKey>(std::move(*master));
}

std::string SerializeKeyObject(const KeyObject& key) {
  nlohmann::ordered_json doc = {
      {"version", kKeyObjectVersion},
      {"id", key.id},
      {"created", key.origin.created},
      {"hostname", key.origin.hostname},
      {"username", key.origin.username},
      {"kdf", "scrypt"},
      {"scrypt", {{"n", key.scrypt.n}, {"r", key.scrypt.r}, {"p", key.scrypt.p}}},
      {"salt", Base64Encode(key.salt)},
      {"master_key", Base64Encode(key.master_key)},
  };
  return DumpJson(doc);
}

namespace {

Result<KeyObject> ParseKeyFields(const nlohmann::json& doc) {
  if (!doc.is_object()) return Failure(std::string(Tr("not a JSON object")));
  if (JsonIntOr(doc, "version", 0) != kKeyObjectVersion) {
    return Failure(TrFormat("unsupported key object version {}",
                            doc.value("version", nlohmann::json()).dump()));
  }
  if (doc.value("kdf", "") != "scrypt")
    return Failure(std::string(Tr("unsupported kdf (expected scrypt)")));
  KeyObject key;
  key.id = doc.at("id").get<std::string>();
  key.origin.created = doc.at("created").get<std::string>();
  key.origin.hostname = doc.at("hostname").get<std::string>();
  key.origin.username = doc.at("username").get<std::string>();
  const auto& s = doc.at("scrypt");
  key.scrypt.n = JsonInt<uint64_t>(s.at("n"));
  key.scrypt.r = JsonInt<uint32_t>(s.at("r"));
  key.scrypt.p = JsonInt<uint32_t>(s.at("p"));
  VELIN_TRY(ValidateScryptParams(key.scrypt));
  VELIN_ASSIGN(key.salt, Base64Decode(doc.at("salt").get<std::string>()));
  VELIN_ASSIGN(key.master_key, Base64Decode(doc.at("master_key").get<std::string>()));
  if (key.salt.size() != kSaltSize)
    return Failure(TrFormat("salt is not {} bytes", std::to_string(kSaltSize)));
  return key;
}

}  // namespace

Result<KeyObject> ParseKeyObject(std::string_view json, std::string_view name) {
  Result<KeyObject> key = Failure("");
  try {
    key = ParseKeyFields(nlohmann::json::parse(json));
  } catch (const nlohmann::json::parse_error&) {
    // One line for the user, not the library's "[json.exception.parse_error.101] …".
    key = Failure(std::string(Tr("it is not valid JSON (truncated or overwritten?)")));
  } catch (const nlohmann::json::out_of_range&) {
    key = Failure(std::string(Tr("a field is missing")));
  } catch (const nlohmann::json::exception&) {
    key = Failure(std::string(Tr("a field has the wrong type")));
  }
  if (key && KeyObjectName(key->id) != name)
    key = Failure(TrFormat("its id '{}' does not match its name", key->id));
  if (key && !IsKeyId(key->id)) key = Failure(TrFormat("id '{}' is not 32 hex digits", key->id));
  if (!key) return DamageError(TrFormat("key object {} is damaged: {}", name, key.error().message));
  return key;
}

}  // namespace velin::crypto
