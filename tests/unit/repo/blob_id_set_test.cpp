#include "velin/repo/blob_id_set.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <unordered_set>

namespace velin::repo {
namespace {

BlobId RandomId(std::mt19937_64& rng) {
  BlobId id;
  for (size_t i = 0; i < id.bytes.size(); i += 8) {
    uint64_t x = rng();
    std::memcpy(id.bytes.data() + i, &x, 8);
  }
  return id;
}

TEST(BlobIdSet, AgreesWithAnUnorderedSetOnRandomAndNearlyEqualIds) {
  std::mt19937_64 rng(7);
  BlobIdSet set;
  std::unordered_set<BlobId, BlobIdHash> want;
  EXPECT_FALSE(set.Contains(RandomId(rng)));  // empty: nothing allocated, nothing found
  std::vector<BlobId> ids;
  for (int i = 0; i < 200000; ++i) ids.push_back(RandomId(rng));
  // Ids that differ from another only in the last byte, or only in the first two (another
  // bucket, the same suffix), or only after the first 8 bytes of the suffix.
  for (int i = 0; i < 1000; ++i) {
    BlobId a = ids[i], b = ids[i], c = ids[i];
    a.bytes[31] ^= 1;
    b.bytes[0] ^= 0x80;
    c.bytes[20] ^= 0x10;
    ids.push_back(a);
    ids.push_back(b);
    ids.push_back(c);
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i % 3 == 0) continue;  // a third are never inserted
    EXPECT_EQ(set.Insert(ids[i]), want.insert(ids[i]).second);
    if (i % 5 == 0) {
      EXPECT_FALSE(set.Insert(ids[i]));  // again
    }
  }
  EXPECT_EQ(set.size(), want.size());
  for (const BlobId& id : ids) ASSERT_EQ(set.Contains(id), want.count(id) == 1);
  BlobId zero;
  EXPECT_FALSE(set.Contains(zero));
  EXPECT_TRUE(set.Insert(zero));
  EXPECT_TRUE(set.Contains(zero));
}

TEST(BlobIdSet, ManyIdsInOneBucketGrowAndStayFindable) {
  BlobIdSet set;
  std::vector<BlobId> ids;
  for (int i = 0; i < 5000; ++i) {
    BlobId id;  // all in bucket 0x0000
    id.bytes[2] = static_cast<uint8_t>(i);
    id.bytes[3] = static_cast<uint8_t>(i >> 8);
    ids.push_back(id);
    ASSERT_TRUE(set.Insert(id));
  }
  for (const BlobId& id : ids) EXPECT_TRUE(set.Contains(id));
  BlobId absent = ids.back();
  absent.bytes[31] = 1;
  EXPECT_FALSE(set.Contains(absent));
  EXPECT_EQ(set.size(), 5000u);
}

}  // namespace
}  // namespace velin::repo
