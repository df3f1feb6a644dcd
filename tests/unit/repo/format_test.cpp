// Round trips and damage detection of the repository's binary formats: packs, index objects,
// trees, snapshots and codecs (docs/repository-format.md).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>

#include "velin/repo/codec.hpp"
#include "velin/repo/index.hpp"
#include "velin/repo/index_object.hpp"
#include "velin/repo/pack.hpp"
#include "velin/repo/snapshot.hpp"
#include "velin/repo/tree.hpp"

namespace velin::repo {
namespace {

TEST(CodecTest, EveryCodecRoundTripsAndIncompressibleIsStoredRaw) {
  std::string text(100000, 'x');
  for (Codec c : {Codec::kZstd, Codec::kGzip, Codec::kNone}) {
    Codec used;
    std::string stored = Compress(c, 3, text, used);
    EXPECT_EQ(used, c);
    auto back = Decompress(used, stored, text.size());
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, text);
  }
  Codec used;
  std::string tiny = Compress(Codec::kZstd, 3, "ab", used);
  EXPECT_EQ(used, Codec::kNone);
  EXPECT_EQ(tiny, "ab");
  std::string stored = Compress(Codec::kGzip, 6, text, used);
  stored[stored.size() - 6] ^= 1;  // the gzip trailer's CRC-32
  EXPECT_FALSE(Decompress(Codec::kGzip, stored, text.size()));
  EXPECT_FALSE(Decompress(Codec::kZstd, "not zstd", 10));
  EXPECT_FALSE(ParseCodec("lz4"));
}

// zstd blobs are decoded with one context per thread, reused blob after blob: a damaged frame
// (cut short, a flipped byte, a wrong length) leaves nothing behind that the next blob sees.
TEST(CodecTest, ZstdDecodingGoesOnCleanlyAfterDamagedBlobs) {
  std::string a(200000, 'a'), b;
  for (int i = 0; i < 20000; ++i) b += std::to_string(i * 7919) + ",";
  std::string sa, sb;
  ASSERT_EQ(CompressInto(Codec::kZstd, 3, a, sa), Codec::kZstd);
  ASSERT_EQ(CompressInto(Codec::kZstd, 3, b, sb), Codec::kZstd);
  std::string flipped = sb;
  flipped[flipped.size() / 2] ^= 0x40;
  std::string out;
  for (int round = 0; round < 3; ++round) {
    EXPECT_FALSE(DecompressInto(Codec::kZstd, sb.substr(0, sb.size() / 2), b.size(), out));
    // zstd frames carry no checksum here: a flip may decode, to other bytes (the blob's hash,
    // checked after every decode, catches it).
    const bool decoded = DecompressInto(Codec::kZstd, flipped, b.size(), out).has_value();
    EXPECT_TRUE(!decoded || out != b);
    EXPECT_FALSE(DecompressInto(Codec::kZstd, sa, a.size() + 1, out));  // not the recorded length
    ASSERT_TRUE(DecompressInto(Codec::kZstd, sb, b.size(), out));
    EXPECT_TRUE(out == b);
    ASSERT_TRUE(DecompressInto(Codec::kZstd, sa, a.size(), out));
    EXPECT_TRUE(out == a);
  }
}

// Rows like a database dump's: the shape delta blobs are for.
std::string Rows(int first, int count, int changed_every, bool drop_changed) {
  std::string out;
  for (int i = first; i < first + count; ++i) {
    bool changed = changed_every > 0 && i % changed_every == 0;
    if (changed && drop_changed) continue;
    out += std::to_string(i) + "\t" + std::to_string(i % 7) + "\t" + (changed ? "17" : "0") +
           "\tname-" + std::to_string(i * 7919 % 10007) + "\n";
  }
  return out;
}

TEST(CodecTest, DeltaAgainstItsBaseIsSmallAndNeedsTheBase) {
  const std::string base = Rows(1, 40000, 0, false);
  for (bool drop : {false, true}) {  // values changed in place; rows deleted
    const std::string next = Rows(1, 40000, 100, drop);
    std::string frame(CompressBound(Codec::kZstd, next.size()), '\0');
    size_t n = 0;
    ASSERT_TRUE(CompressDeltaTo(3, next, base, frame.data(), frame.size(), &n));
    frame.resize(n);
    std::string full;
    ASSERT_EQ(CompressInto(Codec::kZstd, 3, next, full), Codec::kZstd);
    EXPECT_LT(frame.size() * 4, full.size()) << "delta " << frame.size() << " full " << full.size();
    std::string back;
    ASSERT_TRUE(DecompressDeltaInto(frame, base, next.size(), back));
    EXPECT_EQ(back, next);
    // Against another base, or with a flipped byte, it does not come back.
    std::string other = base;
    other[other.size() / 2] ^= 1;
    auto wrong = DecompressDeltaInto(frame, other, next.size(), back);
    EXPECT_TRUE(!wrong || back != next);
    std::string damaged = frame;
    damaged[damaged.size() / 2] ^= 0x55;
    auto bad = DecompressDeltaInto(damaged, base, next.size(), back);
    EXPECT_TRUE(!bad || back != next);
  }
  EXPECT_FALSE(Decompress(Codec::kZstdDelta, "x", 1));  // never without its base
  EXPECT_EQ(CodecName(Codec::kZstdDelta), "zstd-delta");
  EXPECT_FALSE(ParseCodec("zstd-delta"));  // not a choice for backup.compression
}

TEST(PackTest, HeaderListsBlobsAndDamageIsDetected) {
  PackBuilder b;
  b.Add(BlobType::kData, Sha256("one"), Codec::kNone, 3, "one");
  b.Add(BlobType::kTree, Sha256("two"), Codec::kZstd, 10, "2222");
  std::string pack = b.Finish();
  auto entries = ParsePackHeader(pack);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].id, Sha256("two"));
  EXPECT_EQ((*entries)[1].offset, 3u);
  EXPECT_EQ((*entries)[1].length, 4u);
  EXPECT_EQ((*entries)[1].raw_length, 10u);
  EXPECT_EQ((*entries)[1].type, BlobType::kTree);
  EXPECT_EQ((*entries)[1].codec, Codec::kZstd);
  EXPECT_FALSE(ParsePackHeader(pack.substr(0, pack.size() - 1)));
  std::string bad = pack;
  bad[bad.size() - 9] = 0x7f;  // header length
  EXPECT_FALSE(ParsePackHeader(bad));
}

