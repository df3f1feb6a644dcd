// The switch's and recover's lines use "→" on a terminal only, as list and history do: piped
// (`velin rollback to-version v2 | cat`, cron, a log) they say "->". Before 2026-12-06 the
// switch printed "current → v2" and recover "finished the interrupted switch v1 → v2" anywhere.
#include <gtest/gtest.h>

#include "support/pty_run.hpp"
#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

void SetUpArrowApp(ToyApp& app) {
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
}

TEST(RollbackArrowTest, PipedSwitchAndRecoverLinesUseAnAsciiArrow) {
  ToyApp app(NoService());
  SetUpArrowApp(app);
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("current -> v1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("→"), std::string::npos) << r.out;

  r = app.Velin({"rollback", "to-version", "v2"}, {{"VELIN_TEST_CRASH_AT", "switch-renamed"}});
  ASSERT_EQ(r.exit_code, 86) << r.err;
  r = app.Velin({"rollback", "recover"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("finished the interrupted switch v1 -> v2"), std::string::npos) << r.out;
  EXPECT_EQ((r.out + r.err).find("→"), std::string::npos) << r.out << r.err;
}

TEST(RollbackArrowTest, OnATerminalTheSwitchLineUsesTheArrowSymbol) {
  ToyApp app(NoService());
  SetUpArrowApp(app);
  RunOptions options;
  options.cwd = app.root();
  RunResult r = RunVelinInPty({"--config", app.config(), "rollback", "to-version", "v2"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("current → v2"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace velin::testing
