// Per-blob compression. Each blob is compressed on its own with the repository's configured
// codec (zstd at a level, gzip via zlib, or none) and the codec actually used is recorded with
// the blob, so one repository can hold blobs of every codec and a blob that does not shrink is
// stored raw (docs/repository-format.md, "Codecs").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "velin/core/error.hpp"

namespace velin::repo {

// kZstdDelta: a delta blob (format version 3). Its stored bytes are the id of its base blob
// (32 bytes) and a delta against the base's plaintext (delta.hpp), so a chunk that differs from
// an earlier one in a few places costs a few bytes per change (docs/delta.md).
enum class Codec : uint8_t { kNone = 0, kZstd = 1, kGzip = 2, kZstdDelta = 3 };

// "none" | "zstd" | "gzip"; a usage error otherwise.
Result<Codec> ParseCodec(std::string_view name);
std::string_view CodecName(Codec codec);

// Compresses `raw`; when the result is not smaller, returns `raw` unchanged and sets
// `used` to kNone.
std::string Compress(Codec codec, int level, std::string_view raw, Codec& used);

// Compresses `raw` into `out` (reusing its capacity) and returns the codec used; kNone (and
// `out` unspecified) when compression does not make it smaller: store `raw` itself then.
Codec CompressInto(Codec codec, int level, std::string_view raw, std::string& out);

// The most bytes CompressTo() may write for `raw_size` input bytes (at least raw_size).
size_t CompressBound(Codec codec, size_t raw_size);

// Compresses `raw` into dst[0, capacity) (capacity >= CompressBound) and returns the codec
// used and the bytes written; kNone (dst unspecified) when compression does not make it
// smaller: store `raw` itself then.
Codec CompressTo(Codec codec, int level, std::string_view raw, char* dst, size_t capacity,
                 size_t* written);

// Decompresses `stored` (compressed with `codec`) that must expand to exactly `raw_length` bytes.
Result<std::string> Decompress(Codec codec, std::string_view stored, uint64_t raw_length);
// The same into `out`, reusing its memory.
Status DecompressInto(Codec codec, std::string_view stored, uint64_t raw_length, std::string& out);

// Delta compression: `raw` as a zstd frame that refers to `base` (the same base is needed to
// decompress). Returns false when zstd fails or the frame does not fit in dst[0, capacity).
bool CompressDeltaTo(int level, std::string_view raw, std::string_view base, char* dst,
                     size_t capacity, size_t* written);
// The reverse; `frame` must expand to exactly `raw_length` bytes against `base`.
Status DecompressDeltaInto(std::string_view frame, std::string_view base, uint64_t raw_length,
                           std::string& out);

}  // namespace velin::repo