TEST(IndexTest, MergesObjectsAndFindsBlobs) {
  IndexPacks packs = {
      {Sha256("p1"), {PackEntry{Sha256("a"), BlobType::kData, Codec::kNone, 0, 1, 1}}},
      {Sha256("p2"),
       {PackEntry{Sha256("b"), BlobType::kData, Codec::kZstd, 5, 2, 9},
        PackEntry{Sha256("a"), BlobType::kData, Codec::kNone, 7, 1, 1}}}};
  std::string encoded = EncodeIndexObject(packs);
  auto decoded = DecodeIndexObject(encoded);
  ASSERT_TRUE(decoded);
  Index index;
  for (const auto& [id, entries] : *decoded) ASSERT_TRUE(index.AddPack(id, entries));
  index.Finalize();
  EXPECT_EQ(index.size(), 2u);
  const std::optional<IndexEntry> a = index.Find(Sha256("a"));
  ASSERT_TRUE(a);
  EXPECT_EQ(index.PackId(a->pack), Sha256("p1"));  // the first listing wins
  const std::optional<IndexEntry> b = index.Find(Sha256("b"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->raw_length, 9u);
  EXPECT_FALSE(index.Find(Sha256("c")));
  EXPECT_FALSE(DecodeIndexObject(encoded.substr(0, encoded.size() - 3)));
  EXPECT_FALSE(DecodeIndexObject("garbage"));
  EXPECT_EQ(encoded.substr(0, 8), "VLNIDX01");  // no delta blobs: readable by older velins
}

// The backup writer keeps each written pack's entries encoded (46 bytes a blob) and builds
// the index object from them, freeing each pack's part as it is copied in.
TEST(IndexTest, PacksEncodedAsTheyAreWrittenMakeOneObject) {
  PackEntry delta{Sha256("d"), BlobType::kData, Codec::kZstdDelta, 9, 40, 1000};
  delta.base = Sha256("a");
  std::vector<EncodedPack> packs;
  packs.push_back(EncodePack(Sha256("p1"),
                             {PackEntry{Sha256("a"), BlobType::kData, Codec::kZstd, 0, 9, 1000}}));
  EXPECT_FALSE(packs[0].deltas);
  EXPECT_EQ(packs[0].entries.size(), kPackEntrySize);
  packs.push_back(EncodePack(
      Sha256("p2"), {delta, PackEntry{Sha256("b"), BlobType::kTree, Codec::kNone, 49, 3, 3}}));
  EXPECT_TRUE(packs[1].deltas);
  EXPECT_EQ(packs[1].blobs, 2u);
  const std::string encoded = EncodeIndexObject(packs);
  EXPECT_EQ(encoded.size(), 8 + 4 + 2 * 36 + 3 * kPackEntrySize + 32);
  EXPECT_EQ(encoded.substr(0, 8), "VLNIDX02");  // one delta blob makes it version 2
  EXPECT_TRUE(packs[0].entries.empty() && packs[1].entries.empty());
  auto decoded = DecodeIndexObject(encoded);
  ASSERT_TRUE(decoded) << decoded.error().message;
  ASSERT_EQ(decoded->size(), 2u);
  EXPECT_EQ((*decoded)[0].first, Sha256("p1"));
  EXPECT_EQ((*decoded)[0].second[0].raw_length, 1000u);
  ASSERT_EQ((*decoded)[1].second.size(), 2u);
  EXPECT_EQ((*decoded)[1].second[0].base, Sha256("a"));
  EXPECT_EQ((*decoded)[1].second[1].id, Sha256("b"));
  std::vector<EncodedPack> plain;
  plain.push_back(EncodePack(Sha256("p1"),
                             {PackEntry{Sha256("a"), BlobType::kData, Codec::kZstd, 0, 9, 1000}}));
  EXPECT_EQ(EncodeIndexObject(plain).substr(0, 8), "VLNIDX01");  // readable by older velins
}

TEST(IndexTest, ADeltaBlobWhoseBaseNoPackListsCountsAsNotStored) {
  // Left by an earlier velin's prune: the delta "d" is listed first, its base "gone" nowhere; a
  // later backup stored "d" again whole. The whole copy is the one found.
  PackEntry delta{Sha256("d"), BlobType::kData, Codec::kZstdDelta, 0, 9, 100, Sha256("gone")};
  PackEntry kept{Sha256("k"), BlobType::kData, Codec::kZstdDelta, 9, 9, 100, Sha256("b")};
  PackEntry base{Sha256("b"), BlobType::kData, Codec::kZstd, 18, 50, 100};
  Index index;
  ASSERT_TRUE(index.AddPack(Sha256("p1"), {delta, kept, base}));
  index.Finalize();
  EXPECT_FALSE(index.Find(Sha256("d")));
  EXPECT_EQ(index.DeltaBase(Sha256("d")), nullptr);
  ASSERT_TRUE(index.Find(Sha256("k")));
  ASSERT_NE(index.DeltaBase(Sha256("k")), nullptr);
  EXPECT_EQ(*index.DeltaBase(Sha256("k")), Sha256("b"));
  ASSERT_EQ(index.dangling_deltas().size(), 1u);
  EXPECT_EQ(index.dangling_deltas()[0].id, Sha256("d"));
  EXPECT_EQ(index.dangling_deltas()[0].base, Sha256("gone"));

  PackEntry whole{Sha256("d"), BlobType::kData, Codec::kZstd, 0, 40, 100};
  ASSERT_TRUE(index.AddPack(Sha256("p2"), {whole}));
  index.Finalize();
  const std::optional<IndexEntry> d = index.Find(Sha256("d"));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->codec, Codec::kZstd);
  EXPECT_EQ(index.PackId(d->pack), Sha256("p2"));
}

