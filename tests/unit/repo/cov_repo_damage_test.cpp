// Repository parsers and opening on the inputs the other repo tests leave out: a blob that is
// no tree, an uncompressed blob of the wrong length, a pack whose header points past its data,
// an index object whose contents do not decode, no repository where one is expected, and a
// config object that cannot be read. Each is refused as damage or a usage error, with one line.
#include <gtest/gtest.h>

#include <cerrno>

#include "support/test_support.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/repo/codec.hpp"
#include "velin/repo/pack.hpp"
#include "velin/repo/repository.hpp"
#include "velin/repo/tree.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::repo {
namespace {

TEST(CovRepoParsers, ABlobThatIsNoTreeIsDamage) {
  for (std::string_view data : {std::string_view(""), std::string_view("VLNTREE9\0\0", 10),
                                std::string_view("{\"not\": \"a tree\"}")}) {
    auto tree = DecodeTree(data);
    ASSERT_FALSE(tree);
    EXPECT_EQ(tree.error().code, ExitCode::kDamage);
    EXPECT_EQ(tree.error().message, "not a tree (bad magic)");
  }
}

TEST(CovRepoParsers, AnUncompressedBlobOfAnotherLengthIsDamage) {
  auto ok = Decompress(Codec::kNone, "abcde", 5);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, "abcde");
  for (uint64_t raw : {4u, 6u}) {
    auto bad = Decompress(Codec::kNone, "abcde", raw);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, ExitCode::kDamage);
    EXPECT_EQ(bad.error().message, "stored length differs from raw length");
  }
}

TEST(CovRepoParsers, APackHeaderPointingPastTheDataIsDamageNamingTheBlob) {
  PackBuilder builder;
  const BlobId id = *ParseBlobId(std::string(64, 'c'));
  builder.Add(BlobType::kData, id, Codec::kNone, 6, "abcdef");
  const std::string pack = builder.Finish();
  ASSERT_TRUE(ParsePackHeader(pack));
  // The blob's bytes cut off the front: the header still lists 6 bytes at offset 0.
  const std::string cut = pack.substr(6);
  auto parsed = ParsePackHeader(cut);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ExitCode::kDamage);
  EXPECT_EQ(parsed.error().message,
            "pack header lists blob " + id.Short() + " beyond the pack's data");
}

// A backend whose Get of "config" fails with EIO: only for fault injection.
class UnreadableConfigBackend : public storage::Backend {
 public:
  explicit UnreadableConfigBackend(std::unique_ptr<storage::Backend> base)
      : base_(std::move(base)) {}
  std::string Location() const override { return base_->Location(); }
  Status Put(const std::string& name, std::string_view data) override {
    return base_->Put(name, data);
  }
  Result<std::string> Get(const std::string& name) override {
    if (name == "config") return ErrnoError("reading config", EIO);
    return base_->Get(name);
  }
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override {
    return base_->GetRange(name, offset, length);
  }
  Result<std::vector<storage::ObjectInfo>> List(const std::string& prefix) override {
    return base_->List(prefix);
  }
  Status Delete(const std::string& name) override { return base_->Delete(name); }
  Result<std::optional<storage::ObjectInfo>> Stat(const std::string& name) override {
    return base_->Stat(name);
  }

 private:
  std::unique_ptr<storage::Backend> base_;
};

class CovRepoOpenTest : public ::testing::Test {
 protected:
  std::unique_ptr<storage::LocalBackend> Local() {
    auto b = storage::LocalBackend::Open(env_, "/repo", true);
    EXPECT_TRUE(b) << b.error().message;
    return std::move(*b);
  }
  io::MemEnv env_;
};

TEST_F(CovRepoOpenTest, NoRepositoryWhereOneIsExpectedIsAUsageErrorAndCreatesNothing) {
  auto backend = Local();
  auto repo = Repository::Open(*backend, false);
  ASSERT_FALSE(repo);
  EXPECT_EQ(repo.error().code, ExitCode::kUsage);
  EXPECT_EQ(repo.error().message, "no repository at " + backend->Location() +
                                      " (run 'velin backup init' or 'velin backup create')");
  auto objects = backend->List("");
  ASSERT_TRUE(objects);
  EXPECT_TRUE(objects->empty());
}

TEST_F(CovRepoOpenTest, AConfigThatCannotBeReadIsNamedWithItsErrno) {
  {
    auto backend = Local();
    ASSERT_TRUE(Repository::Open(*backend, true));
  }
  UnreadableConfigBackend backend(Local());
  auto repo = Repository::Open(backend, false);
  ASSERT_FALSE(repo);
  EXPECT_EQ(repo.error().sys_errno, EIO);
  EXPECT_EQ(repo.error().message.rfind("repository " + backend.Location() + ": reading config", 0),
            0u)
      << repo.error().message;
}

TEST_F(CovRepoOpenTest, AnIndexObjectThatDoesNotDecodeIsReportedAndTheRestLoads) {
  auto backend = Local();
  {
    auto repo = Repository::Open(*backend, true);
    ASSERT_TRUE(repo) << repo.error().message;
  }
  // Named by its content's hash, so only decoding can tell it is not an index.
  const std::string garbage = "this is not an index object";
  auto repo = Repository::Open(*backend, false);
  ASSERT_TRUE(repo);
  auto hash = (*repo)->HashBlob(garbage);
  ASSERT_TRUE(hash);
  ASSERT_TRUE(backend->Put("index/" + hash->Hex(), garbage));
  ASSERT_TRUE((*repo)->LoadIndex());
  ASSERT_EQ((*repo)->index_damage().size(), 1u);
  EXPECT_EQ((*repo)->index_damage()[0].object, "index/" + hash->Hex());
  EXPECT_FALSE((*repo)->index_damage()[0].message.empty());
}

}  // namespace
}  // namespace velin::repo
