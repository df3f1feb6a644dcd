// velin backup create/list on real files: ids, JSON fields, incremental reuse without reading.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

TEST(BackupCreateTest, CreatesListsAndIncrementalSkipsUnchangedFiles) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  WriteFile(app.root() + "/storage/big.bin", RandomData(3 << 20, 1));
  WriteFile(app.root() + "/storage/sub/b.txt", "beta\n");

  // A fixed clock keeps the first two backups in one minute, so the second gets a suffix.
  RunOptions same_minute;
  same_minute.env["VELIN_NOW"] = "2026-11-25T14:30:00";
  RunResult human = app.Run({"backup", "create"}, same_minute);
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("Creating backup..."), std::string::npos);
  EXPECT_NE(human.out.find("File backup created"), std::string::npos);
  EXPECT_NE(human.out.find("Backup compressed (zstd)"), std::string::npos);
  EXPECT_NE(human.out.find("Backup ID: 2"), std::string::npos);
  EXPECT_EQ(human.out.find("💾"), std::string::npos);  // plain off a terminal

  nlohmann::json full = app.Json({"backup", "create", "--strategy", "full"}, 0, same_minute);
  EXPECT_EQ(full["files"], 3);
  EXPECT_EQ(full["files_read"], 3);
  EXPECT_EQ(full["bytes_added"], 0);  // everything deduplicated against the first backup
  EXPECT_TRUE(full["id"].get<std::string>().ends_with("-full-2")) << full;

  WriteFile(app.root() + "/storage/sub/c.txt", "gamma\n");
  nlohmann::json incr = app.Json({"backup", "create", "--strategy", "incremental"});
  EXPECT_EQ(incr["files"], 4);
  EXPECT_EQ(incr["files_read"], 1);  // only the new file was read
  EXPECT_EQ(incr["bytes_read"], 6);
  EXPECT_TRUE(incr["id"].get<std::string>().ends_with("-incr")) << incr;
  EXPECT_EQ(incr["parent"], full["id"]);

  nlohmann::json list = app.Json({"backup", "list"});
  ASSERT_EQ(list["backups"].size(), 3u);
  const auto& last = list["backups"][2];
  EXPECT_EQ(last["strategy"], "incremental");
  EXPECT_EQ(last["files"], 4);
  EXPECT_EQ(last["sources"][0], "storage");
  EXPECT_GT(last["size"].get<uint64_t>(), 3u << 20);
  EXPECT_TRUE(last.contains("added_size"));
  EXPECT_TRUE(last.contains("time"));
}

TEST(BackupCreateTest, SpeaksGerman) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  RunOptions options;
  options.env["LANG"] = "de_DE.UTF-8";
  RunResult r = app.Run({"backup", "create"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Erstelle Backup..."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Datei-Backup erstellt"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Backup-ID: "), std::string::npos) << r.out;
}

TEST(BackupCreateTest, RefusesANewerRepositoryFormat) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  std::string config = ReadFileOrDie(app.repo() + "/config");
  config.replace(config.find("\"format_version\": 4"), 19, "\"format_version\": 9");
  WriteFile(app.repo() + "/config", config);
  RunResult r = app.Run({"backup", "create"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("format version 9; this velin reads up to version 4"), std::string::npos)
      << r.err;
}

TEST(BackupCreateTest, MissingIncludeFailsWithOneLine) {
  BackupApp app({"storage/nope"});
  RunResult r = app.Run({"backup", "create"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("storage/nope"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

}  // namespace
}  // namespace velin::testing