TEST(IndexTest, EntriesOfAPackThatIsGoneCountAsNotStoredWhenEveryPackWasListed) {
  // "gone" was deleted behind velin's back; "kept" is there. create lists every pack and must
  // take nothing of "gone" as stored, nor a delta whose base only "gone" held.
  PackEntry a{Sha256("a"), BlobType::kData, Codec::kZstd, 0, 10, 100};
  PackEntry b{Sha256("b"), BlobType::kData, Codec::kZstd, 10, 10, 100};
  PackEntry d{Sha256("d"), BlobType::kData, Codec::kZstdDelta, 20, 5, 100, Sha256("b")};
  PackEntry x_gone{Sha256("x"), BlobType::kData, Codec::kNone, 25, 4, 4};
  PackEntry c{Sha256("c"), BlobType::kTree, Codec::kNone, 0, 3, 3};
  PackEntry e{Sha256("e"), BlobType::kData, Codec::kZstdDelta, 3, 5, 100, Sha256("b")};
  PackEntry x_kept{Sha256("x"), BlobType::kData, Codec::kNone, 8, 4, 4};
  Index index;
  ASSERT_TRUE(index.AddPack(Sha256("gone"), {a, b, d, x_gone}));
  ASSERT_TRUE(index.AddPack(Sha256("kept"), {c, e, x_kept}));
  PackPresence packs;
  packs.listed_all = true;
  packs.present = [](const BlobId& pack, uint64_t) { return pack != Sha256("gone"); };
  index.Finalize(&packs);
  ASSERT_EQ(index.missing_packs().size(), 1u);
  EXPECT_EQ(index.missing_packs()[0], Sha256("gone"));
  for (const char* name : {"a", "b", "d", "e"}) EXPECT_FALSE(index.Find(Sha256(name))) << name;
  EXPECT_EQ(index.DeltaBase(Sha256("d")), nullptr);
  EXPECT_EQ(index.DeltaBase(Sha256("e")), nullptr);
  ASSERT_TRUE(index.Find(Sha256("c")));
  const std::optional<IndexEntry> x = index.Find(Sha256("x"));
  ASSERT_TRUE(x);  // listed first in "gone", but stored in "kept" too
  EXPECT_EQ(index.PackId(x->pack), Sha256("kept"));
  EXPECT_EQ(x->offset, 8u);
  EXPECT_EQ(index.size(), 2u);
}

TEST(IndexTest, ABlobListedInTwoPacksIsReadFromTheOneThatIsThere) {
  // A create stored "x" again after "gone" went; the index object of "gone" may sort first.
  // Commands that do not list every pack ask only about such blobs' packs.
  PackEntry x_old{Sha256("x"), BlobType::kData, Codec::kZstdDelta, 0, 5, 100, Sha256("b1")};
  PackEntry b1{Sha256("b1"), BlobType::kData, Codec::kZstd, 5, 10, 100};
  PackEntry y{Sha256("y"), BlobType::kData, Codec::kZstd, 15, 10, 100};
  PackEntry x_new{Sha256("x"), BlobType::kData, Codec::kZstdDelta, 0, 6, 100, Sha256("b2")};
  PackEntry b2{Sha256("b2"), BlobType::kData, Codec::kZstd, 6, 10, 100};
  Index index;
  ASSERT_TRUE(index.AddPack(Sha256("gone"), {x_old, b1, y}));
  ASSERT_TRUE(index.AddPack(Sha256("new"), {x_new, b2}));
  std::vector<BlobId> asked;
  PackPresence packs;
  packs.present = [&asked](const BlobId& pack, uint64_t) {
    asked.push_back(pack);
    return pack == Sha256("new");
  };
  index.Finalize(&packs);
  const std::optional<IndexEntry> x = index.Find(Sha256("x"));
  ASSERT_TRUE(x);
  EXPECT_EQ(index.PackId(x->pack), Sha256("new"));
  EXPECT_EQ(x->length, 6u);
  ASSERT_NE(index.DeltaBase(Sha256("x")), nullptr);
  EXPECT_EQ(*index.DeltaBase(Sha256("x")), Sha256("b2"));  // the base the winning entry names
  // Blobs listed once stay as listed (verify names their missing pack); each pack asked once.
  ASSERT_TRUE(index.Find(Sha256("y")));
  EXPECT_EQ(index.PackId(index.Find(Sha256("y"))->pack), Sha256("gone"));
  EXPECT_TRUE(index.missing_packs().empty());
  EXPECT_EQ(asked.size(), 2u);
}

TEST(IndexTest, APackIsAskedForTheBytesItsIndexedBlobsNeed) {
  // A pack truncated to below this (a full disk, a partial upload) counts as absent, so that
  // create stores its blobs again instead of pointing a new backup at bytes that are not there.
  PackEntry a{Sha256("a"), BlobType::kData, Codec::kZstd, 0, 10, 100};
  PackEntry b{Sha256("b"), BlobType::kData, Codec::kZstd, 10, 20, 100};
  PackEntry c{Sha256("c"), BlobType::kData, Codec::kZstd, 0, 7, 100};
  Index index;
  ASSERT_TRUE(index.AddPack(Sha256("p"), {b, a}));
  ASSERT_TRUE(index.AddPack(Sha256("q"), {c}));
  std::vector<std::pair<BlobId, uint64_t>> asked;
  PackPresence packs;
  packs.listed_all = true;
  packs.present = [&asked](const BlobId& pack, uint64_t min_size) {
    asked.emplace_back(pack, min_size);
    return pack != Sha256("p");
  };
  index.Finalize(&packs);
  ASSERT_EQ(asked.size(), 2u);
  // Blobs end at 30, then two header entries and the header length and magic.
  EXPECT_EQ(asked[0], std::make_pair(Sha256("p"), uint64_t{30 + 2 * kPackEntrySize + 12}));
  EXPECT_EQ(asked[1], std::make_pair(Sha256("q"), uint64_t{7 + kPackEntrySize + 12}));
  EXPECT_FALSE(index.Find(Sha256("a")));
  EXPECT_TRUE(index.Find(Sha256("c")));
}

