// An SFTP server's rename never replaces, so a Put over an existing object (the config, by
// `backup upgrade`) moves the old one aside to `config.tmp-old-<12 hex>`, renames the new one
// in, then deletes the old. A velin killed (or its connection lost) between the two renames
// left `config` only under that aside name: every later command called the repository damaged
// (exit 4, "put back `config` from a copy") until someone renamed it by hand. Reproduced with a
// real `backup upgrade` killed while the server held the reply to its first rename (strace
// delaying sshd's unlink); here the state it leaves is made directly.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

TEST(StorageRemoteConfigAside, AConfigLeftMovedAsideIsPutBackByTheNextCommand) {
  SshServer ssh;
  BackupApp app({"storage"}, ssh.StorageConfig());
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  const std::string url = ssh.Url(ssh.files_dir() + "/repo");
  const std::string repo = ssh.files_dir() + "/repo";
  RunResult created = app.Run({"backup", "create", "--destination", url});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string aside = repo + "/config.tmp-old-0123456789ab";
  fs::rename(repo + "/config", aside);

  RunResult listed = app.Run({"backup", "list", "--destination", url});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("-full"), std::string::npos) << listed.out;
  EXPECT_NE(listed.err.find("config was missing and config.tmp-old-0123456789ab held it"),
            std::string::npos)
      << listed.err;
  EXPECT_TRUE(fs::exists(repo + "/config"));
  EXPECT_FALSE(fs::exists(aside));

  RunResult again = app.Run({"backup", "create", "--destination", url});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  RunResult verified = app.Run({"backup", "verify", "--all", "--destination", url});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
}

TEST(StorageRemoteConfigAside, AnUpgradeInterruptedBetweenItsRenamesCanBeRunAgain) {
  SshServer ssh;
  BackupApp app({"storage"}, ssh.StorageConfig());
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  const std::string url = ssh.Url(ssh.files_dir() + "/repo");
  const std::string repo = ssh.files_dir() + "/repo";
  RunResult created = app.Run({"backup", "create", "--destination", url});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  WriteOlderFormatConfig(repo, 3);
  // What the killed upgrade left: the old config aside, the new one still under its upload name.
  fs::rename(repo + "/config", repo + "/config.tmp-old-00112233aabb");
  WriteFile(repo + "/config.tmp-445566778899", "{\"half\": ");

  RunResult upgraded = app.Run({"backup", "upgrade", "--destination", url});
  EXPECT_EQ(upgraded.exit_code, 0) << upgraded.err;
  EXPECT_NE(upgraded.out.find("format version 4"), std::string::npos) << upgraded.out;
  EXPECT_NE(ReadFileOrDie(repo + "/config").find("\"format_version\": 4"), std::string::npos);
  RunResult verified = app.Run({"backup", "verify", "--all", "--destination", url});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
}

// The verify record is replaced the same way by every verify: one killed between the renames
// lost it, and `status` said "no verify" (exit 1 with monitor.max_verify_age) until the next.
TEST(StorageRemoteConfigAside, AVerifyRecordLeftMovedAsideIsPutBackByTheNextCommand) {
  SshServer ssh;
  BackupApp app({"storage"}, "[monitor]\nmax_verify_age = \"7d\"\n" + ssh.StorageConfig());
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  const std::string url = ssh.Url(ssh.files_dir() + "/repo");
  const std::string repo = ssh.files_dir() + "/repo";
  ASSERT_EQ(app.Run({"backup", "create", "--destination", url}).exit_code, 0);
  RunResult verified = app.Run({"backup", "verify", "--all", "--destination", url});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  ASSERT_EQ(app.Run({"backup", "verify", "--all", "--destination", url}).exit_code, 0);
  ASSERT_TRUE(fs::exists(repo + "/state/verify"));
  fs::rename(repo + "/state/verify", repo + "/state/verify.tmp-old-0123456789ab");

  RunResult status = app.Run({"backup", "status", "--destination", url});
  EXPECT_EQ(status.exit_code, 0) << status.out << status.err;
  EXPECT_NE(status.out.find("intact"), std::string::npos) << status.out;
  EXPECT_TRUE(fs::exists(repo + "/state/verify"));
  EXPECT_FALSE(fs::exists(repo + "/state/verify.tmp-old-0123456789ab"));
}

}  // namespace
}  // namespace velin::testing
