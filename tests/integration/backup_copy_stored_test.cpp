// `velin backup copy` sends each blob as the source stores it (compressed as it was, sealed when
// encrypted) instead of decompressing and compressing it again; `--recompress` stores every blob
// anew with the configured compression. Either way every blob is checked against its id on the
// way: a damaged one stops the copy (exit 4) before any backup reaches the target. Delta blobs
// are always stored anew (their base may not be in the target). Plain and encrypted alike.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// Text that zstd shrinks to a fraction, unlike the same stored with compression = "none".
std::string Text(int lines) {
  std::string out;
  for (int i = 1; i <= lines; ++i) {
    out += std::to_string(i) + "\tcustomer " + std::to_string(i * 7919 % 100003) + "\t" +
           std::string(20 + i % 17, 'x') + "\n";
  }
  return out;
}

uint64_t PackBytes(const std::string& repo) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(repo + "/data")) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

size_t Snapshots(const std::string& repo) {
  if (!fs::exists(repo + "/snapshots")) return 0;
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(repo + "/snapshots")) n += e.is_regular_file();
  return n;
}

void SetCompression(const BackupApp& app, const std::string& from, const std::string& to) {
  std::string config = ReadFileOrDie(app.path("velin.toml"));
  const size_t at = config.find(from);
  ASSERT_NE(at, std::string::npos) << config;
  config.replace(at, from.size(), to);
  WriteFile(app.path("velin.toml"), config);
}

class BackupCopyStoredTest : public ::testing::TestWithParam<std::string> {
 protected:
  BackupCopyStoredTest()
      : app_({"storage"}, "compression = \"none\"\nencryption = \"" + GetParam() +
                              "\"\npassword_env = \"VELIN_TEST_PASSPHRASE\"\n") {}
  RunOptions env_{.env = {{"VELIN_TEST_PASSPHRASE", "copy passphrase"}}};
  BackupApp app_;
};

TEST_P(BackupCopyStoredTest, BlobsTravelAsStoredUnlessRecompressIsAsked) {
  WriteFile(app_.root() + "/storage/rows.txt", Text(60000));
  WriteFile(app_.root() + "/storage/sub/random.bin", RandomData(700000, 9));
  nlohmann::json created = app_.Json({"backup", "create"}, 0, env_);
  const std::string id = created.value("id", "");
  ASSERT_FALSE(id.empty());
  const uint64_t source = PackBytes(app_.repo());
  // The copies are made with compression = "zstd" configured.
  SetCompression(app_, "compression = \"none\"", "compression = \"zstd\"");

  nlohmann::json as_stored =
      app_.Json({"backup", "copy", "--all", "--to", app_.path("as-stored")}, 0, env_);
  EXPECT_EQ(as_stored.value("snapshots_copied", 0), 1) << as_stored;
  EXPECT_GT(as_stored.value("blobs_copied", 0), 2) << as_stored;
  const uint64_t kept = PackBytes(app_.path("as-stored"));
  // The same stored bytes in other packs: only pack headers and trailers may differ.
  EXPECT_GE(kept + 1024, source) << "source " << source << " copy " << kept;
  EXPECT_LE(kept, source + 1024) << "source " << source << " copy " << kept;
  // What went into the packs: the blobs' stored bytes, without the packs' headers.
  EXPECT_LE(as_stored.value("bytes_stored", uint64_t{0}), kept) << as_stored;
  EXPECT_GE(as_stored.value("bytes_stored", uint64_t{0}) + 4096, kept) << as_stored;

  nlohmann::json recompressed = app_.Json(
      {"backup", "copy", "--all", "--recompress", "--to", app_.path("recompressed")}, 0, env_);
  EXPECT_EQ(recompressed.value("blobs_copied", 0), as_stored.value("blobs_copied", 0));
  EXPECT_EQ(recompressed.value("bytes_copied", 0), as_stored.value("bytes_copied", 0));
  const uint64_t smaller = PackBytes(app_.path("recompressed"));
  EXPECT_LT(smaller, kept * 3 / 4) << "as stored " << kept << " recompressed " << smaller;
  EXPECT_LT(recompressed.value("bytes_stored", uint64_t{0}),
            as_stored.value("bytes_stored", uint64_t{0}) * 3 / 4)
      << recompressed;

  for (const std::string target : {"as-stored", "recompressed"}) {
    RunResult verified =
        app_.Run({"backup", "verify", "--all", "--destination", app_.path(target)}, env_);
    EXPECT_EQ(verified.exit_code, 0) << target << verified.out << verified.err;
    const std::string out = app_.path("out-" + target);
    RunResult restored = app_.Run(
        {"backup", "restore", id, "--target", out, "--destination", app_.path(target)}, env_);
    ASSERT_EQ(restored.exit_code, 0) << target << restored.err;
    EXPECT_EQ(DescribeTree(out + "/storage"), DescribeTree(app_.root() + "/storage")) << target;
  }

  // A second run sends nothing.
  nlohmann::json again =
      app_.Json({"backup", "copy", "--all", "--to", app_.path("as-stored")}, 0, env_);
  EXPECT_EQ(again.value("snapshots_present", 0), 1) << again;
  EXPECT_EQ(again.value("blobs_copied", -1), 0) << again;
}

