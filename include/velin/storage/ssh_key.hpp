// The private key of an SFTP login (storage.sftp.key_file) and its passphrase, read before the
// first connection: libssh2 tells a key it could not decrypt from a key the server refused by
// neither code nor text ("Authentication failure"), so a key with a passphrase and none given
// is named here, in one line, instead of as a refused login.
#pragma once

#include <string>
#include <string_view>

#include "velin/core/error.hpp"
#include "velin/io/env.hpp"

namespace velin::storage {

// Whether the private key `text` is protected by a passphrase: a PEM key with
// "Proc-Type: 4,ENCRYPTED", a PKCS#8 "ENCRYPTED PRIVATE KEY", or one in OpenSSH's format
// ("openssh-key-v1") whose cipher is not "none". False for anything else (also what it cannot
// parse: libssh2 then says what is wrong).
bool PrivateKeyIsEncrypted(std::string_view text);

// The passphrase of the key `key_file`: the value of the environment variable `passphrase_env`
// names, else the content of `passphrase_file` (only its owner may read it; one trailing
// newline dropped); "" when neither is set. Errors (kUsage): a variable named but not set, a
// file that cannot be read as a secret, and a key protected by a passphrase with none given.
Result<std::string> SftpKeyPassphrase(io::Env& env, const std::string& key_file,
                                      const std::string& passphrase_env,
                                      const std::string& passphrase_file);

}  // namespace velin::storage
