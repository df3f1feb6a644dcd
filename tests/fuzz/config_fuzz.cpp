// Fuzzes the velin.toml loader: any bytes must give a Config or an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "velin/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto result = velin::config::LoadConfigFromString(text, "/fuzz/velin.toml");
  if (!result && result.error().message.empty()) __builtin_trap();
  return 0;
}
