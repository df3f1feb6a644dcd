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