TEST(IndexTest, AnUnknownCodecOrTypeStaysUnknown) {
  // Four bits hold the codec in memory: a hostile 0x13 must not turn into 3 (zstd delta).
  PackEntry odd{Sha256("x"), static_cast<BlobType>(0x21), static_cast<Codec>(0x13), 0, 4, 4};
  Index index;
  ASSERT_TRUE(index.AddPack(Sha256("p"), {odd}));
  index.Finalize();
  const std::optional<IndexEntry> e = index.Find(Sha256("x"));
  ASSERT_TRUE(e);
  EXPECT_EQ(static_cast<int>(e->codec), 15);
  EXPECT_EQ(static_cast<int>(e->type), 15);
  EXPECT_FALSE(Decompress(e->codec, "abcd", 4));
}

TEST(IndexTest, TheFirstListingWinsAcrossManyPacks) {
  Index index;
  for (int p = 0; p < 50; ++p) {
    std::vector<PackEntry> entries;
    for (int b = 0; b < 40; ++b) {
      entries.push_back(PackEntry{Sha256(std::to_string((p * 7 + b) % 100)), BlobType::kData,
                                  Codec::kNone, static_cast<uint32_t>(b), 1, 1});
    }
    ASSERT_TRUE(index.AddPack(Sha256("pack" + std::to_string(p)), entries));
  }
  index.Finalize();
  ASSERT_EQ(index.size(), 100u);
  for (int k = 0; k < 100; ++k) {
    // The first pack p (in listing order) with a b < 40 such that (7p + b) % 100 == k.
    int want = -1;
    for (int p = 0; p < 50 && want < 0; ++p) {
      for (int b = 0; b < 40; ++b) {
        if ((p * 7 + b) % 100 == k) {
          want = p;
          break;
        }
      }
    }
    const std::optional<IndexEntry> e = index.Find(Sha256(std::to_string(k)));
    ASSERT_TRUE(e);
    EXPECT_EQ(index.PackId(e->pack), Sha256("pack" + std::to_string(want))) << k;
  }
}

TEST(IndexTest, APackListedTwiceIsOnePack) {
  // Two index objects naming the same pack (an interrupted prune leaves such pairs).
  Index index;
  ASSERT_TRUE(index.AddPack(Sha256("p2"),
                            {PackEntry{Sha256("b"), BlobType::kData, Codec::kNone, 0, 1, 1}}));
  ASSERT_TRUE(index.AddPack(Sha256("p1"),
                            {PackEntry{Sha256("a"), BlobType::kData, Codec::kNone, 0, 1, 1}}));
  ASSERT_TRUE(index.AddPack(Sha256("p2"),
                            {PackEntry{Sha256("b"), BlobType::kData, Codec::kNone, 0, 1, 1},
                             PackEntry{Sha256("c"), BlobType::kTree, Codec::kZstd, 1, 2, 3}}));
  ASSERT_TRUE(index.AddPack(Sha256("p3"),
                            {PackEntry{Sha256("a"), BlobType::kData, Codec::kNone, 9, 1, 1}}));
  index.Finalize();
  EXPECT_EQ(index.pack_count(), 3u);
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(index.PackId(index.Find(Sha256("a"))->pack), Sha256("p1"));  // listed first
  EXPECT_EQ(index.PackId(index.Find(Sha256("b"))->pack), Sha256("p2"));
  const std::optional<IndexEntry> c = index.Find(Sha256("c"));
  ASSERT_TRUE(c);
  EXPECT_EQ(index.PackId(c->pack), Sha256("p2"));
  EXPECT_EQ(c->type, BlobType::kTree);
  EXPECT_EQ(c->codec, Codec::kZstd);
  EXPECT_EQ(c->raw_length, 3u);
  std::set<BlobId> packs;
  for (size_t i = 0; i < index.pack_count(); ++i)
    packs.insert(index.PackId(static_cast<uint32_t>(i)));
  EXPECT_EQ(packs.size(), 3u);
}

TEST(IndexTest, DeltaBlobsCarryTheirBase) {
  PackEntry delta{Sha256("d"), BlobType::kData, Codec::kZstdDelta, 0, 40, 1000};
  delta.base = Sha256("a");
  IndexPacks packs = {{Sha256("p1"),
                       {PackEntry{Sha256("a"), BlobType::kData, Codec::kZstd, 40, 9, 1000}, delta,
                        PackEntry{Sha256("b"), BlobType::kTree, Codec::kNone, 49, 3, 3}}}};
  std::string encoded = EncodeIndexObject(packs);
  EXPECT_EQ(encoded.substr(0, 8), "VLNIDX02");
  auto decoded = DecodeIndexObject(encoded);
  ASSERT_TRUE(decoded);
  ASSERT_EQ((*decoded)[0].second.size(), 3u);
  EXPECT_EQ((*decoded)[0].second[1].base, Sha256("a"));
  EXPECT_EQ((*decoded)[0].second[2].id, Sha256("b"));
  Index index;
  for (const auto& [id, entries] : *decoded) ASSERT_TRUE(index.AddPack(id, entries));
  index.Finalize();
  ASSERT_NE(index.DeltaBase(Sha256("d")), nullptr);
  EXPECT_EQ(*index.DeltaBase(Sha256("d")), Sha256("a"));
  EXPECT_EQ(index.DeltaBase(Sha256("a")), nullptr);
  for (size_t cut = 1; cut < 40; cut += 7) {
    EXPECT_FALSE(DecodeIndexObject(encoded.substr(0, encoded.size() - cut)));
  }
}

