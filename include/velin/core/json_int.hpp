// Integers read from JSON that velin did not necessarily write (lock files, a repository's
// objects, the release registry): nlohmann's get<int64_t>() of a floating-point value converts
// it with static_cast, undefined behaviour outside the type's range (the lock fuzzer's
// "time":1e102). JsonInt accepts only integer values that fit in T and otherwise throws
// nlohmann::json::type_error, as get<>() does for a value of the wrong type, so the callers'
// handlers apply unchanged.
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>

namespace velin {

template <typename T>
T JsonInt(const nlohmann::json& v) {
  static_assert(std::is_integral_v<T>);
  bool fits = false;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    fits = u <= static_cast<uint64_t>(std::numeric_limits<T>::max());
  } else if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    fits = i >= 0 ? static_cast<uint64_t>(i) <= static_cast<uint64_t>(std::numeric_limits<T>::max())
                  : std::is_signed_v<T> && i >= static_cast<int64_t>(std::numeric_limits<T>::min());
  }
  if (!fits) throw nlohmann::json::type_error::create(302, "not an integer that fits", nullptr);
  return v.is_number_unsigned() ? static_cast<T>(v.get<uint64_t>())
                                : static_cast<T>(v.get<int64_t>());
}

// j[key] as JsonInt when present, `fallback` when absent.
template <typename T>
T JsonIntOr(const nlohmann::json& j, const char* key, T fallback) {
  auto it = j.find(key);
  return it == j.end() ? fallback : JsonInt<T>(*it);
}

}  // namespace velin
