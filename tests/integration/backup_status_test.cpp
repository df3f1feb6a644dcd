// velin backup status and unlock on a real repository: status exits 1 with no backup, when the
// newest backup is older than monitor.max_age, and when no successful verify is recorded within
// monitor.max_verify_age (verify records it in the repository); unlock --stale removes exactly
// the locks whose owner is gone (a dead pid of this process space, or no refresh for 30 min by
// the storage's times), unlock without --stale removes all after confirmation.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "support/backup_fixture.hpp"
#include "velin/repo/lock.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// On failure too stdout holds exactly one document, the status with its "error".
nlohmann::json FirstDocument(const RunResult& r) {
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  EXPECT_TRUE(j.contains("error")) << r.out;
  return j;
}

RunOptions At(const std::string& utc) {
  RunOptions o;
  o.env["VELIN_NOW"] = utc;
  return o;
}

TEST(BackupStatusTest, ExitCodesFollowTheNewestBackupAndTheLastVerify) {
  BackupApp app({"storage"},
                "prune_after_create = false\n[monitor]\nmax_age = \"2h\"\n"
                "max_verify_age = \"30d\"");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  RunResult none = app.Run({"backup", "status", "--json"}, At("2026-11-01T10:00:00Z"));
  EXPECT_EQ(none.exit_code, 1);
  nlohmann::json empty = FirstDocument(none);
  EXPECT_EQ(empty["ok"], false);
  EXPECT_EQ(empty["newest"], nullptr);

  ASSERT_EQ(app.Run({"backup", "create"}, At("2026-11-01T10:00:00Z")).exit_code, 0);
  // Fresh backup, but no verify recorded yet.
  RunResult unverified = app.Run({"backup", "status"}, At("2026-11-01T11:00:00Z"));
  EXPECT_EQ(unverified.exit_code, 1);
  EXPECT_NE(unverified.err.find("no successful verify is recorded"), std::string::npos)
      << unverified.err;

  ASSERT_EQ(app.Run({"backup", "verify", "--all"}, At("2026-11-01T11:00:00Z")).exit_code, 0);
  nlohmann::json fine = app.Json({"backup", "status"}, 0, At("2026-11-01T11:30:00Z"));
  EXPECT_EQ(fine["ok"], true) << fine;
  EXPECT_EQ(fine["backups"], 1);
  EXPECT_EQ(fine["newest"]["age_seconds"], 5400);
  EXPECT_EQ(fine["objects"]["snapshots"], 1);
  EXPECT_GE(fine["objects"]["data"].get<int>(), 1);
  EXPECT_GT(fine["size_bytes"].get<uint64_t>(), 0u);
  EXPECT_EQ(fine["verify"]["last_ok"], true);
  RunResult human = app.Run({"backup", "status"}, At("2026-11-01T11:30:00Z"));
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("Backups are up to date"), std::string::npos) << human.out;

  // Three hours on, the backup is older than max_age.
  RunResult stale = app.Run({"backup", "status"}, At("2026-11-01T13:00:01Z"));
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_NE(stale.err.find("monitor.max_age"), std::string::npos) << stale.err;

  // A new backup after 40 days: up to date, but the last verify is too old.
  ASSERT_EQ(app.Run({"backup", "create"}, At("2026-12-11T10:00:00Z")).exit_code, 0);
  RunResult old_verify = app.Run({"backup", "status"}, At("2026-12-11T10:05:00Z"));
  EXPECT_EQ(old_verify.exit_code, 1);
  EXPECT_NE(old_verify.err.find("the last successful verify was"), std::string::npos)
      << old_verify.err;
}

// A verify that found damage turns status red at once, whatever max_verify_age says, and the
// next verify that finds none turns it green again (one good verify earlier kept it "up to
// date" for the whole max_verify_age window after the damage was found).
TEST(BackupStatusTest, AVerifyThatFoundDamageIsAProblemUntilOneFindsNone) {
  BackupApp app({"storage"}, "prune_after_create = false\n[monitor]\nmax_verify_age = \"30d\"");
  WriteFile(app.root() + "/storage/a.txt", RandomData(20000, 5));
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  EXPECT_EQ(app.Run({"backup", "status"}).exit_code, 0);

  std::string pack;
  for (const auto& e : fs::recursive_directory_iterator(app.repo() + "/data")) {
    if (e.is_regular_file()) pack = e.path().string();
  }
  ASSERT_FALSE(pack.empty());
  std::string bytes = ReadFileOrDie(pack);
  const std::string intact = bytes;
  bytes[bytes.size() / 3] ^= 0x5a;
  WriteFile(pack, bytes);
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 4);
  RunResult red = app.Run({"backup", "status"});
  EXPECT_EQ(red.exit_code, 1) << red.out;
  EXPECT_NE(red.err.find("found damage"), std::string::npos) << red.err;
  nlohmann::json doc = FirstDocument(app.Run({"backup", "status", "--json"}));
  EXPECT_EQ(doc["ok"], false) << doc;

  WriteFile(pack, intact);
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  EXPECT_EQ(app.Run({"backup", "status"}).exit_code, 0);
}

// A lock as velin writes it: by `holder` (this machine's identity, with another pid), last
// rewritten `age_seconds` ago by the storage's clock (the file's modification time).
void WriteLock(const BackupApp& app, const std::string& name, const repo::LockHolder& holder,
               long age_seconds) {
  const long now = static_cast<long>(::time(nullptr));
  const std::string path = app.repo() + "/locks/" + name;
  WriteFile(path, repo::FormatLockRecord(repo::LockRecord{holder, "exclusive", now - age_seconds}));
  fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::seconds(age_seconds));
}

TEST(BackupUnlockTest, StaleRemovesOnlyDeadOwnersAndPlainUnlockNeedsConfirmation) {
  BackupApp app({"storage"}, "prune_after_create = false");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const repo::LockHolder self = io::Env::Default().ThisProcess();
  repo::LockHolder dead = self;
  dead.pid = 4194000;  // pid gone in this process space
  repo::LockHolder other = self;
  other.host = "elsewhere";
  other.pid = 1234;
  WriteLock(app, "exclusive-deadpid", dead, 5);
  WriteLock(app, "exclusive-oldother", other, 7200);  // not refreshed for 2 h
  WriteLock(app, "exclusive-live", self, 5);          // this test process: alive

  nlohmann::json status = app.Json({"backup", "status"}, 0);
  ASSERT_EQ(status["locks"].size(), 3u) << status;
  for (const auto& l : status["locks"]) {
    EXPECT_EQ(l["stale"], l["name"] != "locks/exclusive-live") << l;
  }
  nlohmann::json stale = app.Json({"backup", "unlock", "--stale"});
  EXPECT_EQ(stale["removed"].size(), 2u) << stale;
  EXPECT_EQ(stale["remaining"], 1);
  EXPECT_TRUE(fs::exists(app.repo() + "/locks/exclusive-live"));
  EXPECT_FALSE(fs::exists(app.repo() + "/locks/exclusive-deadpid"));
  // The live exclusive lock keeps a backup out.
  EXPECT_EQ(app.Run({"backup", "create"}).exit_code, 3);

  // Without --stale it asks; with no terminal and no --yes that is a usage error.
  RunResult refused = app.Run({"backup", "unlock"});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_TRUE(fs::exists(app.repo() + "/locks/exclusive-live"));
  RunResult all = app.Run({"backup", "unlock", "--yes"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  EXPECT_TRUE(fs::is_empty(app.repo() + "/locks"));
  EXPECT_EQ(app.Run({"backup", "create"}).exit_code, 0);
}

}  // namespace
}  // namespace velin::testing
