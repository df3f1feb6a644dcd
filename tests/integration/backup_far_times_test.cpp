// A file dated after 2262 (ext4 keeps times up to 2446; `touch -d 2500-01-01` leaves 2446) has
// an mtime a backup cannot record in its nanoseconds (docs/repository-format.md): it was
// recorded as 1861 and restored as 1901 with exit 0. Now it is recorded as the last time a
// backup holds, 2262-04-11T23:47:16.854775807Z, with a warning naming it, and restored so.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

// The mtime of `path` (seconds, nanoseconds).
std::pair<int64_t, int64_t> FarTimesMtimeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return {st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

TEST(BackupFarTimesTest, AnMtimeAfter2262IsStoredAsTheLastOneABackupHoldsWithAWarning) {
  BackupApp app;
  const std::string far = app.root() + "/storage/far.txt";
  WriteFile(far, "from the future\n");
  WriteFile(app.root() + "/storage/now.txt", "today\n");
  RunResult touched = RunProgram({"touch", "-d", "2500-01-01", far});
  ASSERT_EQ(touched.exit_code, 0) << touched.err;
  ASSERT_GT(FarTimesMtimeOf(far).first, int64_t{9'223'372'036});  // past 2262 on this disk

  RunResult made = app.Run({"backup", "create"});
  ASSERT_EQ(made.exit_code, 0) << made.err;  // a warning, the backup is made
  EXPECT_NE(made.err.find("warning: 1 file or directory has an mtime outside what a backup "
                          "can record, 1677-09-21 to 2262-04-11 (storage/far.txt): it is "
                          "stored as the nearest of these times"),
            std::string::npos)
      << made.err;

  const std::string t = app.path("t");
  RunResult restored = app.Run({"backup", "restore", "latest", "--target", t});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(ReadFileOrDie(t + "/storage/far.txt"), "from the future\n");
  EXPECT_EQ(FarTimesMtimeOf(t + "/storage/far.txt"),
            (std::pair<int64_t, int64_t>{9'223'372'036, 854'775'807}));  // not 1901

  // Unchanged since, an incremental backup still takes it for unchanged (and warns again).
  nlohmann::json incremental = app.Json({"backup", "create", "--strategy", "incremental"});
  EXPECT_EQ(incremental.value("files_read", -1), 0) << incremental;
}

}  // namespace
}  // namespace velin::testing
