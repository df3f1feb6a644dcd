// The archiver reads ahead in each directory (files opened by name right after their lstat, the
// kernel asked for their first bytes): whatever the mix of entries — more files than the
// window, subdirectories between them (the window is given up and taken again), empty files,
// files larger than what is asked ahead, hardlinks, symlinks, files an incremental backup does
// not read — every file comes back with the bytes it had, through the real binary.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// `n` names in sorted order; every 7th a subdirectory of 40 files, the rest files whose sizes
// cycle through empty, tiny, a page, 100 kB and 4 MiB + 3 (more than one read-ahead request).
void MakeWideDirectory(const std::string& dir, int n, unsigned seed) {
  const size_t sizes[] = {0, 1, 4096, 100'000, (4u << 20) + 3};
  for (int i = 0; i < n; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "e%03d", i);
    const std::string path = dir + "/" + name;
    if (i % 7 == 3) {
      for (int k = 0; k < 40; ++k) {
        WriteFile(path + "/s" + std::to_string(k), RandomData(100 + 37 * k, seed + 1000 * i + k));
      }
      continue;
    }
    WriteFile(path, RandomData(sizes[i % 5], seed + i));
  }
}

TEST(BackupReadAheadTest, EveryEntryOfAWideMixedDirectoryComesBackWithItsBytes) {
  BackupApp app;
  const std::string s = app.root() + "/storage";
  MakeWideDirectory(s + "/wide", 90, 1);
  ASSERT_EQ(::link((s + "/wide/e001").c_str(), (s + "/wide/e001-link").c_str()), 0);
  ASSERT_EQ(::symlink("e004", (s + "/wide/e004-sym").c_str()), 0);
  const std::string first = DescribeTree(s);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);

  // An incremental backup reads only what changed: every fifth file rewritten (a new size),
  // a few gone, a few new, the rest read from nothing but the earlier backup.
  for (int i = 0; i < 90; i += 5) {
    char name[16];
    std::snprintf(name, sizeof name, "e%03d", i);
    if (i % 7 == 3) continue;
    WriteFile(s + "/wide/" + name, RandomData(5000 + i, 77 + i));
  }
  fs::remove(s + "/wide/e002");
  fs::remove(s + "/wide/e009");
  WriteFile(s + "/wide/e002b", RandomData(300'000, 5));
  WriteFile(s + "/wide/zz-last", RandomData(10, 6));
  const std::string second = DescribeTree(s);
  RunResult r = app.Run({"backup", "create", "--strategy", "incremental"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  fs::remove_all(s);
  r = app.Run({"backup", "restore", "latest", "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DescribeTree(s), second);

  auto listed = app.Json({"backup", "list"});
  ASSERT_TRUE(listed.contains("backups")) << listed.dump();
  ASSERT_EQ(listed["backups"].size(), 2u);
  const std::string oldest = listed["backups"][0]["id"];
  fs::remove_all(s);
  r = app.Run({"backup", "restore", oldest, "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DescribeTree(s), first);
}

}  // namespace
}  // namespace velin::testing
