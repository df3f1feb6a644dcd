// A stand-in for the transaction watchdog in engine tests (Settings::velin_binary): it says it
// runs on the --ready-fd pipe, as `velin rollback watchdog` does once it holds its lock, and
// ends. A timer these tests never wait for: a deadline "passes" by moving it into the past.
#pragma once

#include <string>

#include "support/test_support.hpp"

namespace velin::testing {

inline std::string WriteFakeWatchdog(const std::string& dir) {
  const std::string path = dir + "/fake-watchdog";
  WriteFile(path,
            "#!/bin/sh\n"
            "while [ $# -gt 1 ]; do\n"
            "  if [ \"$1\" = --ready-fd ]; then echo ready >/dev/fd/\"$2\"; fi\n"
            "  shift\n"
            "done\n",
            0755);
  return path;
}

}  // namespace velin::testing
