// A create whose offsite copy failed (exit 1) used to leave that backup missing offsite for good:
// the next create copied only its own. Now the next create whose copy goes through copies the
// backups still due there too, and drops those forgotten meanwhile without a word.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

// The backup ids in the repository at `repo`.
std::set<std::string> OffsiteIdsOf(const BackupApp& app, const std::string& repo) {
  nlohmann::json listed = app.Json({"backup", "list", "--all", "--destination", repo});
  std::set<std::string> ids;
  for (const auto& b : listed["backups"]) ids.insert(b.value("id", ""));
  return ids;
}

TEST(BackupOffsiteCatchUp, TheNextCreateCopiesTheBackupsWhoseOffsiteCopyFailed) {
  TempDir dir;
  // A regular file where the offsite's parent directory should be: nothing can be made there
  // (as root too, unlike a chmod) until it is removed.
  const std::string blocker = dir / "blocked";
  const std::string offsite = blocker + "/offsite";
  WriteFile(blocker, "not a directory\n");
  BackupApp app({"storage"}, "offsite = \"" + offsite + "\"\n");

  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  RunResult first_run = app.Run({"backup", "create", "--json"});
  ASSERT_EQ(first_run.exit_code, 1) << first_run.err;
  const std::string first = nlohmann::json::parse(first_run.out)["id"];
  EXPECT_NE(first_run.err.find("backup " + first + " was created, but the offsite copy to " +
                               offsite + " failed"),
            std::string::npos)
      << first_run.err;
  EXPECT_NE(first_run.err.find("the next create copies it, or now: velin backup copy " + first +
                               " --to " + offsite + ")"),
            std::string::npos)
      << first_run.err;

  WriteFile(app.root() + "/storage/a.txt", "beta\n");
  RunResult second_run = app.Run({"backup", "create", "--json"});
  ASSERT_EQ(second_run.exit_code, 1) << second_run.err;
  const std::string second = nlohmann::json::parse(second_run.out)["id"];

  WriteFile(app.root() + "/storage/a.txt", "gamma\n");
  RunResult third_run = app.Run({"backup", "create", "--json"});
  ASSERT_EQ(third_run.exit_code, 1) << third_run.err;
  const std::string third = nlohmann::json::parse(third_run.out)["id"];

  // The first is forgotten here before the offsite is back: it is no longer due.
  ASSERT_EQ(app.Run({"backup", "forget", first, "--yes"}).exit_code, 0);
  std::filesystem::remove(blocker);

  WriteFile(app.root() + "/storage/a.txt", "delta\n");
  RunResult caught = app.Run({"backup", "create"});
  ASSERT_EQ(caught.exit_code, 0) << caught.err;
  EXPECT_NE(caught.out.find("Also copied offsite: " + second + ", " + third +
                            " (their own offsite copy had failed)"),
            std::string::npos)
      << caught.out;
  EXPECT_EQ(caught.err.find(first), std::string::npos) << caught.err;
  const std::set<std::string> local = OffsiteIdsOf(app, app.repo());  // second, third, the new
  ASSERT_EQ(local.size(), 3u);
  EXPECT_EQ(OffsiteIdsOf(app, offsite), local);
  RunResult restored =
      app.Run({"backup", "restore", second, "--target", app.path("out"), "--destination", offsite});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(ReadFileOrDie(app.path("out") + "/storage/a.txt"), "beta\n");

  // Nothing is due any more: the next create copies its own backup only.
  WriteFile(app.root() + "/storage/a.txt", "epsilon\n");
  nlohmann::json next = app.Json({"backup", "create"});
  EXPECT_TRUE(next["offsite"]["caught_up"].empty()) << next;
  EXPECT_FALSE(std::filesystem::exists(app.repo() + "/state/offsite-pending/" + second));
}

}  // namespace
}  // namespace velin::testing
