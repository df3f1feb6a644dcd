// What a scripted host answers in the fleet tests: a JSON document, or a refusal with an exit
// code and message as `velin rollback … --json` reports one.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "velin/rollback/fleet.hpp"

namespace velin::rollback {

inline HostReply Answer(nlohmann::json document) {
  HostReply r;
  r.reached = true;
  r.document = std::move(document);
  return r;
}

inline HostReply Refusal(int exit_code, const std::string& message) {
  HostReply r = Answer({{"error", {{"message", message}, {"exit_code", exit_code}}}});
  r.exit_code = exit_code;
  r.error = message;
  return r;
}

}  // namespace velin::rollback
