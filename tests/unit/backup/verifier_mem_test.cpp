// Verify reads each pack in segments of about 4 MiB, hashing the pack as it goes (verifier.cpp,
// CheckPack): on a MemEnv, a pack of 6-16 MiB of incompressible blobs verifies clean; a byte
// flipped where a blob crosses a segment's nominal end names that blob and the pack; a pack
// cut short names the blobs beyond its end and checks the ones before it. In an encrypted
// repository each blob is opened where it lies in the segment (CheckBlobInPlace): a verify
// leaves the packs as they were, checks every blob, and a flipped byte still names its blob.
#include <algorithm>
#include <cstring>
#include <map>
#include <random>

#include "mem_repo.hpp"
#include "velin/backup/verifier.hpp"
#include "velin/io/env.hpp"

namespace velin::backup {
namespace {

// `size` incompressible bytes, the same for the same seed.
std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i + 8 <= data.size(); i += 8) {
    const uint64_t v = rng();
    std::memcpy(data.data() + i, &v, 8);
  }
  return data;
}

class VerifierMemTest : public MemRepoTest {
 protected:
  void SetUp() override {
    MemRepoTest::SetUp();
    Put("storage/big.bin", RandomBytes(24 << 20, 20261201));
    auto snap = Backup();
    ASSERT_TRUE(snap) << snap.error().message;
    auto packs = backend_->List("data/");
    ASSERT_TRUE(packs);
    ASSERT_FALSE(packs->empty());
    // The data pack (the tree may have one of its own), well over one segment.
    const auto& data_pack = *std::max_element(
        packs->begin(), packs->end(), [](const auto& a, const auto& b) { return a.size < b.size; });
    pack_ = "/repo/" + data_pack.name;
    packs_ = packs->size();
    ASSERT_GT(data_pack.size, uint64_t{5} << 20);  // one per worker, at least 24 MiB / 4
  }

  VerifyReport Verify(const std::vector<std::string>& ids = {}) {
    Reopen();
    auto report = VerifyBackups(*repo_, quiet_, ids);
    EXPECT_TRUE(report) << report.error().message;
    return report ? *report : VerifyReport{};
  }

  std::string pack_;
  size_t packs_ = 0;
};

TEST_F(VerifierMemTest, APackOfManySegmentsVerifiesClean) {
  VerifyReport r = Verify();
  EXPECT_TRUE(r.problems.empty()) << r.problems.front();
  EXPECT_EQ(r.packs_checked, packs_);
  EXPECT_GE(r.blobs_checked, 4u);  // 24 MiB in chunks of 0.5-8 MiB, and the tree
}

TEST_F(VerifierMemTest, AFlippedByteAcrossASegmentEndNamesItsBlobAndThePack) {
  std::string bytes = *env_.ReadFile(pack_);
  bytes[(4 << 20) + 100] ^= 0x40;
  ASSERT_TRUE(io::WriteFileDurably(env_, pack_, bytes));
  VerifyReport r = Verify();
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_NE(r.problems[0].find("does not match its name"), std::string::npos) << r.problems[0];
  EXPECT_NE(r.problems[1].find("is damaged"), std::string::npos) << r.problems[1];
  EXPECT_NE(r.problems[1].find("big.bin"), std::string::npos) << r.problems[1];
}

