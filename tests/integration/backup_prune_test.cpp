// velin backup prune on a real repository: four backups with overlapping data, two forgotten
// (keep_last = 2); prune deletes and repacks, the repository shrinks, the remaining backups
// restore identically and verify passes — also when prune fails at every write/sync/rename/
// create in turn (VELIN_FAULT_INJECT) and when it dies at its crash points
// (VELIN_TEST_CRASH_AT), after which a second prune completes.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

uint64_t TreeSize(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

class BackupPruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string storage = app_.root() + "/storage";
    WriteFile(storage + "/static.bin", RandomData(300000, 1));  // in every backup
    for (int i = 0; i < 4; ++i) {
      WriteFile(storage + "/changing.bin", RandomData(200000, 10 + i));
      WriteFile(storage + "/day" + std::to_string(i) + ".txt", "day " + std::to_string(i) + "\n");
      if (i > 0) fs::remove(storage + "/day" + std::to_string(i - 1) + ".txt");
      RunOptions at;
      at.env["VELIN_NOW"] = "2026-11-0" + std::to_string(i + 1) + "T10:00:00Z";
      nlohmann::json made = app_.Json({"backup", "create"}, 0, at);
      ASSERT_TRUE(made.contains("id")) << made;
      if (i >= 2) expected_[made["id"].get<std::string>()] = DescribeTree(storage);
    }
    ASSERT_EQ(app_.Run({"backup", "forget"}).exit_code, 0);
    ASSERT_EQ(app_.Json({"backup", "list"})["backups"].size(), 2u);
  }

  // Every remaining backup restores exactly as it was taken, and verify --all passes.
  void ExpectIntact(const std::string& when) {
    RunResult verify = app_.Run({"backup", "verify", "--all"});
    ASSERT_EQ(verify.exit_code, 0) << when << ": " << verify.err << verify.out;
    for (const auto& [id, tree] : expected_) {
      const std::string out = app_.path("out-" + id);
      RunResult r = app_.Run({"backup", "restore", id, "--target", out});
      ASSERT_EQ(r.exit_code, 0) << when << ": " << r.err;
      EXPECT_EQ(DescribeTree(out + "/storage"), tree) << when << ": " << id;
      fs::remove_all(out);
    }
  }

  void SaveRepo() { fs::copy(app_.repo(), app_.path("saved-repo"), fs::copy_options::recursive); }
  // The saved repository, its packs as old as their backups (VELIN_NOW: days ago): a pack a
  // crashed prune left unindexed is then old enough for the next prune to delete (a young one
  // may be a running create's and is left alone).
  void ResetRepo() {
    fs::remove_all(app_.repo());
    fs::copy(app_.path("saved-repo"), app_.repo(), fs::copy_options::recursive);
    for (const auto& e : fs::recursive_directory_iterator(app_.repo() + "/data")) {
      if (e.is_regular_file()) {
        fs::last_write_time(e.path(), fs::file_time_type::clock::now() - std::chrono::hours(48));
      }
    }
  }

  BackupApp app_{{"storage"}, "keep_last = 2\nprune_after_create = false\ncompression = \"none\""};
  std::map<std::string, std::string> expected_;
};

