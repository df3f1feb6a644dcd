// The config object's checksum (docs/repository-format.md, "config"), shared by the two halves
// of Repository: repository.cpp writes and checks it, repository_crypto.cpp tells by it which
// of the keys a passphrase opens is the repository's.
#pragma once

#include <string>
#include <string_view>

#include "velin/core/error.hpp"
#include "velin/crypto/secret.hpp"
#include "velin/storage/backend.hpp"

namespace velin::repo {

// "sha256:<hex>" of `canonical`, or with `mac_key` "hmac-sha256:<hex>".
Result<std::string> ConfigChecksum(std::string_view canonical, const crypto::Key256* mac_key);

// Whether two checksums are equal, compared in constant time (in an encrypted repository the
// checksum is a MAC).
bool ChecksumsEqual(std::string_view a, std::string_view b);

// The DamageError of a config whose checksum does not match.
tl::unexpected<Error> ConfigChanged(const storage::Backend& backend);

}  // namespace velin::repo
