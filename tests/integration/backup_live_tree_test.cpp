// The real binary backing up a tree the application is writing at the same time: a session
// directory whose files are deleted while the backup reads them (it failed the whole backup
// with "cannot list the extended attributes of …: No such file or directory"), and a log that
// is appended to all the while (copied silently as whatever was read). The timing is the
// kernel's, so the assertions hold for every interleaving; tests/unit/backup/
// archiver_changing_tree_mem_test.cpp hits each point deterministically.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

TEST(BackupLiveTreeTest, FilesDeletedDuringTheBackupAreLeftOutAndTheBackupSucceeds) {
  BackupApp app({"storage"});
  constexpr int kFiles = 5000;
  const std::string sessions = app.root() + "/storage/sessions";
  WriteFile(app.root() + "/storage/keep.txt", "keep");
  uint64_t vanished = 0;
  for (int attempt = 0; attempt < 4 && vanished == 0; ++attempt) {
    for (int i = 0; i < kFiles; ++i) {
      WriteFile(sessions + "/s" + std::to_string(i), "session " + std::to_string(i));
    }
    // Deletes all the while the backup runs (spread over more than 1 s, however slow the machine).
    std::atomic<bool> stop{false};
    std::thread deleter([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
      for (int i = kFiles - 1; i >= 0 && !stop; --i) {
        std::error_code ec;
        fs::remove(sessions + "/s" + std::to_string(i), ec);
        if (i % 20 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    RunResult created = app.Run({"--json", "backup", "create"});
    stop = true;
    deleter.join();
    ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
    auto j = nlohmann::json::parse(created.out);
    vanished = j["files_vanished"].get<uint64_t>();
    // Files deleted before their directory was listed are not seen at all.
    EXPECT_LE(j["files"].get<uint64_t>() + vanished, kFiles + 1u) << created.out;
    RunResult verified = app.Run({"backup", "verify", "latest"});
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  }
  EXPECT_GT(vanished, 0u) << "no run saw a deletion: the test did not test";
  const std::string target = app.path("restored");
  RunResult restored = app.Run({"backup", "restore", "latest", "--target", target});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(ReadFileOrDie(target + "/storage/keep.txt"), "keep");
  size_t present = 0;
  for (const auto& e : fs::directory_iterator(target + "/storage/sessions")) {
    const std::string name = e.path().filename();
    EXPECT_EQ(ReadFileOrDie(e.path().string()), "session " + name.substr(1)) << name;
    ++present;
  }
  auto list = app.Json({"backup", "list"});
  EXPECT_EQ(list["backups"].back()["files"].get<uint64_t>(), present + 1) << list.dump();
}

TEST(BackupLiveTreeTest, ALogAppendedDuringTheBackupIsReadAgainAndNamed) {
  BackupApp app({"storage"}, "[monitor]\nmetrics_file = \"velin.prom\"");
  const std::string log = app.root() + "/storage/logs/app.log";
  WriteFile(log, RandomData(64 << 20, 7));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::ofstream out(log, std::ios::app | std::ios::binary);
    for (int line = 0; !stop; ++line) {
      // Without a pause: on a loaded machine a sleeping writer may not wake during a read.
      out << "line " << line << "\n" << std::flush;
    }
  });
  RunResult created = app.Run({"--json", "backup", "create"});
  stop = true;
  writer.join();
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  auto j = nlohmann::json::parse(created.out);
  EXPECT_EQ(j["files_changed"], 1) << created.out;
  EXPECT_NE(created.err.find("1 file changed while it was read, and again when read once "
                             "more (storage/logs/app.log)"),
            std::string::npos)
      << created.err;
  EXPECT_EQ(j["files_read"], 1) << created.out;
  const std::string changed_metric = "velin_last_changed_files{command=\"backup create\"} ";
  EXPECT_NE(ReadFileOrDie(app.path("velin.prom")).find(changed_metric + "1\n"), std::string::npos)
      << ReadFileOrDie(app.path("velin.prom"));

  // Quiet now: the next incremental backup reads it again and keeps it whole.
  RunResult next = app.Run({"--json", "backup", "create", "--strategy", "incremental"});
  ASSERT_EQ(next.exit_code, 0) << next.out << next.err;
  auto n = nlohmann::json::parse(next.out);
  EXPECT_EQ(n["files_read"], 1) << next.out;
  EXPECT_EQ(n["files_changed"], 0) << next.out;
  EXPECT_NE(ReadFileOrDie(app.path("velin.prom")).find(changed_metric + "0\n"), std::string::npos)
      << ReadFileOrDie(app.path("velin.prom"));
  const std::string target = app.path("restored");
  RunResult restored = app.Run({"backup", "restore", "latest", "--target", target});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_TRUE(ReadFileOrDie(target + "/storage/logs/app.log") == ReadFileOrDie(log))
      << "not the same bytes";
}

}  // namespace
}  // namespace velin::testing
