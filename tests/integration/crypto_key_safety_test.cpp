// Keys that are not what they seem, with the real velin binary: a passphrase with two keys
// (passwd must end both), a key copied in from another repository with the same passphrase
// (the repository's own key is used, the other named), an encrypted repository replaced by a
// plain one while velin.toml still says encrypted (refused, exit 4), a passphrase variable that
// ends in a newline (the same passphrase as the file's), and a key object that asks scrypt for
// minutes of work (refused as damaged).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/backup_fixture.hpp"
#include "velin/crypto/key_ring.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::testing {
namespace {

constexpr char kSafetyPassphrase[] = "safety-Passphrase-4e1b";

std::string EncryptedSettings() {
  return "encryption = \"aes-256-gcm\"\npassword_env = \"MYPASS\"\n";
}

RunOptions SafetyPass(const std::string& passphrase = kSafetyPassphrase,
                      std::map<std::string, std::string> extra = {}) {
  extra["MYPASS"] = passphrase;
  return {.env = std::move(extra)};
}

std::unique_ptr<storage::Backend> SafetyBackend(const std::string& dir) {
  auto backend = storage::LocalBackend::Open(io::Env::Default(), dir, true);
  EXPECT_TRUE(backend) << backend.error().message;
  return backend ? std::move(*backend) : nullptr;
}

std::vector<std::string> KeyIdsIn(const std::string& repo) {
  std::vector<std::string> ids;
  if (!std::filesystem::exists(repo + "/keys")) return ids;
  for (const auto& e : std::filesystem::directory_iterator(repo + "/keys")) {
    ids.push_back(e.path().filename().string());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

// The first key `passphrase` opens in `repo`, via the library (nullopt: none).
std::optional<crypto::OpenedKey> SafetyUnlock(const std::string& repo,
                                              const std::string& passphrase) {
  auto backend = SafetyBackend(repo);
  auto opened = crypto::OpenRepositoryKey(*backend, passphrase);
  if (!opened) return std::nullopt;
  return std::move(*opened);
}

// Stores a key for `passphrase` in `repo` as an older velin's `key add` of a passphrase the
// repository had already did (velin refuses that now).
std::string StoreSecondKey(const std::string& repo, const crypto::MasterKey& master,
                           const std::string& passphrase) {
  auto key =
      crypto::WrapMasterKey(master, passphrase, crypto::CurrentKeyOrigin(io::Env::Default()), {});
  EXPECT_TRUE(key) << key.error().message;
  auto backend = SafetyBackend(repo);
  EXPECT_TRUE(backend->Put(crypto::KeyObjectName(key->id), crypto::SerializeKeyObject(*key)));
  return key->id;
}

class KeySafetyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(app_.root() + "/data/a.txt", "first file\n");
    RunResult create = app_.Run({"backup", "create"}, SafetyPass());
    ASSERT_EQ(create.exit_code, 0) << create.err;
  }

  BackupApp app_{{"data"}, EncryptedSettings()};
};

// Finding 1: two keys opened with one passphrase (an older velin's `key add` of the same one, or
// one run again after it was killed). `key passwd` said "Passphrase changed" and the old
// passphrase still opened the repository through the other key.
TEST_F(KeySafetyTest, PasswdEndsEveryKeyOfTheOldPassphrase) {
  auto first = SafetyUnlock(app_.repo(), kSafetyPassphrase);
  ASSERT_TRUE(first);
  const std::string second = StoreSecondKey(app_.repo(), first->master, kSafetyPassphrase);
  ASSERT_EQ(KeyIdsIn(app_.repo()).size(), 2u);

  RunResult passwd = app_.Run({"backup", "key", "passwd", "--new-password-env", "NEWPASS"},
                              SafetyPass(kSafetyPassphrase, {{"NEWPASS", "new-Passphrase-77a0"}}));
  ASSERT_EQ(passwd.exit_code, 0) << passwd.err;
  EXPECT_NE(passwd.out.find("replaces keys"), std::string::npos) << passwd.out;
  EXPECT_NE(passwd.out.find(second.substr(0, 12)), std::string::npos) << passwd.out;
  EXPECT_FALSE(SafetyUnlock(app_.repo(), kSafetyPassphrase).has_value());
  RunResult old_list = app_.Run({"backup", "list"}, SafetyPass());
  EXPECT_EQ(old_list.exit_code, 2) << old_list.err;
  EXPECT_NE(old_list.err.find("wrong passphrase"), std::string::npos) << old_list.err;
  RunResult new_list = app_.Run({"backup", "list"}, SafetyPass("new-Passphrase-77a0"));
  EXPECT_EQ(new_list.exit_code, 0) << new_list.err;
  EXPECT_EQ(KeyIdsIn(app_.repo()).size(), 1u);
}

// `key add` of a passphrase the repository has (the one in use, or one added before) is
// refused: exit 2, one line naming the key it opens, no key written.
TEST_F(KeySafetyTest, AddRefusesAPassphraseTheRepositoryHas) {
  const std::vector<std::string> before = KeyIdsIn(app_.repo());
  RunResult same = app_.Run({"backup", "key", "add", "--new-password-env", "MYPASS"}, SafetyPass());
  EXPECT_EQ(same.exit_code, 2) << same.err;
  EXPECT_EQ(same.err, "error: the new passphrase already opens key " +
                          before.front().substr(0, 12) + " of repository " + app_.repo() +
                          " (added before?): give a passphrase the repository does not have yet\n");
  EXPECT_EQ(KeyIdsIn(app_.repo()), before);

  RunOptions with_second = SafetyPass(kSafetyPassphrase, {{"SECOND", "second-Passphrase-21"}});
  RunResult add = app_.Run({"backup", "key", "add", "--new-password-env", "SECOND"}, with_second);
  ASSERT_EQ(add.exit_code, 0) << add.err;
  RunResult again = app_.Run({"backup", "key", "add", "--new-password-env", "SECOND"}, with_second);
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_EQ(KeyIdsIn(app_.repo()).size(), 2u);
}

// Finding 2: a key object of another repository with the same passphrase, its id sorted before
// the repository's own key. It was taken: the config's MAC failed ("changed or damaged", exit 4)
// with the right key right there. Now the repository's key is used and the other one named.
TEST_F(KeySafetyTest, AKeyOfAnotherRepositoryWithTheSamePassphraseIsNotUsed) {
  // The other repository's key must sort first: an own key id from 2… on leaves room.
  for (int i = 0; i < 20 && KeyIdsIn(app_.repo()).front() < "2"; ++i) {
    std::filesystem::remove_all(app_.repo());
    ASSERT_EQ(app_.Run({"backup", "create"}, SafetyPass()).exit_code, 0);
  }
  const std::string own = KeyIdsIn(app_.repo()).front();
  ASSERT_GE(own, std::string("2"));
  auto other = crypto::MasterKey::Generate();
  ASSERT_TRUE(other);
  // A key of the other repository whose id sorts first (a few tries; each id is random).
  std::string foreign;
  for (int i = 0; i < 200 && (foreign.empty() || foreign > own); ++i) {
    auto key = crypto::WrapMasterKey(*other, kSafetyPassphrase, {}, {});
    ASSERT_TRUE(key);
    if (key->id < own) {
      foreign = key->id;
      WriteFile(app_.repo() + "/keys/" + key->id, crypto::SerializeKeyObject(*key));
    }
  }
  ASSERT_FALSE(foreign.empty());

  WriteFile(app_.root() + "/data/b.txt", "second file\n");
  RunResult create = app_.Run({"backup", "create"}, SafetyPass());
  ASSERT_EQ(create.exit_code, 0) << create.err;
  EXPECT_NE(create.err.find("key " + foreign +
                            " opens with this passphrase but belongs to another repository"),
            std::string::npos)
      << create.err;
  // Once, though create opens the repository more than once.
  EXPECT_EQ(create.err.find(foreign), create.err.rfind(foreign)) << create.err;
  RunResult keys = app_.Run({"backup", "key", "list", "--json"}, SafetyPass());
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  const nlohmann::json listed = nlohmann::json::parse(keys.out);  // the loop's range outlives it
  for (const auto& k : listed["keys"]) {
    EXPECT_EQ(k["current"], k["id"] == own) << keys.out;
  }

  // A config without a checksum (an older velin's) has no MAC to tell by: a snapshot does.
  WriteOlderFormatConfig(app_.repo(), 4);
  WriteFile(app_.root() + "/data/c.txt", "third file\n");
  RunResult older = app_.Run({"backup", "create"}, SafetyPass());
  ASSERT_EQ(older.exit_code, 0) << older.err;
  // Named with the reason that holds here: there is no checksum for a key to verify.
  EXPECT_NE(older.err.find("key " + foreign +
                           " opens with this passphrase but belongs to another repository (the "
                           "config of " +
                           app_.repo() +
                           " has no checksum, and its first snapshot or index object opens "
                           "with another key, not this one): it was not used"),
            std::string::npos)
      << older.err;
  EXPECT_EQ(older.err.find("does not verify the config"), std::string::npos) << older.err;
  // What it wrote is sealed under the repository's own master key: with the foreign key gone,
  // every backup verifies.
  std::filesystem::remove(app_.repo() + "/keys/" + foreign);
  RunResult verify = app_.Run({"backup", "verify", "--all"}, SafetyPass());
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  RunResult ls = app_.Run({"backup", "ls", "-R", "latest"}, SafetyPass());
  EXPECT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("c.txt"), std::string::npos) << ls.out;
}

