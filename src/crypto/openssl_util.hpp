// Small helpers shared by the crypto module's OpenSSL code: the last OpenSSL error as text,
// random bytes, hex. Private to src/crypto.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "velin/core/error.hpp"

namespace velin::crypto::detail {

// "what: <OpenSSL's reason>", draining OpenSSL's error queue of this thread.
tl::unexpected<Error> OpenSslError(std::string_view what);

// Fills `out` with `size` bytes from OpenSSL's CSPRNG.
Status RandomBytes(void* out, size_t size);

std::string HexEncode(std::string_view bytes);

}  // namespace velin::crypto::detail
