// WriteOptions::direct: files written around the page cache hold exactly the bytes appended,
// whatever the sizes and alignment of the appends, with Sync() or WriteAt() in between, on a
// file system with O_DIRECT (the temp dir's) and on one that may refuse it (/dev/shm).
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

#include "support/test_support.hpp"
#include "velin/io/env.hpp"

namespace velin::io {
namespace {

using velin::testing::ReadFileOrDie;
using velin::testing::TempDir;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

// Appends `data` in pieces of the given sizes (cycled), then closes.
void WritePieces(const std::string& path, const std::string& data, std::vector<size_t> pieces,
                 bool sync_midway) {
  WriteOptions wo;
  wo.direct = true;
  wo.exclusive = true;
  auto file = Env::Default().NewWritableFile(path, wo);
  ASSERT_TRUE(file) << file.error().message;
  size_t pos = 0;
  for (size_t i = 0; pos < data.size(); ++i) {
    size_t n = std::min(pieces[i % pieces.size()], data.size() - pos);
    ASSERT_TRUE((*file)->Append(std::string_view(data).substr(pos, n)));
    pos += n;
    if (sync_midway && i == 3) {
      ASSERT_TRUE((*file)->Sync());
    }
  }
  ASSERT_TRUE((*file)->Sync());
  ASSERT_TRUE((*file)->Close());
}

TEST(DirectWrite, HoldsExactlyTheAppendedBytes) {
  TempDir dir;
  int n = 0;
  for (size_t size : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{1 << 20},
                      size_t{(1 << 20) + 1}, size_t{5 * (1 << 20) + 12345}}) {
    for (auto pieces : std::vector<std::vector<size_t>>{{size + 1}, {1000, 4096, 77777}, {3}}) {
      if (pieces[0] == 3 && size > 100000) continue;  // byte-sized appends of megabytes: slow
      for (bool sync_midway : {false, true}) {
        std::string data = RandomBytes(size, static_cast<uint32_t>(size));
        std::string path = dir / ("f" + std::to_string(n++));
        WritePieces(path, data, pieces, sync_midway);
        EXPECT_EQ(ReadFileOrDie(path), data) << "size " << size << " pieces " << pieces[0];
      }
    }
  }
}

TEST(DirectWrite, WriteAtAfterDirectAppendsKeepsEverything) {
  TempDir dir;
  std::string path = dir / "f";
  std::string data = RandomBytes(3 * (1 << 20) + 100, 7);
  WriteOptions wo;
  wo.direct = true;
  auto file = Env::Default().NewWritableFile(path, wo);
  ASSERT_TRUE(file);
  ASSERT_TRUE((*file)->Append(data));
  ASSERT_TRUE((*file)->WriteAt(10, "XYZ"));
  ASSERT_TRUE((*file)->Append("tail"));
  ASSERT_TRUE((*file)->Close());
  data.replace(10, 3, "XYZ");
  EXPECT_EQ(ReadFileOrDie(path), data + "tail");
}

TEST(DirectWrite, FallsBackWhereTheFileSystemRefuses) {
  // tmpfs: older kernels refuse O_DIRECT, newer accept it; either way the bytes must be right.
  std::string path = "/dev/shm/velin-direct-" + std::to_string(::getpid());
  std::string data = RandomBytes(2 * (1 << 20) + 3, 9);
  WritePieces(path, data, {65536}, false);
  EXPECT_EQ(ReadFileOrDie(path), data);
  ::unlink(path.c_str());
}

TEST(DirectWrite, DurableWriteOfALargeObject) {
  TempDir dir;
  std::string path = dir / "pack";
  std::string data = RandomBytes(16 * (1 << 20) + 4321, 3);
  ASSERT_TRUE(WriteFileDurably(Env::Default(), path, data, 0600));
  EXPECT_EQ(ReadFileOrDie(path), data);
}

TEST(DirectRead, UnalignedRangesMatchNormalReads) {
  TempDir dir;
  std::string path = dir / "f";
  std::string data = RandomBytes(3 * (1 << 20) + 17, 11);
  velin::testing::WriteFile(path, data);  // still in the page cache, possibly dirty
  auto file = Env::Default().NewRandomAccessFile(path);
  ASSERT_TRUE(file);
  for (uint64_t offset : {uint64_t{0}, uint64_t{1}, uint64_t{4095}, uint64_t{4096},
                          uint64_t{(1 << 20) + 3}, uint64_t{data.size() - 10}}) {
    for (size_t n : {size_t{1}, size_t{4096}, size_t{100000}, size_t{data.size()}}) {
      std::string buf(n, '\0');
      auto got = (*file)->ReadDirect(offset, n, buf.data());
      ASSERT_TRUE(got) << got.error().message;
      size_t want = std::min<size_t>(n, data.size() - offset);
      ASSERT_EQ(*got, want) << offset << " " << n;
      EXPECT_EQ(buf.substr(0, want), data.substr(offset, want)) << offset << " " << n;
    }
  }
}

}  // namespace
}  // namespace velin::io
