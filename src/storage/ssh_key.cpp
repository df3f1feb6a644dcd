#include "velin/storage/ssh_key.hpp"

#include <cstdint>

#include "velin/core/i18n.hpp"
#include "velin/core/secret_file.hpp"
#include "velin/core/text_encoding.hpp"

namespace velin::storage {
namespace {

constexpr std::string_view kOpenSshBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kOpenSshMagic{"openssh-key-v1\0", 15};

// The start of an OpenSSH key's base64 body, decoded: the magic, then the cipher's name as an
// SSH string (a 4-byte big-endian length, the bytes). 80 characters decode to 60 bytes, room
// for any cipher's name, and being a whole number of groups need no padding.
std::string OpenSshCipher(std::string_view text) {
  const size_t begin = text.find(kOpenSshBegin);
  if (begin == std::string_view::npos) return "";
  std::string body;
  for (size_t i = begin + kOpenSshBegin.size(); i < text.size() && body.size() < 80; ++i) {
    const char c = text[i];
    if (c == '-') break;  // the END line
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') body.push_back(c);
  }
  body.resize(body.size() / 4 * 4);
  auto bytes = Base64Decode(body);
  if (!bytes || bytes->size() < kOpenSshMagic.size() + 4 || !bytes->starts_with(kOpenSshMagic)) {
    return "";
  }
  const auto* p = reinterpret_cast<const unsigned char*>(bytes->data() + kOpenSshMagic.size());
  const uint32_t length =
      (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
  const size_t start = kOpenSshMagic.size() + 4;
  if (length > bytes->size() - start) return "";
  return bytes->substr(start, length);
}

}  // namespace

bool PrivateKeyIsEncrypted(std::string_view text) {
  if (text.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos) return true;
  if (text.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos) return true;
  const std::string cipher = OpenSshCipher(text);
  return !cipher.empty() && cipher != "none";
}

Result<std::string> SftpKeyPassphrase(io::Env& env, const std::string& key_file,
                                      const std::string& passphrase_env,
                                      const std::string& passphrase_file) {
  if (!passphrase_env.empty()) {
    if (auto value = env.GetEnv(passphrase_env)) return *value;
    return UsageError(TrFormat(
        "storage.sftp.key_passphrase_env: environment variable {} is not set", passphrase_env));
  }
  if (!passphrase_file.empty()) {
    auto read = ReadSecretFile(passphrase_file);
    if (!read) {
      return UsageError(TrFormat("storage.sftp.key_passphrase_file: {}", read.error().message));
    }
    std::string secret = std::move(*read);
    if (!secret.empty() && secret.back() == '\n') secret.pop_back();
    if (!secret.empty() && secret.back() == '\r') secret.pop_back();
    return secret;
  }
  auto key = env.ReadFile(key_file);  // unreadable: libssh2 says so at the login
  if (key && PrivateKeyIsEncrypted(*key)) {
    return UsageError(
        TrFormat("storage.sftp.key_file {}: the key is protected by a passphrase and none is "
                 "given (set storage.sftp.key_passphrase_env or storage.sftp.key_passphrase_file)",
                 key_file));
  }
  return std::string();
}

}  // namespace velin::storage