// Finding 3: whoever holds the storage puts an unencrypted repository where the encrypted one
// was. velin.toml still says aes-256-gcm; `backup create` wrote plaintext and exited 0.
TEST_F(KeySafetyTest, AnUnencryptedRepositoryIsRefusedWhenTheConfigSaysEncrypted) {
  const std::string refusal = "error: repository " + app_.repo() +
                              " is not encrypted but backup.encryption is aes-256-gcm: refusing";
  // keys/ removed and "encryption" and "checksum" dropped from its config.
  std::filesystem::remove_all(app_.repo() + "/keys");
  nlohmann::json config = nlohmann::json::parse(ReadFileOrDie(app_.repo() + "/config"));
  config.erase("encryption");
  config.erase("checksum");
  WriteFile(app_.repo() + "/config", config.dump(1) + "\n");
  for (std::vector<std::string> command : {std::vector<std::string>{"backup", "create"},
                                           {"backup", "list"},
                                           {"backup", "verify", "--all"}}) {
    RunResult r = app_.Run(command, SafetyPass());
    EXPECT_EQ(r.exit_code, 4) << command[1] << ": " << r.err;
    EXPECT_EQ(r.err.rfind(refusal, 0), 0u) << r.err;
  }

  // A repository made with --encryption none in its place.
  std::filesystem::remove_all(app_.repo());
  RunResult init = app_.Run({"backup", "init", "--encryption", "none"}, SafetyPass());
  ASSERT_EQ(init.exit_code, 0) << init.err;
  RunResult create = app_.Run({"backup", "create"}, SafetyPass());
  EXPECT_EQ(create.exit_code, 4) << create.err;
  EXPECT_EQ(create.err.rfind(refusal, 0), 0u) << create.err;
  EXPECT_FALSE(std::filesystem::exists(app_.repo() + "/snapshots") &&
               !std::filesystem::is_empty(app_.repo() + "/snapshots"));

  // Said so on purpose: backup.encryption = "none" (here by its variable) opens it.
  RunResult plain = app_.Run({"backup", "create"},
                             SafetyPass(kSafetyPassphrase, {{"VELIN_BACKUP_ENCRYPTION", "none"}}));
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  // --repo without a velin.toml configures no encryption: nothing to compare with.
  TempDir elsewhere;
  RunResult alone = RunVelin({"backup", "list", "--repo", app_.repo()},
                             {.cwd = elsewhere.path(), .env = {{"VELIN_PASSPHRASE", "x"}}});
  EXPECT_EQ(alone.exit_code, 0) << alone.err;
}

