// The process environment, read in one place. Engines read it through io::Env::GetEnv (a
// MemEnv gives tests their own); the few readers below io (language selection, terminal
// colours) call GetEnvironment directly.
#pragma once

#include <optional>
#include <string>

namespace velin {

// The environment variable `name`; nullopt when unset (an empty value is returned as "").
std::optional<std::string> GetEnvironment(const std::string& name);

// The effective user's entry in the password database (getpwuid_r): who velin runs as, for a
// key's origin, a registry entry's author and "~" when HOME is unset. nullopt when the uid has
// no entry (a container's numeric user); `home` is empty when the entry's is not absolute.
struct UserAccount {
  unsigned uid = 0;
  std::string name;
  std::string home;
};
std::optional<UserAccount> CurrentAccount();
// The effective user's name, or its number when the password database has no name for it.
std::string CurrentUserName();

}  // namespace velin
