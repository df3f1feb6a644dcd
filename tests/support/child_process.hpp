// What RunProgram (test_support.cpp) and RunVelinInPty (pty_run.cpp) both build before they
// start a child: its environment and its argv/envp arrays.
#pragma once

#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace velin::testing {

// The environment of a child started with `options`: this process's, without the variables
// named in `options.unset_env`, with `options.env` added (replacing same-named ones).
std::vector<std::string> ChildEnvironment(const RunOptions& options);

// Pointers to the strings' data followed by nullptr, for execv's argv or environ; valid as
// long as `strings` lives unchanged.
std::vector<char*> NullTerminated(std::vector<std::string>& strings);

}  // namespace velin::testing
