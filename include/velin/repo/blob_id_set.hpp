// A set of blob ids that costs ~34 bytes an id: 65,536 buckets picked by the id's first two
// bytes, each an unsorted array of the other 30 (grown by a quarter, not doubled). A
// std::unordered_set<BlobId> costs 56–72 bytes an id (a 48-byte node, its bucket slot, the
// allocator's header): for the blobs a million-file first backup queues, 30 MB more.
// Lookups scan one bucket (a few dozen ids up to ~2 million in the set), first 8 bytes first.
// REQUIRES: not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "velin/repo/blob_id.hpp"

namespace velin::repo {

class BlobIdSet {
 public:
  bool Contains(const BlobId& id) const;
  // False when it was there already.
  bool Insert(const BlobId& id);
  size_t size() const { return size_; }

 private:
  static constexpr size_t kBucketBits = 16;
  static constexpr size_t kSuffix = 32 - kBucketBits / 8;
  struct Bucket {
    std::unique_ptr<uint8_t[]> ids;  // count × kSuffix bytes, room for capacity
    uint32_t count = 0;
    uint32_t capacity = 0;
  };
  static size_t BucketOf(const BlobId& id) { return size_t{id.bytes[0]} << 8 | id.bytes[1]; }
  static const uint8_t* Find(const Bucket& b, const BlobId& id);

  std::vector<Bucket> buckets_;  // allocated on the first Insert
  size_t size_ = 0;
};

}  // namespace velin::repo
