#include "velin/crypto/aead.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "aead_test_data.hpp"

namespace velin::crypto {
namespace {

using test_data::RandomText;
using test_data::TestKey;

class AeadTest : public ::testing::TestWithParam<Cipher> {
 protected:
  std::unique_ptr<Sealer> NewSealer(uint8_t seed = 1) {
    auto sealer = Sealer::Create(GetParam(), TestKey(seed));
    EXPECT_TRUE(sealer) << sealer.error().message;
    return std::move(*sealer);
  }
};

TEST_P(AeadTest, RoundTripsEmptySmallAndLargeObjects) {
  auto sealer = NewSealer();
  for (size_t size : {size_t{0}, size_t{1}, size_t{15}, size_t{4096}, size_t{3} << 20}) {
    std::string plain = RandomText(size, static_cast<uint32_t>(size));
    std::string ad = AssociatedData("blob", "id" + std::to_string(size));
    auto sealed = sealer->Seal(plain, ad);
    ASSERT_TRUE(sealed) << sealed.error().message;
    EXPECT_EQ(sealed->size(), plain.size() + kEnvelopeOverhead);
    EXPECT_EQ(static_cast<uint8_t>((*sealed)[0]), kEnvelopeVersion);
    EXPECT_EQ(static_cast<uint8_t>((*sealed)[1]), static_cast<uint8_t>(GetParam()));
    auto opened = sealer->Open(*sealed, ad);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(*opened, plain);
  }
}

TEST_P(AeadTest, AppendsToExistingOutputAndHidesPlaintext) {
  auto sealer = NewSealer();
  std::string out = "prefix";
  std::string plain(1000, 'M');
  ASSERT_TRUE(sealer->Seal(plain, "ad", out));
  EXPECT_EQ(out.substr(0, 6), "prefix");
  EXPECT_EQ(out.find("MMMMMMMM"), std::string::npos);
  auto opened = sealer->Open(std::string_view(out).substr(6), "ad");
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, plain);
}

TEST_P(AeadTest, OpensInPlaceOrIntoAnotherBufferAndWipesTheBodyOfAForgery) {
  auto sealer = NewSealer();
  for (size_t size : {size_t{0}, size_t{1}, size_t{100}, size_t{5} << 20}) {
    const std::string plain = RandomText(size, static_cast<uint32_t>(size) + 1);
    auto sealed = sealer->Seal(plain, "ad");
    ASSERT_TRUE(sealed);
    std::string other(size, '\0');
    ASSERT_TRUE(sealer->OpenTo(*sealed, "ad", other.data()));
    EXPECT_EQ(other, plain);
    std::string in_place = *sealed;
    ASSERT_TRUE(sealer->OpenTo(in_place, "ad", in_place.data() + kEnvelopeHeaderSize));
    EXPECT_EQ(in_place.substr(kEnvelopeHeaderSize, size), plain);
  }
  // A forgery opened in place: its body is zeros afterwards, never unauthenticated plaintext.
  const std::string plain(4096, 'P');
  auto sealed = sealer->Seal(plain, "ad");
  ASSERT_TRUE(sealed);
  std::string bad = *sealed;
  bad.back() = static_cast<char>(bad.back() ^ 1);  // the tag
  Status st = sealer->OpenTo(bad, "ad", bad.data() + kEnvelopeHeaderSize);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ExitCode::kDamage);
  EXPECT_EQ(bad.substr(kEnvelopeHeaderSize, plain.size()), std::string(plain.size(), '\0'));
  std::string too_short = sealed->substr(0, kEnvelopeOverhead - 1);
  EXPECT_FALSE(sealer->OpenTo(too_short, "ad", nullptr));
}

TEST_P(AeadTest, UsesAFreshNonceForEverySeal) {
  auto sealer = NewSealer();
  auto a = sealer->Seal("same plaintext", "ad");
  auto b = sealer->Seal("same plaintext", "ad");
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->substr(2, kNonceSize), b->substr(2, kNonceSize));
  EXPECT_NE(*a, *b);
}

TEST_P(AeadTest, EveryFlippedByteIsDetected) {
  auto sealer = NewSealer();
  std::string plain = RandomText(300, 9);
  auto sealed = sealer->Seal(plain, "ad");
  ASSERT_TRUE(sealed);
  for (size_t i = 0; i < sealed->size(); ++i) {
    std::string bad = *sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto opened = sealer->Open(bad, "ad");
    ASSERT_FALSE(opened) << "flipped byte " << i << " was accepted";
    EXPECT_EQ(opened.error().code, ExitCode::kDamage);
  }
}

