// Fuzzes the parsers of repository bytes a damaged or crafted repository can hand velin: index
// objects, pack headers, trees, snapshots, the verify record's damaged packs, and delta blobs (edit
// scripts and both methods against a fixed base). Any bytes must give a value or an error, never a
// crash, a read outside a buffer, or a delta result of the wrong length.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "velin/repo/damaged_packs.hpp"
#include "velin/repo/delta.hpp"
#include "velin/repo/index.hpp"
#include "velin/repo/pack.hpp"
#include "velin/repo/snapshot.hpp"
#include "velin/repo/tree.hpp"

namespace {

const std::string& Base() {
  static const std::string base = [] {
    std::string s;
    for (int i = 0; i < 3000; ++i)
      s += std::to_string(i) + "\trow " + std::to_string(i * 31) + "\n";
    return s;
  }();
  return base;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)velin::repo::DecodeIndexObject(in);
  (void)velin::repo::ParsePackHeader(in);
  (void)velin::repo::DecodeTree(in);
  (void)velin::repo::DecodeSnapshot(in);
  (void)velin::repo::DamagedPacksIn(nlohmann::json::parse(in, nullptr, false));
  // The first two bytes pick the length the delta must come to.
  if (size >= 2) {
    uint64_t raw_length = (uint64_t{data[0]} << 8 | data[1]) * 16;
    std::string out;
    if (velin::repo::ApplyEditScript(in.substr(2), Base(), raw_length, out) &&
        out.size() != raw_length) {
      __builtin_trap();
    }
    if (velin::repo::DecodeDelta(in.substr(2), Base(), raw_length, out) &&
        out.size() != raw_length) {
      __builtin_trap();
    }
  }
  return 0;
}
