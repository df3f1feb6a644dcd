// A server at the edge of its limits, through the real binary.
// - A hard limit on open files as low as 32 (`ulimit -n 32`, which raising the soft limit
//   cannot lift): a create, a restore, a verify and a prune of a repository of many packs
//   finish. Before, a local repository kept 32 packs open whatever the limit and a restore at
//   least 16 directories: a restore of a large repository failed at 64 ("cannot create …: Too
//   many open files"), a verify there passed but could not record its outcome, and at 32
//   restore, verify and prune failed.
// - SQLite's scratch copy in a full $TMPDIR (a small tmpfs /tmp): the error names that
//   directory and what to do, where it said only "backup: database or disk is full", which
//   read as the database's own disk.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// 40 directories of 5 files, backed up 40 times, each time with one directory's first file
// new: the latest backup's blobs lie in 40 packs and more, which a restore reads from, as a
// verify and a prune read every one.
void LimitsMakeManyPacks(const BackupApp& app) {
  for (int d = 0; d < 40; ++d) {
    for (int f = 0; f < 5; ++f) {
      WriteFile(app.root() + "/storage/d" + std::to_string(d) + "/f" + std::to_string(f),
                RandomData(20000, static_cast<unsigned>(d * 10 + f)));
    }
  }
  for (int d = 0; d < 40; ++d) {
    WriteFile(app.root() + "/storage/d" + std::to_string(d) + "/f0",
              RandomData(20000, static_cast<unsigned>(1000 + d)));
    RunResult r = app.Run({"backup", "create", "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
}

RunOptions LimitsOpenFiles(unsigned limit) {
  RunOptions o;
  o.open_files_soft = limit;
  o.open_files_hard = limit;
  return o;
}

TEST(ResourceLimitsTest, AHardLimitOf32OpenFilesStillRestoresVerifiesAndPrunes) {
  BackupApp app({"storage"}, "encryption = \"none\"\nprune_after_create = false");
  LimitsMakeManyPacks(app);
  size_t packs = 0;
  for (const auto& e : fs::recursive_directory_iterator(app.repo() + "/data")) {
    packs += e.is_regular_file() ? 1 : 0;
  }
  ASSERT_GE(packs, 40u) << "too few packs to need more descriptors than the limit";
  // A full backup reads back what it writes, through the same open packs.
  WriteFile(app.root() + "/storage/d0/f1", RandomData(20000, 2000));
  RunResult made = app.Run({"backup", "create", "--strategy", "full"}, LimitsOpenFiles(32));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string want = DescribeTree(app.root() + "/storage");

  for (unsigned limit : {64u, 32u}) {
    const std::string what = "ulimit -n " + std::to_string(limit);
    const std::string target = app.path("out" + std::to_string(limit));
    RunResult r =
        app.Run({"backup", "restore", "latest", "--target", target}, LimitsOpenFiles(limit));
    ASSERT_EQ(r.exit_code, 0) << what << ": " << r.err;
    EXPECT_EQ(DescribeTree(target + "/storage"), want) << what;
    EXPECT_TRUE(TempFilesUnder(target).empty()) << what;
    // Again, in place over what the first left.
    r = app.Run({"backup", "restore", "latest", "--target", target, "--yes"},
                LimitsOpenFiles(limit));
    ASSERT_EQ(r.exit_code, 0) << what << ": " << r.err;
    EXPECT_EQ(DescribeTree(target + "/storage"), want) << what;

    r = app.Run({"backup", "verify", "--all"}, LimitsOpenFiles(limit));
    EXPECT_EQ(r.exit_code, 0) << what << ": " << r.err;
    EXPECT_EQ(r.err, "") << what << ": the outcome is recorded, no warning";
  }

  // Forget the 20 oldest backups: prune repacks and deletes, reading every pack.
  const nlohmann::json before = app.Json({"backup", "list"});
  ASSERT_EQ(before["backups"].size(), 41u);
  std::vector<std::string> forget = {"backup", "forget", "--yes"};
  for (int i = 0; i < 20; ++i) forget.push_back(before["backups"][i]["id"]);
  RunResult r = app.Run(forget, LimitsOpenFiles(32));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = app.Run({"backup", "prune"}, LimitsOpenFiles(32));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = app.Run({"backup", "verify", "--all"}, LimitsOpenFiles(32));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string target = app.path("after-prune");
  r = app.Run({"backup", "restore", "latest", "--target", target}, LimitsOpenFiles(32));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(DescribeTree(target + "/storage"), want);
}

TEST(ResourceLimitsTest, ASqliteCopyInAFullTmpdirSaysWhereAndWhatToDo) {
  BackupApp app({"db"},
                "encryption = \"none\"\n[database]\ndriver = \"sqlite\"\npath = "
                "\"var/app.db\"");
  fs::create_directories(app.root() + "/var");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((app.root() + "/var/app.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    // ~4 MB: more than the 2 MB tmpfs below holds.
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TABLE t (v BLOB);"
                           "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                           "WHERE i < 4000) INSERT INTO t SELECT randomblob(1000) FROM n;",
                           nullptr, nullptr, &error),
              SQLITE_OK)
        << (error != nullptr ? error : "");
    sqlite3_close(db);
  }
  const std::string tmp = app.path("tmp");
  SmallTmpfs small(tmp, "2m");
  if (!small.mounted()) GTEST_SKIP() << "mount -t tmpfs not permitted here";
  RunOptions full_tmp;
  full_tmp.env["TMPDIR"] = tmp;

  RunResult r = app.Run({"backup", "create"}, full_tmp);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(SplitLines(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("backup: no room for the copy of the database in " + tmp +
                       " (database or disk is full): the copy needs as much room as the "
                       "database; free some there, or set TMPDIR to a directory with room"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::is_empty(tmp)) << "the partial copy is removed";
  EXPECT_EQ(app.Json({"backup", "list"})["backups"].size(), 0u);

  // With room, the same backup goes through.
  r = app.Run({"backup", "create"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace velin::testing
