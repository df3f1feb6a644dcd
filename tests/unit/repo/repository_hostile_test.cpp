// A repository's own objects are input velin does not trust: a config it cannot use is damage
// naming the repository (never a crash, never a new config over it), a second init is refused,
// a snapshot object under another backup's name is damage, and backup names resolve exactly,
// by a unique prefix, or not at all with one line saying why.
#include <gtest/gtest.h>

#include "velin/io/mem_env.hpp"
#include "velin/repo/repository.hpp"
#include "velin/repo/snapshot.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::repo {
namespace {

class RepositoryHostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = storage::LocalBackend::Open(env_, "/repo", true);
    ASSERT_TRUE(b) << b.error().message;
    backend_ = std::move(*b);
    auto r = Repository::Open(*backend_, true);
    ASSERT_TRUE(r) << r.error().message;
    auto config = backend_->Get("config");
    ASSERT_TRUE(config) << config.error().message;
    config_ = *config;
  }

  // Commits an empty snapshot named `id`, stamped `unix_time`.
  void Commit(const std::string& id, int64_t unix_time) {
    auto r = Repository::Open(*backend_, false);
    ASSERT_TRUE(r) << r.error().message;
    Snapshot s;
    s.id = id;
    s.unix_time = unix_time;
    s.host = "web1";
    auto sealed = (*r)->SealObject("snapshot", id, EncodeSnapshot(s));
    ASSERT_TRUE(sealed) << sealed.error().message;
    ASSERT_TRUE(backend_->Put(SnapshotObjectName(id), *sealed));
  }

  std::unique_ptr<Repository> OpenOrDie() {
    auto r = Repository::Open(*backend_, false);
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::move(*r) : nullptr;
  }

  io::MemEnv env_;
  std::unique_ptr<storage::LocalBackend> backend_;
  std::string config_;
};

TEST_F(RepositoryHostileTest, AConfigItCannotUseIsDamageNamingTheRepository) {
  const std::string good_chunker = R"("chunker": {"algorithm": "fastcdc-gear", "min_size": 524288,
      "avg_size": 1048576, "max_size": 8388608, "seed": 1})";
  struct Case {
    std::string text;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"not json", "is damaged"},
           {R"({"format_version": 2, "id": "ab"})", "is damaged"},
           {R"({"format_version": 2, "id": "ab", )" + good_chunker + R"(, "encryption": "rot13"})",
            "has an invalid encryption"},
           {R"({"format_version": 2, "id": "ab", "chunker": {"algorithm": "fastcdc-gear",
               "min_size": 0, "avg_size": 1048576, "max_size": 8388608, "seed": 1}})",
            "has invalid chunker sizes"},
           {R"({"format_version": 2, "id": "ab", "chunker": {"algorithm": "fastcdc-gear",
               "min_size": 1000, "avg_size": 3000, "max_size": 8388608, "seed": 1}})",
            "has invalid chunker sizes"},
           {R"({"format_version": 2, "id": "ab", "chunker": {"algorithm": "fastcdc-gear",
               "min_size": 524288, "avg_size": 1048576, "max_size": 134217728, "seed": 1}})",
            "has invalid chunker sizes"},
       }) {
    ASSERT_TRUE(backend_->Put("config", c.text));
    auto r = Repository::Open(*backend_, true);  // create: still never a new config over it
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code, ExitCode::kDamage) << r.error().message;
    EXPECT_NE(r.error().message.find("repository config " + backend_->Location() + "/config"),
              std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
    EXPECT_EQ(*backend_->Get("config"), c.text);
  }
  ASSERT_TRUE(backend_->Put("config", config_));
  EXPECT_NE(OpenOrDie(), nullptr);
}

TEST_F(RepositoryHostileTest, ASecondInitIsRefusedAndLeavesTheConfig) {
  auto again = Repository::Init(*backend_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ExitCode::kUsage);
  EXPECT_NE(again.error().message.find("a repository already exists at " + backend_->Location()),
            std::string::npos)
      << again.error().message;
  EXPECT_EQ(*backend_->Get("config"), config_);
}

TEST_F(RepositoryHostileTest, ASnapshotUnderAnotherNameIsDamage) {
  Commit("2026-11-30T10:00-full", 1'800'000'000);
  auto stored = backend_->Get(SnapshotObjectName("2026-11-30T10:00-full"));
  ASSERT_TRUE(stored);
  ASSERT_TRUE(backend_->Put(SnapshotObjectName("2026-11-30T11:00-full"), *stored));
  auto repo = OpenOrDie();
  ASSERT_NE(repo, nullptr);
  auto moved = repo->LoadSnapshot("2026-11-30T11:00-full");
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code, ExitCode::kDamage);
  EXPECT_NE(
      moved.error().message.find("snapshot 2026-11-30T11:00-full: holds id 2026-11-30T10:00-full"),
      std::string::npos)
      << moved.error().message;
  std::vector<ObjectDamage> damage;
  auto all = repo->LoadAllSnapshots(&damage);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 1u);  // the real one
  ASSERT_EQ(damage.size(), 1u);
  EXPECT_EQ(damage[0].object, SnapshotObjectName("2026-11-30T11:00-full"));
  auto strict = repo->LoadAllSnapshots(nullptr);  // no list to put damage on: an error
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().code, ExitCode::kDamage);
}

TEST_F(RepositoryHostileTest, BackupNamesResolveExactlyByAUniquePrefixOrNotAtAll) {
  auto repo = OpenOrDie();
  ASSERT_NE(repo, nullptr);
  auto none = repo->ResolveSnapshotId("latest");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ExitCode::kUsage);
  EXPECT_NE(none.error().message.find("has no backups"), std::string::npos);

  Commit("2026-11-30T10:00-full", 1'800'000'000);
  Commit("2026-11-30T10:00-full-2", 1'800'000'030);
  Commit("2026-11-30T12:00-incr", 1'800'007'200);
  EXPECT_EQ(*repo->ResolveSnapshotId("2026-11-30T10:00-full"), "2026-11-30T10:00-full");
  EXPECT_EQ(*repo->ResolveSnapshotId("2026-11-30T12"), "2026-11-30T12:00-incr");
  EXPECT_EQ(*repo->ResolveSnapshotId("latest"), "2026-11-30T12:00-incr");
  auto ambiguous = repo->ResolveSnapshotId("2026-11-30T1");
  ASSERT_FALSE(ambiguous);
  EXPECT_EQ(ambiguous.error().code, ExitCode::kUsage);
  EXPECT_NE(ambiguous.error().message.find("backup '2026-11-30T1' is ambiguous (3 backups start "
                                           "with it: 2026-11-30T10:00-full, "
                                           "2026-11-30T10:00-full-2, ...)"),
            std::string::npos)
      << ambiguous.error().message;
  auto missing = repo->ResolveSnapshotId("2025");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no backup '2025' in " + backend_->Location()),
            std::string::npos);

  // Every snapshot unreadable: "latest" is damage, not "no backup".
  for (const char* id :
       {"2026-11-30T10:00-full", "2026-11-30T10:00-full-2", "2026-11-30T12:00-incr"}) {
    ASSERT_TRUE(backend_->Put(SnapshotObjectName(id), "garbage"));
  }
  auto latest = repo->ResolveSnapshotId("latest");
  ASSERT_FALSE(latest);
  EXPECT_EQ(latest.error().code, ExitCode::kDamage);
  EXPECT_NE(latest.error().message.find("no readable backup in " + backend_->Location()),
            std::string::npos)
      << latest.error().message;
}

}  // namespace
}  // namespace velin::repo
