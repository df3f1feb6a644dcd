// A backend for tests of the real binary that raises a termination signal before its Nth
// request: a matrix of stops over every request a command makes to its repositories, local or
// remote, as VELIN_FAULT_INJECT=any:N:SIGTERM is one over file-system operations. The real
// binary wraps every backend it opens when the environment says so (tests of the binary only):
//   VELIN_FAULT_SIGNAL="7:SIGTERM"   (N, then SIGTERM, SIGINT or SIGHUP)
// Every request counts (Put, Get and its ranges, List, Delete, Stat, a streamed object's
// commit), across all the backends of the process and on any thread; the signal is raised once,
// before the Nth request goes out, and the request then goes out as usual.
// REQUIRES: nothing; the wrapper is as thread-safe as the backend it wraps.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "velin/storage/backend.hpp"

namespace velin::storage {

struct SignalRule {
  uint64_t nth = 0;  // from 1
  int signal = 0;
};

// Parses "7:SIGTERM"; nullopt when malformed.
std::optional<SignalRule> ParseSignalRule(const std::string& text);

std::unique_ptr<Backend> WithSignalAtRequest(std::unique_ptr<Backend> base, SignalRule rule);

}  // namespace velin::storage
