#include "velin/repo/index.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <unordered_set>

#include "velin/core/i18n.hpp"
#include "velin/repo/index_object.hpp"

namespace velin::repo {

namespace {
constexpr std::string_view kIndexMagic = "VLNIDX01";
// Version 2: each kZstdDelta entry is followed by its base's id (32 bytes). Written only when
// an object lists a delta blob, so repositories without them stay readable by older velins.
constexpr std::string_view kIndexMagic2 = "VLNIDX02";

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
}  // namespace

EncodedPack EncodePack(const BlobId& id, const std::vector<PackEntry>& entries) {
  EncodedPack out;
  out.id = id;
  out.blobs = static_cast<uint32_t>(entries.size());
  size_t bytes = entries.size() * kPackEntrySize;
  for (const auto& e : entries) {
    if (e.codec == Codec::kZstdDelta) {
      out.deltas = true;
      bytes += 32;
    }
  }
  out.entries.reserve(bytes);
  for (const auto& e : entries) {
    EncodePackEntry(e, out.entries);
    // Only version 2 has delta blobs: their bases never appear in a version 1 object.
    if (e.codec == Codec::kZstdDelta) {
      out.entries.append(reinterpret_cast<const char*>(e.base.bytes.data()), 32);
    }
  }
  return out;
}

std::string EncodeIndexObject(std::vector<EncodedPack>& packs) {
  bool deltas = false;
  size_t bytes = kIndexMagic.size() + 4;
  for (const auto& p : packs) {
    deltas |= p.deltas;
    bytes += 36 + p.entries.size();
  }
  std::string out;
  out.reserve(bytes);
  out.append(deltas ? kIndexMagic2 : kIndexMagic);
  PutU32(out, static_cast<uint32_t>(packs.size()));
  for (auto& p : packs) {
    out.append(reinterpret_cast<const char*>(p.id.bytes.data()), 32);
    PutU32(out, p.blobs);
    out.append(p.entries);
    std::string().swap(p.entries);
  }
  return out;
}

std::string EncodeIndexObject(const IndexPacks& packs) {
  std::vector<EncodedPack> encoded;
  encoded.reserve(packs.size());
  for (const auto& [pack_id, entries] : packs) encoded.push_back(EncodePack(pack_id, entries));
  return EncodeIndexObject(encoded);
}

Result<IndexPacks> DecodeIndexObject(std::string_view data) {
  if (data.size() < kIndexMagic.size() + 4 ||
      (data.substr(0, kIndexMagic.size()) != kIndexMagic &&
       data.substr(0, kIndexMagic.size()) != kIndexMagic2)) {
    return DamageError(std::string(Tr("not an index object (bad magic)")));
  }
  const bool deltas = data.substr(0, kIndexMagic.size()) == kIndexMagic2;
  size_t pos = kIndexMagic.size();
  uint32_t count = GetU32(data.data() + pos);
  pos += 4;
  IndexPacks packs;
  for (uint32_t i = 0; i < count; ++i) {
    if (data.size() - pos < 36) return DamageError(std::string(Tr("index object is truncated")));
    BlobId pack_id;
    std::memcpy(pack_id.bytes.data(), data.data() + pos, 32);
    uint32_t n = GetU32(data.data() + pos + 32);
    pos += 36;
    if ((data.size() - pos) / kPackEntrySize < n)
      return DamageError(std::string(Tr("index object is truncated")));
    std::vector<PackEntry> entries;
    entries.reserve(n);
    for (uint32_t k = 0; k < n; ++k) {
      if (data.size() - pos < kPackEntrySize)
        return DamageError(std::string(Tr("index object is truncated")));
      entries.push_back(DecodePackEntry(data.data() + pos));
      pos += kPackEntrySize;
      if (deltas && entries.back().codec == Codec::kZstdDelta) {
        if (data.size() - pos < 32)
          return DamageError(std::string(Tr("index object is truncated")));
        std::memcpy(entries.back().base.bytes.data(), data.data() + pos, 32);
        pos += 32;
      }
    }
    packs.emplace_back(pack_id, std::move(entries));
  }
  if (pos != data.size()) return DamageError(std::string(Tr("index object has trailing bytes")));
  return packs;
}

namespace {

// Type and codec share 4 bits: 3 type states (data, tree, unknown) × 5 codec states (none,
// zstd, gzip, zstd delta, unknown). A new codec or type needs a new split of these bits.
constexpr uint32_t kKnownTypes = 2;   // BlobType::kData, kTree
constexpr uint32_t kKnownCodecs = 4;  // Codec::kNone, kZstd, kGzip, kZstdDelta
static_assert((kKnownTypes + 1) * (kKnownCodecs + 1) <= 16);
static_assert(static_cast<uint32_t>(Codec::kZstdDelta) + 1 == kKnownCodecs);
static_assert(static_cast<uint32_t>(BlobType::kTree) + 1 == kKnownTypes);
constexpr uint8_t kUnknown = 15;

uint32_t KindOf(BlobType type, Codec codec) {
  const uint32_t t = std::min<uint32_t>(static_cast<uint8_t>(type), kKnownTypes);
  const uint32_t c = std::min<uint32_t>(static_cast<uint8_t>(codec), kKnownCodecs);
  return t * (kKnownCodecs + 1) + c;
}
BlobType TypeOf(uint32_t kind) {
  const uint32_t t = kind / (kKnownCodecs + 1);
  return static_cast<BlobType>(t < kKnownTypes ? t : kUnknown);
}
Codec CodecOf(uint32_t kind) {
  const uint32_t c = kind % (kKnownCodecs + 1);
  return static_cast<Codec>(c < kKnownCodecs ? c : kUnknown);
}

// A packed entry: bytes 0-29 the id's bytes 2-31 (compared as is: the order of the ids), then
// 112 bits, least significant first: pack number (24), kind (4), offset, length and raw
// length (28 each). An offset field of kWide means that the three lengths are in wide_.
constexpr size_t kIdBytes = 30;
constexpr uint32_t kWide = (uint32_t{1} << 28) - 1;
constexpr uint64_t kMask28 = kWide;
constexpr size_t kMaxBlobs = UINT32_MAX;

void StoreLe(unsigned char* p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint64_t LoadLe(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

// The fields of the packed entry `slot` at `position`, its id aside; `wide` (sorted by position)
// holds the lengths that did not fit in it.
struct SlotFields {
  uint32_t pack, kind, offset, length, raw_length;
};
template <class WideEntries>
SlotFields DecodeSlot(const unsigned char* slot, size_t position, const WideEntries& wide) {
  const uint64_t lo = LoadLe(slot + kIdBytes, 8);
  const uint64_t hi = LoadLe(slot + kIdBytes + 8, 6);
  SlotFields f;
  f.pack = static_cast<uint32_t>(lo & 0xffffff);
  f.kind = static_cast<uint32_t>(lo >> 24 & 0xf);
  f.offset = static_cast<uint32_t>(lo >> 28 & kMask28);
  f.length = static_cast<uint32_t>((lo >> 56) | (hi & 0xfffff) << 8);
  f.raw_length = static_cast<uint32_t>(hi >> 20 & kMask28);
  if (f.offset == kWide) {
    auto w = std::lower_bound(wide.begin(), wide.end(), position,
                              [](const auto& x, size_t pos) { return x.position < pos; });
    f.offset = w->offset;
    f.length = w->length;
    f.raw_length = w->raw_length;
  }
  return f;
}

void Pack(unsigned char* slot, const BlobId& id, uint32_t pack, uint32_t kind, uint32_t offset,
          uint32_t length, uint32_t raw_length) {
  std::memcpy(slot, id.bytes.data() + 2, kIdBytes);
  const uint64_t lo = uint64_t{pack} | uint64_t{kind} << 24 | uint64_t{offset} << 28 |
                      (uint64_t{length} & 0xff) << 56;
  const uint64_t hi = uint64_t{length} >> 8 | uint64_t{raw_length} << 20;
  StoreLe(slot + kIdBytes, lo, 8);
  StoreLe(slot + kIdBytes + 8, hi, 6);
}

}  // namespace

void Index::Reserve(size_t blobs) {
  blobs = std::min(blobs, kMaxBlobs);
  if (!buckets_.empty() || blobs <= capacity_) return;
  // A hint: when there is no room, the array grows as entries come.
  void* p = std::realloc(data_.get(), blobs * sizeof(Loose));
  if (p == nullptr) return;
  (void)data_.release();
  data_.reset(static_cast<unsigned char*>(p));
  capacity_ = blobs;
}

void Index::Unpack() {
  // Back to loose entries, so that AddPack can merge more packs: slots are widened from the
  // last, so that no slot is overwritten before it is read.
  std::vector<Wide> wide = std::move(wide_);
  wide_.clear();
  const size_t n = size_;
  const std::vector<uint32_t> buckets = std::move(buckets_);
  buckets_.clear();
  size_ = 0;
  capacity_ = 0;
  void* p = std::realloc(data_.get(), std::max<size_t>(n, 1) * sizeof(Loose));
  if (p == nullptr) throw std::bad_alloc();
  (void)data_.release();
  data_.reset(static_cast<unsigned char*>(p));
  uint32_t bucket = kBuckets;
  for (size_t i = n; i-- > 0;) {
    while (buckets[bucket] > i) --bucket;
    const unsigned char* slot = data_.get() + i * kEntryBytes;
    const SlotFields f = DecodeSlot(slot, i, wide);
    Loose e;
    e.id.bytes[0] = static_cast<uint8_t>(bucket >> 8);
    e.id.bytes[1] = static_cast<uint8_t>(bucket);
    std::memcpy(e.id.bytes.data() + 2, slot, kIdBytes);
    e.pack = f.pack;
    e.kind = f.kind;
    e.offset = f.offset;
    e.length = f.length;
    e.raw_length = f.raw_length;
    std::memcpy(data_.get() + i * sizeof(Loose), &e, sizeof e);
  }
  size_ = n;
  capacity_ = std::max<size_t>(n, 1);
}

Status Index::AddPack(const BlobId& pack_id, const std::vector<PackEntry>& entries) {
  if (!buckets_.empty()) Unpack();
  if (kMaxBlobs - size_ < entries.size()) {
    return DamageError("the index lists more than " + std::to_string(kMaxBlobs) +
                       " blobs, more than velin can hold");
  }
  auto [it, inserted] = pack_numbers_.try_emplace(pack_id, static_cast<uint32_t>(packs_.size()));
  if (inserted) {
    if (packs_.size() >= kMaxPacks) {
      pack_numbers_.erase(it);
      return DamageError("the index lists more than " + std::to_string(kMaxPacks - 1) +
                         " packs, more than velin can hold");
    }
    packs_.push_back(pack_id);
    pack_min_sizes_.push_back(0);
  }
  // Blobs, then one header entry for each (at least those listed here), then the trailer
  // (docs/repository-format.md, "Packs"). Several index objects may list one pack: the largest.
  uint64_t end = 0;
  for (const auto& e : entries) end = std::max(end, uint64_t{e.offset} + e.length);
  uint64_t& min_size = pack_min_sizes_[it->second];
  min_size = std::max(min_size, end + entries.size() * kPackEntrySize + 4 + kPackMagic.size());
  if (capacity_ - size_ < entries.size()) {
    // realloc moves a large (mmap'ed) array by remapping its pages, not by copying them.
    const size_t want =
        std::min(std::max({capacity_ * 2, size_ + entries.size(), size_t{1024}}), kMaxBlobs);
    void* p = std::realloc(data_.get(), want * sizeof(Loose));
    if (p == nullptr) throw std::bad_alloc();
    (void)data_.release();
    data_.reset(static_cast<unsigned char*>(p));
    capacity_ = want;
  }
  for (const auto& e : entries) {
    Loose entry;
    entry.id = e.id;
    entry.pack = it->second;
    entry.kind = KindOf(e.type, e.codec);
    entry.offset = e.offset;
    entry.length = e.length;
    entry.raw_length = e.raw_length;
    std::memcpy(data_.get() + size_ * sizeof(Loose), &entry, sizeof entry);
    ++size_;
    if (e.codec == Codec::kZstdDelta) {
      auto [base, fresh] = bases_.try_emplace(e.id, e.base);
      if (!fresh && base->second != e.base) other_bases_.push_back({e.id, it->second, e.base});
    }
  }
  return Ok();
}

void Index::Finalize(const PackPresence* packs) {
  if (!buckets_.empty()) return;  // nothing added since the last Finalize
  Loose* loose = reinterpret_cast<Loose*>(data_.get());
  // Pack numbers grow in the order packs were first listed, so ordering equal ids by number
  // (then offset) keeps the first pack listed, as a stable sort would, without its buffer of
  // half the array.
  const auto by_id = [](const Loose& a, const Loose& c) {
    if (a.id != c.id) return a.id < c.id;
    if (a.pack != c.pack) return a.pack < c.pack;
    return a.offset < c.offset;
  };
  const auto bucket_of = [](const Loose& e) {
    return uint32_t{e.id.bytes[0]} << 8 | e.id.bytes[1];
  };
  if (size_ < kBuckets) {
    // Fewer entries than buckets: one sort, without the distribution's two arrays of 256 KiB
    // (a small repository's every command paid their page faults).
    std::sort(loose, loose + size_, by_id);
  } else {
    // Ids are hashes, so their first two bytes spread entries evenly over the kBuckets buckets:
    // an in-place distribution by them (American flag sort: count, then move each entry straight
    // to its bucket's next free slot) leaves ~16 entries a bucket per million for std::sort, and
    // needs no second array. One std::sort of them all made BM_IndexBuild (1 M blobs)
    // 209-219 ms against 147-152 ms this way (2026-12-01, three alternating runs each).
    std::vector<uint32_t> ends(kBuckets, 0);
    for (size_t i = 0; i < size_; ++i) ++ends[bucket_of(loose[i])];
    std::vector<uint32_t> next(kBuckets, 0);
    uint32_t sum = 0;
    for (uint32_t b = 0; b < kBuckets; ++b) {
      next[b] = sum;
      sum += ends[b];
      ends[b] = sum;
    }
    for (uint32_t b = 0; b < kBuckets; ++b) {
      while (next[b] < ends[b]) {
        Loose e = loose[next[b]];
        for (uint32_t k = bucket_of(e); k != b; k = bucket_of(e)) std::swap(e, loose[next[k]++]);
        loose[next[b]++] = e;
      }
    }
    uint32_t begin = 0;
    for (uint32_t b = 0; b < kBuckets; ++b) {
      std::sort(loose + begin, loose + ends[b], by_id);
      begin = ends[b];
    }
  }
  if (packs != nullptr) PreferPresentPacks(loose, *packs);
  std::vector<OtherBase>().swap(other_bases_);
  DropDanglingDeltas(loose);
  size_ =
      static_cast<size_t>(std::unique(loose, loose + size_,
                                      [](const Loose& a, const Loose& b) { return a.id == b.id; }) -
                          loose);
  // The pack numbers' map is only needed while adding.
  std::unordered_map<BlobId, uint32_t, BlobIdHash>().swap(pack_numbers_);
  capacity_ = 0;
  if (size_ == 0) {
    data_.reset();
    return;
  }
  // Packed in place: slot i (kEntryBytes at i * kEntryBytes) ends before loose entry i + 1
  // begins, and loose entry i is copied out before its slot is written.
  buckets_.assign(kBuckets + 1, 0);
  for (size_t i = 0; i < size_; ++i) {
    Loose e;
    std::memcpy(&e, data_.get() + i * sizeof(Loose), sizeof e);
    ++buckets_[(uint32_t{e.id.bytes[0]} << 8 | e.id.bytes[1]) + 1];
    uint32_t offset = e.offset;
    uint32_t length = e.length;
    uint32_t raw_length = e.raw_length;
    if (offset >= kWide || length >= kWide || raw_length >= kWide) {
      wide_.push_back({static_cast<uint32_t>(i), offset, length, raw_length});
      offset = kWide;
      length = raw_length = 0;
    }
    Pack(data_.get() + i * kEntryBytes, e.id, e.pack, e.kind, offset, length, raw_length);
  }
  for (uint32_t b = 0; b < kBuckets; ++b) buckets_[b + 1] += buckets_[b];
  // Hands back the tail (for a large array, its pages: no copy).
  if (void* p = std::realloc(data_.get(), size_ * kEntryBytes); p != nullptr) {
    (void)data_.release();
    data_.reset(static_cast<unsigned char*>(p));
  }
  wide_.shrink_to_fit();
}

void Index::PreferPresentPacks(Loose* loose, const PackPresence& packs) {
  enum : uint8_t { kUnasked, kPresent, kAbsent };
  std::vector<uint8_t> state(packs_.size(), kUnasked);
  const auto present = [&](uint32_t pack) {
    if (state[pack] == kUnasked) {
      state[pack] = packs.present(packs_[pack], pack_min_sizes_[pack]) ? kPresent : kAbsent;
    }
    return state[pack] == kPresent;
  };
  if (packs.listed_all) {
    missing_packs_.clear();
    for (uint32_t n = 0; n < packs_.size(); ++n) {
      if (!present(n)) missing_packs_.push_back(packs_[n]);
    }
    if (missing_packs_.empty()) return;
  }
  // `loose` is sorted by id, then by pack number (the order packs were first listed): each
  // blob's entries are a run, and Finalize keeps the first of each. Entries move only when some
  // were dropped before them: without listed_all this is one read-only pass (every command).
  size_t out = 0;
  const auto keep = [&](size_t k) {
    if (out != k) loose[out] = loose[k];
    ++out;
  };
  for (size_t i = 0, end = 0; i < size_; i = end) {
    for (end = i + 1; end < size_ && loose[end].id == loose[i].id;) ++end;
    if (!packs.listed_all && end - i == 1) {
      keep(i);
      continue;
    }
    const BlobId id = loose[i].id;
    const uint32_t was_first = loose[i].pack;
    const size_t begin = out;
    size_t winner = SIZE_MAX;
    for (size_t k = i; k < end; ++k) {
      // Without listed_all each pack is a request: none asked about once one is present.
      const bool here = (packs.listed_all || winner == SIZE_MAX) && present(loose[k].pack);
      if (!here && packs.listed_all) continue;
      if (here && winner == SIZE_MAX) winner = out;
      keep(k);
    }
    if (begin == out) {  // every pack of it is gone: not stored
      bases_.erase(id);
      continue;
    }
    if (winner != SIZE_MAX) std::rotate(loose + begin, loose + winner, loose + winner + 1);
    if (loose[begin].pack == was_first) continue;
    // Another pack's entry is the blob now: its delta base, if any, is the one to keep.
    if (CodecOf(loose[begin].kind) != Codec::kZstdDelta) {
      bases_.erase(id);
      continue;
    }
    for (const OtherBase& o : other_bases_) {
      if (o.id == id && o.pack == loose[begin].pack) bases_[id] = o.base;
    }
  }
  size_ = out;
}

void Index::DropDanglingDeltas(Loose* loose) {
  // `loose` is sorted by id. Bases are never deltas, so any entry of the base will do.
  const auto listed = [&](const BlobId& id) {
    const Loose* it = std::lower_bound(loose, loose + size_, id,
                                       [](const Loose& e, const BlobId& k) { return e.id < k; });
    return it != loose + size_ && it->id == id;
  };
  std::unordered_set<BlobId, BlobIdHash> dangling;
  for (auto it = bases_.begin(); it != bases_.end();) {
    if (listed(it->second)) {
      ++it;
      continue;
    }
    dangling.insert(it->first);
    dangling_deltas_.push_back({it->first, it->second});
    it = bases_.erase(it);
  }
  if (dangling.empty()) return;
  size_ = static_cast<size_t>(std::remove_if(loose, loose + size_,
                                             [&](const Loose& e) {
                                               return CodecOf(e.kind) == Codec::kZstdDelta &&
                                                      dangling.count(e.id) > 0;
                                             }) -
                              loose);
}

const BlobId* Index::DeltaBase(const BlobId& id) const {
  auto it = bases_.find(id);
  return it == bases_.end() ? nullptr : &it->second;
}

IndexEntry Index::Fields(uint32_t position) const {
  const SlotFields f = DecodeSlot(data_.get() + size_t{position} * kEntryBytes, position, wide_);
  IndexEntry e;
  e.pack = f.pack;
  e.type = TypeOf(f.kind);
  e.codec = CodecOf(f.kind);
  e.offset = f.offset;
  e.length = f.length;
  e.raw_length = f.raw_length;
  return e;
}

IndexEntry Index::At(uint32_t bucket, uint32_t position, BlobId& id) const {
  id.bytes[0] = static_cast<uint8_t>(bucket >> 8);
  id.bytes[1] = static_cast<uint8_t>(bucket);
  std::memcpy(id.bytes.data() + 2, data_.get() + size_t{position} * kEntryBytes, kIdBytes);
  return Fields(position);
}

std::optional<IndexEntry> Index::Find(const BlobId& id) const {
  if (buckets_.empty()) return std::nullopt;
  const uint32_t bucket = uint32_t{id.bytes[0]} << 8 | id.bytes[1];
  uint32_t lo = buckets_[bucket];
  uint32_t hi = buckets_[bucket + 1];
  const unsigned char* key = id.bytes.data() + 2;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    const int c = std::memcmp(data_.get() + size_t{mid} * kEntryBytes, key, kIdBytes);
    if (c < 0) {
      lo = mid + 1;
    } else if (c > 0) {
      hi = mid;
    } else {
      return Fields(mid);
    }
  }
  return std::nullopt;
}

}  // namespace velin::repo