// The packed array (docs/repository-format.md, "Index"): ids bucketed by their first two
// bytes, 28-bit offsets and lengths with larger ones kept beside the array, type and codec in
// four bits. Every field must come back as the index object listed it.
BlobId IdWithPrefix(std::mt19937_64& rng, uint8_t b0, uint8_t b1) {
  BlobId id;
  for (auto& byte : id.bytes) byte = static_cast<uint8_t>(rng());
  id.bytes[0] = b0;
  id.bytes[1] = b1;
  return id;
}

TEST(IndexTest, EveryFieldComesBackFromThePackedArray) {
  std::mt19937_64 rng(19);
  // Random ids, plus crowded buckets (first and last bucket, ids that differ in their last
  // byte only) and values at and past 28 bits.
  std::vector<PackEntry> listed;
  // The delta blobs' base: a delta whose base no pack lists counts as not stored.
  listed.push_back(PackEntry{Sha256("base"), BlobType::kData, Codec::kZstd, 0, 1, 1});
  const uint32_t big[] = {0, 1, (1u << 28) - 2, (1u << 28) - 1, 1u << 28, UINT32_MAX};
  for (int i = 0; i < 6000; ++i) {
    BlobId id = IdWithPrefix(rng, static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()));
    if (i % 10 == 0) id = IdWithPrefix(rng, 0, 0);
    if (i % 10 == 1) id = IdWithPrefix(rng, 0xff, 0xff);
    if (i % 10 == 2 && !listed.empty()) {
      id = listed.back().id;
      id.bytes[31] ^= static_cast<uint8_t>(1 + rng() % 255);
    }
    PackEntry e{id,
                static_cast<BlobType>(rng() % 2),
                static_cast<Codec>(rng() % 4),
                static_cast<uint32_t>(rng()),
                static_cast<uint32_t>(rng() % (1u << 27)),
                static_cast<uint32_t>(rng() % (1u << 27))};
    if (i % 7 == 0) e.offset = big[rng() % 6];
    if (i % 11 == 0) e.length = big[rng() % 6];
    if (i % 13 == 0) e.raw_length = big[rng() % 6];
    if (e.codec == Codec::kZstdDelta) e.base = Sha256("base");
    listed.push_back(e);
  }
  Index index;
  for (size_t p = 0; p < listed.size(); p += 100) {
    std::vector<PackEntry> pack(
        listed.begin() + static_cast<long>(p),
        listed.begin() + static_cast<long>(std::min(p + 100, listed.size())));
    ASSERT_TRUE(index.AddPack(Sha256("pack" + std::to_string(p)), pack));
  }
  index.Finalize();
  std::map<BlobId, std::pair<size_t, PackEntry>> want;  // id -> pack number, entry
  for (size_t i = 0; i < listed.size(); ++i) want.try_emplace(listed[i].id, i / 100, listed[i]);
  ASSERT_EQ(index.size(), want.size());
  for (const auto& [id, w] : want) {
    const std::optional<IndexEntry> e = index.Find(id);
    ASSERT_TRUE(e) << id.Hex();
    EXPECT_EQ(index.PackId(e->pack), Sha256("pack" + std::to_string(w.first * 100))) << id.Hex();
    EXPECT_EQ(e->type, w.second.type) << id.Hex();
    EXPECT_EQ(e->codec, w.second.codec) << id.Hex();
    EXPECT_EQ(e->offset, w.second.offset) << id.Hex();
    EXPECT_EQ(e->length, w.second.length) << id.Hex();
    EXPECT_EQ(e->raw_length, w.second.raw_length) << id.Hex();
    // Neighbours that are not listed: another last byte, another third byte, another bucket.
    for (size_t at : {size_t{31}, size_t{2}, size_t{1}, size_t{0}}) {
      BlobId other = id;
      other.bytes[at] ^= 0xff;
      if (!want.count(other)) {
        EXPECT_FALSE(index.Find(other)) << other.Hex();
      }
    }
  }
  // ForEach: every blob once, in id order, with its id.
  std::vector<BlobId> seen;
  index.ForEach([&](const BlobId& id, const IndexEntry& e) {
    seen.push_back(id);
    auto w = want.find(id);
    ASSERT_NE(w, want.end()) << id.Hex();
    EXPECT_EQ(e.length, w->second.second.length);
    EXPECT_EQ(e.raw_length, w->second.second.raw_length);
  });
  std::vector<BlobId> ids;
  for (const auto& [id, w] : want) ids.push_back(id);
  EXPECT_EQ(seen, ids);
}

TEST(IndexTest, PacksAddedAfterFinalizeAreMerged) {
  // A second LoadIndex on the same repository adds every pack again to a finalised index.
  std::mt19937_64 rng(7);
  std::vector<PackEntry> first, second;
  for (int i = 0; i < 300; ++i) {
    first.push_back(PackEntry{IdWithPrefix(rng, static_cast<uint8_t>(i % 3), 9), BlobType::kTree,
                              Codec::kZstd, static_cast<uint32_t>(i), 5, 7});
  }
  first[5].offset = UINT32_MAX;  // kept beside the array
  second = {first[0], PackEntry{Sha256("new"), BlobType::kData, Codec::kGzip, 3, 4, 5}};
  second[0].offset = 77;
  Index index;
  ASSERT_TRUE(index.AddPack(Sha256("p1"), first));
  index.Finalize();
  ASSERT_TRUE(index.AddPack(Sha256("p2"), second));
  ASSERT_TRUE(index.AddPack(Sha256("p1"), first));
  index.Finalize();
  EXPECT_EQ(index.size(), 301u);
  // The pack numbers' map is gone after Finalize: p1 listed again gets a second number.
  EXPECT_EQ(index.pack_count(), 3u);
  for (const auto& e : first) {
    const std::optional<IndexEntry> got = index.Find(e.id);
    ASSERT_TRUE(got);
    EXPECT_EQ(index.PackId(got->pack), Sha256("p1"));  // listed first
    EXPECT_EQ(got->offset, e.offset);
    EXPECT_EQ(got->type, BlobType::kTree);
    EXPECT_EQ(got->raw_length, 7u);
  }
  const std::optional<IndexEntry> added = index.Find(Sha256("new"));
  ASSERT_TRUE(added);
  EXPECT_EQ(index.PackId(added->pack), Sha256("p2"));
  EXPECT_EQ(added->codec, Codec::kGzip);
}

