// The restorer hands small files to its workers in batches of one directory's files (issue 19):
// a fault in the middle of a batch stops the restore with one line and exit 1, leaves no
// temporary file and no wrong file, and a rerun restores the whole tree; a full restore of
// directories of many small files (batches split by count and by bytes) is exact, also under a
// low limit on open files.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// 300 small files in one directory (more than a batch holds), 40 of ~40 KiB in another (more
// than a batch's bytes), a 1.5 MiB file alone, a few files beside them.
void MakeTree(BackupApp& app) {
  for (int i = 0; i < 300; ++i) {
    WriteFile(app.root() + "/storage/many/f" + std::to_string(i),
              RandomData(100 + static_cast<size_t>(i) * 7, static_cast<unsigned>(i)));
  }
  for (int i = 0; i < 40; ++i) {
    WriteFile(app.root() + "/storage/mid/g" + std::to_string(i),
              RandomData(40000 + static_cast<size_t>(i), static_cast<unsigned>(1000 + i)));
  }
  WriteFile(app.root() + "/storage/mid/big", RandomData(1536 * 1024, 7));
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  WriteFile(app.root() + "/storage/z.txt", "zeta\n");
}

TEST(RestoreBatchTest, ManySmallFilesRestoreExactly) {
  BackupApp app;
  MakeTree(app);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string target = app.path("out");
  RunResult r = app.Run({"backup", "restore", "latest", "--target", target});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DescribeTree(target + "/storage"), DescribeTree(app.root() + "/storage"));
  EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{});
}

TEST(RestoreBatchTest, AFaultInsideABatchFailsCleanly) {
  BackupApp app;
  MakeTree(app);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string before = DescribeTree(app.root() + "/storage");
  // Creates: the target's directories, then one per file; these land inside batches of
  // `many` (the first and a later one) and of `mid`.
  for (const char* rule :
       {"create:20:ENOSPC", "create:250:EIO", "create:320:ENOSPC", "write:150:EIO"}) {
    const std::string target = app.path("out");
    RunResult r = RestoreLatestUnderFault(app, target, rule);
    ASSERT_EQ(r.exit_code, 1) << rule << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << rule << r.err;
    EXPECT_EQ(TempFilesUnder(target), std::vector<std::string>{}) << rule;
    for (const auto& e : fs::recursive_directory_iterator(target + "/storage")) {
      if (!e.is_regular_file()) continue;
      const std::string rel = fs::relative(e.path(), target + "/storage").string();
      EXPECT_EQ(ReadFileOrDie(e.path().string()), ReadFileOrDie(app.root() + "/storage/" + rel))
          << rule << " " << rel;
    }
    RunResult again = app.Run({"backup", "restore", "latest", "--target", target});
    ASSERT_EQ(again.exit_code, 0) << rule << again.err;
    EXPECT_EQ(DescribeTree(target + "/storage"), before) << rule;
  }
}

// Every file waiting to be written keeps its directory open: 150 directories of one large
// file each (each written alone) and 400 of one small file restore whole under a limit of 100
// open files velin cannot raise (before: "Too many open files" under 200, with 400 large).
TEST(RestoreBatchTest, ALowOpenFileLimitStillRestoresEveryDirectory) {
  BackupApp app;
  const std::string large = std::string((1 << 20) + 100, '\0');  // over a batch's bytes; holes
  for (int i = 0; i < 150; ++i) {
    WriteFile(app.root() + "/storage/large/d" + std::to_string(i) + "/x",
              large + std::to_string(i));
  }
  for (int i = 0; i < 400; ++i) {
    WriteFile(app.root() + "/storage/small/d" + std::to_string(i) + "/f", std::to_string(i));
  }
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  RunOptions tight;
  tight.open_files_soft = tight.open_files_hard = 100;
  RunResult r = app.Run({"backup", "restore", "latest", "--target", app.path("out")}, tight);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DescribeTree(app.path("out") + "/storage"), DescribeTree(app.root() + "/storage"));
}

}  // namespace
}  // namespace velin::testing
