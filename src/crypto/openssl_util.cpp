#include "openssl_util.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <climits>

#include "velin/core/i18n.hpp"
#include "velin/crypto/secret.hpp"

namespace velin::crypto {

void Cleanse(void* data, size_t size) {
  if (size > 0) OPENSSL_cleanse(data, size);
}

void CleanseString(std::string& s) {
  s.resize(s.capacity());
  Cleanse(s.data(), s.size());
  s.clear();
}

namespace detail {

tl::unexpected<Error> OpenSslError(std::string_view what) {
  unsigned long code = ERR_get_error();
  std::string reason = "unknown OpenSSL error";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    reason = buf;
  }
  ERR_clear_error();
  return Failure(TrFormat("{}: {}", Tr(what), NoTr(reason)));  // OpenSSL's words stay its own
}

Status RandomBytes(void* out, size_t size) {
  auto* p = static_cast<unsigned char*>(out);
  while (size > 0) {
    int n = size > INT_MAX ? INT_MAX : static_cast<int>(size);
    if (RAND_bytes(p, n) != 1) return OpenSslError("random number generator");
    p += n;
    size -= static_cast<size_t>(n);
  }
  return Ok();
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0)
    return Failure(std::string(Tr("invalid base64: length is not a multiple of 4")));
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || (c == '=' && i + 2 >= text.size());
    if (!ok) return Failure(std::string(Tr("invalid base64 character")));
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  if (!text.empty() && padding == 0 && text[text.size() - 2] == '=') {
    return Failure(std::string(Tr("invalid base64 padding")));
  }
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0 || static_cast<size_t>(n) < padding) return Failure(std::string(Tr("invalid base64")));
  out.resize(static_cast<size_t>(n) - padding);
  // Unused low bits of the last character must be zero: one encoding per byte string, so a
  // flipped bit can never decode to the same bytes unnoticed.
  if (Base64Encode(out) != text) return Failure(std::string(Tr("non-canonical base64")));
  return out;
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace detail
}  // namespace velin::crypto
