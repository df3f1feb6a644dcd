#include "velin/core/process.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

namespace velin {
namespace {

TEST(Process, CapturesOutputAndExitCode) {
  auto r = RunShellCommand("echo out; echo err >&2; exit 3", Duration(0));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->output, "out\nerr\n");
}

TEST(Process, PassesExtraEnvironmentWithoutArgv) {
  auto r = RunShellCommand("printf %s \"$VELIN_TEST_VALUE\"", Duration(0), "",
                           {{"VELIN_TEST_VALUE", "secret-value"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->output, "secret-value");
}

TEST(Process, KillsTheWholeGroupAtTheTimeout) {
  auto start = std::chrono::steady_clock::now();
  auto r = RunShellCommand("sleep 30 & sleep 30; echo never", Duration(300));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->output.find("never"), std::string::npos);
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

TEST(Process, ReportsAMissingProgram) {
  ProcessOptions o;
  o.argv = {"velin-no-such-program-xyz"};
  auto r = Subprocess::Start(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot run 'velin-no-such-program-xyz'"), std::string::npos);
  EXPECT_NE(r.error().message.find("No such file"), std::string::npos);
}

TEST(Process, RunsInTheGivenDirectory) {
  auto r = RunShellCommand("pwd", Duration(0), "/tmp");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->output, "/tmp\n");
}

TEST(Process, StreamsThroughPipes) {
  ProcessOptions o;
  o.argv = {"cat"};
  o.stdin_mode = Stdio::kPipe;
  o.stdout_mode = Stdio::kPipe;
  auto child = Subprocess::Start(o);
  ASSERT_TRUE(child);
  std::string data(100'000, 'x');
  ASSERT_EQ(::write(child->stdin_fd(), data.data(), 1000), 1000);
  child->CloseStdin();
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(child->stdout_fd(), buf, sizeof buf)) > 0) got.append(buf, n);
  auto code = child->Wait();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(got, std::string(1000, 'x'));
}

TEST(Process, DescribesSignals) {
  EXPECT_EQ(DescribeExit(3), "exit code 3");
  EXPECT_EQ(DescribeExit(128 + 9), "killed by signal 9 (SIGKILL)");
}

}  // namespace
}  // namespace velin
