#include "velin/repo/index.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "velin/core/i18n.hpp"

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

std::string EncodeIndexObject(const IndexPacks& packs) {
  bool deltas = false;
  for (const auto& [pack_id, entries] : packs) {
    for (const auto& e : entries) deltas |= e.codec == Codec::kZstdDelta;
  }
  std::string out(deltas ? kIndexMagic2 : kIndexMagic);
  PutU32(out, static_cast<uint32_t>(packs.size()));
  for (const auto& [pack_id, entries] : packs) {
    out.append(reinterpret_cast<const char*>(pack_id.bytes.data()), 32);
    PutU32(out, static_cast<uint32_t>(entries.size()));
    for (const auto& e : entries) {
      EncodePackEntry(e, out);
      if (deltas && e.codec == Codec::kZstdDelta) {
        out.append(reinterpret_cast<const char*>(e.base.bytes.data()), 32);
      }
    }
  }
  return out;
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

Status Index::AddPack(const BlobId& pack_id, const std::vector<PackEntry>& entries) {
  auto [it, inserted] = pack_numbers_.try_emplace(pack_id, static_cast<uint32_t>(packs_.size()));
  if (inserted) {
    if (packs_.size() >= kMaxPacks) {
      pack_numbers_.erase(it);
      return DamageError("the index lists more than " + std::to_string(kMaxPacks - 1) +
                         " packs, more than velin can hold");
    }
    packs_.push_back(pack_id);
  }
  constexpr uint8_t kUnknown = 15;
  for (const auto& e : entries) {
    IndexEntry entry;
    entry.id = e.id;
    entry.pack = it->second;
    entry.type = static_cast<BlobType>(std::min(static_cast<uint8_t>(e.type), kUnknown));
    entry.codec = static_cast<Codec>(std::min(static_cast<uint8_t>(e.codec), kUnknown));
    entry.offset = e.offset;
    entry.length = e.length;
    entry.raw_length = e.raw_length;
    entries_.push_back(entry);
    if (e.codec == Codec::kZstdDelta) bases_.try_emplace(e.id, e.base);
  }
  return Ok();
}

void Index::Finalize() {
  // Pack numbers grow in the order packs were first listed, so ordering equal ids by number
  // (then offset) keeps the first pack listed, as a stable sort would, without its buffer of
  // half the array.
  std::sort(entries_.begin(), entries_.end(), [](const IndexEntry& a, const IndexEntry& b) {
    if (a.id != b.id) return a.id < b.id;
    if (a.pack != b.pack) return a.pack < b.pack;
    return a.offset < b.offset;
  });
  entries_.erase(std::unique(entries_.begin(), entries_.end(),
                             [](const IndexEntry& a, const IndexEntry& b) { return a.id == b.id; }),
                 entries_.end());
  // The tail past size() was never written (or was written by dropped duplicates, rare): no
  // shrink_to_fit, whose copy would hold the array twice at once. The pack numbers' map is
  // only needed while adding.
  std::unordered_map<BlobId, uint32_t, BlobIdHash>().swap(pack_numbers_);
}

const BlobId* Index::DeltaBase(const BlobId& id) const {
  auto it = bases_.find(id);
  return it == bases_.end() ? nullptr : &it->second;
}

const IndexEntry* Index::Find(const BlobId& id) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), id,
                             [](const IndexEntry& e, const BlobId& k) { return e.id < k; });
  if (it == entries_.end() || it->id != id) return nullptr;
  return &*it;
}

}  // namespace velin::repo
