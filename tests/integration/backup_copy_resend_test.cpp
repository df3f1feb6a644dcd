// What `backup copy` and the offsite copy send, and to whom:
// - the offsite catch-up used to send the data the caught-up backups share once per backup (the
//   destination's index never learnt what the copy before wrote): 77 MB offsite for 20 MB;
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "support/backup_fixture.hpp"

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

}  // namespace
}  // namespace velin::testing
