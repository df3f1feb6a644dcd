#include "velin/repo/blob_id_set.hpp"

#include <cstring>

namespace velin::repo {

const uint8_t* BlobIdSet::Find(const Bucket& b, const BlobId& id) {
  const uint8_t* want = id.bytes.data() + kBucketBits / 8;
  uint64_t head = 0;
  std::memcpy(&head, want, sizeof head);
  for (uint32_t i = 0; i < b.count; ++i) {
    const uint8_t* p = b.ids.get() + size_t{i} * kSuffix;
    uint64_t h = 0;
    std::memcpy(&h, p, sizeof h);
    if (h == head && std::memcmp(p, want, kSuffix) == 0) return p;
  }
  return nullptr;
}

bool BlobIdSet::Contains(const BlobId& id) const {
  return !buckets_.empty() && Find(buckets_[BucketOf(id)], id) != nullptr;
}

bool BlobIdSet::Insert(const BlobId& id) {
  if (buckets_.empty()) buckets_.resize(size_t{1} << kBucketBits);
  Bucket& b = buckets_[BucketOf(id)];
  if (Find(b, id) != nullptr) return false;
  if (b.count == b.capacity) {
    const uint32_t capacity = b.capacity < 4 ? 4 : b.capacity + b.capacity / 4;
    auto grown = std::make_unique_for_overwrite<uint8_t[]>(size_t{capacity} * kSuffix);
    if (b.count > 0) std::memcpy(grown.get(), b.ids.get(), size_t{b.count} * kSuffix);
    b.ids = std::move(grown);
    b.capacity = capacity;
  }
  std::memcpy(b.ids.get() + size_t{b.count} * kSuffix, id.bytes.data() + kBucketBits / 8, kSuffix);
  ++b.count;
  ++size_;
  return true;
}

}  // namespace velin::repo
