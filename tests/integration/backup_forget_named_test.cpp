// `velin backup forget ID...`: the one way to remove a chosen backup (one made by mistake, or
// one no velin can read), whatever the retention rules say; asked first, like a restore in
// place.
#include <gtest/gtest.h>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

TEST(BackupForgetNamedTest, TheNamedBackupGoesAfterTheConfirmationAndTheOthersStay) {
  BackupApp app({"storage"}, "keep_last = 10");
  WriteFile(app.root() + "/storage/a.txt", "one");
  const std::string first = app.Json({"backup", "create"})["id"];
  WriteFile(app.root() + "/storage/a.txt", "two");
  const std::string second = app.Json({"backup", "create"})["id"];
  ASSERT_NE(first, second);

  auto dry = app.Json({"backup", "forget", first, "--dry-run"});
  EXPECT_EQ(dry["forgotten"], nlohmann::json::array({first})) << dry.dump();
  RunResult unasked = app.Run({"backup", "forget", first});  // no terminal, no --yes
  EXPECT_EQ(unasked.exit_code, 2) << unasked.out << unasked.err;
  EXPECT_NE(unasked.err.find("pass --yes"), std::string::npos) << unasked.err;
  RunResult unknown = app.Run({"backup", "forget", first, "20990101-0000-full", "--yes"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out << unknown.err;
  EXPECT_EQ(app.Json({"backup", "list"})["backups"].size(), 2u) << "nothing forgotten yet";

  RunResult forgot = app.Run({"backup", "forget", first, "--yes"});
  ASSERT_EQ(forgot.exit_code, 0) << forgot.out << forgot.err;
  EXPECT_NE(forgot.out.find("Forgot backup " + first), std::string::npos) << forgot.out;
  auto list = app.Json({"backup", "list"});
  ASSERT_EQ(list["backups"].size(), 1u) << list.dump();
  EXPECT_EQ(list["backups"][0]["id"], second);
  RunResult pruned = app.Run({"backup", "prune"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.out << pruned.err;
  RunResult verified = app.Run({"backup", "verify", "--all"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  const std::string target = app.path("restored");
  RunResult restored = app.Run({"backup", "restore", "latest", "--target", target});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_EQ(ReadFileOrDie(target + "/storage/a.txt"), "two");

  auto latest = app.Json({"backup", "forget", "latest", "--yes"});
  EXPECT_EQ(latest["forgotten"], nlohmann::json::array({second})) << latest.dump();
}

}  // namespace
}  // namespace velin::testing
