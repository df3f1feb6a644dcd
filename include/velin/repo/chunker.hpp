// Content-defined chunking, FastCDC-style: a gear rolling hash cuts a byte stream where the
// content says so, not at fixed offsets, so inserting a byte near the start of a file moves only
// the chunks around it and the rest deduplicate. Normalised chunking (a stricter mask before
// the average size, a looser one after) keeps sizes close to the average. Parameters live in
// the repository config; the same parameters always cut the same data at the same places
// (docs/repository-format.md, "Chunking").
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "velin/core/error.hpp"

namespace velin::repo {

struct ChunkerParams {
  uint64_t min_size = 512 * 1024;
  uint64_t avg_size = 1024 * 1024;  // a power of two
  uint64_t max_size = 8 * 1024 * 1024;
  uint64_t seed = 0x76656c696e474541ULL;  // the gear table's seed
};

// Where a search for the end of a chunk stopped for want of bytes: the gear hash there and
// how many of the chunk's bytes it covered. Resuming from it with more bytes of the same chunk
// finds the cut a search over all of them from the chunk's start would find.
struct CutProgress {
  size_t scanned = 0;
  uint64_t hash = 0;
};

// Finds cut points. Stateless between calls; cheap to copy.
class Chunker {
 public:
  explicit Chunker(const ChunkerParams& params);
  const ChunkerParams& params() const { return params_; }
  // The length of the first chunk of data[0, n): n when n <= min_size, at most max_size.
  // The caller passes at least max_size bytes unless the stream ends within them.
  size_t Cut(const uint8_t* data, size_t n) const;
  // For bytes that arrive in pieces: data[0, n) is what has arrived of the chunk so far and
  // `progress` what earlier calls for the same chunk scanned (start with {}). Returns the
  // chunk's length when its end is certain — a cut within data[0, n), or max_size — and 0
  // when more bytes could move it (progress then records the scan, so every byte is hashed
  // once). If the stream ends first, the chunk is all of data[0, n). Same cuts as Cut().
  size_t CutIncrementally(const uint8_t* data, size_t n, CutProgress& progress) const;

 private:
  // Scans data[from, to) continuing `hash`; the index after the first position whose hash has
  // no bit of `mask` set, or 0 (hash then covers data[from, to)).
  size_t Scan(const uint8_t* data, size_t from, size_t to, uint64_t& hash, uint64_t mask) const;

  ChunkerParams params_;
  uint64_t mask_small_;  // more bits: used before the average size
  uint64_t mask_large_;  // fewer bits: used after it
  std::array<uint64_t, 256> gear_;
};

// Pushes a stream through a Chunker: Feed() pieces as they arrive, Finish() at the end; every
// complete chunk is handed to `emit` (the view is valid only during the call). Memory: a
// buffer of the maximum chunk size plus 4 MiB.
class StreamChunker {
 public:
  using Emit = std::function<Status(std::string_view chunk)>;
  StreamChunker(const Chunker& chunker, Emit emit);
  Status Feed(std::string_view data);
  // Zero-copy feeding: Space() is where the next bytes go (at least 1 MiB, valid until the next
  // call), Fill(n) hands over the first n of them. For readers that can read into a buffer.
  char* Space(size_t* room);
  Status Fill(size_t n);
  // As Feed() of n zero bytes (a file's hole), without copying, scanning or emitting them one
  // by one where that cannot matter: a chunk that starts within the run and whose bytes up to
  // the cut a run of zeros gets are all zeros is cut there — the cut depends on the chunk's own
  // bytes only — so such chunks are emitted as views of one zeroed buffer (IsZeroChunk()) and
  // the rest of the run goes through the buffer as Feed() would put it. The same cuts as Feed().
  Status FeedZeros(uint64_t n);
  // Whether `chunk`, as handed to `emit`, is a view of that zeroed buffer: all zeros, and of the
  // one length a chunk of zeros is cut at (every such chunk has the same blob id).
  bool IsZeroChunk(std::string_view chunk) const { return zeros_ && chunk.data() == zeros_.get(); }
  Status Finish();

 private:
  Status CutWhileFull(bool at_end);
  void EnsureBuffer();  // of max_size + slack bytes, made on first use
  void EnsureZeros();   // zeros_ and zero_chunk_, made on the first FeedZeros()

  const Chunker& chunker_;
  Emit emit_;
  // Not zeroed: its pages are touched only as bytes come (a first backup of small files, or a
  // test that makes hundreds of backups, faulted in all 12 MiB each time).
  std::unique_ptr<char[]> buffer_;
  size_t size_ = 0;   // of buffer_, once made
  size_t begin_ = 0;  // unconsumed bytes are buffer_[begin_, end_)
  size_t end_ = 0;
  CutProgress progress_;  // the search for the end of the chunk at begin_, so far
  // max_size zero bytes (calloc'd: pages the kernel maps to its zero page, no resident memory)
  // and where a chunk that starts with max_size zeros is cut.
  struct FreeZeros {
    void operator()(char* p) const;
  };
  std::unique_ptr<char, FreeZeros> zeros_;
  size_t zero_chunk_ = 0;
};

}  // namespace velin::repo
