#include "velin/storage/bit_flip_backend.hpp"

#include <sstream>
#include <vector>

namespace velin::storage {
namespace {

uint64_t Mix(uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t HashName(uint64_t seed, const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ULL ^ Mix(seed);  // FNV-1a, seeded
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return Mix(h);
}

}  // namespace

std::optional<BitFlipRule> ParseBitFlipRule(const std::string& text) {
  size_t colon = text.find(':');
  if (colon == std::string::npos) return std::nullopt;
  BitFlipRule rule;
  try {
    size_t used = 0;
    unsigned long percent = std::stoul(text.substr(0, colon), &used);
    if (used != colon || percent > 100) return std::nullopt;
    rule.percent = static_cast<uint32_t>(percent);
    std::string seed = text.substr(colon + 1);
    rule.seed = std::stoull(seed, &used);
    if (used != seed.size()) return std::nullopt;
  } catch (...) {
    return std::nullopt;
  }
  return rule;
}

std::optional<uint64_t> BitFlipPosition(const BitFlipRule& rule, const std::string& name,
                                        uint64_t size) {
  if (size == 0 || name.rfind("data/", 0) != 0) return std::nullopt;
  uint64_t h = HashName(rule.seed, name);
  if (h % 100 >= rule.percent) return std::nullopt;
  return Mix(h) % (size * 8);
}

Status BitFlipBackend::Flip(const std::string& name, uint64_t offset, std::string& data) {
  if (name.rfind("data/", 0) != 0 || rule_.percent == 0) return Ok();
  uint64_t size = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sizes_.find(name);
    if (it != sizes_.end()) size = it->second;
  }
  if (size == 0) {
    VELIN_ASSIGN(auto info, base_->Stat(name));
    if (!info) return Ok();
    size = info->size;
    std::lock_guard<std::mutex> lock(mu_);
    sizes_[name] = size;
  }
  auto bit = BitFlipPosition(rule_, name, size);
  if (!bit) return Ok();
  uint64_t byte = *bit / 8;
  if (byte < offset || byte - offset >= data.size()) return Ok();
  data[byte - offset] = static_cast<char>(data[byte - offset] ^ (1u << (*bit % 8)));
  return Ok();
}

Result<std::string> BitFlipBackend::Get(const std::string& name) {
  VELIN_ASSIGN(std::string data, base_->Get(name));
  if (name.rfind("data/", 0) == 0) {
    std::lock_guard<std::mutex> lock(mu_);
    sizes_[name] = data.size();
  }
  VELIN_TRY(Flip(name, 0, data));
  return data;
}

Result<std::string> BitFlipBackend::GetRange(const std::string& name, uint64_t offset,
                                             uint64_t length) {
  VELIN_ASSIGN(std::string data, base_->GetRange(name, offset, length));
  VELIN_TRY(Flip(name, offset, data));
  return data;
}

Status BitFlipBackend::GetRangeInto(const std::string& name, uint64_t offset, uint64_t length,
                                    std::string& out) {
  VELIN_TRY(base_->GetRangeInto(name, offset, length, out));
  return Flip(name, offset, out);
}

}  // namespace velin::storage