TEST(IndexTest, AnEmptyIndexFindsNothing) {
  Index index;
  EXPECT_FALSE(index.Find(Sha256("a")));
  index.Finalize();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(index.Find(Sha256("a")));
  size_t visited = 0;
  index.ForEach([&](const BlobId&, const IndexEntry&) { ++visited; });
  EXPECT_EQ(visited, 0u);
  ASSERT_TRUE(index.AddPack(Sha256("p"), {}));  // a pack without blobs
  index.Finalize();
  EXPECT_FALSE(index.Find(Sha256("a")));
  EXPECT_EQ(index.pack_count(), 1u);
}

TEST(TreeTest, CraftedCountsAreDamageNotAnAllocation) {
  auto u64 = [](uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
    return s;
  };
  // A tree claiming 2^40 nodes, and a file node claiming 2^31 chunks, in a few bytes each.
  EXPECT_FALSE(DecodeTree("VLNTREE1" + u64(1ULL << 40) + std::string(200, '\0')));
  std::string node = u64(1) + u64(1) + "f" + u64(0644) + u64(0) + u64(0) + u64(0) + u64(0) +
                     u64(0) + u64(0) + u64(1ULL << 31) + std::string(64, '\0');
  auto tree = DecodeTree("VLNTREE1" + u64(1) + node);
  ASSERT_FALSE(tree);
  EXPECT_NE(tree.error().message.find("truncated"), std::string::npos) << tree.error().message;
}

TEST(TreeTest, RoundTripsAndRejectsDangerousNames) {
  Tree t;
  Node dir;
  dir.type = NodeType::kDir;
  dir.name = "a dir";
  dir.subtree = Sha256("sub");
  Node file;
  file.type = NodeType::kFile;
  file.name = "new\nline ✓";
  file.mode = 04755;
  file.mtime_ns = -5;
  file.content = {Sha256("c1"), Sha256("c2")};
  Node link;
  link.type = NodeType::kSymlink;
  link.name = "z";
  link.target = "../../etc";
  t.nodes = {dir, file, link};
  auto back = DecodeTree(EncodeTree(t));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->nodes.size(), 3u);
  EXPECT_EQ(back->nodes[1].name, "new\nline ✓");
  EXPECT_EQ(back->nodes[1].mode, 04755u);
  EXPECT_EQ(back->nodes[1].mtime_ns, -5);
  EXPECT_EQ(back->nodes[1].content, file.content);
  EXPECT_EQ(back->nodes[2].target, "../../etc");
  for (const char* name : {"..", ".", "", "a/b", "/abs"}) {
    Tree evil;
    Node n = file;
    n.name = name;
    evil.nodes = {n};
    EXPECT_FALSE(DecodeTree(EncodeTree(evil))) << name;
  }
  Tree dup;
  dup.nodes = {file, file};
  EXPECT_FALSE(DecodeTree(EncodeTree(dup)));
  std::string enc = EncodeTree(t);
  EXPECT_FALSE(DecodeTree(enc.substr(0, enc.size() - 1)));
}

// The top tree of a source an earlier velin recorded as "storage/uploads/": one node named ""
// (or "." for "storage/."), read under the name its source has now; nothing else is.
TEST(TreeTest, ANamelessTopNodeIsReadUnderTheNameItsSourceGives) {
  Node dir;
  dir.type = NodeType::kDir;
  dir.subtree = Sha256("sub");
  for (const char* recorded : {"", "."}) {
    dir.name = recorded;
    Tree top;
    top.nodes = {dir};
    const std::string enc = EncodeTree(top);
    EXPECT_FALSE(DecodeTree(enc)) << "without a name to give: damage";
    auto back = DecodeTree(enc, "uploads");
    ASSERT_TRUE(back) << recorded;
    ASSERT_EQ(back->nodes.size(), 1u);
    EXPECT_EQ(back->nodes[0].name, "uploads");
    EXPECT_EQ(back->nodes[0].subtree, dir.subtree);
  }
  for (const char* evil : {"..", "a/b"}) {  // other invalid names stay damage
    dir.name = evil;
    Tree top;
    top.nodes = {dir};
    EXPECT_FALSE(DecodeTree(EncodeTree(top), "uploads")) << evil;
  }
  dir.name = "uploads";  // a named top keeps its name
  Tree named;
  named.nodes = {dir};
  auto kept = DecodeTree(EncodeTree(named), "other");
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->nodes[0].name, "uploads");
  Node other = dir;  // a nameless node among others is damage
  other.name = "z";
  dir.name = "";
  Tree two;
  two.nodes = {dir, other};
  EXPECT_FALSE(DecodeTree(EncodeTree(two), "uploads"));

  // Its hardlinks' targets were recorded below the nameless node: "/a.txt".
  EXPECT_EQ(HardlinkTargetPath("/a.txt", "uploads"), "uploads/a.txt");
  EXPECT_EQ(HardlinkTargetPath("/sub/c.txt", "uploads"), "uploads/sub/c.txt");
  EXPECT_EQ(HardlinkTargetPath("uploads/a.txt", "uploads"), "uploads/a.txt");
}

TEST(SnapshotTest, RoundTripsAndDetectsEdits) {
  Snapshot s;
  s.id = "20261125-1430-full";
  s.time = "2026-11-25T13:30:00Z";
  s.strategy = repo::Strategy::kFull;
  SnapshotSource path{"storage", SourceKind::kPath,       Sha256("t"), {}, 2,
                      10,        nlohmann::json::object()};
  SnapshotSource stream{"db", SourceKind::kStream, {}, {Sha256("x")}, 1, 5, {{"rows", 3}}};
  s.sources = {path, stream};
  s.stats.files = 3;
  std::string text = EncodeSnapshot(s);
  auto back = DecodeSnapshot(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->sources[0].tree, Sha256("t"));
  EXPECT_EQ(back->sources[1].chunks[0], Sha256("x"));
  EXPECT_EQ(back->sources[1].metadata["rows"], 3);
  std::string edited = text;
  edited.replace(edited.find("\"files\": 3"), 10, "\"files\": 4");
  auto damaged = DecodeSnapshot(edited);
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code, ExitCode::kDamage);
}

