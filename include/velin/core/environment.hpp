// The process environment, read in one place. Engines read it through io::Env::GetEnv (a
// MemEnv gives tests their own); the few readers below io (language selection, terminal
// colours) call GetEnvironment directly.
#pragma once

#include <optional>
#include <string>

namespace velin {

// The environment variable `name`; nullopt when unset (an empty value is returned as "").
std::optional<std::string> GetEnvironment(const std::string& name);

}  // namespace velin
