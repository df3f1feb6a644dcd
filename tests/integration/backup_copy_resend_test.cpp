// What `backup copy` and the offsite copy send, and to whom:
// - the offsite catch-up used to send the data the caught-up backups share once per backup (the
//   destination's index never learnt what the copy before wrote): 77 MB offsite for 20 MB;
// - a backup already in the target whose packs went there (or that a verify found damaged) was
//   skipped, exit 0, and stayed unrestorable although the warning said its data was copied again;
// - `copy --all --host web2` copied every host's backups.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// The bytes of every pack of the local repository `repo`.
uint64_t ResendPackBytesOf(const std::string& repo) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(repo + "/data")) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

// The largest pack of `repo` (one holding file data, not only trees).
fs::path ResendLargestPackOf(const std::string& repo) {
  fs::path largest;
  uintmax_t size = 0;
  for (const auto& e : fs::recursive_directory_iterator(repo + "/data")) {
    if (e.is_regular_file() && e.file_size() > size) {
      size = e.file_size();
      largest = e.path();
    }
  }
  return largest;
}

// (id, host) of every backup in `repo`.
std::set<std::pair<std::string, std::string>> ResendBackupsIn(const BackupApp& app,
                                                              const std::string& repo) {
  const nlohmann::json listed = app.Json({"backup", "list", "--all", "--destination", repo});
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& b : listed["backups"]) out.insert({b.value("id", ""), b.value("host", "")});
  return out;
}

TEST(BackupCopyResend, TheOffsiteCatchUpSendsTheDataItsBackupsShareOnce) {
  TempDir dir;
  // A regular file where the offsite's parent directory should be: unreachable until removed.
  const std::string blocker = dir / "blocked";
  const std::string offsite = blocker + "/offsite";
  WriteFile(blocker, "not a directory\n");
  BackupApp app({"storage"}, "offsite = \"" + offsite + "\"\n");
  WriteFile(app.root() + "/storage/big.bin", RandomData(4 << 20, 7));

  std::vector<std::string> failed;
  for (int i = 0; i < 3; ++i) {
    WriteFile(app.root() + "/storage/n.txt", "run " + std::to_string(i) + "\n");
    RunResult r = app.Run({"backup", "create", "--json"});
    ASSERT_EQ(r.exit_code, 1) << r.err;
    failed.push_back(nlohmann::json::parse(r.out)["id"]);
  }
  fs::remove(blocker);

  WriteFile(app.root() + "/storage/n.txt", "run 3\n");
  const nlohmann::json caught = app.Json({"backup", "create"});
  EXPECT_EQ(caught["offsite"]["caught_up"], nlohmann::json(failed)) << caught;
  EXPECT_EQ(ResendBackupsIn(app, offsite).size(), 4u);

  // The offsite holds the data about once, as the repository does (it held 4 times as much).
  const uint64_t here = ResendPackBytesOf(app.repo());
  const uint64_t there = ResendPackBytesOf(offsite);
  EXPECT_GT(here, uint64_t{4} << 20);
  EXPECT_LE(there * 10, here * 12) << "offsite " << there << " bytes, repository " << here;
  const nlohmann::json prune = app.Json({"backup", "prune", "--dry-run", "--destination", offsite});
  EXPECT_LT(prune.value("bytes_freed", uint64_t{0}), uint64_t{1} << 20) << prune;
  RunResult verified = app.Run({"backup", "verify", "--all", "--destination", offsite});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
}

class BackupCopyResendLost : public ::testing::TestWithParam<bool> {};

// A pack deleted in the target (false) or damaged there and found so by a verify (true).
TEST_P(BackupCopyResendLost, ACopyOfABackupAlreadyThereSendsWhatItLostThereAgain) {
  const bool damaged = GetParam();
  BackupApp app;
  WriteFile(app.root() + "/storage/photo.jpg", RandomData(300000, 31));
  WriteFile(app.root() + "/storage/notes.txt", "notes\n");
  const std::string id = app.Json({"backup", "create"})["id"];
  const std::string off = app.path("off");
  ASSERT_EQ(app.Run({"backup", "copy", "latest", "--to", off}).exit_code, 0);

  const fs::path pack = ResendLargestPackOf(off);
  ASSERT_FALSE(pack.empty());
  if (damaged) {
    std::string data = ReadFileOrDie(pack.string());
    data[1000] = static_cast<char>(data[1000] ^ 0x40);
    std::ofstream(pack, std::ios::binary | std::ios::trunc) << data;
    RunResult found = app.Run({"backup", "verify", "--all", "--destination", off});
    ASSERT_EQ(found.exit_code, 4) << found.err;
  } else {
    fs::remove(pack);
  }

  RunResult copied = app.Run({"backup", "copy", "--all", "--to", off, "--json"});
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  const nlohmann::json j = nlohmann::json::parse(copied.out);
  EXPECT_EQ(j["snapshots_copied"], 0) << j;
  EXPECT_EQ(j["snapshots_present"], 1) << j;
  EXPECT_EQ(j.value("snapshots_repaired", 0), 1) << j;
  const uint64_t resent = j.value("blobs_resent", uint64_t{0});
  EXPECT_GT(resent, 0u) << j;
  EXPECT_GE(j.value("blobs_copied", uint64_t{0}), resent) << j;
  // One pack or more, as the data was packed: "1 pack … is missing (ID); … of it", "2 packs
  // … are missing (first: ID); … of them".
  const bool one = copied.err.find("warning: 1 pack ") != std::string::npos;
  const std::string said = damaged ? (one ? "that a verify found damaged is not used ("
                                          : "that a verify found damaged are not used (first: ")
                                   : (one ? "is missing there or truncated ("
                                          : "are missing there or truncated (first: ");
  EXPECT_NE(copied.err.find(said), std::string::npos) << copied.err;
  EXPECT_NE(copied.err.find(one ? "what the backups copied now need of it is copied again"
                                : "what the backups copied now need of them is copied again"),
            std::string::npos)
      << copied.err;

  RunResult verified = app.Run({"backup", "verify", "--all", "--destination", off});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  RunResult restored =
      app.Run({"backup", "restore", id, "--destination", off, "--target", app.path("out")});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(DescribeTree(app.path("out")), DescribeTree(app.root()));

  // The human summary says so too; a copy with nothing lost says nothing of it.
  RunResult quiet = app.Run({"backup", "copy", "--all", "--to", off});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_EQ(quiet.out.find("lacked data there"), std::string::npos) << quiet.out;
}

