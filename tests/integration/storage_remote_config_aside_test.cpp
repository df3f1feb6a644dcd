// An SFTP server's rename never replaces, so a Put over an existing object (the config, by
// `backup upgrade`) moves the old one aside to `config.tmp-old-<12 hex>`, renames the new one
// in, then deletes the old. A velin killed (or its connection lost) between the two renames
// left `config` only under that aside name: every later command called the repository damaged
// (exit 4, "put back `config` from a copy") until someone renamed it by hand. Reproduced with a
// real `backup upgrade` killed while the server held the reply to its first rename (strace
// delaying sshd's unlink); here the state it leaves is made directly.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// A repository on an SFTP server, `url_` (`repo_` on the server's disk).
class StorageRemoteConfigAside : public ::testing::Test {
 protected:
  // `app_` (with `extra_backup` in its [backup] table) and its first backup, of storage/a.txt.
  void CreateFirstBackup(const std::string& extra_backup = "") {
    app_ = std::make_unique<BackupApp>(std::vector<std::string>{"storage"},
                                       extra_backup + ssh_.StorageConfig());
    WriteFile(app_->root() + "/storage/a.txt", "a\n");
    RunResult created = app_->Run({"backup", "create", "--destination", url_});
    ASSERT_EQ(created.exit_code, 0) << created.err;
  }

  SshServer ssh_;
  const std::string url_ = ssh_.Url(ssh_.files_dir() + "/repo");
  const std::string repo_ = ssh_.files_dir() + "/repo";
  std::unique_ptr<BackupApp> app_;
};

TEST_F(StorageRemoteConfigAside, AConfigLeftMovedAsideIsPutBackByTheNextCommand) {
  ASSERT_NO_FATAL_FAILURE(CreateFirstBackup());
  const std::string aside = repo_ + "/config.tmp-old-0123456789ab";
  fs::rename(repo_ + "/config", aside);

  RunResult listed = app_->Run({"backup", "list", "--destination", url_});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("-full"), std::string::npos) << listed.out;
  EXPECT_NE(listed.err.find("config was missing and config.tmp-old-0123456789ab held it"),
            std::string::npos)
      << listed.err;
  EXPECT_TRUE(fs::exists(repo_ + "/config"));
  EXPECT_FALSE(fs::exists(aside));

  RunResult again = app_->Run({"backup", "create", "--destination", url_});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  RunResult verified = app_->Run({"backup", "verify", "--all", "--destination", url_});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
}

TEST_F(StorageRemoteConfigAside, AnUpgradeInterruptedBetweenItsRenamesCanBeRunAgain) {
  ASSERT_NO_FATAL_FAILURE(CreateFirstBackup());
  WriteOlderFormatConfig(repo_, 3);
  // What the killed upgrade left: the old config aside, the new one still under its upload name.
  fs::rename(repo_ + "/config", repo_ + "/config.tmp-old-00112233aabb");
  WriteFile(repo_ + "/config.tmp-445566778899", "{\"half\": ");

  RunResult upgraded = app_->Run({"backup", "upgrade", "--destination", url_});
  EXPECT_EQ(upgraded.exit_code, 0) << upgraded.err;
  EXPECT_NE(upgraded.out.find("format version 4"), std::string::npos) << upgraded.out;
  EXPECT_NE(ReadFileOrDie(repo_ + "/config").find("\"format_version\": 4"), std::string::npos);
  RunResult verified = app_->Run({"backup", "verify", "--all", "--destination", url_});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
}

// The verify record is replaced the same way by every verify: one killed between the renames
// lost it, and `status` said "no verify" (exit 1 with monitor.max_verify_age) until the next.
TEST_F(StorageRemoteConfigAside, AVerifyRecordLeftMovedAsideIsPutBackByTheNextCommand) {
  ASSERT_NO_FATAL_FAILURE(CreateFirstBackup("[monitor]\nmax_verify_age = \"7d\"\n"));
  RunResult verified = app_->Run({"backup", "verify", "--all", "--destination", url_});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  ASSERT_EQ(app_->Run({"backup", "verify", "--all", "--destination", url_}).exit_code, 0);
  ASSERT_TRUE(fs::exists(repo_ + "/state/verify"));
  fs::rename(repo_ + "/state/verify", repo_ + "/state/verify.tmp-old-0123456789ab");

  RunResult status = app_->Run({"backup", "status", "--destination", url_});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_NE(status.out.find("intact"), std::string::npos) << status.out;
  EXPECT_TRUE(fs::exists(repo_ + "/state/verify"));
  EXPECT_FALSE(fs::exists(repo_ + "/state/verify.tmp-old-0123456789ab"));
}

}  // namespace
}  // namespace velin::testing
