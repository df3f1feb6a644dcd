// What lies in snapshots/ besides intact backups. A stray file there (".DS_Store" of a Finder,
// "notes.txt") is no backup: `latest` used to take it for one that cannot be read and might be
// the newest, and stopped. An unreadable snapshot (a flipped byte, a zero-length one, another
// host's) stopped every incremental create with exit 4 ("error: snapshot .DS_Store: empty"),
// while a full one went on: it now passes the damaged one over as a parent and says so. And a
// damaged snapshot or index object is named once per line, not two or three times.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

void StraySnapshotFlipByte(const std::string& path, size_t offset) {
  std::string data = ReadFileOrDie(path);
  ASSERT_LT(offset, data.size()) << path;
  data[offset] = static_cast<char>(data[offset] ^ 0x01);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

size_t StraySnapshotCount(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The line of `text` that holds `what` ("" when none does).
std::string StraySnapshotLineWith(const std::string& text, const std::string& what) {
  const size_t at = text.find(what);
  if (at == std::string::npos) return "";
  const size_t begin = text.rfind('\n', at);
  const size_t end = text.find('\n', at);
  return text.substr(begin == std::string::npos ? 0 : begin + 1,
                     end == std::string::npos ? std::string::npos
                                              : end - (begin == std::string::npos ? 0 : begin + 1));
}

TEST(BackupStraySnapshot, AStrayFileInSnapshotsIsNoBackupForAnyCommand) {
  BackupApp app({"storage"}, "strategy = \"incremental\"\nprune_after_create = false\n");
  WriteFile(app.root() + "/storage/a.txt", "hi\n");
  const std::string first = app.Json({"backup", "create"})["id"];
  WriteFile(app.repo() + "/snapshots/.DS_Store", "");
  WriteFile(app.repo() + "/snapshots/garbage.txt", "not a backup\n");

  WriteFile(app.root() + "/storage/b.txt", "more\n");
  RunResult created = app.Run({"backup", "create", "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const nlohmann::json made = nlohmann::json::parse(created.out);
  EXPECT_EQ(made["parent"], first) << made;
  const std::string second = made["id"];

  RunResult latest = app.Run({"backup", "restore", "latest", "--target", app.path("out")});
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_EQ(DescribeTree(app.path("out")), DescribeTree(app.root()));

  RunResult listed = app.Run({"backup", "list", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(nlohmann::json::parse(listed.out)["backups"].size(), 2u) << listed.out;
  EXPECT_NE(listed.err.find("warning: snapshots/garbage.txt is not a backup (its name cannot be a "
                            "backup id): ignored"),
            std::string::npos)
      << listed.err;
  EXPECT_NE(listed.err.find("snapshots/.DS_Store is not a backup"), std::string::npos)
      << listed.err;

  RunResult verified = app.Run({"backup", "verify", "--all"});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_NE(verified.err.find("snapshots/garbage.txt is not a backup"), std::string::npos)
      << verified.err;
  EXPECT_EQ(app.Run({"backup", "verify", "latest"}).exit_code, 0);
  EXPECT_EQ(app.Run({"backup", "verify", second}).exit_code, 0);
}

// A zero-length snapshot, then one with a flipped byte: each time the incremental create goes
// on, names the unreadable backup once and takes the newest readable one as its parent.
TEST(BackupStraySnapshot, AnIncrementalCreatePassesAnUnreadableSnapshotOverAsItsParent) {
  BackupApp app({"storage"}, "strategy = \"incremental\"\nprune_after_create = false\n");
  WriteFile(app.root() + "/storage/a.txt", "one\n");
  const std::string first = app.Json({"backup", "create"})["id"];
  WriteFile(app.root() + "/storage/a.txt", "two\n");
  const std::string second = app.Json({"backup", "create"})["id"];
  fs::resize_file(app.repo() + "/snapshots/" + second, 0);

  WriteFile(app.root() + "/storage/a.txt", "three\n");
  RunResult created = app.Run({"backup", "create", "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  nlohmann::json made = nlohmann::json::parse(created.out);
  EXPECT_EQ(made["parent"], first) << made;
  const std::string line = StraySnapshotLineWith(created.err, "snapshot " + second + ": empty");
  EXPECT_NE(line.find("warning: snapshot " + second +
                      ": empty; it is passed over as the parent "
                      "of this backup (run `velin backup verify --all`"),
            std::string::npos)
      << created.err;
  EXPECT_EQ(StraySnapshotCount(line, second), 1u) << line;
  RunResult restored = app.Run({"backup", "restore", made["id"], "--target", app.path("out")});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(ReadFileOrDie(app.path("out") + "/storage/a.txt"), "three\n");

  const std::string third = made["id"];
  StraySnapshotFlipByte(app.repo() + "/snapshots/" + third, 40);
  WriteFile(app.root() + "/storage/a.txt", "four\n");
  created = app.Run({"backup", "create", "--json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  made = nlohmann::json::parse(created.out);
  EXPECT_EQ(made["parent"], first) << made;
  EXPECT_NE(created.err.find("warning: 2 backups cannot be read ("), std::string::npos)
      << created.err;
  EXPECT_EQ(app.Run({"backup", "verify", made["id"]}).exit_code, 0);
}

// Encrypted, where the sealing names the object too: "snapshot X: snapshot X: authentication
// failed" (create), "snapshots/X: snapshot X: snapshot X: …" (list), "index index/…: index …:"
// (verify). Each line now names its object once.
TEST(BackupStraySnapshot, ADamagedEncryptedObjectIsNamedOncePerLine) {
  BackupApp app({"storage"},
                "strategy = \"incremental\"\nprune_after_create = false\nencryption = "
                "\"aes-256-gcm\"\npassword_env = \"VELIN_TEST_PASSPHRASE\"\n");
  const RunOptions secret{.env = {{"VELIN_TEST_PASSPHRASE", "stray-Passphrase-5e1"}}};
  ASSERT_EQ(app.Run({"backup", "init"}, secret).exit_code, 0);
  WriteFile(app.root() + "/storage/a.txt", "one\n");
  const std::string id = app.Json({"backup", "create"}, 0, secret)["id"];
  StraySnapshotFlipByte(app.repo() + "/snapshots/" + id, 60);

  RunResult listed = app.Run({"backup", "list"}, secret);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  std::string line = StraySnapshotLineWith(listed.err, id);
  EXPECT_NE(line.find("warning: snapshot " + id + ": "), std::string::npos) << listed.err;
  EXPECT_EQ(StraySnapshotCount(line, id), 1u) << line;

  WriteFile(app.root() + "/storage/a.txt", "two\n");
  RunResult created = app.Run({"backup", "create"}, secret);
  EXPECT_EQ(created.exit_code, 0) << created.err;
  line = StraySnapshotLineWith(created.err, id);
  EXPECT_NE(line.find("warning: snapshot " + id + ": "), std::string::npos) << created.err;
  EXPECT_EQ(StraySnapshotCount(line, id), 1u) << line;

  std::vector<std::string> indexes;
  for (const auto& e : fs::recursive_directory_iterator(app.repo() + "/index")) {
    if (e.is_regular_file()) indexes.push_back(e.path().string());
  }
  ASSERT_FALSE(indexes.empty());
  StraySnapshotFlipByte(indexes[0], 60);
  const std::string index_hex = fs::path(indexes[0]).filename().string();
  RunResult verified = app.Run({"backup", "verify", "--all"}, secret);
  EXPECT_EQ(verified.exit_code, 4) << verified.err;
  line = StraySnapshotLineWith(verified.err, "index/" + index_hex + ": ");
  ASSERT_FALSE(line.empty()) << verified.err;
  EXPECT_EQ(StraySnapshotCount(line, index_hex.substr(0, 12)), 1u) << line;
}

}  // namespace
}  // namespace velin::testing