INSTANTIATE_TEST_SUITE_P(GoneAndDamaged, BackupCopyResendLost, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Damaged" : "Gone"; });

// Into an SFTP repository (where the packs are not listed: hundreds of round trips) a pack a
// verify found damaged there was taken as stored: the backup there stayed unrestorable.
TEST(BackupCopyResend, ACopyToSftpSendsWhatAVerifyFoundDamagedThereAgain) {
  SshServer ssh;
  BackupApp app({"storage"}, ssh.StorageConfig());
  WriteFile(app.root() + "/storage/photo.jpg", RandomData(300000, 33));
  const std::string id = app.Json({"backup", "create"})["id"];
  const std::string off_dir = ssh.files_dir() + "/off";
  const std::string off = ssh.Url(off_dir);
  ASSERT_EQ(app.Run({"backup", "copy", "latest", "--to", off}).exit_code, 0);
  const fs::path pack = ResendLargestPackOf(off_dir);
  ASSERT_FALSE(pack.empty());
  std::string data = ReadFileOrDie(pack.string());
  data[1000] = static_cast<char>(data[1000] ^ 0x40);
  std::ofstream(pack, std::ios::binary | std::ios::trunc) << data;
  ASSERT_EQ(app.Run({"backup", "verify", "--all", "--destination", off}).exit_code, 4);

  RunResult copied = app.Run({"backup", "copy", "--all", "--to", off, "--json"});
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  const nlohmann::json j = nlohmann::json::parse(copied.out);
  EXPECT_EQ(j.value("snapshots_repaired", 0), 1) << j;
  EXPECT_NE(copied.err.find("that a verify found damaged"), std::string::npos) << copied.err;
  RunResult verified = app.Run({"backup", "verify", id, "--destination", off});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  RunResult restored =
      app.Run({"backup", "restore", id, "--destination", off, "--target", app.path("out")});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(DescribeTree(app.path("out")), DescribeTree(app.root()));
}

TEST(BackupCopyResend, CopyAllWithHostCopiesThatHostsBackupsOnly) {
  BackupApp app;
  auto as_host = [](const std::string& host) {
    RunOptions o;
    o.env = {{"VELIN_APP_HOST", host}};
    return o;
  };
  WriteFile(app.root() + "/storage/a.txt", "web1\n");
  const std::string web1 = app.Json({"backup", "create"}, 0, as_host("web1"))["id"];
  WriteFile(app.root() + "/storage/a.txt", "web2\n");
  const std::string web2 = app.Json({"backup", "create"}, 0, as_host("web2"))["id"];
  ASSERT_FALSE(web1.empty());
  ASSERT_FALSE(web2.empty());

  const std::string off = app.path("off");
  const nlohmann::json only =
      app.Json({"backup", "copy", "--all", "--host", "web2", "--to", off}, 0, as_host("web1"));
  EXPECT_EQ(only["snapshots_copied"], 1) << only;
  EXPECT_EQ(ResendBackupsIn(app, off),
            (std::set<std::pair<std::string, std::string>>{{web2, "web2"}}));

  // Another app's: none of these.
  const nlohmann::json none =
      app.Json({"backup", "copy", "--all", "--app", "other", "--to", off}, 0, as_host("web1"));
  EXPECT_EQ(none["snapshots_copied"], 0) << none;
  EXPECT_EQ(none["snapshots_present"], 0) << none;

  // --all alone: every host's, as before.
  const nlohmann::json all = app.Json({"backup", "copy", "--all", "--to", off}, 0, as_host("web1"));
  EXPECT_EQ(all["snapshots_copied"], 1) << all;
  EXPECT_EQ(all["snapshots_present"], 1) << all;
  EXPECT_EQ(ResendBackupsIn(app, off),
            (std::set<std::pair<std::string, std::string>>{{web1, "web1"}, {web2, "web2"}}));
}

}  // namespace
}  // namespace velin::testing
