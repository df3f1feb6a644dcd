// AES-256-GCM as the Sealer runs it (velin's own 512-bit code on a CPU with VAES and AVX-512,
// src/crypto/aes_gcm_wide.hpp) against OpenSSL's EVP: every length from 0 to a few blocks past
// the 16-block step and around several steps, associated data of many lengths (the envelope's
// header and the object's name are one string to GCM), in both directions, in place.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstring>
#include <string>
#include <vector>

#include "aead_test_data.hpp"
#include "velin/crypto/aead.hpp"

namespace velin::crypto {
namespace {

using test_data::RandomText;
using test_data::TestKey;

// OpenSSL's AES-256-GCM of `text`: encrypt or decrypt, the tag written (encrypt) or checked.
bool Evp(bool encrypt, const Key256& key, const unsigned char* nonce, const std::string& aad,
         const std::string& in, std::string& out, unsigned char* tag) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  out.assign(in.size(), '\0');
  int len = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  const auto* i = reinterpret_cast<const unsigned char*>(in.data());
  const auto* a = reinterpret_cast<const unsigned char*>(aad.data());
  const int n = static_cast<int>(in.size());
  bool ok;
  if (encrypt) {
    ok = EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), key.data(), nonce, nullptr) == 1 &&
         EVP_EncryptUpdate(ctx, nullptr, &len, a, static_cast<int>(aad.size())) == 1 &&
         EVP_EncryptUpdate(ctx, o, &len, i, n) == 1 && EVP_EncryptFinal_ex(ctx, o, &len) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag) == 1;
  } else {
    ok = EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), key.data(), nonce, nullptr) == 1 &&
         EVP_DecryptUpdate(ctx, nullptr, &len, a, static_cast<int>(aad.size())) == 1 &&
         EVP_DecryptUpdate(ctx, o, &len, i, n) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, tag) == 1 &&
         EVP_DecryptFinal_ex(ctx, o, &len) == 1;
  }
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

std::vector<size_t> Lengths() {
  std::vector<size_t> out;
  for (size_t n = 0; n <= 300; ++n) out.push_back(n);  // every tail, one step and a bit
  for (size_t steps : {2, 3, 7, 64, 4096}) {
    for (int d = -17; d <= 17; ++d)
      out.push_back(static_cast<size_t>(static_cast<long>(steps * 256) + d));
  }
  return out;
}

TEST(WideAesGcm, SealsAsOpenSslDoesAndOpensWhatOpenSslSealed) {
  if (!Sealer::UsesWideAesGcm()) {
    std::printf("this CPU runs OpenSSL's AES-GCM; the comparison checks that path\n");
  }
  uint32_t seed = 1;
  for (size_t n : Lengths()) {
    const Key256 key = TestKey(static_cast<uint8_t>(seed));
    auto sealer = Sealer::Create(Cipher::kAes256Gcm, key);
    ASSERT_TRUE(sealer) << sealer.error().message;
    const std::string name(n % 41, static_cast<char>('a' + n % 26));  // 0-40 bytes
    const std::string plain = RandomText(n, ++seed);
    // velin seals, OpenSSL opens (the header's two bytes then the name are GCM's AAD).
    std::string envelope;
    ASSERT_TRUE((*sealer)->Seal(plain, name, envelope));
    ASSERT_EQ(envelope.size(), n + kEnvelopeOverhead);
    const auto* env = reinterpret_cast<const unsigned char*>(envelope.data());
    unsigned char tag[16];
    std::memcpy(tag, env + envelope.size() - 16, 16);
    std::string opened;
    ASSERT_TRUE(Evp(false, key, env + 2, envelope.substr(0, 2) + name,
                    envelope.substr(kEnvelopeHeaderSize, n), opened, tag))
        << "OpenSSL refuses velin's envelope of " << n << " bytes";
    ASSERT_EQ(opened, plain) << n;
    // OpenSSL seals (the same nonce), velin opens, in place too; the same bytes both ways.
    std::string sealed;
    unsigned char evp_tag[16];
    ASSERT_TRUE(Evp(true, key, env + 2, envelope.substr(0, 2) + name, plain, sealed, evp_tag));
    ASSERT_EQ(sealed, envelope.substr(kEnvelopeHeaderSize, n)) << n;
    ASSERT_EQ(std::memcmp(evp_tag, tag, 16), 0) << n;
    std::string back;
    ASSERT_TRUE((*sealer)->Open(envelope, name, back)) << n;
    ASSERT_EQ(back, plain);
    std::string in_place = envelope;
    ASSERT_TRUE((*sealer)->OpenTo(in_place, name, in_place.data() + kEnvelopeHeaderSize)) << n;
    ASSERT_EQ(in_place.substr(kEnvelopeHeaderSize, n), plain);
    // Any flipped bit of the body, the tag or the name is refused (a few positions each).
    for (size_t pos : {size_t{0}, n / 2, n == 0 ? size_t{0} : n - 1}) {
      if (n == 0) break;
      std::string bad = envelope;
      bad[kEnvelopeHeaderSize + pos] ^= 0x01;
      ASSERT_FALSE((*sealer)->Open(bad, name, back)) << n << " at " << pos;
    }
    std::string bad_tag = envelope;
    bad_tag.back() ^= static_cast<char>(0x80);
    ASSERT_FALSE((*sealer)->Open(bad_tag, name, back)) << n;
    ASSERT_FALSE((*sealer)->Open(envelope, name + "x", back)) << n;
  }
}

// A name of more than one block and the header before it: GHASH's associated data crosses
// block boundaries at every offset.
TEST(WideAesGcm, LongAssociatedDataOfEveryLength) {
  const Key256 key = TestKey(99);
  auto sealer = Sealer::Create(Cipher::kAes256Gcm, key);
  ASSERT_TRUE(sealer);
  const std::string plain = RandomText(1000, 5);
  for (size_t a = 0; a <= 70; ++a) {
    const std::string name = RandomText(a, static_cast<uint32_t>(a + 1000));
    std::string envelope;
    ASSERT_TRUE((*sealer)->Seal(plain, name, envelope));
    const auto* env = reinterpret_cast<const unsigned char*>(envelope.data());
    unsigned char tag[16];
    std::memcpy(tag, env + envelope.size() - 16, 16);
    std::string opened;
    ASSERT_TRUE(Evp(false, key, env + 2, envelope.substr(0, 2) + name,
                    envelope.substr(kEnvelopeHeaderSize, plain.size()), opened, tag))
        << a;
    ASSERT_EQ(opened, plain);
  }
}

}  // namespace
}  // namespace velin::crypto
