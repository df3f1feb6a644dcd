// Delta encoding of one chunk against another (docs/delta.md): what a delta blob stores after its
// base's id. Two methods, the smaller wins:
//   1  a zstd frame compressed with the base as prefix (long-distance matching): good for
//      content that was reordered or rewritten with small variations;
//   2  an edit script — copy runs from the base, literal bytes, jumps in the base — found by a
//      match search over hashed 32-byte windows of the base, then zstd-compressed: a row
//      deleted or a value changed costs a few bytes, and a repeated pattern of edits (every
//      100th row) compresses to almost nothing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "velin/core/error.hpp"

namespace velin::repo {

// Encodes `target` against `base` into `out` (method byte, payload). False when neither method
// gets it within `limit` bytes (store it whole then).
bool EncodeDelta(int level, std::string_view target, std::string_view base, size_t limit,
                 std::string& out);

// The reverse: `delta` (method byte, payload) against `base` into `out`, which must come to
// exactly `raw_length` bytes. Damage is a DamageError, never a read outside `base`.
Status DecodeDelta(std::string_view delta, std::string_view base, uint64_t raw_length,
                   std::string& out);

// Method 2 alone, for tests and benchmarks: the edit script before compression, or false when it
// would hold more than `max_literals` literal bytes.
bool EditScript(std::string_view target, std::string_view base, size_t max_literals,
                std::string& script);
Status ApplyEditScript(std::string_view script, std::string_view base, uint64_t raw_length,
                       std::string& out);

}  // namespace velin::repo
