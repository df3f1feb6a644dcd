// The real velin binary on a system whose OpenSSL configuration loads only the "base" provider
// (no random generator, no SHA-256, no AES-GCM, no PBKDF2 for scrypt): every command that needs one
// fails with one line naming what OpenSSL refused and exit 1, and writes no key and no snapshot.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

constexpr char kOpensslPassphrase[] = "repo-Passphrase-5d1e";

class CovCryptoOpensslTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(conf_ / "base-only.cnf",
              "openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n"
              "[provider_sect]\nbase = base_sect\n[base_sect]\nactivate = 1\n");
  }
  RunResult Run(const BackupApp& app, std::vector<std::string> args, bool base_only) {
    RunOptions o{.env = {{"VELIN_TEST_PASSPHRASE", kOpensslPassphrase}}};
    if (base_only) o.env["OPENSSL_CONF"] = conf_ / "base-only.cnf";
    return app.Run(std::move(args), o);
  }
  // The one line of stderr, which must say what OpenSSL refused.
  static void ExpectOneLine(const RunResult& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("error: " + what + ": error:", 0), 0u) << r.err;
  }
  static size_t Entries(const std::string& dir) {
    if (!std::filesystem::exists(dir)) return 0;
    return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                             std::filesystem::directory_iterator()));
  }

  TempDir conf_;
};

TEST_F(CovCryptoOpensslTest, AnEncryptedInitWithoutARandomGeneratorFailsAndCreatesNothing) {
  BackupApp app({"storage"},
                "encryption = \"aes-256-gcm\"\npassword_env = \"VELIN_TEST_PASSPHRASE\"\n");
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  ExpectOneLine(Run(app, {"backup", "init"}, true), "random number generator");
  EXPECT_FALSE(std::filesystem::exists(app.repo() + "/config"));
  EXPECT_EQ(Entries(app.repo() + "/keys"), 0u);

  // An existing encrypted repository is not unlocked without scrypt, and gains no snapshot.
  RunResult init = Run(app, {"backup", "init"}, false);
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ExpectOneLine(Run(app, {"backup", "create"}, true), "scrypt's PBKDF2");
  EXPECT_EQ(Entries(app.repo() + "/snapshots"), 0u);
  // With OpenSSL whole again, the same repository works.
  RunResult again = Run(app, {"backup", "create"}, false);
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Entries(app.repo() + "/snapshots"), 1u);
}

TEST_F(CovCryptoOpensslTest, APlainBackupWithoutSha256FailsAndWritesNoSnapshot) {
  BackupApp app({"storage"});
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  RunResult init = Run(app, {"backup", "init"}, true);  // only the config: no hashing
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ExpectOneLine(Run(app, {"backup", "create"}, true), "fetching SHA-256");
  EXPECT_EQ(Entries(app.repo() + "/snapshots"), 0u);
  EXPECT_EQ(Entries(app.repo() + "/data"), 0u);
}

}  // namespace
}  // namespace velin::testing
