// A flag given an empty value was taken as a flag not given: `--target "$DIR"` with DIR unset
// restored in place over the live files (with --yes, without a question), `--only ""` restored
// everything, `--destination ""` used the configured repository. Every value is now refused
// when empty, with one line naming the flag; free text (--reason) and `--app ''` (backups
// that recorded no application) may be empty.
#include <gtest/gtest.h>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

// Must show: each empty value fails with exit 2 and one line naming it, before anything is
// touched: the live file keeps its edit, no target appears, no backup is added.
TEST(CliEmptyValueTest, AnEmptyValueIsRefusedBeforeAnythingIsTouched) {
  BackupApp app;
  const std::string live = app.root() + "/storage/a.txt";
  WriteFile(live, "backed up\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  WriteFile(live, "edited since\n");
  const std::string out = app.path("out");

  struct Case {
    std::vector<std::string> args;
    std::string flag;
  };
  const std::vector<Case> cases = {
      {{"backup", "restore", "latest", "--target", "", "--yes"}, "--target"},
      {{"backup", "restore", "latest", "--only", "", "--target", out}, "--only"},
      {{"backup", "restore", "latest", "--include", "", "--target", out}, "--include"},
      {{"backup", "restore", "", "--target", out}, "ID"},
      {{"backup", "create", "--destination", ""}, "--destination"},
      {{"--config", "", "backup", "create"}, "--config"},
      {{"backup", "list", "--host", ""}, "--host"},
  };
  for (const auto& c : cases) {
    RunResult r = app.Run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.flag << ": " << r.out << r.err;
    EXPECT_EQ(r.err,
              "error: " + c.flag + " is empty (an unset variable?): give a value or leave it out\n")
        << c.flag;
  }
  EXPECT_EQ(ReadFileOrDie(live), "edited since\n");
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_EQ(app.Json({"backup", "list"})["backups"].size(), 1u);

  RunOptions german;
  german.env["LANG"] = "de_DE.UTF-8";
  RunResult de = app.Run({"backup", "restore", "latest", "--target", "", "--yes"}, german);
  EXPECT_EQ(de.exit_code, 2);
  EXPECT_EQ(de.err,
            "Fehler: --target ist leer (eine nicht gesetzte Variable?): einen Wert "
            "angeben oder weglassen\n");
  nlohmann::json j = app.Json({"backup", "restore", "latest", "--target", ""}, 2);
  EXPECT_EQ(j["error"].value("message", ""),
            "--target is empty (an unset variable?): give a value or leave it out")
      << j;
  EXPECT_EQ(ReadFileOrDie(live), "edited since\n");
}

// Must show: an empty --reason is free text and passes the command line (what fails here is
// that no transaction is open, not the reason).
TEST(CliEmptyValueTest, AnEmptyReasonIsAllowed) {
  BackupApp app;
  RunResult r = app.Run({"rollback", "rollback", "--reason", ""});
  EXPECT_EQ(r.err.find("is empty"), std::string::npos) << r.err;
}

// Must show: `--app ''` still selects the backups that recorded no application (docs/cli.md).
TEST(CliEmptyValueTest, AnEmptyAppSelectsBackupsWithoutOne) {
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  RunResult r = app.Run({"backup", "list", "--app", ""});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("is empty"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace velin::testing
