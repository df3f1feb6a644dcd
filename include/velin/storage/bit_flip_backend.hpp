// A backend for tests that flips one bit in a chosen fraction of the pack objects it reads
// (restic's checker test): the same pack always gets the same flipped bit, so a pack read whole
// by verify and in ranges by restore is damaged alike, as a bad disk sector would be. The real
// binary wraps every backend in it when the environment says so (tests of the binary only):
//   VELIN_FAULT_BITFLIP="80:7"   (percent of packs under data/, seed)
// Which packs are hit is a pure function of (rule, name), so a test can count the flips it
// injected (BitFlipPosition) and compare with what verify reports.
// REQUIRES: nothing; the wrapper is as thread-safe as the backend it wraps.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "velin/storage/backend.hpp"

namespace velin::storage {

struct BitFlipRule {
  uint32_t percent = 0;  // of pack objects (names under data/), 0..100
  uint64_t seed = 0;
};

// Parses "80:7"; nullopt when malformed.
std::optional<BitFlipRule> ParseBitFlipRule(const std::string& text);

// The bit (counted from the object's first byte) the rule flips in object `name` of `size`
// bytes; nullopt when the rule leaves the object alone.
std::optional<uint64_t> BitFlipPosition(const BitFlipRule& rule, const std::string& name,
                                        uint64_t size);

class BitFlipBackend : public Backend {
 public:
  BitFlipBackend(std::unique_ptr<Backend> base, BitFlipRule rule)
      : base_(std::move(base)), rule_(rule) {}

  std::string Location() const override { return base_->Location(); }
  Status Put(const std::string& name, std::string_view data) override {
    return base_->Put(name, data);
  }
  Result<std::string> Get(const std::string& name) override;
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override;
  Status GetRangeInto(const std::string& name, uint64_t offset, uint64_t length,
                      std::string& out) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    return base_->List(prefix);
  }
  Status Delete(const std::string& name) override { return base_->Delete(name); }
  Status SyncDeletes() override { return base_->SyncDeletes(); }
  Result<std::optional<ObjectInfo>> Stat(const std::string& name) override {
    return base_->Stat(name);
  }
  Result<StaleTempSweep> RemoveStaleTemps(int64_t last_sweep, const TempLayout& layout) override {
    return base_->RemoveStaleTemps(last_sweep, layout);
  }

 private:
  // Flips the rule's bit of `name` if it falls into `data`, which starts at `offset`.
  Status Flip(const std::string& name, uint64_t offset, std::string& data);

  std::unique_ptr<Backend> base_;
  BitFlipRule rule_;
  std::mutex mu_;
  std::unordered_map<std::string, uint64_t> sizes_;
};

}  // namespace velin::storage
