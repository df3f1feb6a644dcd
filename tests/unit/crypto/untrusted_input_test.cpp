// The crypto module's parsers of bytes from storage (envelopes, key objects) get random and
// mutated input: they must refuse it with an error value, never crash or read out of bounds
// (run under ASan/UBSan in CI).
#include <gtest/gtest.h>

#include <random>

#include "velin/crypto/aead.hpp"
#include "velin/crypto/key_object.hpp"

namespace velin::crypto {
namespace {

std::string RandomBytes(std::mt19937& rng, size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(UntrustedInput, RandomEnvelopesAreRefused) {
  Key256 key;
  auto sealer = Sealer::Create(Cipher::kAes256Gcm, key);
  ASSERT_TRUE(sealer);
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = RandomBytes(rng, 200);
    if (i % 2 == 0 && bytes.size() >= 2) {  // a plausible header, so the AEAD path runs too
      bytes[0] = static_cast<char>(kEnvelopeVersion);
      bytes[1] = static_cast<char>(Cipher::kAes256Gcm);
    }
    auto opened = (*sealer)->Open(bytes, "ad");
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, ExitCode::kDamage);
  }
}

TEST(UntrustedInput, MutatedKeyObjectsAreRefusedWithOneMessage) {
  MasterKey master;
  KeyOrigin origin{.hostname = "h", .username = "u", .created = "2026-11-25T00:00:00Z"};
  auto key = WrapMasterKey(master, "pass", origin, {.n = 1024, .r = 1, .p = 1});
  ASSERT_TRUE(key) << key.error().message;
  const std::string json = SerializeKeyObject(*key);
  const std::string name = KeyObjectName(key->id);
  ASSERT_TRUE(ParseKeyObject(json, name));
  std::mt19937 rng(11);
  for (int i = 0; i < 3000; ++i) {
    std::string bad = json;
    switch (i % 3) {
      case 0:
        bad = RandomBytes(rng, 300);
        break;
      case 1:
        bad.resize(rng() % bad.size());
        break;
      default:
        bad[rng() % bad.size()] = static_cast<char>(rng());
        break;
    }
    auto parsed = ParseKeyObject(bad, name);
    if (parsed) continue;  // a mutation that keeps it valid JSON; unwrapping is tested elsewhere
    EXPECT_EQ(parsed.error().code, ExitCode::kDamage);
    EXPECT_EQ(parsed.error().message.rfind("key object " + name + " is damaged: ", 0), 0u)
        << parsed.error().message;
  }
}

TEST(UntrustedInput, HostileScryptParametersAreRefusedBeforeDeriving) {
  MasterKey master;
  auto key = WrapMasterKey(master, "pass", {}, {.n = 1024, .r = 1, .p = 1});
  ASSERT_TRUE(key);
  std::string json = SerializeKeyObject(*key);
  json.replace(json.find("\"n\":1024"), 8, "\"n\":1073741824");
  auto parsed = ParseKeyObject(json, KeyObjectName(key->id));
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("scrypt N=1073741824"), std::string::npos)
      << parsed.error().message;
}

}  // namespace
}  // namespace velin::crypto
