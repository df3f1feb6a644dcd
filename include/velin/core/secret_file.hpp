// Files holding a secret (password_file, credentials_file): one function both `config check`
// and the commands that use the secret call, so the two never disagree. A symlink is followed
// (/run/secrets/…, systemd credentials); what it points at must be a regular file that only
// its owner can read.
#pragma once

#include <string>

#include "velin/core/error.hpp"

namespace velin {

// The file's content. Errors (kUsage, not prefixed): "<path> does not exist", "<path> is not a
// regular file", "<path> can be read by other users (mode 0644); run: chmod 600 <path>".
// The mode is checked on the file opened, so a swap between check and read is caught.
Result<std::string> ReadSecretFile(const std::string& path);

}  // namespace velin
