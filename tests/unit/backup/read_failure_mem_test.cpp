// A pack that cannot be read (the server went away, EIO, a 403) says nothing about the data:
// restore and verify fail with exit 1 and the cause, not exit 4 ("damage"), which a monitor
// reads as a damaged repository. A pack that is missing or shorter than its index says is
// still damage (exit 4).
#include <cerrno>

#include "mem_repo.hpp"
#include "support/forwarding_backend.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/backup/verifier.hpp"

namespace velin::backup {
namespace {

// Every ranged read of a pack fails with EIO, as a disk or a server that went away makes it.
class UnreadablePacksBackend : public testing::ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override {
    if (name.starts_with("data/")) {
      ++pack_reads_;
      return ErrnoError("get " + name, EIO);
    }
    return base().GetRange(name, offset, length);
  }
  int pack_reads_ = 0;
};

class ReadFailureMemTest : public MemRepoTest {
 protected:
  void SetUp() override {
    MemRepoTest::SetUp();
    Put("storage/a/one.txt", "one");
    Put("storage/b/two.txt", "two");
    auto snap = Backup();
    ASSERT_TRUE(snap) << snap.error().message;
    snapshot_ = *snap;
    failing_ = std::make_unique<UnreadablePacksBackend>(*backend_);
    auto r = repo::Repository::Open(*failing_, false, keys_);
    ASSERT_TRUE(r) << r.error().message;
    failing_repo_ = std::move(*r);
    ASSERT_TRUE(failing_repo_->LoadIndex());
  }

  repo::Snapshot snapshot_;
  std::unique_ptr<UnreadablePacksBackend> failing_;
  std::unique_ptr<repo::Repository> failing_repo_;
};

TEST_F(ReadFailureMemTest, ARestoreWhosePacksCannotBeReadFailsWithTheCauseNotDamage) {
  RestoreOptions o;
  o.target = "/out";
  auto restored = RestoreSnapshot(*failing_repo_, snapshot_, env_, quiet_, o);
  ASSERT_FALSE(restored);
  EXPECT_EQ(restored.error().code, ExitCode::kFailed) << restored.error().message;
  EXPECT_EQ(restored.error().sys_errno, EIO) << restored.error().message;
  EXPECT_NE(restored.error().message.find("pack "), std::string::npos) << restored.error().message;
}

TEST_F(ReadFailureMemTest, AVerifyWhosePacksCannotBeReadFailsWithTheCauseNotDamage) {
  auto report = VerifyBackups(*failing_repo_, quiet_, {snapshot_.id});
  ASSERT_FALSE(report) << "no report: the verify could not read what it checks";
  EXPECT_EQ(report.error().code, ExitCode::kFailed) << report.error().message;
  EXPECT_EQ(report.error().sys_errno, EIO) << report.error().message;
}

TEST_F(ReadFailureMemTest, AVerifyStopsReadingAtTheFirstFailedRead) {
  // Against a server that went away, every further read would run its own retry chain before
  // the verify ends with the same error: the first failed read ends it.
  std::vector<std::string> ids{snapshot_.id};
  for (int i = 0; i < 3; ++i) {
    Put("storage/c/" + std::to_string(i) + ".txt", "more " + std::to_string(i));
    auto snap = Backup();
    ASSERT_TRUE(snap) << snap.error().message;
    ids.push_back(snap->id);
  }
  auto r = repo::Repository::Open(*failing_, false, keys_);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE((*r)->LoadIndex());
  failing_->pack_reads_ = 0;
  auto report = VerifyBackups(**r, quiet_, ids);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().sys_errno, EIO) << report.error().message;
  EXPECT_EQ(failing_->pack_reads_, 1);
}

TEST_F(ReadFailureMemTest, AMissingPackIsStillDamage) {
  auto packs = backend_->List("data/");
  ASSERT_TRUE(packs);
  for (const auto& p : *packs) ASSERT_TRUE(backend_->Delete(p.name));
  Reopen();
  RestoreOptions o;
  o.target = "/out";
  auto restored = RestoreSnapshot(*repo_, snapshot_, env_, quiet_, o);
  ASSERT_FALSE(restored);
  EXPECT_EQ(restored.error().code, ExitCode::kDamage) << restored.error().message;
  auto report = VerifyBackups(*repo_, quiet_, {snapshot_.id});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_FALSE(report->problems.empty());
}

TEST_F(ReadFailureMemTest, ATruncatedPackIsStillDamage) {
  auto packs = backend_->List("data/");
  ASSERT_TRUE(packs);
  for (const auto& p : *packs) {
    auto bytes = backend_->Get(p.name);
    ASSERT_TRUE(bytes);
    ASSERT_TRUE(backend_->Put(p.name, bytes->substr(0, 10)));
  }
  Reopen();
  repo::BlobId any = snapshot_.sources.front().tree;
  auto tree = repo_->ReadTree(any);
  ASSERT_FALSE(tree);
  EXPECT_EQ(tree.error().code, ExitCode::kDamage) << tree.error().message;
}

}  // namespace
}  // namespace velin::backup
