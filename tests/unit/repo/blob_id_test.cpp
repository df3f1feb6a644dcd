// Content addresses: SHA-256 names in hex, parsed back strictly (object names come from the
// storage, which velin does not trust).
#include "velin/repo/blob_id.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <unordered_set>

namespace velin::repo {
namespace {

TEST(BlobIdTest, NamesDataByItsSha256) {
  // FIPS 180-2's test vector.
  EXPECT_EQ(Sha256("abc").Hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256("abc").Short(), "ba7816bf8f01");
  EXPECT_EQ(Sha256("").Hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_NE(Sha256("abc"), Sha256("abd"));
  EXPECT_TRUE(Sha256("abc") == Sha256(std::string("ab") + "c"));
}

TEST(BlobIdTest, ParsesWhatItPrintsInEitherCase) {
  const BlobId id = Sha256("round trip");
  auto back = ParseBlobId(id.Hex());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, id);
  std::string upper = id.Hex();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto from_upper = ParseBlobId(upper);
  ASSERT_TRUE(from_upper);
  EXPECT_EQ(*from_upper, id);
}

TEST(BlobIdTest, RefusesAnythingButSixtyFourHexDigits) {
  const std::string good = Sha256("x").Hex();
  for (const std::string& bad :
       {std::string(), good.substr(1), good + "0", good.substr(0, 63) + "g", "/" + good.substr(1),
        good.substr(0, 32) + " " + good.substr(33), good.substr(0, 10) + ":" + good.substr(11),
        good.substr(0, 5) + "G" + good.substr(6)}) {
    EXPECT_FALSE(ParseBlobId(bad)) << bad;
  }
}

TEST(BlobIdTest, HashesAndOrdersForContainers) {
  std::unordered_set<BlobId, BlobIdHash> set;
  for (int i = 0; i < 100; ++i) set.insert(Sha256(std::to_string(i)));
  set.insert(Sha256("7"));
  EXPECT_EQ(set.size(), 100u);
  BlobId zero;
  EXPECT_LT(zero, Sha256("a"));
  EXPECT_FALSE(Sha256("a") < zero);
}

}  // namespace
}  // namespace velin::repo
