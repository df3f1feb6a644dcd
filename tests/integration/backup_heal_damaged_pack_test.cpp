// A pack `backup verify` found damaged (a flipped byte) used to be taken as stored by every later
// `backup create`: the new backup pointed at the damaged blobs, exit 0, and could not be
// restored. Now verify records the pack in state/verify, create stores its data again (with a
// warning), readers take such a blob from its new pack, and prune removes the damaged pack once
// no backup needs it: the repository heals.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

std::vector<std::filesystem::path> HealPacksOf(const std::string& repo) {
  std::vector<std::filesystem::path> packs;
  for (const auto& e : std::filesystem::recursive_directory_iterator(repo + "/data")) {
    if (e.is_regular_file()) packs.push_back(e.path());
  }
  return packs;
}

// Flips a byte in every pack of file data (which pack holds which file depends on how the
// workers shared the files out) and returns their ids. Not in the small packs of trees only: a
// tree that does not read hides the packs of the files under it from the verify (a verify of
// the next backup finds those).
// With `remove` they are deleted instead (behind velin's back: a cleanup script, a disk error).
std::vector<std::string> HealDamageEveryDataPack(const std::string& repo, bool remove = false) {
  std::vector<std::string> ids;
  for (const auto& p : HealPacksOf(repo)) {
    std::string data = ReadFileOrDie(p.string());
    if (data.size() < 50000) continue;
    if (remove) {
      std::filesystem::remove(p);
      ids.push_back(p.filename().string());
      continue;
    }
    data[1000] = static_cast<char>(data[1000] ^ 0x40);  // in the first blob, a file's data
    std::ofstream(p, std::ios::binary | std::ios::trunc) << data;
    ids.push_back(p.filename().string());
  }
  return ids;
}

// Those of the packs `ids` whose file is there and still damaged (its bytes do not hash to its
// name). A create that stores a damaged pack's data again may write a pack of the very same
// bytes, so under the same name, in its place (which files share a pack depends on how the
// workers shared them out): that pack is healed, and a verify finds it whole.
std::vector<std::string> HealStillDamaged(const std::string& repo,
                                          const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    const std::string path = repo + "/data/" + id.substr(0, 2) + "/" + id;
    if (!std::filesystem::exists(path)) continue;
    RunResult sum = RunProgram({"sha256sum", path});
    EXPECT_EQ(sum.exit_code, 0) << sum.err;
    if (sum.out.substr(0, id.size()) != id) out.push_back(id);
  }
  return out;
}

nlohmann::json HealDamagedPacksRecorded(const std::string& repo) {
  return nlohmann::json::parse(ReadFileOrDie(repo + "/state/verify"))["damaged_packs"];
}

class BackupHealDamagedPack : public ::testing::TestWithParam<bool> {
 protected:
  BackupHealDamagedPack()
      : app_({"storage"}, GetParam() ? "encryption = \"aes-256-gcm\"\n"
                                       "password_env = \"VELIN_TEST_PASSPHRASE\"\n"
                                     : ""),
        env_{.env = {{"VELIN_TEST_PASSPHRASE", "correct horse"}}} {}
  RunResult Run(std::vector<std::string> args) const { return app_.Run(std::move(args), env_); }

  BackupApp app_;
  RunOptions env_;
};

