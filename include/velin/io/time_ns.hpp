// File times as velin records them: nanoseconds since the epoch in an int64_t (FileInfo's
// mtime_ns and ctime_ns, the tree format's mtime_ns: docs/repository-format.md), which holds
// 1677-09-21T00:12:43Z to 2262-04-11T23:47:16Z. A file system holds more (ext4 up to 2446,
// `touch -d 2500-01-01`); such a time is clamped to the nearest end, never wrapped around
// (a file of 2446 was recorded as 1861 and restored as 1901), and a backup warns of it.
#pragma once

#include <cstdint>
#include <limits>

namespace velin::io {

inline constexpr int64_t kMinTimeNs = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kMaxTimeNs = std::numeric_limits<int64_t>::max();

// `sec` seconds and `nsec` (0 to 999,999,999) nanoseconds since the epoch, clamped to
// [kMinTimeNs, kMaxTimeNs].
constexpr int64_t TimeNsFrom(int64_t sec, int64_t nsec) {
  // A second before the epoch and a positive part: as one second later and a negative part,
  // so the last representable second before the lower end is not clamped too early.
  if (sec < 0 && nsec > 0) {
    sec += 1;
    nsec -= 1'000'000'000;
  }
  int64_t ns = 0;
  if (__builtin_mul_overflow(sec, int64_t{1'000'000'000}, &ns)) {
    return sec < 0 ? kMinTimeNs : kMaxTimeNs;
  }
  if (__builtin_add_overflow(ns, nsec, &ns)) return nsec < 0 ? kMinTimeNs : kMaxTimeNs;
  return ns;
}

// Whether a time TimeNsFrom gave may have been clamped (it is one of the ends).
constexpr bool AtTimeLimit(int64_t ns) { return ns == kMinTimeNs || ns == kMaxTimeNs; }

}  // namespace velin::io
