// A backend that forwards every call to another: the base of the tests' fault and race
// injectors, which override only the calls they change.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "velin/storage/backend.hpp"

namespace velin::testing {

class ForwardingBackend : public storage::Backend {
 public:
  explicit ForwardingBackend(storage::Backend& base) : base_(base) {}
  std::string Location() const override { return base_.Location(); }
  Status Put(const std::string& name, std::string_view data) override {
    return base_.Put(name, data);
  }
  Result<std::string> Get(const std::string& name) override { return base_.Get(name); }
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override {
    return base_.GetRange(name, offset, length);
  }
  Result<std::vector<storage::ObjectInfo>> List(const std::string& prefix) override {
    return base_.List(prefix);
  }
  Status Delete(const std::string& name) override { return base_.Delete(name); }
  Result<std::optional<storage::ObjectInfo>> Stat(const std::string& name) override {
    return base_.Stat(name);
  }

 protected:
  storage::Backend& base() { return base_; }

 private:
  storage::Backend& base_;
};

}  // namespace velin::testing
