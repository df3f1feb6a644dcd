// Delta encoding (delta.hpp): every edit pattern round-trips exactly, spread edits of a dump
// cost a few bytes each, unrelated data is refused rather than bloated, and damaged deltas or
// scripts are errors — never reads outside the base.
#include "velin/repo/delta.hpp"

#include <gtest/gtest.h>

#include <random>

#include "velin/repo/codec.hpp"

namespace velin::repo {
namespace {

// Rows like a database dump's; every `every`-th changed in place, dropped, or moved to the end.
enum class Edit { kNone, kInPlace, kDrop, kMoveToEnd, kInsertRow };
std::string Rows(int count, int every, Edit edit) {
  std::string out, moved;
  for (int i = 1; i <= count; ++i) {
    bool hit = edit != Edit::kNone && i % every == 0;
    std::string row = std::to_string(i) + "\t" + std::to_string(i % 7) + "\t" +
                      (hit && edit != Edit::kInsertRow ? "-1234" : "0") + "\tname " +
                      std::to_string(i * 7919 % 10007) + std::string(10 + i % 5, ' ') + "\n";
    if (hit && edit == Edit::kDrop) continue;
    if (hit && edit == Edit::kMoveToEnd) {
      moved += row;
      continue;
    }
    out += row;
    if (hit && edit == Edit::kInsertRow) out += "new row " + std::to_string(i) + "\n";
  }
  return out + moved;
}

std::string Random(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// The edit script always round-trips; EncodeDelta either refuses or round-trips within `limit`.
void ExpectRoundTrip(const std::string& target, const std::string& base, size_t limit,
                     size_t* size = nullptr) {
  std::string script;
  ASSERT_TRUE(EditScript(target, base, SIZE_MAX, script));
  std::string back;
  ASSERT_TRUE(ApplyEditScript(script, base, target.size(), back));
  EXPECT_TRUE(back == target);
  std::string delta;
  bool encoded = EncodeDelta(3, target, base, limit, delta);
  if (size) {
    ASSERT_TRUE(encoded);
    *size = delta.size();
  }
  if (!encoded) return;
  EXPECT_LE(delta.size(), limit);
  back.clear();
  ASSERT_TRUE(DecodeDelta(delta, base, target.size(), back));
  EXPECT_TRUE(back == target);
}

TEST(DeltaTest, SpreadEditsOfADumpCostAFewBytesEach) {
  const std::string base = Rows(40000, 0, Edit::kNone);
  std::string full;
  ASSERT_EQ(CompressInto(Codec::kZstd, 3, base, full), Codec::kZstd);
  for (Edit edit : {Edit::kInPlace, Edit::kDrop, Edit::kMoveToEnd, Edit::kInsertRow}) {
    const std::string target = Rows(40000, 100, edit);
    size_t size = 0;
    ExpectRoundTrip(target, base, full.size() / 2, &size);
    // 400 edits; the whole target compresses to ~100 KB.
    EXPECT_LT(size, full.size() / 10) << "edit " << static_cast<int>(edit) << ": " << size;
  }
}

TEST(DeltaTest, EveryShapeRoundTrips) {
  const std::string rows = Rows(3000, 0, Edit::kNone);
  const std::string random = Random(200000, 1);
  std::string shuffled = random.substr(100000) + random.substr(0, 100000);  // halves swapped
  std::string doubled = random.substr(0, 50000) + random.substr(0, 50000);  // a run repeated
  std::string zeros(300000, '\0');
  std::string zeros_edited = zeros;
  zeros_edited[150000] = 'x';
  const size_t no_limit = SIZE_MAX;
  ExpectRoundTrip(rows, rows, no_limit);                  // identical
  ExpectRoundTrip(rows.substr(5000), rows, no_limit);     // head cut
  ExpectRoundTrip(rows + "tail", rows, no_limit);         // appended
  ExpectRoundTrip("head" + rows, rows, no_limit);         // prepended
  ExpectRoundTrip(shuffled, random, no_limit);            // moved
  ExpectRoundTrip(doubled, random, no_limit);             // copied twice
  ExpectRoundTrip(zeros_edited, zeros, no_limit);         // long runs of one byte
  ExpectRoundTrip(rows, "", no_limit);                    // no base at all
  ExpectRoundTrip(rows, "short", no_limit);               // base under one window
  ExpectRoundTrip(std::string(20, 'a'), rows, no_limit);  // target under one window
  // Random edits of random data, at random places.
  std::mt19937 rng(7);
  for (int round = 0; round < 30; ++round) {
    std::string target = random;
    for (int k = 0; k < 20; ++k) {
      size_t at = rng() % target.size();
      switch (rng() % 3) {
        case 0:
          target.erase(at, rng() % 300);
          break;
        case 1:
          target.insert(at, Random(rng() % 300, static_cast<unsigned>(rng())));
          break;
        default:
          target[at] = static_cast<char>(rng());
      }
    }
    ExpectRoundTrip(target, random, no_limit);
  }
}

TEST(DeltaTest, ZstdWithPrefixDecodesAsMethodOne) {
  const std::string base = Rows(20000, 0, Edit::kNone);
  const std::string target = Rows(20000, 10, Edit::kInPlace);
  std::string frame(CompressBound(Codec::kZstd, target.size()), '\0');
  size_t n = 0;
  ASSERT_TRUE(CompressDeltaTo(3, target, base, frame.data(), frame.size(), &n));
  std::string delta = std::string(1, '\1') + frame.substr(0, n);
  std::string back;
  ASSERT_TRUE(DecodeDelta(delta, base, target.size(), back));
  EXPECT_TRUE(back == target);
}

TEST(DeltaTest, UnrelatedDataIsRefusedNotBloated) {
  const std::string base = Random(300000, 2);
  const std::string target = Random(300000, 3);
  std::string delta;
  EXPECT_FALSE(EncodeDelta(3, target, base, target.size() / 2, delta));
  std::string script;
  EXPECT_FALSE(EditScript(target, base, target.size() / 4, script));
}

TEST(DeltaTest, DamageIsAnErrorNeverAReadOutsideTheBase) {
  const std::string base = Rows(5000, 0, Edit::kNone);
  const std::string target = Rows(5000, 50, Edit::kMoveToEnd);
  std::string script;
  ASSERT_TRUE(EditScript(target, base, target.size(), script));
  std::string out;
  ASSERT_TRUE(ApplyEditScript(script, base, target.size(), out));
  EXPECT_EQ(out, target);
  EXPECT_FALSE(ApplyEditScript(script, base, target.size() + 1, out));
  EXPECT_FALSE(ApplyEditScript(script, base.substr(0, base.size() / 2), target.size(), out));
  for (size_t cut = 1; cut < script.size(); cut += script.size() / 40 + 1) {
    EXPECT_FALSE(ApplyEditScript(script.substr(0, script.size() - cut), base, target.size(), out));
  }
  std::mt19937 rng(11);
  for (int round = 0; round < 300; ++round) {  // any byte flipped: an error or other bytes
    std::string bad = script;
    bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    auto st = ApplyEditScript(bad, base, target.size(), out);
    if (st) {
      EXPECT_EQ(out.size(), target.size());
    }
  }
  std::string delta;
  ASSERT_TRUE(EncodeDelta(3, target, base, SIZE_MAX, delta));
  EXPECT_FALSE(DecodeDelta("", base, target.size(), out));
  std::string unknown = delta;
  unknown[0] = 9;
  EXPECT_FALSE(DecodeDelta(unknown, base, target.size(), out));
  for (int round = 0; round < 100; ++round) {
    std::string bad = delta;
    bad[1 + rng() % (bad.size() - 1)] ^= static_cast<char>(1 + rng() % 255);
    auto st = DecodeDelta(bad, base, target.size(), out);
    if (st) {
      EXPECT_EQ(out.size(), target.size());
    }
  }
}

}  // namespace
}  // namespace velin::repo
