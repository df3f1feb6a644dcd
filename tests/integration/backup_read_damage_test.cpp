// The read-side commands on a damaged repository, through the real binary. `find` and `stats`
// that could not read a backup show what they found in the others and then exit 4 naming it
// (they exited 0, and stats called that backup's blobs "referenced by no backup"); a damaged
// index object is named wherever a blob it listed is missing (before, only verify named it);
// an incremental create does not reuse a file's chunks that no index lists any more; a snapshot
// that is not JSON says so in a line without nlohmann's exception text.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// The objects under `dir`, sorted.
std::vector<std::string> ReadDamageObjects(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void ReadDamageFlipByte(const std::string& path, size_t offset) {
  std::string data = ReadFileOrDie(path);
  ASSERT_LT(offset, data.size()) << path;
  data[offset] = static_cast<char>(data[offset] ^ 0x40);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

class ReadDamageTest : public ::testing::Test {
 protected:
  // Three backups of storage/plain.txt (changed each time), the newest one's snapshot emptied.
  void MakeThreeAndEmptyTheNewest() {
    for (int i = 1; i <= 3; ++i) {
      WriteFile(app_.root() + "/storage/plain.txt", std::to_string(i) + "\n");
      ids_.push_back(app_.Json({"backup", "create"})["id"]);
      ASSERT_FALSE(ids_.back().empty());
    }
    fs::resize_file(app_.repo() + "/snapshots/" + ids_[2], 0);
  }

  BackupApp app_{{"storage"}, "prune_after_create = false\n"};
  std::vector<std::string> ids_;
};

TEST_F(ReadDamageTest, FindShowsWhatItFoundThenExits4NamingTheUnreadableBackup) {
  MakeThreeAndEmptyTheNewest();
  RunResult r = app_.Run({"backup", "find", "plain.txt"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.out.find("2 match(es) in 2 of 2 backup(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("error: 1 backup(s) could not be read and were not searched: " + ids_[2] +
                       ": empty"),
            std::string::npos)
      << r.err;

  nlohmann::json doc = app_.Json({"backup", "find", "plain.txt"}, 4);
  EXPECT_EQ(doc["backups_searched"], 2);
  EXPECT_EQ(doc["matches"].size(), 2u);
  ASSERT_EQ(doc["damaged"].size(), 1u) << doc.dump();
  EXPECT_EQ(doc["damaged"][0], ids_[2] + ": empty");
  EXPECT_EQ(doc["error"]["exit_code"], 4);

  // Nothing unreadable: exit 0 and an empty list.
  fs::remove(app_.repo() + "/snapshots/" + ids_[2]);
  doc = app_.Json({"backup", "find", "plain.txt"}, 0);
  EXPECT_TRUE(doc["damaged"].empty()) << doc.dump();
}

TEST_F(ReadDamageTest, StatsCountsTheReadableBackupsAndCallsNoBlobUnreferenced) {
  MakeThreeAndEmptyTheNewest();
  RunResult r = app_.Run({"backup", "stats"});
  EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
  EXPECT_NE(r.out.find("Repository: 2 backup(s) and 1 that could not be read"), std::string::npos)
      << r.out;
  // Its blobs are not prune's to delete: the figure is unknown, not "N unreferenced".
  EXPECT_EQ(r.out.find("referenced by no backup"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("how many of them no backup references is unknown"), std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("1 backup(s) could not be read and are not counted: " + ids_[2]),
            std::string::npos)
      << r.err;

  nlohmann::json doc = app_.Json({"backup", "stats"}, 4);
  EXPECT_EQ(doc["backups"], 2);
  ASSERT_EQ(doc["damaged"].size(), 1u) << doc.dump();
  EXPECT_EQ(doc["damaged"][0], ids_[2] + ": empty");
  EXPECT_EQ(doc["error"]["exit_code"], 4);

  // A backup named: the damaged one is not its business.
  EXPECT_EQ(app_.Run({"backup", "stats", ids_[1]}).exit_code, 0);
}

TEST_F(ReadDamageTest, ASnapshotThatIsNotJsonIsSaidInOneLine) {
  MakeThreeAndEmptyTheNewest();
  RunResult r = app_.Run({"backup", "list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("snapshot " + ids_[2] + ": empty"), std::string::npos) << r.err;
  std::ofstream(app_.repo() + "/snapshots/" + ids_[2], std::ios::trunc) << "{\"format\": 1,";
  r = app_.Run({"backup", "list"});
  EXPECT_NE(r.err.find("snapshot " + ids_[2] + ": not valid JSON (at byte "), std::string::npos)
      << r.err;
  std::ofstream(app_.repo() + "/snapshots/" + ids_[2], std::ios::trunc)
      << "{\"format\": 1, \"sha256\": 7, \"snapshot\": {}}";
  r = app_.Run({"backup", "list"});
  EXPECT_NE(r.err.find("snapshot " + ids_[2] + ": field 'sha256' is not a string"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
}

TEST_F(ReadDamageTest, ADamagedIndexObjectIsNamedByTheReadsThatMissItsBlobs) {
  WriteFile(app_.root() + "/storage/plain.txt", "one\n");
  ASSERT_EQ(app_.Run({"backup", "create"}).exit_code, 0);
  const std::vector<std::string> indexes = ReadDamageObjects(app_.repo() + "/index");
  ASSERT_EQ(indexes.size(), 1u);
  ReadDamageFlipByte(indexes[0], 20);
  const std::string name = "index/" + fs::path(indexes[0]).filename().string();
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"backup", "ls", "latest"},
        std::vector<std::string>{"backup", "find", "plain.txt"},
        std::vector<std::string>{"backup", "stats"},
        std::vector<std::string>{"backup", "dump", "latest", "storage/plain.txt"}}) {
    RunResult r = app_.Run(command);
    EXPECT_EQ(r.exit_code, 4) << command[1] << ": " << r.err;
    EXPECT_NE(r.err.find("warning: index object " + name + " is damaged ("), std::string::npos)
        << command[1] << ": " << r.err;
    EXPECT_NE(r.err.find("(index object " + name + " is damaged: run `velin backup verify --all`)"),
              std::string::npos)
        << command[1] << ": " << r.err;
  }
}

// An incremental backup reuses an unchanged file's chunks from its parent without reading the
// file. Those chunks listed only by a damaged index object count as not stored: the file is
// read and stored again, so the new backup restores (it referenced chunks no index lists).
TEST_F(ReadDamageTest, AnIncrementalCreateStoresAgainTheChunksADamagedIndexListed) {
  const std::string big = RandomData(300000, 11);
  WriteFile(app_.root() + "/storage/big.bin", big);
  ASSERT_EQ(app_.Run({"backup", "create"}).exit_code, 0);
  const std::vector<std::string> first_index = ReadDamageObjects(app_.repo() + "/index");
  ASSERT_EQ(first_index.size(), 1u);
  // A second backup: new trees (in a second index object), big.bin's chunks deduplicated.
  WriteFile(app_.root() + "/storage/small.txt", "small\n");
  ASSERT_EQ(app_.Run({"backup", "create"}).exit_code, 0);
  ASSERT_EQ(ReadDamageObjects(app_.repo() + "/index").size(), 2u);
  ReadDamageFlipByte(first_index[0], 20);

  RunResult r = app_.Run({"backup", "create", "--strategy", "incremental"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: index object index/"), std::string::npos) << r.err;
  const std::string target = app_.path("restored");
  r = app_.Run({"backup", "restore", "latest", "--target", target});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(target + "/storage/big.bin"), big);
  EXPECT_EQ(ReadFileOrDie(target + "/storage/small.txt"), "small\n");
}

}  // namespace
}  // namespace velin::testing
