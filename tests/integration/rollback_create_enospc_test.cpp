// A create-version or create-snapshot that fails on a full disk removes its temporary release
// and config directories (`.velin/releases/.tmp-NAME-PID`, `.velin/configs/.tmp-NAME-PID`):
// before, they held their space until the next create, on the very disk that was full.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// The entries of `dir` whose names start with ".tmp-".
std::vector<std::string> TempEntriesOfCreate(const std::string& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".tmp-", 0) == 0) out.push_back(name);
  }
  return out;
}

TEST(RollbackCreateEnospcTest, AFailedCreateLeavesNoTemporaryRelease) {
  for (const char* command : {"create-version", "create-snapshot"}) {
    ToyApp app(NoService());
    app.Build("v1");
    ASSERT_EQ(app.Velin({"rollback", command, "v1"}).exit_code, 0);
    app.Build("v2");
    for (int i = 0; i < 4; ++i) {  // files no release holds yet: copied, not linked
      WriteFile(app.app() + "/bin/new-" + std::to_string(i), std::string(1000 + i, 'n'));
    }
    int failed = 0;
    bool created = false;
    // Every write of the create in turn fails with ENOSPC (the first half of it written),
    // until the create gets through.
    for (int nth = 1; nth <= 200 && !created; ++nth) {
      const std::string rule = "write:" + std::to_string(nth) + ":ENOSPC:short";
      RunResult r = app.Velin({"rollback", command, "v2"}, {{"VELIN_FAULT_INJECT", rule}});
      if (r.exit_code == 0) {
        created = true;
        break;
      }
      ++failed;
      EXPECT_EQ(r.exit_code, 1) << command << " " << rule << ": " << r.err;
      EXPECT_NE(r.err.find("No space left"), std::string::npos) << rule << ": " << r.err;
      EXPECT_EQ(TempEntriesOfCreate(app.state() + "/releases"), std::vector<std::string>{})
          << command << " " << rule;
      EXPECT_EQ(TempEntriesOfCreate(app.state() + "/configs"), std::vector<std::string>{})
          << command << " " << rule;
      if (::testing::Test::HasFailure()) return;  // one rule's report is enough
    }
    EXPECT_TRUE(created) << command;
    EXPECT_GT(failed, 3) << command << ": the faults should hit the copies of the files";
    EXPECT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0) << command;
    EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v2\n") << command;
  }
}

}  // namespace
}  // namespace velin::testing
