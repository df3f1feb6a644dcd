#include "velin/repo/chunker.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>

namespace velin::repo {

namespace {
// Room beyond one maximal chunk: compaction moves < max bytes once per kSlack bytes fed.
constexpr size_t kSlack = 4 << 20;

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A mask of `bits` ones in the high half of the word: with the gear hash shifting left, high
// bits depend on the last ~64 bytes, low bits only on the last few.
uint64_t HighMask(int bits) { return bits <= 0 ? 0 : (~0ULL << (64 - bits)); }
}  // namespace

Chunker::Chunker(const ChunkerParams& params) : params_(params) {
  uint64_t state = params.seed;
  for (auto& g : gear_) g = SplitMix64(state);
  int bits = std::bit_width(params.avg_size) - 1;
  mask_small_ = HighMask(bits + 2);
  mask_large_ = HighMask(bits - 2);
}

size_t Chunker::Scan(const uint8_t* data, size_t from, size_t to, uint64_t& hash,
                     uint64_t mask) const {
  uint64_t h = hash;
  for (size_t i = from; i < to; ++i) {
    h = (h << 1) + gear_[data[i]];
    if ((h & mask) == 0) return i + 1;
  }
  hash = h;
  return 0;
}

size_t Chunker::Cut(const uint8_t* data, size_t n) const {
  if (n <= params_.min_size) return n;
  CutProgress progress;
  size_t cut = CutIncrementally(data, n, progress);
  return cut != 0 ? cut : n;  // no cut before the end: the rest is one chunk
}

size_t Chunker::CutIncrementally(const uint8_t* data, size_t n, CutProgress& progress) const {
  // Bytes before min_size are never a cut and not hashed: the hash starts at min_size.
  if (n <= params_.min_size) return 0;
  const size_t limit = n < params_.max_size ? n : params_.max_size;
  const size_t normal = params_.avg_size < limit ? params_.avg_size : limit;
  size_t i = progress.scanned > params_.min_size ? progress.scanned : params_.min_size;
  uint64_t hash = progress.scanned > params_.min_size ? progress.hash : 0;
  if (i < normal) {
    if (size_t cut = Scan(data, i, normal, hash, mask_small_)) return cut;
    i = normal;
  }
  if (i < limit) {
    if (size_t cut = Scan(data, i, limit, hash, mask_large_)) return cut;
    i = limit;
  }
  if (limit == params_.max_size) return limit;
  progress = {i, hash};
  return 0;
}

StreamChunker::StreamChunker(const Chunker& chunker, Emit emit)
    : chunker_(chunker), emit_(std::move(emit)) {}

void StreamChunker::EnsureBuffer() {
  if (buffer_) return;
  size_ = chunker_.params().max_size + kSlack;
  buffer_ = std::make_unique_for_overwrite<char[]>(size_);
}

Status StreamChunker::Feed(std::string_view data) {
  while (!data.empty()) {
    EnsureBuffer();
    if (end_ == size_) {  // compact: move the unconsumed tail (< max bytes) to the front
      std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    size_t take = std::min(data.size(), size_ - end_);
    std::memcpy(buffer_.get() + end_, data.data(), take);
    end_ += take;
    data.remove_prefix(take);
    VELIN_TRY(CutWhileFull(false));
  }
  return Ok();
}

char* StreamChunker::Space(size_t* room) {
  EnsureBuffer();
  if (size_ - end_ < (1 << 20) || end_ == size_) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  *room = size_ - end_;
  return buffer_.get() + end_;
}

Status StreamChunker::Fill(size_t n) {
  end_ += n;
  return CutWhileFull(false);
}

void StreamChunker::FreeZeros::operator()(char* p) const { std::free(p); }

void StreamChunker::EnsureZeros() {
  if (zeros_) return;
  const size_t max = chunker_.params().max_size;
  zeros_.reset(static_cast<char*>(std::calloc(max, 1)));
  if (!zeros_) throw std::bad_alloc();
  zero_chunk_ = chunker_.Cut(reinterpret_cast<const uint8_t*>(zeros_.get()), max);
}

Status StreamChunker::FeedZeros(uint64_t n) {
  EnsureZeros();
  size_t run_tail = 0;  // how many of the unconsumed bytes, at their end, are this run's zeros
  while (n > 0) {
    const size_t unconsumed = end_ - begin_;
    if (unconsumed <= run_tail && unconsumed + n >= zero_chunk_) {
      // The chunk at begin_ is zeros so far and the run reaches where zeros are cut: that
      // chunk, and every whole one after it, is zero_chunk_ zeros.
      n -= zero_chunk_ - unconsumed;
      begin_ = end_ = 0;
      progress_ = {};
      VELIN_TRY(emit_(std::string_view(zeros_.get(), zero_chunk_)));
      for (; n >= zero_chunk_; n -= zero_chunk_) {
        VELIN_TRY(emit_(std::string_view(zeros_.get(), zero_chunk_)));
      }
      run_tail = 0;
      continue;  // fewer zeros left than a chunk: they start the next one, in the buffer
    }
    // No further than the chunk at begin_ can reach (it is cut by then, and the zeros after
    // its cut may start a chunk of zeros): fewer than max_size bytes are unconsumed here.
    size_t room = 0;
    char* space = Space(&room);
    const size_t reach = chunker_.params().max_size - unconsumed;
    const size_t take = static_cast<size_t>(std::min<uint64_t>(std::min(room, reach), n));
    std::memset(space, 0, take);
    n -= take;
    run_tail += take;
    VELIN_TRY(Fill(take));
    run_tail = std::min(run_tail, end_ - begin_);
  }
  return Ok();
}

Status StreamChunker::Finish() {
  VELIN_TRY(CutWhileFull(true));
  begin_ = end_ = 0;
  progress_ = {};
  return Ok();
}

Status StreamChunker::CutWhileFull(bool at_end) {
  while (end_ > begin_) {
    const size_t avail = end_ - begin_;
    const auto* p = reinterpret_cast<const uint8_t*>(buffer_.get() + begin_);
    // The search goes on from where the last one ran out of bytes (a pipe feeds a few KiB at
    // a time: each byte is hashed once however the stream is cut into pieces). A cut found
    // is final (the scan is sequential from the chunk's start), and so is one at the maximum.
    // Cutting as soon as possible keeps the unconsumed tail, which compaction moves, short.
    size_t cut = chunker_.CutIncrementally(p, avail, progress_);
    if (cut == 0) {
      if (!at_end) break;
      cut = avail;  // the stream ended: the rest is its last chunk
    }
    VELIN_TRY(emit_(std::string_view(buffer_.get() + begin_, cut)));
    begin_ += cut;
    progress_ = {};
  }
  if (begin_ == end_) begin_ = end_ = 0;
  return Ok();
}

}  // namespace velin::repo
