// Fuzzes the readers of the rollback state files a crash, a full disk or a hand edit can leave
// damaged: registry.json, history.jsonl, transaction.json, switch.json, removals.json and a
// release's manifest (docs/rollback-format.md; format 2 with base64 names too). Any bytes must
// give a value or an error with a message, never a crash. The files are served from memory:
// every path of the state dir reads as the input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "velin/io/posix_env.hpp"
#include "velin/rollback/registry.hpp"
#include "velin/rollback/release.hpp"

namespace {

class BytesEnv : public velin::io::PosixEnv {
 public:
  explicit BytesEnv(std::string bytes) : bytes_(std::move(bytes)) {}
  velin::Result<bool> Exists(const std::string&) override { return true; }
  velin::Result<std::string> ReadFile(const std::string&) override { return bytes_; }

 private:
  std::string bytes_;
};

template <typename R>
void Check(const R& result) {
  if (!result && result.error().message.empty()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  BytesEnv env(std::string(reinterpret_cast<const char*>(data), size));
  velin::rollback::StateLayout layout{"/fuzz/state"};
  Check(velin::rollback::LoadRegistry(env, layout));
  Check(velin::rollback::ReadHistory(env, layout));
  Check(velin::rollback::LoadTransaction(env, layout));
  Check(velin::rollback::LoadSwitchIntent(env, layout));
  Check(velin::rollback::LoadRemovals(env, layout));
  Check(velin::rollback::LoadManifest(env, "/fuzz/state/manifests/v1.json"));
  return 0;
}
