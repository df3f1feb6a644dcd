// `latest` when a backup cannot be read. The newest backup damaged: `latest` cannot know which
// backup is the newest, so every command given `latest` refuses (exit 4) and names the damaged
// one, instead of quietly taking an older one — `forget latest` forgot the last good backup, a
// restore rolled the application further back than asked, `verify latest` recorded "intact".
// An older backup damaged: its id (local time) dates it more than 14 hours before the newest
// readable one, which `latest` is then.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

RunOptions TimedAt(const std::string& utc) {
  RunOptions o;
  o.env = {{"VELIN_NOW", utc}, {"LANG", "C"}, {"TZ", "UTC"}};
  o.unset_env = {"LC_ALL", "LC_MESSAGES"};
  return o;
}

class LatestDamagedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int n = 0;
    for (const char* time :
         {"2026-11-30T10:00:00Z", "2026-12-01T10:05:00Z", "2026-12-01T10:10:00Z"}) {
      WriteFile(app_.root() + "/storage/which.txt", std::to_string(++n) + "\n");
      RunResult r = app_.Run({"backup", "create"}, TimedAt(time));
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    for (const char* id : {kFirst, kSecond, kNewest}) {
      ASSERT_TRUE(std::filesystem::exists(Snapshot(id))) << id;
    }
  }
  std::string Snapshot(const std::string& id) const { return app_.repo() + "/snapshots/" + id; }
  void Damage(const std::string& id) const { std::filesystem::resize_file(Snapshot(id), 100); }
  RunResult Run(std::vector<std::string> args) const {
    return app_.Run(std::move(args), TimedAt("2026-12-01T11:00:00Z"));
  }

  static constexpr const char* kFirst = "20261130-1000-full";
  static constexpr const char* kSecond = "20261201-1005-full";
  static constexpr const char* kNewest = "20261201-1010-full";
  BackupApp app_{{"storage"}, "prune_after_create = false\n"};
};

TEST_F(LatestDamagedTest, ADamagedNewestBackupStopsEveryCommandGivenLatest) {
  Damage(kNewest);
  const std::string target = app_.path("restored");
  const std::vector<std::vector<std::string>> commands = {
      {"backup", "forget", "latest", "--yes"},
      {"backup", "restore", "latest", "--target", target},
      {"backup", "restore", "latest", "--yes"},
      {"backup", "verify", "latest"},
      {"backup", "ls", "latest"},
  };
  for (const auto& command : commands) {
    RunResult r = Run(command);
    EXPECT_EQ(r.exit_code, 4) << command[1] << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("backup 20261201-1010-full in "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("may be newer than 20261201-1005-full"), std::string::npos) << r.err;
  }
  for (const char* id : {kFirst, kSecond, kNewest}) {
    EXPECT_TRUE(std::filesystem::exists(Snapshot(id))) << id << " was forgotten";
  }
  EXPECT_FALSE(std::filesystem::exists(target + "/storage/which.txt"));
  EXPECT_EQ(ReadFileOrDie(app_.root() + "/storage/which.txt"), "3\n");
  // The status does not claim a verify that did not happen.
  EXPECT_EQ(Run({"backup", "status"}).out.find("intact"), std::string::npos);

  // A named backup still restores; once the damaged one is forgotten, `latest` is the one before.
  RunResult r = Run({"backup", "restore", kSecond, "--target", target});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(target + "/storage/which.txt"), "2\n");
  r = Run({"backup", "forget", kNewest, "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::filesystem::remove_all(target);
  r = Run({"backup", "restore", "latest", "--target", target});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(target + "/storage/which.txt"), "2\n");
}

TEST_F(LatestDamagedTest, ADamagedOlderBackupLeavesLatestAsItIs) {
  Damage(kFirst);
  const std::string target = app_.path("restored");
  RunResult r = Run({"backup", "restore", "latest", "--target", target});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(target + "/storage/which.txt"), "3\n");
  r = Run({"backup", "forget", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(Snapshot(kNewest)));
  EXPECT_TRUE(std::filesystem::exists(Snapshot(kSecond)));
  // Every readable backup damaged or gone: nothing to call the latest.
  Damage(kSecond);
  r = Run({"backup", "restore", "latest", "--target", target});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("no readable backup in "), std::string::npos) << r.err;
}

}  // namespace
}  // namespace velin::testing
