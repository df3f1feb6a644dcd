// The index: which pack holds each blob, where, and how it is stored. Each backup writes one
// index object for the packs it added ("index/<sha256>", named by its bytes' hash so damage is
// detectable); at start all index objects are merged in memory into one sorted array of
// 48-byte entries (docs/repository-format.md, "Index"). The Index is not synchronised: it is
// built once, then only read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/blob_id.hpp"
#include "velin/repo/pack.hpp"

namespace velin::repo {

// 48 bytes: the pack number, type and codec share one word (a repository of 2^24 packs holds
// some 256 TiB). A type or codec above 14 is stored as 15, which no reader knows: the blob
// still reads as damaged ("unknown codec"), never as another codec.
struct IndexEntry {
  BlobId id;
  uint32_t pack : 24 = 0;  // number in Index::PackId()
  BlobType type : 4 = BlobType::kData;
  Codec codec : 4 = Codec::kNone;
  uint32_t offset = 0;
  uint32_t length = 0;
  uint32_t raw_length = 0;
};
static_assert(sizeof(IndexEntry) == 48);

// The packs (and their blobs) that one index object lists.
using IndexPacks = std::vector<std::pair<BlobId, std::vector<PackEntry>>>;

std::string EncodeIndexObject(const IndexPacks& packs);
Result<IndexPacks> DecodeIndexObject(std::string_view data);

class Index {
 public:
  static constexpr size_t kMaxPacks = size_t{1} << 24;
  // Room for about `blobs` entries, so that loading does not regrow (and copy) the array.
  void Reserve(size_t blobs) { entries_.reserve(blobs); }
  // An error beyond kMaxPacks packs.
  Status AddPack(const BlobId& pack_id, const std::vector<PackEntry>& entries);
  // Sorts and drops duplicate blobs (the first pack listed wins). Call after the last AddPack.
  void Finalize();
  // nullptr when the blob is unknown. REQUIRES: Finalize() since the last AddPack.
  const IndexEntry* Find(const BlobId& id) const;
  // The base of a delta blob (codec kZstdDelta), as its index object recorded it.
  const BlobId* DeltaBase(const BlobId& id) const;
  const BlobId& PackId(uint32_t number) const { return packs_[number]; }
  size_t pack_count() const { return packs_.size(); }
  size_t size() const { return entries_.size(); }
  const std::vector<IndexEntry>& entries() const { return entries_; }

 private:
  std::vector<IndexEntry> entries_;
  std::vector<BlobId> packs_;
  std::unordered_map<BlobId, uint32_t, BlobIdHash> pack_numbers_;
  std::unordered_map<BlobId, BlobId, BlobIdHash> bases_;  // delta blobs only
};

}  // namespace velin::repo
