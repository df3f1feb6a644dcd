// velin backup copy of an encrypted repository (found by the torture engine, tests/torture/):
// the copy used to be created under a new master key, so its snapshot objects (sealed with the
// source's key) and its blob ids (keyed hashes) were unreadable there, yet copy exited 0. A new
// destination now gets the source's config and keys; one with other keys is refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

RunOptions Passphrase(const std::string& p) { return {.env = {{"VELIN_TEST_PASSPHRASE", p}}}; }

const char* kEncrypted = "encryption = \"aes-256-gcm\"\npassword_env = \"VELIN_TEST_PASSPHRASE\"\n";

TEST(BackupCopyEncrypted, TheCopyVerifiesAndRestoresWithTheSamePassphrase) {
  BackupApp app({"storage"}, kEncrypted);
  RunOptions env = Passphrase("correct horse");
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  WriteFile(app.root() + "/storage/sub/b.bin", RandomData(300000, 4));
  auto created = app.Json({"backup", "create"}, 0, env);
  const std::string id = created.value("id", "");
  ASSERT_FALSE(id.empty());

  auto copied = app.Json({"backup", "copy", "--all", "--to", app.path("copy")}, 0, env);
  EXPECT_EQ(copied.value("snapshots_copied", 0), 1) << copied.dump();

  RunResult verified =
      app.Run({"backup", "verify", "--all", "--destination", app.path("copy")}, env);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  RunResult restored = app.Run(
      {"backup", "restore", id, "--target", app.path("out"), "--destination", app.path("copy")},
      env);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(DescribeTree(app.path("out") + "/storage"), DescribeTree(app.root() + "/storage"));

  // A second backup copied into the existing copy is readable too.
  WriteFile(app.root() + "/storage/c.txt", "gamma\n");
  ASSERT_EQ(app.Run({"backup", "create"}, env).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "copy", "--all", "--to", app.path("copy")}, env).exit_code, 0);
  verified = app.Run({"backup", "verify", "--all", "--destination", app.path("copy")}, env);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  // A wrong passphrase opens neither.
  RunResult wrong =
      app.Run({"backup", "list", "--destination", app.path("copy")}, Passphrase("wrong"));
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
}

TEST(BackupCopyEncrypted, ARepositoryWithOtherKeysIsRefusedAndLeftAlone) {
  BackupApp app({"storage"}, kEncrypted);
  RunOptions env = Passphrase("correct horse");
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  ASSERT_EQ(app.Run({"backup", "create"}, env).exit_code, 0);
  for (const std::string encryption : {"aes-256-gcm", "none"}) {
    const std::string other = app.path("other-" + encryption);
    ASSERT_EQ(app.Run({"backup", "init", "--destination", other, "--encryption", encryption}, env)
                  .exit_code,
              0);
    RunResult r = app.Run({"backup", "copy", "--all", "--to", other}, env);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("other keys"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(other + "/snapshots")) << encryption;
    EXPECT_FALSE(std::filesystem::exists(other + "/data")) << encryption;
  }
}

// The target's keys are compared with the source's before its passphrase is tried: a target
// made with another passphrase used to be "wrong passphrase for repository <target>", which
// says nothing of why; a plain source into an encrypted target said the source was encrypted.
TEST(BackupCopyEncrypted, ATargetWithOtherKeysOrEncryptionIsNamedForWhatItIs) {
  BackupApp app({"storage"}, kEncrypted);
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  ASSERT_EQ(app.Run({"backup", "create"}, Passphrase("correct horse")).exit_code, 0);
  const std::string other = app.path("other");
  ASSERT_EQ(
      app.Run({"backup", "init", "--destination", other}, Passphrase("battery staple")).exit_code,
      0);
  RunResult r = app.Run({"backup", "copy", "--all", "--to", other}, Passphrase("correct horse"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(
      r.err.find("backup copy: " + other + " is a repository with other keys than " + app.repo()),
      std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("wrong passphrase"), std::string::npos) << r.err;

  BackupApp plain({"storage"}, "password_env = \"VELIN_TEST_PASSPHRASE\"\n");
  WriteFile(plain.root() + "/storage/a.txt", "alpha\n");
  ASSERT_EQ(plain.Run({"backup", "create"}).exit_code, 0);
  r = plain.Run({"backup", "copy", "--all", "--to", other}, Passphrase("battery staple"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("backup copy: " + other + " is encrypted and " + plain.repo() + " is not"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(other + "/snapshots"));
}

}  // namespace
}  // namespace velin::testing
