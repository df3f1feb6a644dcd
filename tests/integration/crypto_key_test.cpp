// velin backup key list | add | remove | passwd on a real encrypted repository directory: the
// passphrase comes only from the configured variable or file, a wrong one is exit 2, and every
// key keeps unlocking the same master key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/db_servers.hpp"
#include "support/test_support.hpp"
#include "velin/core/process.hpp"
#include "velin/crypto/key_ring.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/lock.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin {
namespace {

using testing::ReadFileOrDie;
using testing::RunVelin;
using testing::TempDir;
using testing::WriteFile;

constexpr char kKeyPassphrase[] = "first-Passphrase-7d1e";

class CryptoKeyCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_ / "repo";
    auto backend = storage::LocalBackend::Open(io::Env::Default(), repo_, true);
    ASSERT_TRUE(backend) << backend.error().message;
    backend_ = std::move(*backend);
    crypto::KeyOrigin origin{.hostname = "h", .username = "u", .created = "2026-11-25T10:00:00Z"};
    auto created = crypto::CreateRepositoryKey(*backend_, kKeyPassphrase, origin, {});
    ASSERT_TRUE(created) << created.error().message;
    master_ = created->master;
    first_id_ = created->key_id;
    WriteFile(dir_ / "velin.toml", "[backup]\ndestination = \"" + repo_ +
                                       "\"\npassword_env = \"VELIN_TEST_PASSPHRASE\"\n"
                                       "[log]\nfile = \"" +
                                       (dir_ / "velin.log") + "\"\nlevel = \"trace\"\n");
  }

  testing::RunResult Velin(std::vector<std::string> args, const std::string& passphrase,
                           std::map<std::string, std::string> env = {}) {
    env["VELIN_TEST_PASSPHRASE"] = passphrase;
    return RunVelin(args, {.cwd = dir_.path(), .env = env});
  }

  // The master key `passphrase` unlocks, via the library.
  std::optional<crypto::MasterKey> Unlock(const std::string& passphrase) {
    auto opened = crypto::OpenRepositoryKey(*backend_, passphrase);
    if (!opened) return std::nullopt;
    return opened->master;
  }

  TempDir dir_;
  std::string repo_;
  std::unique_ptr<storage::Backend> backend_;
  crypto::MasterKey master_;
  std::string first_id_;
};

TEST_F(CryptoKeyCommands, WrongPassphraseIsOneLineAndExitTwo) {
  auto r = Velin({"backup", "key", "list"}, "not-the-passphrase");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: wrong passphrase for repository " + repo_ + " (tried 1 key)\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(CryptoKeyCommands, ListShowsEveryKeyAndMarksTheOneInUse) {
  auto r = Velin({"backup", "key", "list", "--json"}, kKeyPassphrase);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["keys"].size(), 1u);
  EXPECT_EQ(doc["keys"][0]["id"], first_id_);
  EXPECT_EQ(doc["keys"][0]["current"], true);
  EXPECT_EQ(doc["keys"][0]["scrypt"]["n"], 32768);

  auto human = Velin({"backup", "key", "list"}, kKeyPassphrase);
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("* " + first_id_.substr(0, 12)), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("u@h"), std::string::npos) << human.out;
}

TEST_F(CryptoKeyCommands, AddPasswdAndRemoveKeepTheSameMasterKey) {
  const std::string second = "second-Passphrase-a01";
  WriteFile(dir_ / "new.pass", second + "\n", 0600);
  auto add =
      Velin({"backup", "key", "add", "--new-password-file", dir_ / "new.pass"}, kKeyPassphrase);
  ASSERT_EQ(add.exit_code, 0) << add.err;
  ASSERT_TRUE(Unlock(second).has_value());
  EXPECT_TRUE(*Unlock(second) == master_);

  const std::string third = "third-Passphrase-b02";
  auto passwd = Velin({"backup", "key", "passwd", "--new-password-env", "NEW_PASS"}, second,
                      {{"NEW_PASS", third}});
  ASSERT_EQ(passwd.exit_code, 0) << passwd.err;
  EXPECT_FALSE(Unlock(second).has_value());
  ASSERT_TRUE(Unlock(third).has_value());
  EXPECT_TRUE(*Unlock(third) == master_);

  auto remove = Velin({"backup", "key", "remove", first_id_.substr(0, 10)}, third);
  ASSERT_EQ(remove.exit_code, 0) << remove.err;
  EXPECT_FALSE(Unlock(kKeyPassphrase).has_value());
  EXPECT_TRUE(*Unlock(third) == master_);

  auto last = Velin({"backup", "key", "list", "--json"}, third);
  ASSERT_EQ(last.exit_code, 0) << last.err;
  auto doc = nlohmann::json::parse(last.out);
  ASSERT_EQ(doc["keys"].size(), 1u);
  auto refused = Velin({"backup", "key", "remove", doc["keys"][0]["id"]}, third);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("the last key"), std::string::npos) << refused.err;
}