TEST_P(BackupHealDamagedPack, CreateStoresADamagedPacksDataAgainAndPruneRemovesIt) {
  WriteFile(app_.root() + "/storage/photo.jpg", RandomData(300000, 41));
  WriteFile(app_.root() + "/storage/notes.txt", "notes\n");
  WriteFile(app_.root() + "/storage/old.bin", RandomData(100000, 42));  // in the first only
  const std::string first = app_.Json({"backup", "create"}, 0, env_)["id"];
  const std::vector<std::string> damaged = HealDamageEveryDataPack(app_.repo());
  ASSERT_FALSE(damaged.empty());

  // Verify reads the packs, finds them damaged and records them.
  RunResult verified = Run({"backup", "verify", "--all"});
  ASSERT_EQ(verified.exit_code, 4) << verified.err;
  const nlohmann::json recorded = HealDamagedPacksRecorded(app_.repo());
  EXPECT_EQ(recorded.size(), damaged.size()) << recorded << verified.err;
  for (const auto& id : damaged) {
    EXPECT_NE(std::find(recorded.begin(), recorded.end(), id), recorded.end()) << id << recorded;
  }

  // A create of the same data stores it again, and the new backup is whole.
  std::filesystem::remove(app_.root() + "/storage/old.bin");
  const std::string before = DescribeTree(app_.root());
  RunResult created = Run({"backup", "create", "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string second = nlohmann::json::parse(created.out)["id"];
  EXPECT_NE(created.err.find(damaged.size() == 1
                                 ? std::string("1 pack a verify found damaged is not used (")
                                 : std::to_string(damaged.size()) +
                                       " packs a verify found damaged are not used (first: "),
            std::string::npos)
      << created.err;
  EXPECT_NE(created.err.find(damaged.size() == 1 ? "its data is stored again"
                                                 : "their data is stored again"),
            std::string::npos)
      << created.err;
  EXPECT_EQ(created.err.find("missing from the repository"), std::string::npos) << created.err;
  RunResult restored = Run({"backup", "restore", second, "--target", app_.path("out")});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(DescribeTree(app_.path("out")), before);
  RunResult whole = Run({"backup", "verify", second});
  EXPECT_EQ(whole.exit_code, 0) << whole.err;
  // That verify did not read the damaged packs: it must not forget them (but one the create
  // wrote again whole, under its name, it read and found whole).
  EXPECT_EQ(HealDamagedPacksRecorded(app_.repo()).size(),
            HealStillDamaged(app_.repo(), damaged).size());
  // The first backup's old.bin is only in a damaged pack: still reported.
  RunResult old = Run({"backup", "verify", first});
  EXPECT_EQ(old.exit_code, 4) << old.err;

  // Once the first backup is forgotten, prune removes the damaged packs (the new ones hold
  // every blob still needed) and everything verifies.
  ASSERT_EQ(Run({"backup", "forget", first, "--yes"}).exit_code, 0);
  RunResult pruned = Run({"backup", "prune"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_TRUE(HealStillDamaged(app_.repo(), damaged).empty());
  EXPECT_TRUE(HealDamagedPacksRecorded(app_.repo()).empty());
  RunResult all = Run({"backup", "verify", "--all"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  RunResult quiet = Run({"backup", "create"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("found damaged"), std::string::npos) << quiet.err;
}

// The same on SFTP and FTP, where create does not list the packs (hundreds of round trips):
// before, a new backup there pointed at the damaged blobs again (exit 0, and verify failed on
// it too); the verify record is read without a listing, so its packs are not used there either.
// A pack gone (`lost`) was not even recorded: verify now records it as it records a damaged one.
void HealOnAFileServer(BackupApp& app, const std::string& url, const std::string& repo_dir,
                       const RunOptions& env, bool lost = false) {
  auto run = [&](std::vector<std::string> args) {
    args.push_back("--destination");
    args.push_back(url);
    return app.Run(std::move(args), env);
  };
  WriteFile(app.root() + "/storage/photo.jpg", RandomData(300000, 43));
  WriteFile(app.root() + "/storage/notes.txt", "notes\n");
  RunResult made = run({"backup", "create", "--json"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string first = nlohmann::json::parse(made.out)["id"];
  const std::vector<std::string> damaged = HealDamageEveryDataPack(repo_dir, lost);
  ASSERT_FALSE(damaged.empty());
  RunResult verified = run({"backup", "verify", "--all"});
  ASSERT_EQ(verified.exit_code, 4) << verified.err;
  EXPECT_EQ(HealDamagedPacksRecorded(repo_dir).size(), damaged.size()) << verified.err;

  const std::string before = DescribeTree(app.root());
  RunResult created = run({"backup", "create", "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.err.find("a verify found damaged"), std::string::npos) << created.err;
  const std::string second = nlohmann::json::parse(created.out)["id"];
  RunResult whole = run({"backup", "verify", second});
  EXPECT_EQ(whole.exit_code, 0) << whole.err;
  RunResult restored = run({"backup", "restore", second, "--target", app.path("out")});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(DescribeTree(app.path("out")), before);
  // Once the first backup is forgotten, prune removes the damaged packs there too.
  ASSERT_EQ(run({"backup", "forget", first, "--yes"}).exit_code, 0);
  RunResult pruned = run({"backup", "prune"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_TRUE(HealStillDamaged(repo_dir, damaged).empty());
  RunResult all = run({"backup", "verify", "--all"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
}

TEST(BackupHealDamagedPackRemote, Sftp) {
  SshServer ssh;
  BackupApp app({"storage"}, ssh.StorageConfig());
  HealOnAFileServer(app, ssh.Url(ssh.files_dir() + "/repo"), ssh.files_dir() + "/repo",
                    RunOptions{});
}

TEST(BackupHealDamagedPackRemote, SftpLostPack) {
  SshServer ssh;
  BackupApp app({"storage"}, ssh.StorageConfig());
  HealOnAFileServer(app, ssh.Url(ssh.files_dir() + "/repo"), ssh.files_dir() + "/repo",
                    RunOptions{}, /*lost=*/true);
}

TEST(BackupHealDamagedPackRemote, Ftp) {
  FtpServer ftp;
  BackupApp app({"storage"}, "");
  RunOptions password;
  password.env["VELIN_FTP_PASSWORD"] = FtpServer::kPassword;
  HealOnAFileServer(app, ftp.Url("repo"), ftp.root_dir() + "/repo", password);
}

INSTANTIATE_TEST_SUITE_P(PlainAndEncrypted, BackupHealDamagedPack, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

}  // namespace
}  // namespace velin::testing
