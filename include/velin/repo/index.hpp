// The index: which pack holds each blob, where, and how it is stored. Each backup writes one
// index object for the packs it added ("index/<sha256>", named by its bytes' hash so damage is
// detectable); at start all index objects are merged in memory into one sorted, packed array
// of 44-byte entries, bucketed by the ids' first two bytes (docs/repository-format.md,
// "Index"). The Index is not synchronised: it is built once, then only read.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/blob_id.hpp"
#include "velin/repo/pack.hpp"

namespace velin::repo {

// Where a blob is and how it is stored, as Index::Find hands it out (a copy: the index keeps
// its entries packed). A type or codec no reader knows reads as 15: the blob still reads as
// damaged ("unknown codec"), never as another codec.
struct IndexEntry {
  uint32_t pack = 0;  // number in Index::PackId()
  BlobType type = BlobType::kData;
  Codec codec = Codec::kNone;
  uint32_t offset = 0;
  uint32_t length = 0;
  uint32_t raw_length = 0;
};

// The packs (and their blobs) that one index object lists.
using IndexPacks = std::vector<std::pair<BlobId, std::vector<PackEntry>>>;

std::string EncodeIndexObject(const IndexPacks& packs);
Result<IndexPacks> DecodeIndexObject(std::string_view data);

// Which packs the repository holds, for Index::Finalize. A pack can go behind velin's back (an
// S3 lifecycle rule, a manual delete, a disk error) while index objects still list it.
struct PackPresence {
  // True when every pack was listed (create): the entries of the packs `present` denies are
  // dropped as if no index listed them, so that their blobs are stored again. False: only the
  // packs of blobs that several packs list are asked about, so that such a blob (stored again
  // after its pack went) is read from a pack that is there.
  bool listed_all = false;
  // Whether `pack` is there and holds at least `min_size` bytes: the end of the last blob the
  // index lists in it, plus its header's entries and trailer. A shorter pack (truncated by a
  // full disk, a partial upload) counts as absent: reading its blobs would fail.
  std::function<bool(const BlobId& pack, uint64_t min_size)> present;
};

class Index {
 public:
  static constexpr size_t kMaxPacks = size_t{1} << 24;
  // Bytes per blob in memory once finalised: the id without its first two bytes (30), then
  // 112 bits for the pack number (24), type and codec (4), offset, length and raw length (28
  // each; a larger value is kept beside the array).
  static constexpr size_t kEntryBytes = 44;

  Index() = default;
  Index(Index&&) = default;
  Index& operator=(Index&&) = default;

  // Room for about `blobs` entries, so that loading does not regrow the array.
  void Reserve(size_t blobs);
  // An error beyond kMaxPacks packs or 2^32 - 1 blobs listed.
  Status AddPack(const BlobId& pack_id, const std::vector<PackEntry>& entries);
  // Sorts, drops duplicate blobs (the first pack listed wins) and packs the entries. A delta
  // blob whose base no pack lists (left by the prune of an earlier velin) is dropped as if
  // unlisted, so that `create` stores the blob again and nothing points at a missing base; it
  // is remembered in dangling_deltas(). Call after
  // the last AddPack (AddPack after it merges more packs, as before it, and needs Finalize
  // again). With `packs`, a blob several packs list is taken from the first one listed that
  // is present, and with packs->listed_all the entries of absent packs are dropped (see
  // missing_packs()).
  void Finalize(const PackPresence* packs = nullptr);
  // nullopt when the blob is unknown. REQUIRES: Finalize() since the last AddPack.
  std::optional<IndexEntry> Find(const BlobId& id) const;
  // The base of a delta blob (codec kZstdDelta), as its index object recorded it.
  const BlobId* DeltaBase(const BlobId& id) const;
  // The packs listed in index objects that Finalize(listed_all) found absent (gone, short, or
  // taken as absent because a verify found them damaged).
  const std::vector<BlobId>& missing_packs() const { return missing_packs_; }
  // Delta blobs (and their bases) that Finalize dropped because no pack lists the base (with
  // PackPresence::listed_all also those whose base was only in an absent pack).
  struct DanglingDelta {
    BlobId id;
    BlobId base;
  };
  const std::vector<DanglingDelta>& dangling_deltas() const { return dangling_deltas_; }
  const BlobId& PackId(uint32_t number) const { return packs_[number]; }
  size_t pack_count() const { return packs_.size(); }
  size_t size() const { return size_; }
  // Calls f(id, entry) for every blob, in id order. REQUIRES: Finalize().
  template <typename F>
  void ForEach(F&& f) const {
    if (size_ == 0) return;
    BlobId id;
    for (uint32_t bucket = 0; bucket < kBuckets; ++bucket) {
      for (uint32_t i = buckets_[bucket]; i < buckets_[bucket + 1]; ++i) {
        const IndexEntry e = At(bucket, i, id);
        f(static_cast<const BlobId&>(id), e);
      }
    }
  }

 private:
  static constexpr uint32_t kBuckets = 1u << 16;
  // An entry while loading: the whole id, sorted as is, then packed in place by Finalize.
  struct Loose {
    BlobId id;
    uint32_t pack : 24 = 0;
    uint32_t kind : 4 = 0;  // type and codec, see Kind()
    uint32_t offset = 0;
    uint32_t length = 0;
    uint32_t raw_length = 0;
  };
  static_assert(sizeof(Loose) == 48);
  // Offset, length and raw length of an entry whose field did not fit in 28 bits.
  struct Wide {
    uint32_t position;
    uint32_t offset, length, raw_length;
  };
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };

  // The entry at `position` of `bucket`; sets `id`.
  IndexEntry At(uint32_t bucket, uint32_t position, BlobId& id) const;
  IndexEntry Fields(uint32_t position) const;
  // Makes a finalised index loose again (AddPack after Finalize).
  void Unpack();
  // Removes from the sorted `loose` entries the delta blobs whose base is not listed.
  void DropDanglingDeltas(Loose* loose);
  // Moves the entry of the first present pack to the front of each blob's entries in the
  // sorted `loose` (and drops absent packs' entries when packs.listed_all).
  void PreferPresentPacks(Loose* loose, const PackPresence& packs);

  // Loose entries until Finalize, then size_ packed ones of kEntryBytes; malloc'ed so that
  // growing and the shrink after packing need no second copy of the array.
  std::unique_ptr<unsigned char[], Free> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;            // Loose entries data_ has room for (before Finalize)
  std::vector<uint32_t> buckets_;  // kBuckets + 1 starts, by the ids' first two bytes
  std::vector<Wide> wide_;         // by position
  std::vector<BlobId> packs_;
  // By pack number: the bytes the pack holds at least (PackPresence::present's min_size).
  std::vector<uint64_t> pack_min_sizes_;
  std::unordered_map<BlobId, uint32_t, BlobIdHash> pack_numbers_;
  std::unordered_map<BlobId, BlobId, BlobIdHash> bases_;  // delta blobs only
  // While loading: a delta blob's base as another pack's entry records it, where it differs
  // from bases_ (the first entry's); read when that pack's entry wins (PreferPresentPacks).
  struct OtherBase {
    BlobId id;
    uint32_t pack;
    BlobId base;
  };
  std::vector<OtherBase> other_bases_;
  std::vector<BlobId> missing_packs_;
  std::vector<DanglingDelta> dangling_deltas_;
};

}  // namespace velin::repo
