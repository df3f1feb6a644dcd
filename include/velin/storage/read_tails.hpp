// The rest of an object, read once for the reads of it that follow (FileServerBackend, FTP).
//
// Over FTP a ranged read that ends before its object does ends with ABOR, after which libcurl
// closes the control connection: the next request connects and logs in again (on vsftpd with
// PAM ~90 ms of the server's CPU; a restore of 80 MB from loopback made 91 logins and took
// 8.4 s). A read that runs to the object's end keeps the connection. So the third read of an
// object (a restore or verify working through a pack, its workers at different places in it)
// reads it from the lowest offset read so far to its end, and the reads after that are served
// from memory. A lone read or two (a few small files) stay ranged reads, so they do not fetch a
// whole pack; so does a read below a kept tail (one fetch an object while it is kept). A read
// that ends less than kNearEnd before its object's end, when the size is known (NoteSize), runs
// to the end at once (an object no larger than kNearEnd is read whole): the bytes more cost less
// than a login.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "velin/core/error.hpp"

namespace velin::storage {

class ReadTails {
 public:
  // Reads `name` from `offset` to its end.
  using FetchTail = std::function<Result<std::string>(uint64_t offset)>;

  // `budget`: the bytes of tails kept at most (a tail larger than that is used once, not kept).
  explicit ReadTails(uint64_t budget) : budget_(budget) {}

  // [offset, offset + length) of `name` from a kept tail, or from a tail fetched now when nothing
  // of `name` is kept and the range ends near its end (from `offset`) or `name` was read
  // kReadsBeforeTail times already (from the lowest offset read); std::nullopt when the caller
  // should read the range itself. A tail shorter
  // than the range is the caller's to report (the returned string is then shorter than `length`).
  // Thread-safe: a second reader of a tail being fetched waits for it.
  std::optional<Result<std::string>> Read(const std::string& name, uint64_t offset, uint64_t length,
                                          const FetchTail& fetch);

  // The size of `name` (from a stat, a listing, a read to its end), for reads near its end.
  void NoteSize(const std::string& name, uint64_t size);
  std::optional<uint64_t> SizeOf(const std::string& name) const;

  // `name` was written or deleted: what was kept of it is stale.
  void Forget(const std::string& name);

  uint64_t kept_bytes() const;

 private:
  struct Tail {
    std::string name;
    uint64_t offset = 0;
    std::shared_ptr<const std::string> data;
    uint64_t used = 0;  // the use counter when it last served a read
  };
  static constexpr size_t kMaxSeen = 4096;  // objects whose last ranged read is remembered
  static constexpr int kReadsBeforeTail = 2;
  static constexpr uint64_t kNearEnd = 1 << 20;

  struct Seen {
    uint64_t lowest = 0;  // the lowest offset of the object's ranged reads
    int reads = 0;        // how many there were
  };

  // The kept tail of `name` holding the range, or null. REQUIRES: mu_ held.
  Tail* Find(const std::string& name, uint64_t offset, uint64_t length);
  void Keep(Tail tail);  // REQUIRES: mu_ held

  const uint64_t budget_;
  mutable std::mutex mu_;
  std::condition_variable fetched_;
  std::vector<Tail> tails_;
  uint64_t kept_ = 0;
  uint64_t uses_ = 0;
  std::unordered_map<std::string, Seen> seen_;
  std::unordered_map<std::string, uint64_t> sizes_;  // bounded as seen_
  std::set<std::string> fetching_;
};

}  // namespace velin::storage
