// An encrypted repository end to end with the real velin binary: it restores identically with
// the right passphrase, refuses a wrong one (exit 2), stores no plaintext of a known file, and
// verify (exit 4) catches a flipped byte in a pack, index or snapshot and a swapped snapshot.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/background_velin.hpp"
#include "support/backup_fixture.hpp"
#include "velin/repo/blob_id.hpp"

namespace velin::testing {
namespace {

constexpr char kRepoPassphrase[] = "repo-Passphrase-91c2";
const std::string kMarker = "VELIN-MARKER-7f3a9c-";

std::vector<std::string> ObjectsUnder(const std::string& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FlipByte(const std::string& path, size_t offset) {
  std::string data = ReadFileOrDie(path);
  data[offset % data.size()] = static_cast<char>(data[offset % data.size()] ^ 0x01);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

RunOptions WithPassphrase(const std::string& passphrase) {
  return {.env = {{"VELIN_TEST_PASSPHRASE", passphrase}}};
}

// compression = "none" so that, unencrypted, the marker would be stored verbatim.
std::string BackupSettings(const std::string& encryption) {
  return "compression = \"none\"\nencryption = \"" + encryption +
         "\"\npassword_env = \"VELIN_TEST_PASSPHRASE\"\n";
}

void WriteFiles(const BackupApp& app) {
  std::string marker_file;
  for (int i = 0; i < 2000; ++i) marker_file += kMarker + std::to_string(i) + "\n";
  WriteFile(app.root() + "/storage/marker.txt", marker_file);
  WriteFile(app.root() + "/storage/photo.jpg", RandomData(300000, 5));
  WriteFile(app.root() + "/storage/deep/notes.txt", "notes\n");
}

// Every stored object's bytes, concatenated.
std::string AllObjects(const std::string& repo) {
  std::string all;
  for (const auto& p : ObjectsUnder(repo)) all += p + "\n" + ReadFileOrDie(p);
  return all;
}

class CryptoRepoTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    WriteFiles(app_);
    RunResult init = app_.Run({"backup", "init"}, WithPassphrase(kRepoPassphrase));
    ASSERT_EQ(init.exit_code, 0) << init.err;
    nlohmann::json j = app_.Json({"backup", "create"}, 0, WithPassphrase(kRepoPassphrase));
    id_ = j.value("id", "");
    ASSERT_FALSE(id_.empty());
  }
  RunResult Run(std::vector<std::string> args, const std::string& passphrase = kRepoPassphrase) {
    return app_.Run(std::move(args), WithPassphrase(passphrase));
  }
  RunResult Verify() { return Run({"backup", "verify", "--all"}); }

  BackupApp app_{{"storage"}, BackupSettings(GetParam())};
  std::string id_;
};

TEST_P(CryptoRepoTest, RestoresIdenticallyWithoutPlaintextInAnyObject) {
  EXPECT_NE(ReadFileOrDie(app_.repo() + "/config").find(GetParam()), std::string::npos);
  RunResult restore = Run({"backup", "restore", id_, "--target", app_.path("out")});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(DescribeTree(app_.path("out/storage")), DescribeTree(app_.root() + "/storage"));
  EXPECT_EQ(Verify().exit_code, 0);

  std::string all = AllObjects(app_.repo());
  EXPECT_EQ(all.find(kMarker), std::string::npos) << "marker plaintext in the repository";
  EXPECT_EQ(all.find("notes.txt"), std::string::npos) << "a file name in the repository";
  EXPECT_EQ(all.find(kRepoPassphrase), std::string::npos);
  // Blob ids are keyed: the plain SHA-256 of a stored file names nothing.
  std::string notes_sha = repo::Sha256("notes\n").Hex();
  EXPECT_EQ(all.find(notes_sha), std::string::npos);

  // The control: the same files unencrypted do show the marker, so the check above means it.
  BackupApp plain({"storage"}, BackupSettings("none"));
  WriteFiles(plain);
  ASSERT_EQ(plain.Run({"backup", "create"}).exit_code, 0);
  EXPECT_NE(AllObjects(plain.repo()).find(kMarker), std::string::npos);
}

TEST_P(CryptoRepoTest, AWrongOrMissingPassphraseIsExitTwo) {
  RunResult wrong = Run({"backup", "list"}, "not-it");
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_EQ(wrong.err,
            "error: wrong passphrase for repository " + app_.repo() + " (tried 1 key)\n");
  RunResult missing = app_.Run({"backup", "restore", id_, "--target", app_.path("out")},
                               {.unset_env = {"VELIN_TEST_PASSPHRASE"}});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("environment variable VELIN_TEST_PASSPHRASE is not set"),
            std::string::npos)
      << missing.err;
  EXPECT_FALSE(std::filesystem::exists(app_.path("out")));
  // Set but empty: the variable is named, not the settings velin.toml does have.
  RunResult empty = Run({"backup", "list"}, "");
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(
      empty.err.find("repository passphrase: environment variable VELIN_TEST_PASSPHRASE is empty"),
      std::string::npos)
      << empty.err;
  EXPECT_EQ(empty.err.find("set backup.password_env"), std::string::npos) << empty.err;
}

TEST_P(CryptoRepoTest, FlippedBytesInPacksIndexesAndSnapshotsAreDetected) {
  std::vector<std::string> targets = ObjectsUnder(app_.repo() + "/data");
  for (const auto& p : ObjectsUnder(app_.repo() + "/index")) targets.push_back(p);
  targets.push_back(app_.repo() + "/snapshots/" + id_);
  for (const auto& path : targets) {
    const std::string original = ReadFileOrDie(path);
    for (size_t offset : {size_t{0}, size_t{5}, original.size() / 2, original.size() - 1}) {
      FlipByte(path, offset);
      RunResult r = Verify();
      EXPECT_EQ(r.exit_code, 4) << path << " byte " << offset << ": " << r.err;
      std::ofstream(path, std::ios::binary | std::ios::trunc) << original;
    }
  }
  EXPECT_EQ(Verify().exit_code, 0);
}

// The config is authenticated by the repository's key: a flipped digit of the chunker seed
// (deduplication silently lost) or the other cipher (new backups sealed with it) is damage for
// every command, exit 4 naming the config, and nothing is written.
TEST_P(CryptoRepoTest, AnEditedConfigIsDetected) {
  const std::string config = app_.repo() + "/config";
  const std::string original = ReadFileOrDie(config);
  const size_t seed = original.find("\"seed\": ");
  ASSERT_NE(seed, std::string::npos) << original;
  FlipByte(config, seed + 8);
  const std::string other = GetParam() == "aes-256-gcm" ? "chacha20-poly1305" : "aes-256-gcm";
  std::string recipher = original;
  recipher.replace(recipher.find(GetParam()), GetParam().size(), other);
  for (const std::string& edited : {ReadFileOrDie(config), recipher}) {
    WriteFile(config, edited);
    const size_t snapshots = ObjectsUnder(app_.repo() + "/snapshots").size();
    for (std::vector<std::string> args :
         {std::vector<std::string>{"backup", "verify", "--all"},
          {"backup", "create"},
          {"backup", "restore", id_, "--target", app_.path("out")}}) {
      RunResult r = Run(args);
      EXPECT_EQ(r.exit_code, 4) << args[1] << ": " << r.err;
      EXPECT_NE(r.err.find("repository config " + app_.repo() +
                           "/config has been changed or "
                           "damaged"),
                std::string::npos)
          << r.err;
    }
    EXPECT_EQ(ObjectsUnder(app_.repo() + "/snapshots").size(), snapshots);
    EXPECT_FALSE(std::filesystem::exists(app_.path("out")));
  }
  WriteFile(config, original);
  nlohmann::json verified =
      app_.Json({"backup", "verify", "--all"}, 0, WithPassphrase(kRepoPassphrase));
  EXPECT_EQ(verified.value("config", ""), "intact") << verified;
}

TEST_P(CryptoRepoTest, ASnapshotSwappedForAnotherIsDetected) {
  WriteFile(app_.root() + "/storage/deep/notes.txt", "changed notes\n");
  nlohmann::json second = app_.Json({"backup", "create"}, 0, WithPassphrase(kRepoPassphrase));
  std::string id2 = second.value("id", "");
  ASSERT_FALSE(id2.empty());
  ASSERT_NE(id2, id_);
  std::filesystem::copy_file(app_.repo() + "/snapshots/" + id_, app_.repo() + "/snapshots/" + id2,
                             std::filesystem::copy_options::overwrite_existing);
  RunResult r = Verify();
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("snapshot " + id2), std::string::npos) << r.err;
}

