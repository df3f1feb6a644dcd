// Forget on a MemEnv: the backups it removes are durable (their directory fsynced) before it
// reports them gone, since a prune after it removes their data; a failed fsync is its error.
#include <algorithm>
#include <cerrno>

#include "mem_repo.hpp"
#include "support/removal_log_env.hpp"
#include "velin/backup/forget.hpp"

namespace velin::backup {
namespace {

class ForgetMemTest : public MemRepoTest {
 protected:
  // Two backups an hour apart; returns the older one's id.
  std::string TwoBackups() {
    Put("storage/a.txt", "one\n");
    auto first = Backup();
    EXPECT_TRUE(first) << first.error().message;
    env_.Advance(std::chrono::hours(1));
    Put("storage/a.txt", "two\n");
    EXPECT_TRUE(Backup());
    return first ? first->id : "";
  }

  Result<ForgetResult> ForgetAllButLast(velin::testing::RemovalLogEnv& logged) {
    VELIN_ASSIGN(auto backend, storage::LocalBackend::Open(logged, "/repo", false));
    VELIN_ASSIGN(auto repository, repo::Repository::Open(*backend, false));
    RetentionRules rules;
    rules.keep_last = 1;
    return ForgetSnapshots(*repository, rules, env_.Now(), false, {.all = true}, quiet_);
  }
};

TEST_F(ForgetMemTest, TheRemovalIsDurableBeforeForgetReportsIt) {
  const std::string old = TwoBackups();
  velin::testing::RemovalLogEnv logged(env_);
  auto forgotten = ForgetAllButLast(logged);
  ASSERT_TRUE(forgotten) << forgotten.error().message;
  EXPECT_EQ(forgotten->forgotten, 1u);
  const std::vector<std::string> want = {"rm /repo/" + repo::SnapshotObjectName(old),
                                         "sync /repo/snapshots"};
  EXPECT_NE(std::search(logged.log.begin(), logged.log.end(), want.begin(), want.end()),
            logged.log.end());
}

TEST_F(ForgetMemTest, AFailedFsyncIsForgetsError) {
  TwoBackups();
  velin::testing::RemovalLogEnv logged(env_);
  logged.fail_sync_after_rm = "/repo/snapshots";
  auto forgotten = ForgetAllButLast(logged);
  ASSERT_FALSE(forgotten);
  EXPECT_EQ(forgotten.error().sys_errno, EIO) << forgotten.error().message;
}

}  // namespace
}  // namespace velin::backup
