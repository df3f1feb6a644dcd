// velin backup create --dry-run (docs/cli.md): says what a backup would read and roughly add,
// and writes nothing: the repository's files, sizes and modification times (directories
// included) are the same afterwards, no hook runs, and no database is dumped.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// Every path under `root` with its size and mtime in nanoseconds (directories too).
std::map<std::string, std::string> Stamp(const std::string& root) {
  std::map<std::string, std::string> out;
  struct stat st {};
  ::lstat(root.c_str(), &st);
  out["."] = std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    ::lstat(e.path().c_str(), &st);
    out[fs::relative(e.path(), root).string()] = std::to_string(st.st_size) + " " +
                                                 std::to_string(st.st_mtim.tv_sec) + "." +
                                                 std::to_string(st.st_mtim.tv_nsec);
  }
  return out;
}

TEST(BackupCreateDryRun, CountsWhatWouldBeAddedAndWritesNothing) {
  BackupApp app({"db", "storage"},
                "[hooks]\nbefore_backup = \"touch hook-ran\"\n[database]\ndriver = \"sqlite\"\n"
                "path = \"var/app.db\"\n");
  WriteFile(app.root() + "/storage/old.bin", RandomData(300 << 10, 1));
  fs::create_directories(app.root() + "/var");
  ASSERT_EQ(
      RunProgram({"sqlite3", app.root() + "/var/app.db", "CREATE TABLE t (v TEXT);"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  fs::remove(app.root() + "/hook-ran");
  const auto before = Stamp(app.repo());

  // Nothing changed: nothing to add.
  nlohmann::json same = app.Json({"backup", "create", "--dry-run"});
  EXPECT_EQ(same.value("dry_run", false), true) << same.dump();
  EXPECT_EQ(same.value("files", 0), 1);
  EXPECT_EQ(same.value("bytes_read", 0), 300 << 10);
  EXPECT_EQ(same.value("bytes_added", -1), 0) << same.dump();
  EXPECT_EQ(same.value("strategy", ""), "full") << same.dump();  // a name, never the enum's number
  EXPECT_EQ(same["databases"].size(), 1u) << same.dump();

  // A new file of 200 KiB: about that much (plus the changed trees) would be added.
  WriteFile(app.root() + "/storage/new.bin", RandomData(200 << 10, 2));
  nlohmann::json grown = app.Json({"backup", "create", "--dry-run"});
  EXPECT_EQ(grown.value("files", 0), 2);
  EXPECT_GE(grown.value("bytes_added", 0), 200 << 10) << grown.dump();
  EXPECT_LT(grown.value("bytes_added", 0), (200 << 10) + (8 << 10)) << grown.dump();
  RunResult human = app.Run({"backup", "create", "--dry-run"});
  EXPECT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE((human.out + human.err).find("nothing was written"), std::string::npos)
      << human.out << human.err;

  EXPECT_EQ(Stamp(app.repo()), before) << "the dry runs changed the repository";
  EXPECT_FALSE(fs::exists(app.root() + "/hook-ran")) << "a dry run ran before_backup";
  EXPECT_EQ(app.Json({"backup", "list"})["backups"].size(), 1u);
}

}  // namespace
}  // namespace velin::testing
