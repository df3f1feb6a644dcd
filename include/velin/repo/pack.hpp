// Packs: the objects that hold blobs. A pack is the concatenation of its (individually
// compressed) blobs followed by a header listing them — id, type, offset, stored length, raw
// length, codec — then the header's length and a magic, so the index can always be rebuilt from
// the packs alone. A pack is named by the SHA-256 of all its bytes (docs/repository-format.md,
// "Packs").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/blob_id.hpp"
#include "velin/repo/codec.hpp"

namespace velin::repo {

enum class BlobType : uint8_t { kData = 0, kTree = 1 };

struct PackEntry {
  BlobId id;
  BlobType type = BlobType::kData;
  Codec codec = Codec::kNone;
  uint32_t offset = 0;
  uint32_t length = 0;      // stored (compressed) bytes
  uint32_t raw_length = 0;  // bytes after decompression
  // kZstdDelta only: the blob it was compressed against. Not part of the 46 header bytes (the
  // stored bytes begin with it); index objects of version 2 carry it (docs/repository-format.md).
  BlobId base;
};

inline constexpr size_t kPackEntrySize = 46;  // id 32, type 1, codec 1, offset, length, raw 4 each
inline constexpr std::string_view kPackMagic = "VLNPACK1";
inline constexpr size_t kTargetPackSize = 16 * 1024 * 1024;

// Appends one entry in the on-disk layout (little-endian).
void EncodePackEntry(const PackEntry& entry, std::string& out);
PackEntry DecodePackEntry(const char* p);

// Collects blobs into one pack.
class PackBuilder {
 public:
  void Add(BlobType type, const BlobId& id, Codec codec, uint32_t raw_length,
           std::string_view stored, const BlobId* base = nullptr);
  // In-place adding, for a compressor that writes straight into the pack: Reserve(n) returns
  // room for up to n stored bytes at the end (valid until the next call); Commit() records the
  // blob of `stored_length` bytes written there. Packs stay in one allocation as long as
  // finished_size() + n + kPackEntrySize <= kTargetPackSize (BlobWriter writes them before).
  char* Reserve(size_t n);
  void Commit(BlobType type, const BlobId& id, Codec codec, uint32_t raw_length,
              size_t stored_length, const BlobId* base = nullptr);
  // The pack's size once finished (blobs, header, trailer).
  size_t finished_size() const {
    return data_.size() + entries_.size() * kPackEntrySize + 4 + kPackMagic.size();
  }
  size_t size() const { return data_.size(); }
  // The bytes of the blobs committed so far, [data(), data() + size()); they stay where they are
  // until a Reserve() or Finish() that needs more than capacity().
  const char* data() const { return data_.data(); }
  size_t capacity() const { return data_.capacity(); }
  bool empty() const { return entries_.empty(); }
  const std::vector<PackEntry>& entries() const { return entries_; }
  // Appends the header; returns the pack's bytes. The builder is empty afterwards.
  std::string Finish();
  // Hands a finished pack's buffer back for the next pack: its memory is already mapped, so
  // filling it again costs no page faults.
  void Recycle(std::string buffer) {
    buffer.clear();
    if (data_.empty() && buffer.capacity() > data_.capacity()) data_ = std::move(buffer);
  }

 private:
  std::string data_;
  std::vector<PackEntry> entries_;
  size_t reserved_at_ = 0;
};

// Reads the header at the end of a pack (given its last bytes or all of it). `pack_size` is the
// full size of the pack. Damage (bad magic, lengths out of range) is a DamageError.
Result<std::vector<PackEntry>> ParsePackHeader(std::string_view pack_bytes);

// "data/3f/3f2a…": where a pack lives in the backend.
std::string PackObjectName(const BlobId& pack_id);

}  // namespace velin::repo
