// The key objects of an existing copy of an encrypted repository follow its source's: they were
// written only when the copy was created, so after `backup key passwd` (or `key add` + `key
// remove` of the old key) on the source its new passphrase opened none of the copy's, and every
// later `backup copy` and offsite copy failed with "wrong passphrase" — offsite copies stopped
// from that night on. Now the copy gets the source's key objects, and loses those the source no
// longer has (docs/cli.md, "backup copy").
#include <gtest/gtest.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

const char* kCopyKeysBackup =
    "encryption = \"aes-256-gcm\"\npassword_env = \"VELIN_TEST_PASSPHRASE\"\n";

RunOptions CopyKeysPassphrase(const std::string& p) {
  return {.env = {{"VELIN_TEST_PASSPHRASE", p}, {"VELIN_TEST_NEW_PASSPHRASE", "other pw 2"}}};
}

size_t KeyObjectCount(const std::string& repo) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(repo + "/keys"))
    n += e.is_regular_file();
  return n;
}

TEST(BackupCopyKeys, ACopyFollowsAPasswdOnItsSource) {
  BackupApp app({"storage"}, kCopyKeysBackup);
  const RunOptions old_pw = CopyKeysPassphrase("secret pw 1");
  const RunOptions new_pw = CopyKeysPassphrase("other pw 2");
  const std::string copy = app.path("copy");
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  ASSERT_EQ(app.Run({"backup", "create"}, old_pw).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "copy", "--all", "--to", copy}, old_pw).exit_code, 0);
  RunResult passwd = app.Run(
      {"backup", "key", "passwd", "--new-password-env", "VELIN_TEST_NEW_PASSPHRASE"}, old_pw);
  ASSERT_EQ(passwd.exit_code, 0) << passwd.err;

  WriteFile(app.root() + "/storage/b.txt", "beta\n");
  ASSERT_EQ(app.Run({"backup", "create"}, new_pw).exit_code, 0);
  RunResult copied = app.Run({"backup", "copy", "--all", "--to", copy}, new_pw);
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  EXPECT_NE(copied.err.find("updated the key objects of " + copy + " to those of " + app.repo() +
                            ": added "),
            std::string::npos)
      << copied.err;
  EXPECT_EQ(KeyObjectCount(copy), 1u);
  RunResult verified = app.Run({"backup", "verify", "--all", "--destination", copy}, new_pw);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  // The old passphrase, changed on the source (a leaked one, say), opens the copy no more.
  RunResult old = app.Run({"backup", "list", "--destination", copy}, old_pw);
  EXPECT_EQ(old.exit_code, 2) << old.err;
  EXPECT_NE(old.err.find("wrong passphrase"), std::string::npos) << old.err;

  // Keys that match are left alone, and nothing is said.
  copied = app.Run({"backup", "copy", "--all", "--to", copy}, new_pw);
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  EXPECT_EQ(copied.err.find("key objects"), std::string::npos) << copied.err;
}

// The same for the offsite copy of `backup create`, after a key added and the old one removed.
TEST(BackupCopyKeys, TheOffsiteCopyFollowsAKeyAddAndRemove) {
  TempDir dir;
  const std::string offsite = dir / "offsite";
  BackupApp app({"storage"}, std::string(kCopyKeysBackup) + "offsite = \"" + offsite + "\"\n");
  const RunOptions old_pw = CopyKeysPassphrase("secret pw 1");
  const RunOptions new_pw = CopyKeysPassphrase("other pw 2");
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  RunResult first = app.Run({"backup", "create"}, old_pw);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_TRUE(std::filesystem::exists(offsite + "/config"));
  auto keys = app.Json({"backup", "key", "list"}, 0, old_pw);
  ASSERT_EQ(keys["keys"].size(), 1u) << keys.dump();
  const std::string old_id = keys["keys"][0]["id"];
  RunResult added =
      app.Run({"backup", "key", "add", "--new-password-env", "VELIN_TEST_NEW_PASSPHRASE"}, old_pw);
  ASSERT_EQ(added.exit_code, 0) << added.err;
  RunResult removed = app.Run({"backup", "key", "remove", old_id}, new_pw);
  ASSERT_EQ(removed.exit_code, 0) << removed.err;

  WriteFile(app.root() + "/storage/b.txt", "beta\n");
  RunResult second = app.Run({"backup", "create", "--json"}, new_pw);
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  const auto doc = nlohmann::json::parse(second.out);
  EXPECT_FALSE(doc.dump().find("wrong passphrase") != std::string::npos) << doc.dump();
  EXPECT_NE(second.err.find("updated the key objects of " + offsite), std::string::npos)
      << second.err;
  EXPECT_NE(second.err.find("removed " + old_id.substr(0, 12)), std::string::npos) << second.err;
  const std::string id = doc["id"];
  RunResult verified = app.Run({"backup", "verify", id, "--destination", offsite}, new_pw);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_EQ(KeyObjectCount(offsite), 1u);
}

}  // namespace
}  // namespace velin::testing
