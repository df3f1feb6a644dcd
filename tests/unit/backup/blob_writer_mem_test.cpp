// The blob writer's index objects written as it goes (BlobWriterOptions::index_checkpoint_bytes):
// a large run's memory does not hold the index of everything it wrote, every blob stays
// findable, and a run that fails after a checkpoint leaves only sound, indexed packs.
#include <gtest/gtest.h>

#include <set>

#include "mem_repo.hpp"
#include "velin/repo/blob_writer.hpp"
#include "velin/repo/index_object.hpp"

namespace velin::backup {
namespace {

class BlobWriterMemTest : public MemRepoTest {
 protected:
  // Distinct blobs of 1 MiB: 15 fill a pack.
  static std::string Blob(int i) {
    std::string s(1 << 20, '\0');
    uint64_t x = 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(i + 1);
    for (size_t k = 0; k < s.size(); k += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      s[k] = static_cast<char>(x);
    }
    return s;
  }
  std::set<std::string> Names(const std::string& prefix) {
    std::set<std::string> names;
    auto listed = backend_->List(prefix);
    EXPECT_TRUE(listed) << listed.error().message;
    if (listed) {
      for (const auto& o : *listed) names.insert(o.name);
    }
    return names;
  }
  // The packs the index objects name.
  std::set<std::string> IndexedPacks() {
    std::set<std::string> packs;
    for (const std::string& name : Names("index/")) {
      auto stored = backend_->Get(name);
      EXPECT_TRUE(stored);
      auto decoded = repo::DecodeIndexObject(*stored);
      EXPECT_TRUE(decoded) << decoded.error().message;
      for (const auto& p : *decoded) packs.insert(repo::PackObjectName(p.first));
    }
    return packs;
  }
  static repo::BlobWriterOptions Options(uint64_t checkpoint_bytes) {
    repo::BlobWriterOptions o;
    o.codec = repo::Codec::kNone;
    o.workers = 1;
    o.index_checkpoint_bytes = checkpoint_bytes;
    return o;
  }
};

TEST_F(BlobWriterMemTest, ALargeRunWritesIndexObjectsAsItGoesAndEveryBlobIsFound) {
  const auto index_before = Names("index/");
  {
    repo::BlobWriter writer(*repo_, Options(1));  // an index object after every pack
    for (int i = 0; i < 40; ++i) {
      std::string b = Blob(i);
      ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(b), b));
    }
    // Blobs of packs indexed already are still known to this run: not stored twice.
    std::string again = Blob(0);
    EXPECT_TRUE(writer.Known(repo::Sha256(again)));
    ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(again), again));
    ASSERT_TRUE(writer.Flush());
    EXPECT_EQ(writer.stats().blobs_added, 40u);
    EXPECT_GE(writer.stats().packs_written, 3u);
    EXPECT_EQ(Names("index/").size() - index_before.size(), writer.stats().packs_written);
  }
  EXPECT_EQ(IndexedPacks(), Names("data/"));
  Reopen();
  for (int i = 0; i < 40; ++i) {
    auto read = repo_->ReadBlob(repo::Sha256(Blob(i)));
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(*read, Blob(i));
  }
}

TEST_F(BlobWriterMemTest, ARunThatFailsAfterACheckpointLeavesOnlyIndexedSoundPacks) {
  {
    repo::BlobWriter writer(*repo_, Options(1));
    for (int i = 0; i < 40; ++i) {
      std::string b = Blob(i);
      ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(b), b));
    }
    // No Flush(): the run stops here (an error further on); its open pack is dropped.
  }
  const auto packs = Names("data/");
  EXPECT_GE(packs.size(), 2u);
  EXPECT_EQ(IndexedPacks(), packs);  // no unindexed pack left, no index naming a missing one
  Reopen();
  int found = 0;
  for (int i = 0; i < 40; ++i) {
    const repo::BlobId id = repo::Sha256(Blob(i));
    if (!repo_->index().Find(id)) continue;
    auto read = repo_->ReadBlob(id);
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(*read, Blob(i));
    ++found;
  }
  EXPECT_GE(found, 15);  // a pack holds 15 of these blobs: at least one indexed before the stop
  EXPECT_LT(found, 40);
}

TEST_F(BlobWriterMemTest, ARunBelowTheThresholdWritesOneIndexObject) {
  const auto index_before = Names("index/");
  repo::BlobWriter writer(*repo_, Options(repo::BlobWriterOptions().index_checkpoint_bytes));
  for (int i = 0; i < 40; ++i) {
    std::string b = Blob(i);
    ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(b), b));
  }
  ASSERT_TRUE(writer.Flush());
  EXPECT_GE(writer.stats().packs_written, 3u);
  EXPECT_EQ(Names("index/").size(), index_before.size() + 1);
}

}  // namespace
}  // namespace velin::backup
