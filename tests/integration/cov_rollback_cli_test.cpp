// Error paths of the rollback commands through the real binary (issue 16 §5), where the engine's
// tests (tests/unit/rollback/cov_*_test.cpp) check the states: the exit code and the one line a
// user sees, and that nothing changed. A toy app without a service (the switch is the link).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

void TwoVersionsV1Live(ToyApp& app) {
  for (const char* v : {"v1", "v2"}) {
    app.Build(v);
    ASSERT_EQ(app.Velin({"rollback", "create-version", v}).exit_code, 0);
  }
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// docs/exit-codes.md: every non-zero exit comes with exactly one line on stderr, "error: ...".
void ExpectOneErrorLine(const RunResult& r) {
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// velin died right after recording a switch: begin and a plan refuse (exit 1) until recover.
TEST(CovRollbackCliTest, AnInterruptedSwitchBlocksBeginAndPlanUntilRecover) {
  ToyApp app(NoService());
  TwoVersionsV1Live(app);
  RunResult r =
      app.Velin({"rollback", "to-version", "v2"}, {{"VELIN_TEST_CRASH_AT", "switch-intent"}});
  ASSERT_EQ(r.exit_code, 86) << r.err;
  r = app.Velin({"rollback", "begin"});
  EXPECT_EQ(r.exit_code, 1);
  ExpectOneErrorLine(r);
  EXPECT_NE(r.err.find("a switch was interrupted; run 'velin rollback recover' first"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(Exists(app.state() + "/transaction.json"));
  r = app.Velin({"rollback", "to-version", "v2", "--dry-run"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("a switch from 'v1' to 'v2' was interrupted; run 'velin rollback recover' "
                       "first"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(app.Current(), "v1");
  r = app.Velin({"rollback", "recover"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(app.Current(), "v2");
  EXPECT_EQ(app.Velin({"rollback", "begin"}).exit_code, 0);
}

// A damaged transaction.json is damage (exit 4) named with its path, and left as it is.
TEST(CovRollbackCliTest, ADamagedTransactionFileIsExitFourNamingIt) {
  ToyApp app(NoService());
  TwoVersionsV1Live(app);
  const std::string file = app.state() + "/transaction.json";
  const std::string text = "{\"format\": 1, \"id\": \"t1\", \"state\": \"paused\"}\n";
  WriteFile(file, text);
  RunResult r = app.Velin({"rollback", "commit"});
  EXPECT_EQ(r.exit_code, 4);
  ExpectOneErrorLine(r);
  EXPECT_NE(r.err.find(file + ": transaction has an unknown state 'paused'"), std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFileOrDie(file), text);
  EXPECT_EQ(app.Current(), "v1");
}

// A FIFO among the artifacts cannot be kept in a release: exit 1 naming it, no version.
TEST(CovRollbackCliTest, AFifoAmongTheArtifactsIsRefusedNamingIt) {
  ToyApp app(NoService());
  app.Build("v1");
  ASSERT_EQ(::mkfifo((app.app() + "/bin/pipe").c_str(), 0600), 0);
  RunResult r = app.Velin({"rollback", "create-version", "v1"});
  EXPECT_EQ(r.exit_code, 1);
  ExpectOneErrorLine(r);
  EXPECT_NE(r.err.find(app.app() + "/bin/pipe: not a regular file, directory or symlink; cannot "
                                   "keep it in a release"),
            std::string::npos)
      << r.err;
  auto list = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
  EXPECT_TRUE(list["versions"].empty()) << list.dump();
}

}  // namespace
}  // namespace velin::testing
