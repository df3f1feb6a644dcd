// The tree of the batching readers' tests (restorer_neighbours_mem_test.cpp,
// snapshot_copier_mem_test.cpp): 300 small files of a few hundred bytes in three directories
// and one file of several chunks, made under /app and checked back after a restore; and a
// blob's stored bytes damaged in place.
#pragma once

#include <string>

#include "mem_repo.hpp"
#include "velin/repo/pack.hpp"

namespace velin::backup {

class SmallFilesTreeTest : public MemRepoTest {
 protected:
  static std::string Rel(int d, int i) {
    return "storage/d" + std::to_string(d) + "/f" + std::to_string(i);
  }

  // With `copies`, every tenth file is a copy of the one before it: 270 distinct small blobs
  // instead of 300.
  void MakeTree(bool copies) {
    for (int d = 0; d < 3; ++d) {
      for (int i = 0; i < 100; ++i) {
        const int k = copies && i % 10 == 9 ? i - 1 : i;
        Put(Rel(d, i), "file " + std::to_string(d) + "/" + std::to_string(k) + " " +
                           std::string(200 + 13 * k, static_cast<char>('a' + k % 26)));
      }
    }
    Put("storage/large.bin", std::string(3 << 20, 'L'));
  }

  // Flips one byte in the middle of the stored bytes of blob `id` in its pack (as the index
  // opened last says); flipped again, the pack is as it was.
  void FlipStoredByte(const repo::BlobId& id) {
    auto e = repo_->index().Find(id);
    ASSERT_TRUE(e);
    const std::string pack = "/repo/" + repo::PackObjectName(repo_->index().PackId(e->pack));
    std::string bytes = Read(pack);
    ASSERT_GT(bytes.size(), e->offset + e->length);
    bytes[e->offset + e->length / 2] ^= 0x20;
    ASSERT_TRUE(io::WriteFileDurably(env_, pack, bytes, 0644));
  }

  // The tree restored under `target` is the one MakeTree made.
  void ExpectTreeBack(const std::string& target) {
    for (int d = 0; d < 3; ++d) {
      for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(Read(target + "/" + Rel(d, i)), Read("/app/" + Rel(d, i))) << Rel(d, i);
      }
    }
    EXPECT_EQ(Read(target + "/storage/large.bin"), std::string(3 << 20, 'L'));
  }
};

}  // namespace velin::backup