TEST(SnapshotTest, RecordsItsAppAndReadsOlderSnapshotsWithoutOne) {
  Snapshot s;
  s.id = "20261125-1430-full";
  s.host = "web1";
  s.app = "shop";
  auto back = DecodeSnapshot(EncodeSnapshot(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->host, "web1");
  EXPECT_EQ(back->app, "shop");
  // An older velin's snapshot has no "app" (and is written back without one).
  s.app = "";
  const std::string old = EncodeSnapshot(s);
  EXPECT_EQ(old.find("\"app\""), std::string::npos);
  back = DecodeSnapshot(old);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->app, "");
  // Unknown fields of a newer velin are read past, and still checked by the checksum.
  auto j = nlohmann::json::parse(old);
  j["snapshot"]["transaction"] = "tx-1";
  j["sha256"] = Sha256(j["snapshot"].dump()).Hex();
  EXPECT_TRUE(DecodeSnapshot(j.dump()));
}

// The wrapper's "format" was written but never read: a later velin's format 2 snapshot was read
// as format 1. Now a greater format is "upgrade velin" (exit 2), a format that is no whole
// number from 1 is damage, and one without it (none was ever written so) is read as 1.
TEST(SnapshotTest, ALaterFormatIsUpgradeVelinAndAMalformedOneIsDamage) {
  Snapshot s;
  s.id = "20261125-1430-full";
  s.host = "web1";
  const nlohmann::json written = nlohmann::json::parse(EncodeSnapshot(s));
  ASSERT_EQ(written["format"], 1);
  for (const nlohmann::json& later : {nlohmann::json(2), nlohmann::json(18446744073709551615u)}) {
    nlohmann::json j = written;
    j["format"] = later;
    auto refused = DecodeSnapshot(j.dump());
    ASSERT_FALSE(refused) << later;
    EXPECT_EQ(refused.error().code, ExitCode::kUsage) << later;
    EXPECT_EQ(refused.error().message, "written by a newer velin (snapshot format " + later.dump() +
                                           "; this velin reads format 1): upgrade velin");
    // Before its checksum: a later format may compute it otherwise.
    j["sha256"] = "0";
    auto unchecked = DecodeSnapshot(j.dump());
    ASSERT_FALSE(unchecked);
    EXPECT_EQ(unchecked.error().code, ExitCode::kUsage) << later;
    EXPECT_FALSE(RenameSnapshotText(j.dump(), "20261125-1430-full-2"));
  }
  for (const nlohmann::json& bad : {nlohmann::json(0), nlohmann::json(-1), nlohmann::json("1"),
                                    nlohmann::json(1.5), nlohmann::json(nullptr)}) {
    nlohmann::json j = written;
    j["format"] = bad;
    auto damaged = DecodeSnapshot(j.dump());
    ASSERT_FALSE(damaged) << bad;
    EXPECT_EQ(damaged.error().code, ExitCode::kDamage) << bad;
    EXPECT_NE(damaged.error().message.find("invalid snapshot format"), std::string::npos)
        << damaged.error().message;
  }
  nlohmann::json without = written;
  without.erase("format");
  auto read = DecodeSnapshot(without.dump());
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->host, "web1");
}

// A followed symlink whose text, or where it led, is not UTF-8 comes back byte for byte
// (links_base64, links_resolved_base64); other text that is not UTF-8 is written with U+FFFD
// instead of throwing, and the checksum holds.
TEST(SnapshotTest, TextThatIsNotUtf8IsWrittenExactOrReplacedNeverThrown) {
  Snapshot s;
  s.id = "20261125-1430-full";
  s.host = "web\xe9";
  SnapshotSource path{"storage/uploads",       SourceKind::kPath, Sha256("t"), {}, 1, 3,
                      nlohmann::json::object()};
  path.links = {{"storage", "/srv/plain"}, {"storage/uploads", "/mnt/nas/up\xe9"}};
  path.links_resolved = {{"storage", "/data/plain"}, {"storage/uploads", "/media/nas/up\xe9"}};
  SnapshotSource stream{"db", SourceKind::kStream,         {}, {Sha256("x")}, 1,
                        5,    {{"file", "caf\xe9.sqlite"}}};
  s.sources = {path, stream};
  const std::string text = EncodeSnapshot(s);
  EXPECT_NE(text.find("\"links_base64\""), std::string::npos) << text;
  auto back = DecodeSnapshot(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->sources[0].links, path.links);
  EXPECT_NE(text.find("\"links_resolved\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"links_resolved_base64\""), std::string::npos) << text;
  EXPECT_EQ(back->sources[0].links_resolved, path.links_resolved);
  EXPECT_EQ(back->host, "web\xEF\xBF\xBD");
  EXPECT_EQ(back->sources[1].metadata["file"], "caf\xEF\xBF\xBD.sqlite");
  // A links_base64 entry that is not base64 is damage, not a crash.
  auto j = nlohmann::json::parse(text);
  j["snapshot"]["sources"][0]["links_base64"] = {{"c3RvcmFnZQ==", "not base64!"}};
  j["sha256"] = Sha256(j["snapshot"].dump()).Hex();
  auto damaged = DecodeSnapshot(j.dump());
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code, ExitCode::kDamage);
}