TEST_P(CryptoRepoTest, KeyRotationKeepsEveryBackupReadable) {
  RunResult add =
      app_.Run({"backup", "key", "passwd", "--new-password-env", "NEW_PASS"},
               {.env = {{"VELIN_TEST_PASSPHRASE", kRepoPassphrase}, {"NEW_PASS", "n3w"}}});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(Run({"backup", "list"}).exit_code, 2);
  RunResult restore = Run({"backup", "restore", id_, "--target", app_.path("out")}, "n3w");
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(DescribeTree(app_.path("out/storage")), DescribeTree(app_.root() + "/storage"));
}

TEST_P(CryptoRepoTest, EveryCodecRestoresAndAFlippedPackByteFailsTheRestore) {
  // Blobs stored as is are opened straight into the restore's buffer, compressed ones where
  // they lie: both must restore exactly, and a flipped byte anywhere must stop the restore.
  for (const char* codec : {"none", "zstd", "gzip"}) {
    SCOPED_TRACE(codec);
    std::string settings = BackupSettings(GetParam());
    settings.replace(settings.find("none"), 4, codec);
    BackupApp app({"storage"}, settings);
    WriteFiles(app);
    WriteFile(app.root() + "/storage/big.bin", RandomData(3 << 20, 7));  // chunks of MiBs
    ASSERT_EQ(app.Run({"backup", "init"}, WithPassphrase(kRepoPassphrase)).exit_code, 0);
    nlohmann::json j = app.Json({"backup", "create"}, 0, WithPassphrase(kRepoPassphrase));
    const std::string id = j.value("id", "");
    RunResult restore = app.Run({"backup", "restore", id, "--target", app.path("out")},
                                WithPassphrase(kRepoPassphrase));
    ASSERT_EQ(restore.exit_code, 0) << restore.err;
    EXPECT_EQ(DescribeTree(app.path("out/storage")), DescribeTree(app.root() + "/storage"));
    int n = 0;
    for (const auto& path : ObjectsUnder(app.repo() + "/data")) {
      const std::string original = ReadFileOrDie(path);
      for (size_t offset : {original.size() / 3, original.size() / 2}) {
        FlipByte(path, offset);
        const std::string out = app.path("bad" + std::to_string(n++));
        RunResult r =
            app.Run({"backup", "restore", id, "--target", out}, WithPassphrase(kRepoPassphrase));
        EXPECT_EQ(r.exit_code, 4) << path << " byte " << offset << ": " << r.err;
        EXPECT_NE(r.err.find("authentication failed"), std::string::npos) << r.err;
        std::ofstream(path, std::ios::binary | std::ios::trunc) << original;
      }
    }
    EXPECT_GT(n, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Ciphers, CryptoRepoTest,
                         ::testing::Values("aes-256-gcm", "chacha20-poly1305"),
                         [](const auto& info) {
                           return info.param == "aes-256-gcm" ? "Aes256Gcm" : "ChaCha20Poly1305";
                         });

// Unencrypted, the config carries a SHA-256 of itself: an edit is damage too; a config of an
// older velin (no checksum) is read as before, said so by verify, and `upgrade` adds one.
TEST(CryptoRepo, AnEditedUnencryptedConfigIsDetected) {
  BackupApp app({"storage"}, BackupSettings("none"));
  WriteFiles(app);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string config = app.repo() + "/config";
  const std::string original = ReadFileOrDie(config);
  FlipByte(config, original.find("\"seed\": ") + 8);
  for (const char* command : {"verify", "create"}) {
    std::vector<std::string> args = {"backup", command};
    if (args[1] == "verify") args.push_back("--all");
    RunResult r = app.Run(args);
    EXPECT_EQ(r.exit_code, 4) << command << ": " << r.err;
    EXPECT_NE(r.err.find("has been changed or damaged"), std::string::npos) << r.err;
  }
  nlohmann::json older = nlohmann::json::parse(original);
  older.erase("checksum");
  WriteFile(config, older.dump(1));
  nlohmann::json verified = app.Json({"backup", "verify", "--all"});
  EXPECT_EQ(verified.value("config", ""), "unchecked") << verified;
  RunResult human = app.Run({"backup", "verify", "--all"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE((human.out + human.err).find("has no checksum"), std::string::npos) << human.out;
  nlohmann::json upgraded = app.Json({"backup", "upgrade"});
  EXPECT_EQ(upgraded.value("checksum_added", false), true) << upgraded;
  EXPECT_EQ(ReadFileOrDie(config), original);
  EXPECT_EQ(app.Json({"backup", "verify", "--all"}).value("config", ""), "intact");
}

TEST(CryptoRepo, InitFlagOverridesTheConfigAndEditingTheConfigToNoneIsRefused) {
  BackupApp app({"storage"}, BackupSettings("none"));
  WriteFiles(app);
  RunResult init = app.Run({"backup", "init", "--encryption", "chacha20-poly1305"},
                           WithPassphrase(kRepoPassphrase));
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ASSERT_EQ(app.Run({"backup", "create"}, WithPassphrase(kRepoPassphrase)).exit_code, 0);
  EXPECT_EQ(ObjectsUnder(app.repo() + "/keys").size(), 1u);
  // A config edited to say "unencrypted" must not make velin write plaintext next to it.
  nlohmann::json config = nlohmann::json::parse(ReadFileOrDie(app.repo() + "/config"));
  ASSERT_EQ(config["encryption"], "chacha20-poly1305");
  EXPECT_EQ(config["format_version"], 4);
  config.erase("encryption");
  WriteFile(app.repo() + "/config", config.dump(1));
  RunResult r = app.Run({"backup", "create"}, WithPassphrase(kRepoPassphrase));
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("has key objects but its config says it is unencrypted"), std::string::npos)
      << r.err;
  RunResult bad = app.Run({"backup", "init", "--encryption", "rot13"}, WithPassphrase("x"));
  EXPECT_EQ(bad.exit_code, 2);
}

// An encrypted repository's lock is tried while its key is derived (LockWhileDeriving,
// src/cli/backup_common.cpp). What a held lock and a wrong passphrase report, and which comes
// first, is as when the lock came after the key; an attempt that another holder keeps out
// leaves no object of its own, and --lock-wait takes the lock once that holder is gone.
TEST(CryptoRepo, TheLockTriedWhileTheKeyIsDerivedChangesNoOutcome) {
  BackupApp app({"storage"}, BackupSettings("aes-256-gcm"));
  WriteFiles(app);
  ASSERT_EQ(app.Run({"backup", "create"}, WithPassphrase(kRepoPassphrase)).exit_code, 0);
  const std::string locks = app.repo() + "/locks";
  EXPECT_TRUE(ObjectsUnder(locks).empty());
  const std::string foreign = locks + "/exclusive-elsewhere";
  const auto hold = [&](const std::string& kind) {
    WriteFile(foreign, "{\"host\":\"elsewhere\",\"pid\":1,\"kind\":\"" + kind +
                           "\",\"time\":" + std::to_string(time(nullptr)) + "}\n");
  };
  const std::vector<std::string> only_foreign = {foreign};
  hold("exclusive");
  for (const std::string command : {"create", "list", "verify"}) {
    std::vector<std::string> args = {"backup", command, "--lock-wait", "300ms"};
    if (command == "verify") args.push_back("--all");
    RunResult wrong = app.Run(args, WithPassphrase("no"));
    EXPECT_EQ(wrong.exit_code, 2) << command << ": " << wrong.err;
    EXPECT_NE(wrong.err.find("wrong passphrase"), std::string::npos) << wrong.err;
    EXPECT_EQ(ObjectsUnder(locks), only_foreign) << command;
    RunResult held = app.Run(args, WithPassphrase(kRepoPassphrase));
    EXPECT_EQ(held.exit_code, 3) << command << ": " << held.err;
    EXPECT_NE(held.err.find("locked by host elsewhere pid 1, exclusive lock"), std::string::npos)
        << held.err;
    EXPECT_EQ(ObjectsUnder(locks), only_foreign) << command;
  }
  // A shared lock elsewhere keeps a prune's exclusive one out the same way.
  hold("shared");
  RunResult prune =
      app.Run({"backup", "prune", "--lock-wait", "300ms"}, WithPassphrase(kRepoPassphrase));
  EXPECT_EQ(prune.exit_code, 3) << prune.err;
  EXPECT_EQ(ObjectsUnder(locks), only_foreign);
  // Kept out at first, a create waiting (--lock-wait) gets the lock once the holder is gone.
  hold("exclusive");
  RunOptions options = WithPassphrase(kRepoPassphrase);
  options.cwd = app.path(".");
  BackgroundVelin create({"backup", "create", "--lock-wait", "60s"}, options);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_TRUE(create.Running());
  std::filesystem::remove(foreign);
  RunResult waited = create.Finish();
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_TRUE(ObjectsUnder(locks).empty());
  EXPECT_EQ(app.Json({"backup", "list"}, 0, WithPassphrase(kRepoPassphrase))["backups"].size(), 2u);
}

}  // namespace
}  // namespace velin::testing
