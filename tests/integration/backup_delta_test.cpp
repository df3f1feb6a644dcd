// Delta blobs (docs/delta.md) through the real velin binary: a file whose rows change all over
// (every 100th, in place or moved to the end, as database dumps do) is stored the second time as
// deltas against the first backup's chunks — a small fraction of the bytes — and both backups
// restore identically; prune keeps the bases a remaining backup needs; damage to a base is
// reported against the backup that needs it; encrypted repositories get deltas too, and a
// repository of format version 1 gets them only after `velin backup upgrade`.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

enum class Edit { kNone, kInPlace, kMoveToEnd };

// A database-dump-like text: one row per line, every 100th changed by `edit`.
std::string Rows(int count, Edit edit) {
  std::string out;
  std::string moved;
  for (int i = 1; i <= count; ++i) {
    bool changed = edit != Edit::kNone && i % 100 == 0;
    std::string row = std::to_string(i) + "\t" + std::to_string(i % 13) + "\t" +
                      (changed ? "-4711" : "0") + "\tcustomer " +
                      std::to_string(i * 7919 % 100003) + "\t" + std::string(20 + i % 17, 'x') +
                      "\n";
    (changed && edit == Edit::kMoveToEnd ? moved : out) += row;
  }
  return out + moved;
}

std::set<std::string> Packs(const std::string& repo) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(repo + "/data")) {
    if (e.is_regular_file()) out.insert(e.path());
  }
  return out;
}

class BackupDeltaTest : public ::testing::TestWithParam<Edit> {
 protected:
  uint64_t Create(const BackupApp& app, const std::string& day, RunOptions options = {}) {
    options.env["VELIN_NOW"] = "2026-11-" + day + "T10:00:00Z";
    nlohmann::json made = app.Json({"backup", "create"}, 0, options);
    EXPECT_TRUE(made.contains("id")) << made;
    ids_.push_back(made.value("id", ""));
    return made.value("bytes_added", uint64_t{0});
  }
  void ExpectRestores(const BackupApp& app, const std::string& id, const std::string& content,
                      RunOptions options = {}) {
    const std::string out = app.path("out-" + id);
    RunResult r = app.Run({"backup", "restore", id, "--target", out}, options);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(ReadFileOrDie(out + "/storage/rows.txt") == content) << id;
    fs::remove_all(out);
  }
  std::vector<std::string> ids_;
};

TEST_P(BackupDeltaTest, SpreadChangesCostAFractionAndRestoreExactly) {
  BackupApp app({"storage"}, "keep_last = 1\nprune_after_create = false");
  const std::string first = Rows(200000, Edit::kNone);
  const std::string second = Rows(200000, GetParam());
  ASSERT_GT(first.size(), 8u << 20);
  WriteFile(app.root() + "/storage/rows.txt", first);
  const uint64_t added1 = Create(app, "01");
  const std::set<std::string> first_packs = Packs(app.repo());
  WriteFile(app.root() + "/storage/rows.txt", second);
  const uint64_t added2 = Create(app, "02");
  // Without deltas every chunk would be stored again (all of them changed).
  EXPECT_LT(added2 * 5, added1) << "first " << added1 << " second " << added2;
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  ExpectRestores(app, ids_[0], first);
  ExpectRestores(app, ids_[1], second);

  // Damage in a pack of the first backup is damage to the second too: its deltas need bases.
  const std::string saved = app.path("saved");
  fs::copy(app.repo(), saved, fs::copy_options::recursive);
  for (const auto& pack : first_packs) {
    std::string bytes = ReadFileOrDie(pack);
    bytes[bytes.size() / 3] ^= 0x20;
    WriteFile(pack, bytes);
  }
  RunResult verify = app.Run({"backup", "verify", ids_[1]});
  EXPECT_EQ(verify.exit_code, 4) << verify.out << verify.err;
  EXPECT_NE((verify.out + verify.err).find("delta base"), std::string::npos)
      << verify.out << verify.err;
  RunResult restore = app.Run({"backup", "restore", ids_[1], "--target", app.path("bad")});
  EXPECT_NE(restore.exit_code, 0);
  fs::remove_all(app.repo());
  fs::rename(saved, app.repo());

  // The first backup forgotten and pruned: the bases stay as long as the second needs them.
  RunResult forget = app.Run({"backup", "forget"});  // keep_last = 1
  ASSERT_EQ(forget.exit_code, 0) << forget.err;
  RunResult prune = app.Run({"backup", "prune"});
  ASSERT_EQ(prune.exit_code, 0) << prune.err;
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  ExpectRestores(app, ids_[1], second);
}