TEST(SnapshotTest, FilterSelectsHostAndAppAndOlderSnapshotsOnlyByEmptyApp) {
  Snapshot mine, other_host, other_app, old;
  mine.host = other_app.host = old.host = "web1";
  other_host.host = "web2";
  mine.app = other_host.app = "shop";
  other_app.app = "blog";
  const SnapshotFilter f{false, "web1", "shop"};
  EXPECT_TRUE(f.Matches(mine));
  EXPECT_FALSE(f.Matches(other_host));
  EXPECT_FALSE(f.Matches(other_app));
  EXPECT_FALSE(f.Matches(old)) << "an older snapshot belongs to no app's group";
  EXPECT_TRUE((SnapshotFilter{false, "web1", ""}).Matches(old));
  EXPECT_TRUE((SnapshotFilter{true, "", ""}).Matches(other_host));
}

TEST(SnapshotTest, NewerBreaksEqualTimesByTheNumericSuffix) {
  EXPECT_TRUE(SnapshotNewer(2, "a", 1, "z"));
  EXPECT_TRUE(SnapshotNewer(5, "20261125-1430-full-2", 5, "20261125-1430-full"));
  EXPECT_TRUE(SnapshotNewer(5, "20261125-1430-full-10", 5, "20261125-1430-full-9"));
  EXPECT_FALSE(SnapshotNewer(5, "20261125-1430-full-9", 5, "20261125-1430-full-10"));
  EXPECT_FALSE(SnapshotNewer(5, "20261125-1430-full", 5, "20261125-1430-full"));
  // Hostile ids do not break the order: it stays strict and total.
  EXPECT_NE(SnapshotNewer(5, "x-99999999999999999999", 5, "x-1"),
            SnapshotNewer(5, "x-1", 5, "x-99999999999999999999"));
}

TEST(SnapshotTest, NewerOrdersOneSecondsSnapshotsByTheirNanoseconds) {
  Snapshot incr{.id = "20261125-1430-incr", .unix_time = 5, .time_ns = 100};
  Snapshot full{.id = "20261125-1430-full-2", .unix_time = 5, .time_ns = 900'000'000};
  // By id alone the incremental would be the newer; it began first.
  EXPECT_TRUE(SnapshotNewer(5, incr.id, 5, full.id));
  EXPECT_TRUE(SnapshotNewer(full, incr));
  EXPECT_FALSE(SnapshotNewer(incr, full));
  // The second still comes first; equal instants (older velins: 0) fall back to the ids.
  Snapshot later{.id = "20261125-1430-full", .unix_time = 6, .time_ns = 0};
  EXPECT_TRUE(SnapshotNewer(later, full));
  full.time_ns = incr.time_ns;
  EXPECT_TRUE(SnapshotNewer(incr, full));
  EXPECT_FALSE(SnapshotNewer(full, full));
  EXPECT_EQ(SnapshotStart(Snapshot{.unix_time = 1'767'225'600, .time_ns = 250'000'000}),
            std::chrono::system_clock::from_time_t(1'767'225'600) + std::chrono::milliseconds(250));
}

// Must show: a copy that stores a snapshot under another id (backup copy, when the target holds
// another snapshot under its id) changes the id and the checksum only: a field this velin does
// not know (a newer velin's) stays, the result reads back with its new id, and it is recognised
// as the same snapshot but for the id; another snapshot and a damaged object are not.
TEST(SnapshotTest, RenamingChangesOnlyTheIdAndKeepsFieldsThisVelinDoesNotKnow) {
  Snapshot s;
  s.id = "20261125-1430-full";
  s.unix_time = 1'795;
  s.host = "web2";
  nlohmann::json wrapper = nlohmann::json::parse(EncodeSnapshot(s));
  wrapper["snapshot"]["from_the_future"] = {{"x", 1}};
  wrapper["sha256"] = Sha256(wrapper["snapshot"].dump()).Hex();
  const std::string newer = wrapper.dump(1) + "\n";

  auto renamed = RenameSnapshotText(newer, "20261125-1430-full-2");
  ASSERT_TRUE(renamed) << renamed.error().message;
  auto back = DecodeSnapshot(*renamed);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->id, "20261125-1430-full-2");
  EXPECT_EQ(back->host, "web2");
  EXPECT_EQ(nlohmann::json::parse(*renamed)["snapshot"]["from_the_future"]["x"], 1) << *renamed;
  auto same = SameSnapshotButId(newer, *renamed);
  ASSERT_TRUE(same);
  EXPECT_TRUE(*same);

  s.host = "web1";
  same = SameSnapshotButId(EncodeSnapshot(s), *renamed);
  ASSERT_TRUE(same);
  EXPECT_FALSE(*same);
  std::string damaged = *renamed;
  damaged.replace(damaged.find("web2"), 4, "web3");
  EXPECT_FALSE(RenameSnapshotText(damaged, "x"));
  EXPECT_FALSE(SameSnapshotButId(newer, damaged));
}

TEST(SnapshotTest, RecordsItsNanosecondsAndReadsOlderSnapshotsWithoutThem) {
  Snapshot s;
  s.id = "20261125-1430-full";
  s.unix_time = 1'795;
  s.time_ns = 999'999'999;
  auto back = DecodeSnapshot(EncodeSnapshot(s));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->time_ns, 999'999'999);
  // An older velin's snapshot has no "time_ns"; one begun on the second is written without it.
  s.time_ns = 0;
  const std::string old = EncodeSnapshot(s);
  EXPECT_EQ(old.find("time_ns"), std::string::npos);
  back = DecodeSnapshot(old);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->time_ns, 0);
  // A value outside a second is damage, not an order.
  for (const char* bad : {"-1", "1000000000", "\"x\"", "0.5"}) {
    nlohmann::json body = nlohmann::json::parse(EncodeSnapshot(s)).at("snapshot");
    body["time_ns"] = nlohmann::json::parse(bad);
    nlohmann::json wrapper = {
        {"format", 1}, {"sha256", Sha256(body.dump()).Hex()}, {"snapshot", body}};
    auto damaged = DecodeSnapshot(wrapper.dump());
    ASSERT_FALSE(damaged) << bad;
    EXPECT_EQ(damaged.error().code, ExitCode::kDamage) << bad;
  }
}

}  // namespace
}  // namespace velin::repo