// Two `key remove` at once, each of the key the other's passphrase opens, used to leave no key
// at all. Key changes take the repository's exclusive lock: while another velin holds a lock
// they fail with exit 3 (or wait with --lock-wait) and change nothing.
TEST_F(CryptoKeyCommands, KeyChangesTakeTheExclusiveLock) {
  auto second = crypto::AddKey(*backend_, master_, "second-Passphrase-e05",
                               crypto::CurrentKeyOrigin(io::Env::Default()), {});
  ASSERT_TRUE(second) << second.error().message;
  std::filesystem::create_directories(repo_ + "/locks");
  const std::string lock = repo_ + "/locks/shared-held-by-the-test";
  WriteFile(lock, repo::FormatLockRecord({.holder = io::Env::Default().ThisProcess(),
                                          .kind = "shared",
                                          .time = time(nullptr)}));

  auto removed = Velin({"backup", "key", "remove", *second}, kKeyPassphrase);
  EXPECT_EQ(removed.exit_code, 3) << removed.err;
  EXPECT_NE(removed.err.find("is locked by"), std::string::npos) << removed.err;
  WriteFile(dir_ / "new.pass", "third-Passphrase-f06\n", 0600);
  auto added = Velin(
      {"backup", "key", "add", "--new-password-file", dir_ / "new.pass", "--lock-wait", "200ms"},
      kKeyPassphrase);
  EXPECT_EQ(added.exit_code, 3) << added.err;
  auto passwd =
      Velin({"backup", "key", "passwd", "--new-password-file", dir_ / "new.pass"}, kKeyPassphrase);
  EXPECT_EQ(passwd.exit_code, 3) << passwd.err;
  auto listed = crypto::ListKeys(*backend_);
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 2u);
  // `list` only reads: no lock.
  EXPECT_EQ(Velin({"backup", "key", "list"}, kKeyPassphrase).exit_code, 0);

  // With --lock-wait the removal waits for the holder to finish, then removes.
  std::thread holder([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    std::filesystem::remove(lock);
  });
  auto waited = Velin({"backup", "key", "remove", *second, "--lock-wait", "60s"}, kKeyPassphrase);
  holder.join();
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_FALSE(Unlock("second-Passphrase-e05").has_value());
  EXPECT_TRUE(Unlock(kKeyPassphrase).has_value());
  EXPECT_TRUE(std::filesystem::is_empty(repo_ + "/locks"));
}

TEST_F(CryptoKeyCommands, TheNewPassphraseNeedsASourceThatIsNotArgv) {
  auto r = Velin({"backup", "key", "add"}, kKeyPassphrase);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--new-password-file"), std::string::npos) << r.err;
  WriteFile(dir_ / "open.pass", "readable-by-all", 0644);
  auto open =
      Velin({"backup", "key", "add", "--new-password-file", dir_ / "open.pass"}, kKeyPassphrase);
  EXPECT_EQ(open.exit_code, 2);
  EXPECT_NE(open.err.find("chmod 600"), std::string::npos) << open.err;
  auto listed = crypto::ListKeys(*backend_);
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), 1u);
}

