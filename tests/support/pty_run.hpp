// Runs the real velin binary with stdin and stdout on a pseudo-terminal (stderr stays a pipe),
// for what velin only does on a terminal: ask a confirmation, draw the progress bar, print
// symbols. Echo and output post-processing are off, so `out` holds exactly what velin wrote.
#pragma once

#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace velin::testing {

// `options.stdin_data` is typed into the terminal once velin started (e.g. "n\n").
RunResult RunVelinInPty(const std::vector<std::string>& args, const RunOptions& options = {});

}  // namespace velin::testing
