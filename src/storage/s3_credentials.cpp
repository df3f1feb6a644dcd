// Where S3 credentials come from: the configured 0600 file, else the standard AWS variables.
// The values never appear in an error message; only the file name and the key names do.
#include <cstdlib>

#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/secret_file.hpp"
#include "velin/storage/s3_backend.hpp"

namespace velin::storage {
namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

std::string Unquote(std::string value) {
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    return value.substr(1, value.size() - 2);
  }
  return value;
}

Result<S3Credentials> ParseCredentialsFile(const std::string& path, std::string_view text) {
  S3Credentials creds;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line = Trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("export ", 0) == 0) line = Trim(line.substr(7));
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return UsageError(TrFormat("{}:{}: expected KEY=VALUE", path, std::to_string(line_no)));
    }
    std::string key = Trim(line.substr(0, eq));
    std::string value = Unquote(Trim(line.substr(eq + 1)));
    if (key == "AWS_ACCESS_KEY_ID") {
      creds.access_key_id = value;
    } else if (key == "AWS_SECRET_ACCESS_KEY") {
      creds.secret_access_key = value;
    } else if (key == "AWS_SESSION_TOKEN") {
      creds.session_token = value;
    } else {
      return UsageError(
          TrFormat("{}:{}: unknown key '{}' (expected AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, "
                   "AWS_SESSION_TOKEN)",
                   path, std::to_string(line_no), key));
    }
  }
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return UsageError(TrFormat("{}: needs both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", path));
  }
  return creds;
}

}  // namespace

Result<S3Credentials> LoadS3Credentials(io::Env& /*env*/, const std::string& credentials_file) {
  if (!credentials_file.empty()) {
    // The same function `config check` calls: a symlink is followed, the target must be private.
    auto text = ReadSecretFile(credentials_file);
    if (!text) return UsageError(TrFormat("storage.s3.credentials_file: {}", text.error().message));
    return ParseCredentialsFile(credentials_file, *text);
  }
  const std::string id = GetEnvironment("AWS_ACCESS_KEY_ID").value_or("");
  const std::string secret = GetEnvironment("AWS_SECRET_ACCESS_KEY").value_or("");
  const std::string token = GetEnvironment("AWS_SESSION_TOKEN").value_or("");
  if (id.empty() || secret.empty()) {
    return UsageError(
        std::string(Tr("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                       "storage.s3.credentials_file")));
  }
  return S3Credentials{id, secret, token};
}

}  // namespace velin::storage