// Both sources of the new passphrase at once: which one is meant is a guess (the variable used
// to win silently), so it is a usage error and no key changes.
TEST_F(CryptoKeyCommands, TheNewPassphraseComesFromOneSourceOnly) {
  WriteFile(dir_ / "new.pass", "from-the-File-g07\n", 0600);
  for (const char* command : {"add", "passwd"}) {
    auto r = Velin({"backup", "key", command, "--new-password-env", "NEW_PASS",
                    "--new-password-file", dir_ / "new.pass"},
                   kKeyPassphrase, {{"NEW_PASS", "from-the-Variable-h08"}});
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
    EXPECT_NE(r.err.find("--new-password-env and --new-password-file cannot be given together"),
              std::string::npos)
        << r.err;
  }
  auto listed = crypto::ListKeys(*backend_);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, first_id_);
}

// A key object that is not JSON is one line naming it, not the JSON library's exception text.
TEST_F(CryptoKeyCommands, ADamagedKeyObjectIsNamedInOneLine) {
  WriteFile(repo_ + "/keys/" + first_id_, "garbage");
  auto r = Velin({"backup", "key", "list"}, kKeyPassphrase);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "error: wrong passphrase for repository " + repo_ +
                       " (tried 1 key); key object keys/" + first_id_ +
                       " is damaged: it is not valid JSON (truncated or overwritten?)\n");
}

TEST_F(CryptoKeyCommands, PassphrasesNeverReachOutputLogOrRepository) {
  const std::string added = "added-Passphrase-c03";
  auto add = Velin({"backup", "key", "add", "--new-password-env", "NEW_PASS", "-v"}, kKeyPassphrase,
                   {{"NEW_PASS", added}});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto wrong = Velin({"backup", "key", "list", "-v"}, "wrong-Passphrase-d04");
  ASSERT_EQ(wrong.exit_code, 2);
  std::string everything = add.out + add.err + wrong.out + wrong.err;
  if (std::filesystem::exists(dir_ / "velin.log")) everything += ReadFileOrDie(dir_ / "velin.log");
  for (const auto& entry : std::filesystem::recursive_directory_iterator(repo_)) {
    if (entry.is_regular_file()) everything += ReadFileOrDie(entry.path().string());
  }
  for (const std::string& secret :
       {std::string(kKeyPassphrase), added, std::string("wrong-Pass")}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret;
  }
}

TEST_F(CryptoKeyCommands, PassphrasesAreNeverInTheCommandLineOfARunningVelin) {
  const std::string added = "cmdline-Passphrase-e05";
  auto child = Subprocess::Start(
      {.argv = {testing::VelinBinary(), "backup", "key", "add", "--new-password-env", "NEW_PASS"},
       .extra_env = {{"VELIN_TEST_PASSPHRASE", kKeyPassphrase}, {"NEW_PASS", added}},
       .cwd = dir_.path(),
       .stdout_mode = Stdio::kNull,
       .stderr_mode = Stdio::kNull});
  ASSERT_TRUE(child) << child.error().message;
  // Sample its /proc/<pid>/cmdline while it derives keys, until it exits (a zombie's is empty).
  // ProcFile reads with read(2): an ifstream throws when the process goes while it is read.
  const std::string cmdline_path = "/proc/" + std::to_string(child->pid()) + "/cmdline";
  int samples = 0;
  for (;;) {
    const std::string cmdline = testing::ProcFile(child->pid(), "cmdline", ' ');
    if (cmdline.empty()) break;
    if (cmdline.find("Passphrase") != std::string::npos) {
      ADD_FAILURE() << "a passphrase is visible in " << cmdline_path;
      break;
    }
    // Before exec the child still shows the test's own command line; count velin's only.
    if (cmdline.find("--new-password-env") != std::string::npos) ++samples;
  }
  auto code = child->Wait();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_GT(samples, 0);
  EXPECT_TRUE(Unlock(added).has_value());
}

TEST_F(CryptoKeyCommands, AnUnencryptedRepositoryHasNoKeys) {
  std::filesystem::remove_all(repo_ + "/keys");
  auto r = Velin({"backup", "key", "list"}, kKeyPassphrase);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("has no key objects"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace velin
