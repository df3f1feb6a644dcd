// `backup dump` on a MemEnv: a file's bytes, a hard link's through its group's file; a directory,
// a symlink or a path the backup lacks is a usage error naming it; a repository without its
// index or a damaged chunk is damage, and no byte of a damaged chunk reaches the sink.
#include <functional>

#include "mem_repo.hpp"
#include "velin/backup/inspect.hpp"
#include "velin/repo/index.hpp"
#include "velin/repo/pack.hpp"

namespace velin::backup {
namespace {

class DumpMemTest : public MemRepoTest {
 protected:
  void SetUp() override {
    MemRepoTest::SetUp();
    Put("storage/a.txt", "alpha\n");
    Put("storage/sub/b.txt", "beta\n");
    ASSERT_TRUE(env_.Symlink("../a.txt", "/app/storage/sub/link"));
    ASSERT_TRUE(env_.HardLink("/app/storage/a.txt", "/app/storage/sub/a-again.txt"));
    auto snap = Backup();
    ASSERT_TRUE(snap) << snap.error().message;
    snap_ = *snap;
  }

  // Dumps `path`: what reached the sink, or the error.
  Result<std::string> Dump(const std::string& path) {
    Reopen();
    std::string out;
    Status st = DumpPath(*repo_, snap_, path, [&](std::string_view piece) {
      out.append(piece);
      return Ok();
    });
    if (!st) {
      sunk_ = out;
      return tl::unexpected(st.error());
    }
    return out;
  }

  void ExpectError(const Result<std::string>& r, ExitCode code, const std::string& part) {
    ASSERT_FALSE(r.has_value()) << "dumped: " << *r;
    EXPECT_EQ(r.error().code, code) << r.error().message;
    EXPECT_NE(r.error().message.find(part), std::string::npos) << r.error().message;
    EXPECT_EQ(sunk_, "") << "bytes reached the sink before the error";
  }

  repo::Snapshot snap_;
  std::string sunk_;
};

TEST_F(DumpMemTest, AFileAndAHardLinkGiveTheirBytes) {
  auto a = Dump("storage/a.txt");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(*a, "alpha\n");
  auto again = Dump("storage/sub/a-again.txt");  // the second name of a hard link group
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, "alpha\n");
  auto b = Dump("./storage/sub/b.txt");  // a leading ./ is the same path
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(*b, "beta\n");
}

TEST_F(DumpMemTest, WhatIsNoFileIsAUsageErrorNamingIt) {
  ExpectError(Dump("storage/sub"), ExitCode::kUsage,
              "'storage/sub' in backup " + snap_.id + " is a directory; dump takes a file");
  ExpectError(Dump("storage/sub/link"), ExitCode::kUsage, "is a symlink to '../a.txt'");
  ExpectError(Dump("storage/none.txt"), ExitCode::kUsage,
              "backup " + snap_.id + " has no path 'storage/none.txt'");
}

TEST_F(DumpMemTest, ARepositoryWithoutItsIndexIsDamageBeforeAnyByte) {
  auto index = backend_->List("index/");
  ASSERT_TRUE(index) << index.error().message;
  ASSERT_FALSE(index->empty());
  for (const auto& o : *index) ASSERT_TRUE(backend_->Delete(o.name));
  ExpectError(Dump("storage/a.txt"), ExitCode::kDamage, "is missing from the index");
}

TEST_F(DumpMemTest, ADamagedChunkIsDamageNamingThePathAndNoneOfItsBytesAreWritten) {
  Reopen();
  auto entry = FindEntry(*repo_, snap_, "storage/a.txt");
  ASSERT_TRUE(entry && *entry);
  ASSERT_EQ((*entry)->node.content.size(), 1u);
  const std::optional<repo::IndexEntry> at = repo_->index().Find((*entry)->node.content.front());
  ASSERT_TRUE(at);
  // Only the chunk's own bytes: the trees that lead to it stay readable.
  const std::string pack = repo::PackObjectName(repo_->index().PackId(at->pack));
  auto bytes = backend_->Get(pack);
  ASSERT_TRUE(bytes) << bytes.error().message;
  std::string damaged = *bytes;
  for (uint32_t i = 0; i < at->length; ++i) damaged[at->offset + i] ^= static_cast<char>(0xff);
  ASSERT_TRUE(backend_->Put(pack, damaged));

  auto r = Dump("storage/a.txt");
  ASSERT_FALSE(r.has_value()) << "dumped: " << *r;
  EXPECT_EQ(r.error().code, ExitCode::kDamage) << r.error().message;
  EXPECT_NE(r.error().message.find("backup " + snap_.id + " 'storage/a.txt'"), std::string::npos)
      << r.error().message;
  EXPECT_EQ(sunk_, "");
}

}  // namespace
}  // namespace velin::backup
