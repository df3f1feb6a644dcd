// A [log] file on a disk that fills up: velin says so once, in its own words, lets the file go
// and logs to stderr only (docs/config.md, [log]); the command's outcome is untouched. Before,
// spdlog printed "[*** LOG ERROR #0001 ***] … {Failed flush to file …: No space left on
// device}" on some runs (at most one a second) and went on writing, torn.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

TEST(LogFileFullTest, ALogFileOnAFullDiskIsLetGoWithOneWarning) {
  BackupApp app({"storage"}, "encryption = \"none\"");
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  SmallTmpfs small(app.path("logs"), "1m");
  if (!small.mounted()) GTEST_SKIP() << "mount -t tmpfs not permitted here";
  const std::string log = app.path("logs/velin.log");
  WriteFile(app.path("velin.toml"),
            ReadFileOrDie(app.path("velin.toml")) + "[log]\nfile = \"" + log + "\"\n");
  // A log that ends at a page's end (tmpfs hands out pages): its next line needs a new one.
  std::string earlier;
  while (earlier.size() < 4096) earlier += "2026-12-07T01:00:00.000+00:00 [1] info: earlier\n";
  earlier.resize(4095);
  earlier += "\n";
  WriteFile(log, earlier, 0600);
  FillLeaving(app.path("logs/filler"), 0);

  const std::string warning = "warning: cannot write log file " + log +
                              ": No space left on device; logging to stderr only\n";
  for (int run = 1; run <= 2; ++run) {
    RunResult r = app.Run({"backup", "create", "-q"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, warning) << "run " << run;  // once, and nothing of spdlog's
  }
  RunResult r = app.Run({"backup", "list", "--json", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["backups"].size(), 2u) << r.out;
  EXPECT_EQ(r.err, warning);
  EXPECT_EQ(ReadFileOrDie(log), earlier);  // nothing torn appended
}

}  // namespace
}  // namespace velin::testing
