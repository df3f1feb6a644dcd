#include "velin/repo/pack.hpp"

#include <cstring>

#include "velin/core/i18n.hpp"

namespace velin::repo {

namespace {
void PutU32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(b, 4);
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
}  // namespace

void EncodePackEntry(const PackEntry& entry, std::string& out) {
  out.append(reinterpret_cast<const char*>(entry.id.bytes.data()), 32);
  out.push_back(static_cast<char>(entry.type));
  out.push_back(static_cast<char>(entry.codec));
  PutU32(out, entry.offset);
  PutU32(out, entry.length);
  PutU32(out, entry.raw_length);
}

PackEntry DecodePackEntry(const char* p) {
  PackEntry e;
  std::memcpy(e.id.bytes.data(), p, 32);
  e.type = static_cast<BlobType>(static_cast<uint8_t>(p[32]));
  e.codec = static_cast<Codec>(static_cast<uint8_t>(p[33]));
  e.offset = GetU32(p + 34);
  e.length = GetU32(p + 38);
  e.raw_length = GetU32(p + 42);
  return e;
}

char* PackBuilder::Reserve(size_t n) {
  // One allocation per pack: a doubling string would hold up to twice the pack. (Not
  // capacity() == 0: a string moved from by Finish() keeps its small-string capacity.)
  if (data_.capacity() < kTargetPackSize) data_.reserve(kTargetPackSize);
  reserved_at_ = data_.size();
  data_.resize(reserved_at_ + n);
  return data_.data() + reserved_at_;
}

void PackBuilder::Commit(BlobType type, const BlobId& id, Codec codec, uint32_t raw_length,
                         size_t stored_length, const BlobId* base) {
  PackEntry e;
  if (base) e.base = *base;
  e.id = id;
  e.type = type;
  e.codec = codec;
  e.offset = static_cast<uint32_t>(reserved_at_);
  e.length = static_cast<uint32_t>(stored_length);
  e.raw_length = raw_length;
  entries_.push_back(e);
  data_.resize(reserved_at_ + stored_length);
}

void PackBuilder::Add(BlobType type, const BlobId& id, Codec codec, uint32_t raw_length,
                      std::string_view stored, const BlobId* base) {
  std::memcpy(Reserve(stored.size()), stored.data(), stored.size());
  Commit(type, id, codec, raw_length, stored.size(), base);
}

std::string PackBuilder::Finish() {
  const size_t total = finished_size();
  std::string out = std::move(data_);
  out.reserve(total);  // a no-op when the pack stayed within its target size
  size_t header_start = out.size();
  for (const auto& e : entries_) EncodePackEntry(e, out);
  PutU32(out, static_cast<uint32_t>(out.size() - header_start));
  out.append(kPackMagic);
  data_ = std::string();
  entries_.clear();
  return out;
}

Result<std::vector<PackEntry>> ParsePackHeader(std::string_view pack) {
  const size_t trailer = 4 + kPackMagic.size();
  if (pack.size() < trailer || pack.substr(pack.size() - kPackMagic.size()) != kPackMagic) {
    return DamageError(
        std::string(Tr("pack does not end with the pack magic (truncated or overwritten)")));
  }
  uint32_t header_len = GetU32(pack.data() + pack.size() - trailer);
  if (header_len % kPackEntrySize != 0 || header_len > pack.size() - trailer) {
    return DamageError(TrFormat("pack header length {} is invalid", std::to_string(header_len)));
  }
  size_t header_start = pack.size() - trailer - header_len;
  std::vector<PackEntry> entries;
  entries.reserve(header_len / kPackEntrySize);
  for (size_t off = 0; off < header_len; off += kPackEntrySize) {
    PackEntry e = DecodePackEntry(pack.data() + header_start + off);
    if (static_cast<uint64_t>(e.offset) + e.length > header_start) {
      return DamageError(
          TrFormat("pack header lists blob {} beyond the pack's data", e.id.Short()));
    }
    entries.push_back(e);
  }
  return entries;
}

std::string PackObjectName(const BlobId& pack_id) {
  std::string hex = pack_id.Hex();
  return "data/" + hex.substr(0, 2) + "/" + hex;
}

}  // namespace velin::repo
