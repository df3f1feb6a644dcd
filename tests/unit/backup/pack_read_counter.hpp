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
#include <utility>

#include "velin/storage/backend.hpp"

namespace velin::backup {

class PackReadCounter : public storage::Backend {
 public:
  // `location`, if given, is what Location() says instead of the base's: "s3://…" makes the
  // readers treat it as a remote repository (storage::ParallelReadsFor).
  explicit PackReadCounter(storage::Backend& base,
                           std::chrono::milliseconds delay = std::chrono::milliseconds(0),
                           std::string location = {})
      : base_(base), delay_(delay), location_(std::move(location)) {}
  std::string Location() const override { return location_.empty() ? base_.Location() : location_; }
  Status Put(const std::string& name, std::string_view data) override {
    return base_.Put(name, data);
  }
  Result<std::string> Get(const std::string& name) override { return base_.Get(name); }
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override {
    InFlight counted(*this, name);
    return base_.GetRange(name, offset, length);
  }
  Status GetRangeInto(const std::string& name, uint64_t offset, uint64_t length,
                      std::string& out) override {
    InFlight counted(*this, name);
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
  int most_at_once() const { return most_at_once_.load(); }  // pack reads in flight together
  size_t reader_threads() {
    std::lock_guard lock(mu_);
    return readers_.size();
  }

 private:
  // A pack read from its start (counted, delayed) to its end.
  class InFlight {
   public:
    InFlight(PackReadCounter& c, const std::string& name)
        : c_(c), pack_(name.starts_with("data/")) {
      if (!pack_) return;
      c_.pack_reads_++;
      const int now = ++c_.at_once_;
      for (int most = c_.most_at_once_.load(); now > most;) {
        if (c_.most_at_once_.compare_exchange_weak(most, now)) break;
      }
      {
        std::lock_guard lock(c_.mu_);
        c_.readers_.insert(std::this_thread::get_id());
      }
      if (c_.delay_.count() > 0) std::this_thread::sleep_for(c_.delay_);
    }
    ~InFlight() {
      if (pack_) --c_.at_once_;
    }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;

   private:
    PackReadCounter& c_;
    const bool pack_;
  };
  storage::Backend& base_;
  std::chrono::milliseconds delay_;
  std::string location_;
  std::atomic<uint64_t> pack_reads_{0};
  std::atomic<int> at_once_{0};
  std::atomic<int> most_at_once_{0};
  std::mutex mu_;
  std::set<std::thread::id> readers_;
};

}  // namespace velin::backup
