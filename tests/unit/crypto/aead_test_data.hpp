// Keys and bytes made from a seed, for the AEAD tests (aead_test.cpp, aes_gcm_wide_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

#include "velin/crypto/secret.hpp"

namespace velin::crypto::test_data {

inline Key256 TestKey(uint8_t seed) {
  Key256 key;
  for (size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<uint8_t>(seed + i * 7);
  return key;
}

inline std::string RandomText(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace velin::crypto::test_data
