// An index object built from packs as they are written: each pack's entries are kept encoded
// as the object lists them (46 bytes a blob, a delta blob's base after it) instead of as
// PackEntry (80 bytes), and the object is assembled with its size known, freeing each pack's
// part as it is copied in. A backup of a million small files keeps ~46 MB for its index object
// instead of 80 MB of entries plus, while encoding, a growing copy of up to twice the object.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "velin/repo/blob_id.hpp"
#include "velin/repo/pack.hpp"

namespace velin::repo {

struct EncodedPack {
  BlobId id;
  uint32_t blobs = 0;
  bool deltas = false;  // a kZstdDelta entry among them: the object is of version 2
  std::string entries;  // the object's bytes for these blobs
};

EncodedPack EncodePack(const BlobId& id, const std::vector<PackEntry>& entries);

// The index object of `packs` (the same bytes as EncodeIndexObject of their entries); each
// pack's entries are freed once copied.
std::string EncodeIndexObject(std::vector<EncodedPack>& packs);

}  // namespace velin::repo