TEST_F(VerifierMemTest, ATruncatedPackNamesTheBlobsBeyondItsEnd) {
  // A second backup of the same bytes with a new mtime: its tree goes into a pack of its own,
  // so the cut below never takes the tree the walk needs (the walk would stop there).
  env_.Advance(std::chrono::hours(1));
  Put("storage/big.bin", *env_.ReadFile("/app/storage/big.bin"));
  auto second = Backup();
  ASSERT_TRUE(second) << second.error().message;
  std::string bytes = *env_.ReadFile(pack_);
  bytes.resize(bytes.size() / 2);
  ASSERT_TRUE(io::WriteFileDurably(env_, pack_, bytes));
  VerifyReport r = Verify({second->id});
  ASSERT_GE(r.problems.size(), 2u) << (r.problems.empty() ? "" : r.problems[0]);
  EXPECT_NE(r.problems[0].find("does not match its name"), std::string::npos) << r.problems[0];
  size_t beyond = 0, damaged = 0;
  for (const auto& p : r.problems) {
    beyond += p.find("beyond the pack's end") != std::string::npos;
    damaged += p.find("is damaged") != std::string::npos;
  }
  EXPECT_GE(beyond, 1u);
  EXPECT_EQ(damaged, 0u);  // the blobs before the cut are whole
}

class VerifierEncryptedMemTest : public MemRepoTest {
 protected:
  void SetUp() override {
    keys_.cipher = crypto::Cipher::kAes256Gcm;
    keys_.passphrase = [] { return Result<std::string>("verify-in-place"); };
    keys_.scrypt = {.n = 1024, .r = 8, .p = 1};
    MemRepoTest::SetUp();
    // Blobs of every kind a pack holds: compressed (text), stored as is (random), small.
    const std::string random = RandomBytes(12 << 20, 20261202);
    std::string text;
    for (int i = 0; text.size() < (6u << 20); ++i)
      text += "line " + std::to_string(i) + " of text\n";
    Put("storage/random.bin", random);
    Put("storage/text.txt", text);
    for (int i = 0; i < 50; ++i)
      Put("storage/small/" + std::to_string(i), "small " + std::to_string(i));
    auto snap = Backup();
    ASSERT_TRUE(snap) << snap.error().message;
  }

  VerifyReport Verify() {
    Reopen();
    EXPECT_TRUE(repo_->encrypted());
    auto report = VerifyBackups(*repo_, quiet_, {});
    EXPECT_TRUE(report) << report.error().message;
    return report ? *report : VerifyReport{};
  }

  std::map<std::string, std::string> Packs() {
    std::map<std::string, std::string> packs;
    auto list = backend_->List("data/");
    EXPECT_TRUE(list);
    if (list) {
      for (const auto& p : *list) packs[p.name] = Read("/repo/" + p.name);
    }
    return packs;
  }
};

TEST_F(VerifierEncryptedMemTest, ChecksEveryBlobAndLeavesThePacksAsTheyWere) {
  const auto before = Packs();
  VerifyReport first = Verify();
  EXPECT_TRUE(first.problems.empty()) << first.problems.front();
  EXPECT_GE(first.blobs_checked, 50u + 3u);
  EXPECT_EQ(Packs(), before);
  VerifyReport again = Verify();  // nothing was opened over what a second verify reads
  EXPECT_TRUE(again.problems.empty()) << again.problems.front();
  EXPECT_EQ(again.blobs_checked, first.blobs_checked);
}

TEST_F(VerifierEncryptedMemTest, AFlippedByteInAnEncryptedBlobNamesItAndNoOther) {
  const auto packs = Packs();
  const auto largest = std::max_element(
      packs.begin(), packs.end(),
      [](const auto& a, const auto& b) { return a.second.size() < b.second.size(); });
  std::string bytes = largest->second;
  bytes[bytes.size() / 3] ^= 0x01;
  ASSERT_TRUE(io::WriteFileDurably(env_, "/repo/" + largest->first, bytes));
  VerifyReport r = Verify();
  ASSERT_EQ(r.problems.size(), 2u) << (r.problems.empty() ? "" : r.problems[0]);
  EXPECT_NE(r.problems[0].find("does not match its name"), std::string::npos) << r.problems[0];
  EXPECT_NE(r.problems[1].find("is damaged"), std::string::npos) << r.problems[1];
  EXPECT_NE(r.problems[1].find("authentication failed"), std::string::npos) << r.problems[1];
}

}  // namespace
}  // namespace velin::backup