TEST_F(BackupPruneTest, RemovesUnusedDataAndTheRemainingBackupsRestore) {
  const uint64_t before = TreeSize(app_.repo());
  nlohmann::json dry = app_.Json({"backup", "prune", "--dry-run"});
  EXPECT_EQ(dry["dry_run"], true);
  EXPECT_GT(dry["bytes_freed"].get<uint64_t>(), 0u) << dry;
  EXPECT_EQ(TreeSize(app_.repo()), before);  // a dry run changes nothing

  nlohmann::json pruned = app_.Json({"backup", "prune"});
  EXPECT_EQ(pruned["snapshots"], 2);
  // The two forgotten changing.bin versions sit in packs of two different backups: each pack
  // goes, or is repacked when it shares with static.bin (still used) — which one depends on
  // which writer thread took which blob.
  EXPECT_GE(pruned["packs_deleted"].get<int>(), 1) << pruned;
  EXPECT_GE(pruned["packs_deleted"].get<int>() + pruned["packs_repacked"].get<int>(), 2) << pruned;
  EXPECT_GT(pruned["blobs_removed"].get<int>(), 0) << pruned;
  const uint64_t after = TreeSize(app_.repo());
  EXPECT_LT(after + 350000, before) << pruned;  // two changing.bin versions went
  EXPECT_EQ(pruned["bytes_freed"].get<uint64_t>(),
            pruned["bytes_before"].get<uint64_t>() - pruned["bytes_after"].get<uint64_t>());
  // The dry run said what the prune did: the same index objects replaced (it said 0), and
  // about the same size after (it left the new index object out and counted every old one as
  // freed).
  EXPECT_EQ(dry["index_objects_replaced"], pruned["index_objects_replaced"]) << dry << pruned;
  EXPECT_GT(dry["index_objects_replaced"].get<int>(), 1) << dry;
  const auto dry_after = dry["bytes_after"].get<int64_t>();
  const auto real_after = pruned["bytes_after"].get<int64_t>();
  EXPECT_LE(std::abs(dry_after - real_after), 1024 + real_after / 100) << dry << pruned;
  ExpectIntact("after prune");
  // One index object now covers every remaining pack.
  EXPECT_EQ(std::distance(fs::directory_iterator(app_.repo() + "/index"), fs::directory_iterator()),
            1);

  // A second prune has nothing left to do.
  RunResult again = app_.Run({"backup", "prune"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("Nothing to prune"), std::string::npos) << again.out;
  EXPECT_TRUE(fs::is_empty(app_.repo() + "/locks"));
}

TEST_F(BackupPruneTest, AFaultAtEveryWriteLeavesTheBackupsIntact) {
  SaveRepo();
  int failures = 0;
  for (int n = 1; n < 60; ++n) {
    ResetRepo();
    RunOptions options;
    options.env["VELIN_FAULT_INJECT"] =
        "any:" + std::to_string(n) + ":" + (n % 2 ? "ENOSPC" : "EIO");
    RunResult r = app_.Run({"backup", "prune"}, options);
    if (r.exit_code == 0) break;  // past the last write
    ++failures;
    EXPECT_EQ(r.exit_code, 1) << n << r.err;
    RunResult verify = app_.Run({"backup", "verify", "--all"});
    ASSERT_EQ(verify.exit_code, 0) << "after fault " << n << ": " << verify.err;
  }
  EXPECT_GE(failures, 4);
  ExpectIntact("after the fault loop");
}

TEST_F(BackupPruneTest, ACrashAtAnyStepLeavesTheBackupsIntactAndASecondPruneFinishes) {
  SaveRepo();
  const uint64_t before = TreeSize(app_.repo());
  for (const char* step : {"prune-after-packs", "prune-after-index", "prune-after-old-index"}) {
    ResetRepo();
    RunOptions crash;
    crash.env["VELIN_TEST_CRASH_AT"] = step;
    RunResult r = app_.Run({"backup", "prune"}, crash);
    ASSERT_EQ(r.exit_code, 86) << step << r.err;
    ExpectIntact(std::string("after a crash at ") + step);
    nlohmann::json second = app_.Json({"backup", "prune"});
    EXPECT_GT(second["bytes_freed"].get<uint64_t>(), 0u) << step << second;
    ExpectIntact(std::string("after the prune that followed a crash at ") + step);
    EXPECT_LT(TreeSize(app_.repo()) + 350000, before) << step;
  }
}

TEST(BackupPruneAfterCreateTest, CreateForgetsAndPrunesByDefault) {
  BackupApp app({"storage"}, "keep_last = 2\ncompression = \"none\"");
  std::map<std::string, std::string> kept;
  nlohmann::json last;
  for (int i = 0; i < 3; ++i) {
    WriteFile(app.root() + "/storage/changing.bin", RandomData(200000, 20 + i));
    RunOptions at;
    at.env["VELIN_NOW"] = "2026-11-0" + std::to_string(i + 1) + "T10:00:00Z";
    last = app.Json({"backup", "create"}, 0, at);
    if (i > 0) kept[last["id"].get<std::string>()] = DescribeTree(app.root() + "/storage");
  }
  ASSERT_EQ(last["maintenance"]["forgotten"], 1) << last;
  // One pack per writer thread: the forgotten backup's blobs may sit in one pack or two.
  EXPECT_GE(last["maintenance"]["prune"]["packs_deleted"].get<int>(), 1) << last;
  EXPECT_GT(last["maintenance"]["prune"]["bytes_freed"].get<uint64_t>(), 200000u) << last;
  ASSERT_EQ(app.Json({"backup", "list"})["backups"].size(), 2u);
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  for (const auto& [id, tree] : kept) {
    ASSERT_EQ(app.Run({"backup", "restore", id, "--target", app.path("out")}).exit_code, 0);
    EXPECT_EQ(DescribeTree(app.path("out/storage")), tree) << id;
    fs::remove_all(app.path("out"));
  }
}

}  // namespace
}  // namespace velin::testing

namespace velin::testing {
namespace {

// Prune reads and writes index objects and copies blobs of an encrypted repository through
// its sealing, so the result still opens with the key: verify passes, the newest restores.
TEST(BackupPruneEncrypted, PrunesAnEncryptedRepository) {
  ::setenv("VELIN_TEST_PRUNE_PASSPHRASE", "correct horse battery staple", 1);
  BackupApp app({"storage"},
                "keep_last = 1\nprune_after_create = false\nencryption = \"aes-256-gcm\"\n"
                "password_env = \"VELIN_TEST_PRUNE_PASSPHRASE\"");
  const std::string storage = app.root() + "/storage";
  WriteFile(storage + "/static.bin", RandomData(300000, 7));
  std::string newest_tree;
  for (int i = 0; i < 3; ++i) {
    WriteFile(storage + "/changing.bin", RandomData(200000, 20 + i));
    RunOptions at;
    at.env["VELIN_NOW"] = "2026-11-0" + std::to_string(i + 1) + "T10:00:00Z";
    ASSERT_EQ(app.Run({"backup", "create"}, at).exit_code, 0);
    newest_tree = DescribeTree(storage);
  }
  ASSERT_EQ(app.Run({"backup", "forget"}).exit_code, 0);
  RunResult pruned = app.Run({"backup", "prune"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err << pruned.out;
  RunResult verify = app.Run({"backup", "verify", "--all"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err << verify.out;
  RunResult restore = app.Run({"backup", "restore", "latest", "--target", app.path("out")});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(DescribeTree(app.path("out") + "/storage"), newest_tree);
  ::unsetenv("VELIN_TEST_PRUNE_PASSPHRASE");
}

}  // namespace
}  // namespace velin::testing
