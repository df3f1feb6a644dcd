// How patiently the remote backends retry: failures that a later attempt may not see
// (HTTP 5xx and 429, timeouts, refused or reset connections) are retried up to `max_attempts`
// times in all, sleeping base_delay, 2x, 4x ... (capped at max_delay, each sleep drawn at
// random from its upper half so that many clients do not retry in lockstep).
#pragma once

#include <chrono>

namespace velin::io {
class Env;
}  // namespace velin::io

namespace velin::storage {

// How often and how patiently a request is retried. Delays grow 2x per attempt from
// `base_delay` up to `max_delay`; each actual sleep is uniformly random in [d/2, d].
struct RetryPolicy {
  int max_attempts = 6;
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{8000};
  std::chrono::seconds connect_timeout{10};
  // A transfer slower than 1 byte/s for this long counts as a timeout (and is retried).
  std::chrono::seconds stall_timeout{60};
  // Whose SleepFor waits between attempts; nullptr: io::Env::Default(). A test hands a MemEnv
  // and reads the schedule off its clock without waiting.
  io::Env* env = nullptr;
};

}  // namespace velin::storage
