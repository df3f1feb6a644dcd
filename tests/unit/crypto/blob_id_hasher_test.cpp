#include "velin/crypto/blob_id_hasher.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

namespace velin::crypto {
namespace {

std::string Hex(const Digest& d) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

Key256 KeyOf(char c) {
  Key256 key;
  for (size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<uint8_t>(c);
  return key;
}

TEST(BlobIdHasher, PlainIsSha256) {
  auto hasher = BlobIdHasher::Plain();
  ASSERT_TRUE(hasher);
  EXPECT_FALSE((*hasher)->keyed());
  auto abc = (*hasher)->Hash("abc");
  ASSERT_TRUE(abc);
  EXPECT_EQ(Hex(*abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto empty = (*hasher)->Hash("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(Hex(*empty), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(BlobIdHasher, KeyedIsHmacSha256) {
  // RFC 4231 test case 2: key "Jefe".
  Key256 key;  // HMAC pads short keys with zeros, so "Jefe" + 28 zero bytes is the same key.
  std::memcpy(key.data(), "Jefe", 4);
  auto hasher = BlobIdHasher::Keyed(key);
  ASSERT_TRUE(hasher);
  EXPECT_TRUE((*hasher)->keyed());
  auto mac = (*hasher)->Hash("what do ya want for nothing?");
  ASSERT_TRUE(mac);
  EXPECT_EQ(Hex(*mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(BlobIdHasher, KeyedIdsDifferFromPlainAndAreDeterministicPerKey) {
  auto plain = BlobIdHasher::Plain();
  auto keyed = BlobIdHasher::Keyed(KeyOf('a'));
  auto keyed_again = BlobIdHasher::Keyed(KeyOf('a'));
  auto other = BlobIdHasher::Keyed(KeyOf('b'));
  ASSERT_TRUE(plain && keyed && keyed_again && other);
  const std::string data(100000, 'z');
  auto p = (*plain)->Hash(data);
  auto k1 = (*keyed)->Hash(data);
  auto k2 = (*keyed)->Hash(data);  // the reused context
  auto k3 = (*keyed_again)->Hash(data);
  auto o = (*other)->Hash(data);
  ASSERT_TRUE(p && k1 && k2 && k3 && o);
  EXPECT_NE(*p, *k1);
  EXPECT_EQ(*k1, *k2);
  EXPECT_EQ(*k1, *k3);
  EXPECT_NE(*k1, *o);
  auto different = (*keyed)->Hash(data + "!");
  ASSERT_TRUE(different);
  EXPECT_NE(*different, *k1);
}

TEST(BlobIdHasher, HashesFromSeveralThreads) {
  auto hasher = BlobIdHasher::Keyed(KeyOf('k'));
  ASSERT_TRUE(hasher);
  auto expected = (*hasher)->Hash("payload");
  ASSERT_TRUE(expected);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        auto got = (*hasher)->Hash("payload");
        if (!got || *got != *expected) ++mismatches[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace velin::crypto
