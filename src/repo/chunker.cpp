#include "velin/repo/chunker.hpp"

#include <bit>
#include <cstring>

namespace velin::repo {

namespace {
// Room beyond one maximal chunk: compaction moves < max bytes once per kSlack bytes fed.
constexpr size_t kSlack = 4 << 20;
// How much more a pending chunk must have before its cut point is searched again.
constexpr size_t kRescanStep = 1 << 20;

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

size_t Chunker::Cut(const uint8_t* data, size_t n) const {
  if (n <= params_.min_size) return n;
  size_t limit = n < params_.max_size ? n : params_.max_size;
  size_t normal = params_.avg_size < limit ? params_.avg_size : limit;
  uint64_t hash = 0;
  size_t i = params_.min_size;
  for (; i < normal; ++i) {
    hash = (hash << 1) + gear_[data[i]];
    if ((hash & mask_small_) == 0) return i + 1;
  }
  for (; i < limit; ++i) {
    hash = (hash << 1) + gear_[data[i]];
    if ((hash & mask_large_) == 0) return i + 1;
  }
  return limit;
}

StreamChunker::StreamChunker(const Chunker& chunker, Emit emit)
    : chunker_(chunker), emit_(std::move(emit)) {}

Status StreamChunker::Feed(std::string_view data) {
  const size_t max = chunker_.params().max_size;
  while (!data.empty()) {
    if (buffer_.empty()) buffer_.resize(max + kSlack);
    if (end_ == buffer_.size()) {  // compact: move the unconsumed tail (< max bytes) to the front
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    size_t take = std::min(data.size(), buffer_.size() - end_);
    std::memcpy(buffer_.data() + end_, data.data(), take);
    end_ += take;
    data.remove_prefix(take);
    VELIN_TRY(CutWhileFull(false));
  }
  return Ok();
}

char* StreamChunker::Space(size_t* room) {
  if (buffer_.empty()) buffer_.resize(chunker_.params().max_size + kSlack);
  if (buffer_.size() - end_ < (1 << 20) || end_ == buffer_.size()) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  *room = buffer_.size() - end_;
  return buffer_.data() + end_;
}

Status StreamChunker::Fill(size_t n) {
  end_ += n;
  return CutWhileFull(false);
}

Status StreamChunker::Finish() {
  VELIN_TRY(CutWhileFull(true));
  begin_ = end_ = failed_at_ = 0;
  return Ok();
}

Status StreamChunker::CutWhileFull(bool at_end) {
  const size_t max = chunker_.params().max_size;
  while (end_ > begin_) {
    const size_t avail = end_ - begin_;
    // A pipe feeds a few KiB at a time: scanning the pending chunk again after each piece
    // would cost more than the whole chunking. Retry only once a step more has arrived.
    if (!at_end && avail < max && avail < failed_at_ + kRescanStep) break;
    const auto* p = reinterpret_cast<const uint8_t*>(buffer_.data() + begin_);
    size_t cut = chunker_.Cut(p, avail);
    // A cut before the end of what is here is final (the scan is sequential from the chunk's
    // start), and so is one at the maximum; anything else may move with more bytes. Cutting
    // as soon as possible keeps the unconsumed tail, which compaction moves, short.
    if (!at_end && cut >= avail && avail < max) {
      failed_at_ = avail;
      break;
    }
    VELIN_TRY(emit_(std::string_view(buffer_.data() + begin_, cut)));
    begin_ += cut;
    failed_at_ = 0;
  }
  if (begin_ == end_) begin_ = end_ = 0;
  return Ok();
}

}  // namespace velin::repo
