// Prune and delta blobs (docs/delta.md) through the real velin binary: a delta blob that no
// backup uses any more, in a pack that prune keeps, must not stay in the index once its base is
// gone, or a later backup producing the same chunk takes it as stored and cannot be restored.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

class BackupPruneDeltaTest : public ::testing::Test {
 protected:
  std::string Create(const std::string& day) {
    RunOptions at;
    at.env["VELIN_NOW"] = "2026-01-" + day + "T01:00:00Z";
    at.env["TZ"] = "UTC";
    nlohmann::json made = app_.Json({"backup", "create"}, 0, at);
    EXPECT_TRUE(made.contains("id")) << made;
    return made.value("id", "");
  }
  BackupApp app_{{"storage"}, "prune_after_create = false"};
};

TEST_F(BackupPruneDeltaTest, AChunkStoredAgainAfterItsUnusedDeltaLostItsBaseRestores) {
  const std::string f1 = RandomData(200000, 11);
  std::string f2 = f1;
  f2[1000] ^= 0x5a;
  f2[100000] ^= 0x5a;
  const std::string file = app_.root() + "/storage/f";
  WriteFile(file, f1);
  const std::string one = Create("01");
  WriteFile(file, f2);  // stored as a delta against f1's chunk
  WriteFile(app_.root() + "/storage/g", RandomData(3 << 20, 12));  // keeps the delta's pack
  const std::string two = Create("02");
  fs::remove(file);
  Create("03");
  RunResult forget = app_.Run({"backup", "forget", one, two, "--yes"});
  ASSERT_EQ(forget.exit_code, 0) << forget.out << forget.err;
  RunResult prune = app_.Run({"backup", "prune"});
  ASSERT_EQ(prune.exit_code, 0) << prune.out << prune.err;
  RunResult verify = app_.Run({"backup", "verify", "--all"});
  ASSERT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  WriteFile(file, f2);
  const std::string four = Create("04");
  verify = app_.Run({"backup", "verify", "--all"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  const std::string out = app_.path("out");
  RunResult restore = app_.Run({"backup", "restore", four, "--target", out});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_TRUE(ReadFileOrDie(out + "/storage/f") == f2);

  // A second prune finds nothing dangling left and keeps everything restorable.
  prune = app_.Run({"backup", "prune"});
  ASSERT_EQ(prune.exit_code, 0) << prune.out << prune.err;
  verify = app_.Run({"backup", "verify", "--all"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(verify.err.find("delta blob"), std::string::npos) << verify.err;
}

// `backup stats` counts the base of a delta a backup uses as needed, as prune does: it said
// such bases were "referenced by no backup until prune", and prune never removed them.
TEST(BackupStatsDeltaBase, ADeltaBaseABackupNeedsIsNotCountedAsUnreferenced) {
  BackupApp app{{"storage"}, "prune_after_create = false\nrepack_threshold = 0"};
  const std::string f1 = RandomData(200000, 21);
  std::string f2 = f1;
  f2[1000] ^= 0x5a;
  const std::string file = app.root() + "/storage/f";
  WriteFile(file, f1);
  nlohmann::json one = app.Json({"backup", "create"});
  WriteFile(file, f2);  // stored as a delta against f1's chunk
  app.Json({"backup", "create"});
  RunResult forget = app.Run({"backup", "forget", one.value("id", ""), "--yes"});
  ASSERT_EQ(forget.exit_code, 0) << forget.out << forget.err;
  RunResult prune = app.Run({"backup", "prune"});
  ASSERT_EQ(prune.exit_code, 0) << prune.out << prune.err;
  nlohmann::json stats = app.Json({"backup", "stats"});
  // Every pack with an unused blob was repacked (threshold 0): nothing left is unneeded, and the
  // base stays because the delta needs it.
  EXPECT_EQ(stats["repository"]["unreferenced_blobs"], 0) << stats;
  EXPECT_GT(stats["repository"]["blobs"].get<int>(), stats["total"]["blobs"].get<int>()) << stats;
  RunResult human = app.Run({"backup", "stats"});
  EXPECT_NE(human.out.find("(0 of them needed by no backup"), std::string::npos) << human.out;
  const std::string out = app.path("out");
  RunResult restore = app.Run({"backup", "restore", "latest", "--target", out});
  ASSERT_EQ(restore.exit_code, 0) << restore.out << restore.err;
  EXPECT_TRUE(ReadFileOrDie(out + "/storage/f") == f2);
}

}  // namespace
}  // namespace velin::testing