TEST_P(BackupCopyStoredTest, ADamagedSourceBlobStopsTheCopyBeforeAnyBackupLands) {
  WriteFile(app_.root() + "/storage/rows.txt", Text(30000));
  WriteFile(app_.root() + "/storage/random.bin", RandomData(500000, 3));
  ASSERT_EQ(app_.Run({"backup", "create"}, env_).exit_code, 0);
  // One byte in the middle of the packs' blob bytes (not their headers).
  for (const auto& e : fs::recursive_directory_iterator(app_.repo() + "/data")) {
    if (!e.is_regular_file()) continue;
    std::string bytes = ReadFileOrDie(e.path());
    bytes[bytes.size() / 3] ^= 0x01;
    WriteFile(e.path(), bytes);
  }
  for (const bool recompress : {false, true}) {
    const std::string target = app_.path(recompress ? "recompressed" : "as-stored");
    std::vector<std::string> args = {"backup", "copy", "--all", "--to", target};
    if (recompress) args.push_back("--recompress");
    RunResult copied = app_.Run(args, env_);
    EXPECT_EQ(copied.exit_code, 4) << copied.out << copied.err;
    EXPECT_NE(copied.err.find("damaged"), std::string::npos) << copied.err;
    EXPECT_EQ(Snapshots(target), 0u) << target;
  }
}

TEST_P(BackupCopyStoredTest, DeltaBlobsAreStoredAnewAndRestore) {
  SetCompression(app_, "compression = \"none\"", "compression = \"zstd\"");
  const std::string first = Text(200000);
  std::string second = first;
  for (size_t at = 5000; at < second.size(); at += 9000) second[at] = '#';
  WriteFile(app_.root() + "/storage/rows.txt", first);
  nlohmann::json base = app_.Json({"backup", "create"}, 0, env_);
  WriteFile(app_.root() + "/storage/rows.txt", second);
  nlohmann::json made = app_.Json({"backup", "create"}, 0, env_);
  const std::string id = made.value("id", "");
  ASSERT_FALSE(id.empty());
  // Every chunk changed: stored as deltas, or this test would test nothing.
  EXPECT_LT(made.value("bytes_added", uint64_t{0}) * 5, base.value("bytes_added", uint64_t{0}))
      << base << made;
  // Only the second backup: the deltas' bases (the first's chunks) are not part of it.
  nlohmann::json copied = app_.Json({"backup", "copy", id, "--to", app_.path("copy")}, 0, env_);
  EXPECT_EQ(copied.value("snapshots_copied", 0), 1) << copied;
  RunResult verified =
      app_.Run({"backup", "verify", "--all", "--destination", app_.path("copy")}, env_);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  RunResult restored = app_.Run(
      {"backup", "restore", id, "--target", app_.path("out"), "--destination", app_.path("copy")},
      env_);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_TRUE(ReadFileOrDie(app_.path("out") + "/storage/rows.txt") == second);
}

INSTANTIATE_TEST_SUITE_P(Encryption, BackupCopyStoredTest, ::testing::Values("none", "aes-256-gcm"),
                         [](const auto& info) {
                           return info.param == "none" ? std::string("Plain")
                                                       : std::string("Aes256Gcm");
                         });

}  // namespace
}  // namespace velin::testing