// Configured "none" with an encrypted repository stays allowed (reading an encrypted repository
// is fine), and so does another cipher than the repository's.
TEST_F(KeySafetyTest, AnEncryptedRepositoryOpensWhateverCipherIsConfigured) {
  for (const char* configured : {"none", "chacha20-poly1305"}) {
    RunResult r =
        app_.Run({"backup", "list"},
                 SafetyPass(kSafetyPassphrase, {{"VELIN_BACKUP_ENCRYPTION", configured}}));
    EXPECT_EQ(r.exit_code, 0) << configured << ": " << r.err;
  }
}

// Finding 5: a passphrase variable set from a file (a Kubernetes secret --from-file) ends in a
// newline. It was taken verbatim, a password file's newline stripped: the same secret opened one
// way and not the other.
TEST(KeySafetyPassphrase, AVariableEndingInANewlineIsTheFilesPassphrase) {
  BackupApp app({"data"}, EncryptedSettings());
  WriteFile(app.root() + "/data/a.txt", "file\n");
  RunResult init = app.Run({"backup", "create"}, SafetyPass("s3cret-Passphrase\n"));
  ASSERT_EQ(init.exit_code, 0) << init.err;
  WriteFile(app.path("pass"), "s3cret-Passphrase\n", 0600);
  RunResult by_file = app.Run({"backup", "list", "--password-file", app.path("pass")});
  EXPECT_EQ(by_file.exit_code, 0) << by_file.err;
  RunResult by_plain_variable = app.Run({"backup", "list"}, SafetyPass("s3cret-Passphrase"));
  EXPECT_EQ(by_plain_variable.exit_code, 0) << by_plain_variable.err;
}

