#include "velin/repo/delta.hpp"

#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "velin/core/i18n.hpp"
#include "velin/repo/codec.hpp"

namespace velin::repo {

namespace {

constexpr uint8_t kMethodPrefix = 1;
constexpr uint8_t kMethodScript = 2;

constexpr size_t kWindow = 32;      // bytes hashed to find where the target resumes in the base
constexpr size_t kStride = 8;       // base positions indexed: every 8th
constexpr size_t kMinResume = 256;  // a resumption must match this long (or to the end)
constexpr int kMaxCandidates = 16;  // base positions tried per window

uint64_t WindowHash(const char* p) {
  uint64_t a, b, c, d;
  std::memcpy(&a, p, 8);
  std::memcpy(&b, p + 8, 8);
  std::memcpy(&c, p + 16, 8);
  std::memcpy(&d, p + 24, 8);
  uint64_t h = a * 0x9E3779B97F4A7C15ULL;
  h = (h ^ (h >> 29)) + b * 0xC2B2AE3D27D4EB4FULL;
  h = (h ^ (h >> 32)) + c * 0x165667B19E3779F9ULL;
  h = (h ^ (h >> 29)) + d * 0x85EBCA77C2B2AE63ULL;
  return h ^ (h >> 31);
}

// How many bytes a[0..) and b[0..) have in common, up to `max`.
size_t MatchLength(const char* a, const char* b, size_t max) {
  size_t n = 0;
  while (n + 8 <= max) {
    uint64_t x, y;
    std::memcpy(&x, a + n, 8);
    std::memcpy(&y, b + n, 8);
    if (x != y) return n + (static_cast<size_t>(__builtin_ctzll(x ^ y)) >> 3);
    n += 8;
  }
  while (n < max && a[n] == b[n]) ++n;
  return n;
}

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view in, size_t& pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && pos < in.size(); shift += 7) {
    uint8_t byte = static_cast<uint8_t>(in[pos++]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// The base's 32-byte windows at every 8th position, by hash, chained: an index of where any run
// of 39 or more bytes can be found in it.
class BaseIndex {
 public:
  explicit BaseIndex(std::string_view base) : base_(base) {
    size_t n = base.size() >= kWindow ? (base.size() - kWindow) / kStride + 1 : 0;
    bits_ = 10;
    while (bits_ < 24 && (size_t{1} << bits_) < 2 * n) ++bits_;
    thread_local std::vector<uint32_t> head, prev;  // reused: no page faults per chunk
    head.assign(size_t{1} << bits_, UINT32_MAX);
    prev.resize(n);
    for (size_t k = 0; k < n; ++k) {
      uint64_t slot = WindowHash(base.data() + k * kStride) >> (64 - bits_);
      prev[k] = head[slot];
      head[slot] = static_cast<uint32_t>(k);
    }
    head_ = &head;
    prev_ = &prev;
  }

  // The base position where `window` (32 bytes of the target at `at`) starts the longest run
  // in common, when that run is at least kMinResume long or reaches the end of the target.
  bool Find(std::string_view target, size_t at, size_t* pos, size_t* len) const {
    uint64_t slot = WindowHash(target.data() + at) >> (64 - bits_);
    uint32_t k = (*head_)[slot];
    size_t best_len = 0;
    size_t best_pos = 0;
    for (int tries = 0; k != UINT32_MAX && tries < kMaxCandidates; ++tries, k = (*prev_)[k]) {
      size_t p = static_cast<size_t>(k) * kStride;
      size_t max = std::min(target.size() - at, base_.size() - p);
      size_t l = MatchLength(target.data() + at, base_.data() + p, max);
      if (l > best_len) {
        best_len = l;
        best_pos = p;
      }
    }
    if (best_len < kMinResume && at + best_len != target.size()) return false;
    *pos = best_pos;
    *len = best_len;
    return true;
  }

 private:
  std::string_view base_;
  int bits_ = 10;
  const std::vector<uint32_t>* head_ = nullptr;
  const std::vector<uint32_t>* prev_ = nullptr;
};

}  // namespace

bool EditScript(std::string_view target, std::string_view base, size_t max_literals,
                std::string& script) {
  std::string ops;
  thread_local std::string literals;
  literals.clear();
  BaseIndex index(base);
  size_t i = 0;          // next target byte
  size_t j = 0;          // the base position after the last copy
  size_t lit_start = 0;  // where the literals since the last copy began
  // One record: the literals target[lit_start, at), a jump in the base to `from`, a copy of
  // `len` bytes from there.
  auto emit = [&](size_t at, size_t from, size_t len) {
    literals.append(target.substr(lit_start, at - lit_start));
    PutVarint(ops, at - lit_start);
    int64_t jump = static_cast<int64_t>(from) - static_cast<int64_t>(j);
    PutVarint(ops, (static_cast<uint64_t>(jump) << 1) ^ static_cast<uint64_t>(jump >> 63));
    PutVarint(ops, len);
    i = at + len;
    j = from + len;
    lit_start = i;
  };
  while (i < target.size()) {
    // Most often the target goes on where the base does.
    if (j < base.size()) {
      size_t m = MatchLength(target.data() + i, base.data() + j,
                             std::min(target.size() - i, base.size() - j));
      if (m >= kWindow || i + m == target.size()) {
        emit(i, j, m);
        continue;
      }
    }
    // Otherwise find where it resumes: the first window ahead that starts a long run in the base.
    bool found = false;
    for (size_t s = i; s + kWindow <= target.size(); ++s) {
      if (literals.size() + (s - lit_start) > max_literals) return false;
      size_t p = 0;
      size_t len = 0;
      if (!index.Find(target, s, &p, &len)) continue;
      while (s > lit_start && p > 0 && target[s - 1] == base[p - 1]) {  // back to where it starts
        --s;
        --p;
        ++len;
      }
      emit(s, p, len);
      found = true;
      break;
    }
    if (!found) break;  // the rest is new
  }
  if (lit_start < target.size()) {
    if (literals.size() + (target.size() - lit_start) > max_literals) return false;
    emit(target.size(), j, 0);
  }
  script.clear();
  PutVarint(script, ops.size());
  script += ops;
  script += literals;
  return true;
}

Status ApplyEditScript(std::string_view script, std::string_view base, uint64_t raw_length,
                       std::string& out) {
  size_t pos = 0;
  uint64_t ops_size = 0;
  if (!GetVarint(script, pos, ops_size) || ops_size > script.size() - pos) {
    return DamageError(std::string(Tr("delta edit script is truncated")));
  }
  std::string_view ops = script.substr(pos, ops_size);
  std::string_view literals = script.substr(pos + ops_size);
  out.clear();
  out.reserve(raw_length);
  size_t op = 0;
  size_t lit = 0;
  uint64_t j = 0;
  while (op < ops.size()) {
    uint64_t lit_len = 0, zigzag = 0, copy = 0;
    if (!GetVarint(ops, op, lit_len) || !GetVarint(ops, op, zigzag) || !GetVarint(ops, op, copy)) {
      return DamageError(std::string(Tr("delta edit script is truncated")));
    }
    int64_t jump = static_cast<int64_t>(zigzag >> 1) ^ -static_cast<int64_t>(zigzag & 1);
    if (lit_len > literals.size() - lit || lit_len > raw_length || copy > raw_length ||
        out.size() + lit_len + copy > raw_length) {
      return DamageError(std::string(Tr("delta edit script runs past its data")));
    }
    out.append(literals.substr(lit, lit_len));
    lit += lit_len;
    int64_t from = static_cast<int64_t>(j) + jump;
    if (from < 0 || static_cast<uint64_t>(from) > base.size() || copy > base.size() - from) {
      return DamageError(std::string(Tr("delta edit script reads outside its base")));
    }
    out.append(base.substr(static_cast<size_t>(from), copy));
    j = static_cast<uint64_t>(from) + copy;
  }
  if (lit != literals.size() || out.size() != raw_length) {
    return DamageError(std::string(Tr("delta edit script does not come to the blob's length")));
  }
  return Ok();
}

bool EncodeDelta(int level, std::string_view target, std::string_view base, size_t limit,
                 std::string& out) {
  // The edit script first: cheap, and for spread edits of a dump by far the smallest. When it
  // gives up (an eighth of the target new, no run of 256 bytes in common), the data has little
  // to do with its base and zstd-with-prefix is not tried either: a file rewritten whole
  // should cost little more than without deltas.
  thread_local std::string script;
  if (!EditScript(target, base, target.size() / 8, script)) return false;
  bool scripted = false;
  out.resize(1 + CompressBound(Codec::kZstd, script.size()));
  out[0] = static_cast<char>(kMethodScript);
  size_t written = 0;
  if (CompressTo(Codec::kZstd, level, script, out.data() + 1, out.size() - 1, &written) ==
      Codec::kZstd) {
    out.resize(1 + written);
    scripted = out.size() <= limit;
    if (out.size() * 8 <= limit) return true;  // small enough: not worth a second try
  }
  thread_local std::string prefixed;
  prefixed.resize(1 + CompressBound(Codec::kZstd, target.size()));
  prefixed[0] = static_cast<char>(kMethodPrefix);
  size_t n = 0;
  if (CompressDeltaTo(level, target, base, prefixed.data() + 1, prefixed.size() - 1, &n) &&
      1 + n <= limit && (!scripted || 1 + n < out.size())) {
    prefixed.resize(1 + n);
    out.swap(prefixed);
    return true;
  }
  return scripted;
}

Status DecodeDelta(std::string_view delta, std::string_view base, uint64_t raw_length,
                   std::string& out) {
  if (delta.empty()) return DamageError(std::string(Tr("delta is empty")));
  std::string_view payload = delta.substr(1);
  switch (static_cast<uint8_t>(delta[0])) {
    case kMethodPrefix:
      return DecompressDeltaInto(payload, base, raw_length, out);
    case kMethodScript: {
      unsigned long long size = ZSTD_getFrameContentSize(payload.data(), payload.size());
      // A script is at most the literals (< raw_length) plus a few bytes per record.
      if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
          size > 4 * raw_length + 64) {
        return DamageError(std::string(Tr("delta edit script has no valid zstd frame")));
      }
      thread_local std::string script;
      VELIN_TRY(DecompressInto(Codec::kZstd, payload, size, script));
      return ApplyEditScript(script, base, raw_length, out);
    }
    default:
      return DamageError(
          TrFormat("delta has unknown method {}",
                   std::to_string(static_cast<int>(static_cast<uint8_t>(delta[0])))));
  }
}

}  // namespace velin::repo
