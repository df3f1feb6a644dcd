// The chunker cuts by content: sizes stay within bounds and a shifted copy shares chunks.
#include "velin/repo/chunker.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <set>

#include "velin/repo/blob_id.hpp"

namespace velin::repo {
namespace {

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(s.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return s;
}

std::vector<std::string> ChunkAll(const Chunker& chunker, std::string_view data, size_t piece) {
  std::vector<std::string> chunks;
  StreamChunker sc(chunker, [&](std::string_view c) {
    chunks.emplace_back(c);
    return Ok();
  });
  for (size_t i = 0; i < data.size(); i += piece) {
    EXPECT_TRUE(sc.Feed(data.substr(i, piece)));
  }
  EXPECT_TRUE(sc.Finish());
  return chunks;
}

TEST(ChunkerTest, SizesWithinBoundsAndReassemble) {
  Chunker chunker{ChunkerParams{}};
  std::string data = RandomBytes(40 << 20, 1);
  auto chunks = ChunkAll(chunker, data, 3 << 20);
  std::string joined;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (i + 1 < chunks.size()) {
      EXPECT_GE(chunks[i].size(), 512u * 1024);
    }
    EXPECT_LE(chunks[i].size(), 8u << 20);
    joined += chunks[i];
  }
  EXPECT_EQ(joined, data);
  EXPECT_GT(chunks.size(), 20u);  // average near 1 MiB
  EXPECT_LT(chunks.size(), 60u);
}

TEST(ChunkerTest, SameCutsWhateverThePieceSize) {
  Chunker chunker{ChunkerParams{}};
  std::string data = RandomBytes(12 << 20, 2);
  EXPECT_EQ(ChunkAll(chunker, data, 1 << 20), ChunkAll(chunker, data, 12345));
}

TEST(ChunkerTest, ShiftedDataSharesMostChunks) {
  Chunker chunker{ChunkerParams{}};
  std::string data = RandomBytes(20 << 20, 3);
  std::string shifted = "0123456789abc" + data;
  std::set<std::string> a;
  for (auto& c : ChunkAll(chunker, data, 1 << 20)) a.insert(Sha256(c).Hex());
  size_t shared = 0;
  auto b = ChunkAll(chunker, shifted, 1 << 20);
  for (auto& c : b) shared += a.count(Sha256(c).Hex());
  EXPECT_GE(shared + 2, b.size());
}

TEST(ChunkerTest, SmallInputIsOneChunk) {
  Chunker chunker{ChunkerParams{}};
  auto chunks = ChunkAll(chunker, "hello", 100);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0], "hello");
  EXPECT_TRUE(ChunkAll(chunker, "", 100).empty());
}

}  // namespace
}  // namespace velin::repo
