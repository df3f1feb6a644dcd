#include "velin/core/environment.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace velin {

std::optional<std::string> GetEnvironment(const std::string& name) {
  if (name.empty()) return std::nullopt;
  const char* value = std::getenv(name.c_str());  // the one std::getenv of velin
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::optional<UserAccount> CurrentAccount() {
  const uid_t uid = ::geteuid();
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::string buf(size > 0 ? static_cast<size_t>(size) : 16384, '\0');
  passwd entry{};
  passwd* found = nullptr;
  int rc;
  // An entry larger than the suggested size (long GECOS fields, LDAP) asks for more room.
  while ((rc = ::getpwuid_r(uid, &entry, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20)) {
    buf.resize(buf.size() * 2);
  }
  if (rc != 0 || found == nullptr) return std::nullopt;
  UserAccount account{.uid = uid, .name = found->pw_name ? found->pw_name : ""};
  if (found->pw_dir && found->pw_dir[0] == '/') account.home = found->pw_dir;
  return account;
}

std::string CurrentUserName() {
  if (auto account = CurrentAccount(); account && !account->name.empty()) return account->name;
  return std::to_string(::geteuid());
}

}  // namespace velin
