// A backend that counts the ranged reads of packs and the threads that made them, each taking
// a delay if asked (a disk, a remote repository answering each request with a round trip);
// everything else goes to the backend underneath. For the tests of readers that batch their
// requests (restorer_neighbours_mem_test.cpp, snapshot_copier_mem_test.cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "velin/storage/backend.hpp"

namespace velin::backup {

class PackReadCounter : public storage::Backend {
 public:
  explicit PackReadCounter(storage::Backend& base,
                           std::chrono::milliseconds delay = std::chrono::milliseconds(0))
      : base_(base), delay_(delay) {}
  std::string Location() const override { return base_.Location(); }
  Status Put(const std::string& name, std::string_view data) override {
    return base_.Put(name, data);
  }
  Result<std::string> Get(const std::string& name) override { return base_.Get(name); }
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override {
    Count(name);
    return base_.GetRange(name, offset, length);
  }
  Status GetRangeInto(const std::string& name, uint64_t offset, uint64_t length,
                      std::string& out) override {
    Count(name);
    return base_.GetRangeInto(name, offset, length, out);
  }
  Result<std::vector<storage::ObjectInfo>> List(const std::string& prefix) override {
    return base_.List(prefix);
  }
  Status Delete(const std::string& name) override { return base_.Delete(name); }
  Result<std::optional<storage::ObjectInfo>> Stat(const std::string& name) override {
    return base_.Stat(name);
  }
  uint64_t pack_reads() const { return pack_reads_.load(); }
  size_t reader_threads() {
    std::lock_guard lock(mu_);
    return readers_.size();
  }

 private:
  void Count(const std::string& name) {
    if (!name.starts_with("data/")) return;
    pack_reads_++;
    {
      std::lock_guard lock(mu_);
      readers_.insert(std::this_thread::get_id());
    }
    if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
  }
  storage::Backend& base_;
  std::chrono::milliseconds delay_;
  std::atomic<uint64_t> pack_reads_{0};
  std::mutex mu_;
  std::set<std::thread::id> readers_;
};

}  // namespace velin::backup
