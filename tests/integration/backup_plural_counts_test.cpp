// Messages with several counts say each in its own number: "1 backup references 2 blobs",
// "(…, 1 pack, 1 index object)"; before 2026-12-08 "1 backups reference …", "1 packs".
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

// Every "N noun" of `text` for `noun` ("pack", "index object", "blob"): singular exactly for 1.
void PluralExpectNumbersAgree(const std::string& text, const std::string& noun) {
  const std::regex counted("\\b([0-9]+) " + noun + "(s?)\\b");
  int seen = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), counted);
       it != std::sregex_iterator(); ++it, ++seen) {
    const bool one = (*it)[1].str() == "1";
    EXPECT_EQ((*it)[2].str().empty(), one) << "'" << it->str() << "' in: " << text;
  }
  EXPECT_GT(seen, 0) << noun << " not in: " << text;
}

TEST(BackupPluralCountsTest, PruneAndStatusSayOneBackupAndOnePackInTheSingular) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);

  RunResult pruned = app.Run({"backup", "prune", "--dry-run"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.out << pruned.err;
  EXPECT_NE(pruned.out.find("1 backup references "), std::string::npos) << pruned.out;
  PluralExpectNumbersAgree(pruned.out, "blob");
  PluralExpectNumbersAgree(pruned.out, "pack");

  RunResult status = app.Run({"backup", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.out << status.err;
  PluralExpectNumbersAgree(status.out, "pack");
  PluralExpectNumbersAgree(status.out, "index object");
  // One small backup: one index object (its packs: one of data, one of trees).
  EXPECT_NE(status.out.find(" 1 index object)"), std::string::npos) << status.out;
}

}  // namespace
}  // namespace velin::testing