// A repository an older velin initialised from such a variable, newline and all, keeps opening
// from it: the value as it is is tried when the stripped one opens no key.
TEST(KeySafetyPassphrase, ARepositoryInitialisedFromTheNewlineKeepsOpening) {
  BackupApp app({"data"}, EncryptedSettings());
  WriteFile(app.root() + "/data/a.txt", "file\n");
  auto backend = SafetyBackend(app.repo());
  repo::RepoKeyOptions keys{
      .cipher = crypto::Cipher::kAes256Gcm,
      .passphrase = []() -> Result<std::string> { return std::string("old-velin-Pass\n"); },
      .unstripped_passphrase = {},
      .origin = crypto::CurrentKeyOrigin(io::Env::Default()),
      .scrypt = {}};
  ASSERT_TRUE(repo::Repository::Init(*backend, keys));
  RunResult create = app.Run({"backup", "create"}, SafetyPass("old-velin-Pass\n"));
  EXPECT_EQ(create.exit_code, 0) << create.err;
  RunResult keys_list = app.Run({"backup", "key", "list"}, SafetyPass("old-velin-Pass\n"));
  EXPECT_EQ(keys_list.exit_code, 0) << keys_list.err;
  RunResult stripped = app.Run({"backup", "list"}, SafetyPass("old-velin-Pass"));
  EXPECT_EQ(stripped.exit_code, 2) << stripped.err;
}

// Finding 4: a key object with scrypt N=2^22 r=2 p=16 (1 GiB, within the memory bound) took
// 88 s on every command. It is refused as damaged now, and the repository's own key opens.
TEST_F(KeySafetyTest, AKeyObjectAskingMinutesOfScryptIsRefused) {
  auto first = SafetyUnlock(app_.repo(), kSafetyPassphrase);
  ASSERT_TRUE(first);
  auto key = crypto::WrapMasterKey(first->master, "another", {}, {.n = 1024, .r = 1, .p = 1});
  ASSERT_TRUE(key);
  nlohmann::json hostile = nlohmann::json::parse(crypto::SerializeKeyObject(*key));
  hostile["id"] = "00000000000000000000000000000000";
  hostile["scrypt"] = {{"n", 4194304}, {"r", 2}, {"p", 16}};
  WriteFile(app_.repo() + "/keys/00000000000000000000000000000000", hostile.dump());
  const auto start = std::chrono::steady_clock::now();
  RunOptions options = SafetyPass("not-the-passphrase");
  options.timeout_seconds = 60;
  RunResult wrong = app_.Run({"backup", "list"}, options);
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  EXPECT_NE(wrong.err.find("more than 16 times the work"), std::string::npos) << wrong.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  RunResult right = app_.Run({"backup", "list"}, SafetyPass());
  EXPECT_EQ(right.exit_code, 0) << right.err;
}

}  // namespace
}  // namespace velin::testing
