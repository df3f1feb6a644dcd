// velin backup verify on a damaged repository: each kind of damage is caught with exit 4 and a
// message naming the object and what it affects.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

std::vector<std::string> ObjectsUnder(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The pack holding the big file's data (the largest one).
std::string BiggestPack(const std::string& repo) {
  std::string best;
  uintmax_t size = 0;
  for (const auto& p : ObjectsUnder(repo + "/data")) {
    if (std::filesystem::file_size(p) > size) {
      size = std::filesystem::file_size(p);
      best = p;
    }
  }
  return best;
}

void FlipByte(const std::string& path, size_t offset) {
  std::string data = ReadFileOrDie(path);
  data[offset] = static_cast<char>(data[offset] ^ 0x40);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

class BackupVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(app_.root() + "/storage/photo.jpg", RandomData(200000, 3));
    WriteFile(app_.root() + "/storage/notes.txt", "notes\n");
    id_ = app_.Json({"backup", "create"})["id"];
    ASSERT_EQ(app_.Run({"backup", "verify", "--all"}).exit_code, 0);
  }
  RunResult Verify() { return app_.Run({"backup", "verify", "--all"}); }

  BackupApp app_;
  std::string id_;
};

TEST_F(BackupVerifyTest, IntactRepositoryVerifies) {
  RunResult r = app_.Run({"backup", "verify", "latest"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 backup(s) intact"), std::string::npos) << r.out;
  nlohmann::json j = app_.Json({"backup", "verify", id_});
  EXPECT_EQ(j["ok"], true);
  EXPECT_GE(j["blobs"].get<int>(), 3);
}

TEST_F(BackupVerifyTest, FlippedByteInAPack) {
  FlipByte(BiggestPack(app_.repo()), 1000);  // inside photo.jpg's blob
  RunResult r = Verify();
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("is damaged"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(id_ + ":storage/photo.jpg"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("does not match its name"), std::string::npos) << r.err;
  // A restore refuses the damaged blob too.
  RunResult restore = app_.Run({"backup", "restore", id_, "--target", app_.path("out")});
  EXPECT_EQ(restore.exit_code, 4) << restore.err;
  EXPECT_FALSE(std::filesystem::exists(app_.path("out/storage/photo.jpg")));
}

TEST_F(BackupVerifyTest, TruncatedPack) {
  std::string pack = BiggestPack(app_.repo());
  std::filesystem::resize_file(pack, std::filesystem::file_size(pack) / 2);
  RunResult r = Verify();
  EXPECT_EQ(r.exit_code, 4);
  // Workers fill the pack in either order: the lost half holds the trees (then everything
  // under storage is affected) or photo.jpg's data.
  EXPECT_TRUE(r.err.find("shorter than expected") != std::string::npos ||
              r.err.find("beyond the pack's end (truncated pack)") != std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(id_ + ":storage"), std::string::npos) << r.err;
}

TEST_F(BackupVerifyTest, MissingPack) {
  std::string pack = BiggestPack(app_.repo());
  std::filesystem::remove(pack);
  RunResult r = Verify();
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("pack " + std::filesystem::path(pack).filename().string().substr(0, 12) +
                       " is missing"),
            std::string::npos)
      << r.err;
}

TEST_F(BackupVerifyTest, DamagedIndex) {
  auto indexes = ObjectsUnder(app_.repo() + "/index");
  ASSERT_EQ(indexes.size(), 1u);
  FlipByte(indexes[0], 20);
  RunResult r = Verify();
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("index index/"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("does not match its name"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("missing from the index"), std::string::npos) << r.err;
}

TEST_F(BackupVerifyTest, DamagedSnapshot) {
  std::string path = app_.repo() + "/snapshots/" + id_;
  std::string text = ReadFileOrDie(path);
  text.replace(text.find("\"files\": 2"), 10, "\"files\": 3");
  std::ofstream(path, std::ios::trunc) << text;
  RunResult r = Verify();
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("snapshot " + id_ + ": checksum mismatch"), std::string::npos) << r.err;
  std::ofstream(path, std::ios::trunc) << "{not json";
  r = app_.Run({"backup", "verify", id_});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("snapshot " + id_ + ": not valid JSON (at byte 3)"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
}

// SIGTERM at every file a verify opens (VELIN_FAULT_INJECT=open:N:SIGTERM: velin signals itself
// as it opens its Nth file to read; core/termination.hpp): the verify stops at its next pack
// with one error and ends by SIGTERM; nothing is recorded (`backup status` keeps the last real
// verify), no lock stays. Past the last check it completes and records.
TEST(BackupVerifySignalTest, SigtermAtEveryFileAVerifyOpensStopsItWithNothingRecorded) {
  BackupApp app;
  for (int i = 0; i < 6; ++i) {
    WriteFile(app.root() + "/storage/f" + std::to_string(i) + ".bin", RandomData(7 << 20, 30 + i));
  }
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);
  const std::string record = app.repo() + "/state/verify";
  const std::string recorded = ReadFileOrDie(record);
  int stopped = 0;
  for (int n = 1; n < 200; ++n) {
    RunOptions options;
    options.env["VELIN_FAULT_INJECT"] = "open:" + std::to_string(n) + ":SIGTERM";
    RunResult r = app.Run({"backup", "verify", "--all"}, options);
    if (r.exit_code == 0) break;  // past the last open: no signal
    const std::string at = "SIGTERM at open " + std::to_string(n) + ": ";
    EXPECT_EQ(r.exit_code, 128 + SIGTERM) << at << r.err;
    EXPECT_TRUE(std::filesystem::is_empty(app.repo() + "/locks")) << at;
    if (r.err.find("error: verify interrupted by SIGTERM; nothing was recorded") !=
        std::string::npos) {
      ++stopped;
      EXPECT_NE(r.err.find("warning: SIGTERM received: stopping the verify"), std::string::npos)
          << at << r.err;
      EXPECT_EQ(ReadFileOrDie(record), recorded) << at;
    }
  }
  EXPECT_GE(stopped, 3);
  std::cerr << "[verify-sigterm] stopped " << stopped << "\n";
}

}  // namespace
}  // namespace velin::testing