TEST_P(AeadTest, FlippedBytesOfALargeObjectAreDetected) {
  auto sealer = NewSealer();
  auto sealed = sealer->Seal(RandomText(1 << 20, 3), "ad");
  ASSERT_TRUE(sealed);
  std::mt19937 rng(42);
  for (int i = 0; i < 64; ++i) {
    size_t pos = rng() % sealed->size();
    std::string bad = *sealed;
    bad[pos] = static_cast<char>(bad[pos] ^ (1 << (i % 8)));
    EXPECT_FALSE(sealer->Open(bad, "ad")) << "flipped byte " << pos;
  }
}

TEST_P(AeadTest, TruncatedOrExtendedObjectsAreDetected) {
  auto sealer = NewSealer();
  auto sealed = sealer->Seal(RandomText(200, 5), "ad");
  ASSERT_TRUE(sealed);
  for (size_t len = 0; len < sealed->size(); ++len) {
    auto opened = sealer->Open(sealed->substr(0, len), "ad");
    ASSERT_FALSE(opened) << "truncated to " << len;
    EXPECT_EQ(opened.error().code, ExitCode::kDamage);
  }
  EXPECT_FALSE(sealer->Open(*sealed + "x", "ad"));
}

TEST_P(AeadTest, AnObjectSwappedForAnotherIsDetected) {
  auto sealer = NewSealer();
  std::string ad_a = AssociatedData("blob", "aaaa");
  std::string ad_b = AssociatedData("blob", "bbbb");
  auto a = sealer->Seal("content of a", ad_a);
  ASSERT_TRUE(a);
  EXPECT_FALSE(sealer->Open(*a, ad_b));
  EXPECT_FALSE(sealer->Open(*a, AssociatedData("tree", "aaaa")));
  EXPECT_TRUE(sealer->Open(*a, ad_a));
}

TEST_P(AeadTest, AnotherKeyCannotOpen) {
  auto mine = NewSealer(1);
  auto theirs = NewSealer(2);
  auto sealed = mine->Seal("secret", "ad");
  ASSERT_TRUE(sealed);
  EXPECT_FALSE(theirs->Open(*sealed, "ad"));
}

TEST_P(AeadTest, SealsAndOpensFromSeveralThreads) {
  auto sealer = NewSealer();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string plain = RandomText(100 + i, static_cast<uint32_t>(t * 1000 + i));
        std::string ad = AssociatedData("blob", std::to_string(t) + "/" + std::to_string(i));
        auto sealed = sealer->Seal(plain, ad);
        auto opened = sealed ? sealer->Open(*sealed, ad) : Result<std::string>(Failure("seal"));
        if (!opened || *opened != plain) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

INSTANTIATE_TEST_SUITE_P(Ciphers, AeadTest,
                         ::testing::Values(Cipher::kAes256Gcm, Cipher::kChaCha20Poly1305),
                         [](const auto& info) {
                           return info.param == Cipher::kAes256Gcm ? "Aes256Gcm"
                                                                   : "ChaCha20Poly1305";
                         });

TEST(Aead, AnEnvelopeOfTheOtherCipherIsRefused) {
  auto aes = Sealer::Create(Cipher::kAes256Gcm, TestKey(1));
  auto chacha = Sealer::Create(Cipher::kChaCha20Poly1305, TestKey(1));
  ASSERT_TRUE(aes && chacha);
  auto sealed = (*aes)->Seal("x", "ad");
  ASSERT_TRUE(sealed);
  auto opened = (*chacha)->Open(*sealed, "ad");
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("aes"), std::string::npos) << opened.error().message;
}

TEST(Aead, ParsesCipherNames) {
  EXPECT_EQ(*ParseCipher("aes-256-gcm"), Cipher::kAes256Gcm);
  EXPECT_EQ(*ParseCipher("chacha20-poly1305"), Cipher::kChaCha20Poly1305);
  EXPECT_EQ(*ParseCipher("none"), Cipher::kNone);
  auto bad = ParseCipher("aes-128-cbc");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ExitCode::kUsage);
  EXPECT_EQ(CipherName(Cipher::kChaCha20Poly1305), "chacha20-poly1305");
  EXPECT_FALSE(Sealer::Create(Cipher::kNone, TestKey(1)));
}

TEST(Aead, AssociatedDataIsUnambiguous) {
  EXPECT_NE(AssociatedData("a", "b:c"), AssociatedData("a:b", "c"));
  EXPECT_NE(AssociatedData("blob", "x"), AssociatedData("tree", "x"));
}

}  // namespace
}  // namespace velin::crypto
