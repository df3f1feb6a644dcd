// A release directory (or a directory in it) replaced by a regular file: `--dry-run` and the
// switch must agree. Before, the dry run said exit 0 "the switch would put them back from
// identical files of other releases", and the switch then refused with another reason (files
// missing that no other release holds), because it could not make the directory again.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// v3 and v4 hold the same files (so each file of v3 is held by v4 too), v4 live.
void SetUpTwinReleases(ToyApp& app) {
  app.Build("same");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v3"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v4"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v4"}).exit_code, 0);
}

TEST(RollbackReleaseRootTest, AReleaseDirectoryReplacedByAFileIsRefusedByDryRunAndSwitchAlike) {
  ToyApp app(NoService());
  SetUpTwinReleases(app);
  const std::string release = app.state() + "/releases/v3";
  fs::remove_all(release);
  WriteFile(release, "not a release\n");
  const std::string reason = release + " is not a directory (a file put in its place?)";
  RunResult plan = app.Velin({"rollback", "to-version", "v3", "--dry-run"});
  EXPECT_EQ(plan.exit_code, 1) << plan.out << plan.err;
  EXPECT_NE(plan.err.find("switch to v3 refused: " + reason), std::string::npos) << plan.err;
  RunResult r = app.Velin({"rollback", "to-version", "v3"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("switch to v3 refused: " + reason), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was changed (still v4)"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v4");
  EXPECT_EQ(ReadFileOrDie(release), "not a release\n") << "a refused release is left as found";
}

TEST(RollbackReleaseRootTest, ADirectoryInAReleaseReplacedByAFileIsRefusedByDryRunAndSwitchAlike) {
  ToyApp app(NoService());
  SetUpTwinReleases(app);
  const std::string bin = app.state() + "/releases/v3/bin";
  fs::remove_all(bin);
  WriteFile(bin, "not a directory\n");
  RunResult plan = app.Velin({"rollback", "to-version", "v3", "--dry-run"});
  RunResult r = app.Velin({"rollback", "to-version", "v3"});
  EXPECT_EQ(plan.exit_code, 1) << plan.out << plan.err;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(plan.err.find("switch to v3 refused"), std::string::npos) << plan.err;
  EXPECT_NE(r.err.find("switch to v3 refused"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v4");
}

}  // namespace
}  // namespace velin::testing