INSTANTIATE_TEST_SUITE_P(Edits, BackupDeltaTest,
                         ::testing::Values(Edit::kInPlace, Edit::kMoveToEnd));

TEST(BackupDeltaRepoTest, EncryptedRepositoriesStoreDeltasToo) {
  BackupApp app({"storage"},
                "encryption = \"aes-256-gcm\"\npassword_env = \"VELIN_TEST_PASSPHRASE\"\n");
  RunOptions pass{.env = {{"VELIN_TEST_PASSPHRASE", "delta passphrase"}}};
  const std::string second = Rows(200000, Edit::kInPlace);
  WriteFile(app.root() + "/storage/rows.txt", Rows(200000, Edit::kNone));
  nlohmann::json one = app.Json({"backup", "create"}, 0, pass);
  WriteFile(app.root() + "/storage/rows.txt", second);
  nlohmann::json two = app.Json({"backup", "create"}, 0, pass);
  EXPECT_LT(two.value("bytes_added", uint64_t{0}) * 5, one.value("bytes_added", uint64_t{0}))
      << one << two;
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}, pass).exit_code, 0);
  const std::string out = app.path("out");
  ASSERT_EQ(app.Run({"backup", "restore", "latest", "--target", out}, pass).exit_code, 0);
  EXPECT_TRUE(ReadFileOrDie(out + "/storage/rows.txt") == second);
}

TEST(BackupDeltaRepoTest, FormatVersionOneGetsNoDeltasUntilUpgraded) {
  BackupApp app;
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  WriteOlderFormatConfig(app.repo(), 1);
  WriteFile(app.root() + "/storage/rows.txt", Rows(200000, Edit::kNone));
  nlohmann::json one = app.Json({"backup", "create"});
  WriteFile(app.root() + "/storage/rows.txt", Rows(200000, Edit::kInPlace));
  nlohmann::json two = app.Json({"backup", "create"});
  // Every chunk changed, and all are stored whole: an older velin can still read this repository.
  EXPECT_GT(two.value("bytes_added", uint64_t{0}) * 2, one.value("bytes_added", uint64_t{0}))
      << one << two;
  for (const auto& e : fs::directory_iterator(app.repo() + "/index")) {
    EXPECT_EQ(ReadFileOrDie(e.path()).substr(0, 8), "VLNIDX01");
  }
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);

  // `velin backup upgrade` raises it to the current version (4); from then on changed chunks
  // become deltas.
  nlohmann::json upgraded = app.Json({"backup", "upgrade"});
  EXPECT_EQ(upgraded.value("from", 0), 1) << upgraded;
  EXPECT_EQ(upgraded.value("to", 0), 4) << upgraded;
  EXPECT_NE(ReadFileOrDie(app.repo() + "/config").find("\"format_version\": 4"), std::string::npos);
  EXPECT_EQ(app.Json({"backup", "upgrade"}).value("from", 0), 4);  // again: nothing to do
  const std::string third = Rows(200000, Edit::kMoveToEnd);
  WriteFile(app.root() + "/storage/rows.txt", third);
  nlohmann::json three = app.Json({"backup", "create"});
  EXPECT_LT(three.value("bytes_added", uint64_t{0}) * 5, one.value("bytes_added", uint64_t{0}))
      << one << three;
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  const std::string out = app.path("out");
  ASSERT_EQ(app.Run({"backup", "restore", "latest", "--target", out}).exit_code, 0);
  EXPECT_TRUE(ReadFileOrDie(out + "/storage/rows.txt") == third);
}

}  // namespace
}  // namespace velin::testing
