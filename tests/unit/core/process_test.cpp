#include "velin/core/process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

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

// Sets a variable for one test, puts the old value back.
class ScopedVar {
 public:
  ScopedVar(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedVar() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Process, NoChildSeesASecret) {
  RegisterSecretEnvironmentVariable("MY_REPO_PASSPHRASE");
  ScopedVar repo("MY_REPO_PASSPHRASE", "repo-secret");
  ScopedVar aws("AWS_SECRET_ACCESS_KEY", "aws-secret");
  ScopedVar ftp("VELIN_FTP_PASSWORD", "ftp-secret");
  ScopedVar where("VELIN_BACKUP_PASSWORD_ENV", "MY_REPO_PASSPHRASE");  // a name, not a secret
  ScopedVar setting("APP_MODE", "production");
  ScopedVar pg("PGSSLMODE", "require");
  auto env_of = [](ChildEnv kind, std::vector<std::string> prefixes = {}) {
    ProcessOptions o;
    o.argv = {"env"};
    o.env = kind;
    o.pass_env_prefixes = std::move(prefixes);
    o.extra_env = {{"PGPASSWORD", "given-on-purpose"}};
    auto r = RunCommand(o, Duration(0));
    EXPECT_TRUE(r) << r.error().message;
    return r ? r->output : std::string();
  };
  for (ChildEnv kind : {ChildEnv::kWithoutSecrets, ChildEnv::kMinimal}) {
    std::string env = env_of(kind, {"PG"});
    for (const char* secret : {"repo-secret", "aws-secret", "ftp-secret"}) {
      EXPECT_EQ(env.find(secret), std::string::npos) << secret << " in\n" << env;
    }
    EXPECT_NE(env.find("PGPASSWORD=given-on-purpose\n"), std::string::npos) << env;
    EXPECT_NE(env.find("PGSSLMODE=require\n"), std::string::npos) << env;
    EXPECT_NE(env.find("PATH="), std::string::npos) << env;
  }
  std::string user = env_of(ChildEnv::kWithoutSecrets);
  EXPECT_NE(user.find("APP_MODE=production\n"), std::string::npos) << user;
  EXPECT_NE(user.find("VELIN_BACKUP_PASSWORD_ENV=MY_REPO_PASSPHRASE\n"), std::string::npos);
  std::string tool = env_of(ChildEnv::kMinimal);
  EXPECT_EQ(tool.find("APP_MODE"), std::string::npos) << tool;
  EXPECT_EQ(tool.find("PGSSLMODE"), std::string::npos) << tool;
  EXPECT_EQ(tool.find("VELIN_BACKUP_PASSWORD_ENV"), std::string::npos) << tool;

  EXPECT_TRUE(IsSecretEnvironmentVariable("AWS_SESSION_TOKEN"));
  EXPECT_TRUE(IsSecretEnvironmentVariable("VELIN_REPO_PASSPHRASE"));
  EXPECT_FALSE(IsSecretEnvironmentVariable("VELIN_DATABASE_PASSWORD_FILE"));
  EXPECT_FALSE(IsSecretEnvironmentVariable("HOME"));
}

TEST(Process, HandsAChildTheFdsItIsGivenAndNoOther) {
  int given[2], other[2];
  ASSERT_EQ(::pipe2(given, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(other, O_CLOEXEC), 0);
  ASSERT_EQ(::write(given[1], "through the pipe", 16), 16);
  ::close(given[1]);
  ProcessOptions o;
  std::string script = "cat /dev/fd/" + std::to_string(given[0]) + "; [ -e /dev/fd/" +
                       std::to_string(other[0]) + " ] && echo leaked; true";
  o.argv = {"/bin/sh", "-c", script};
  o.pass_fds = {given[0]};
  auto r = RunCommand(o, Duration(0));
  ::close(given[0]);
  ::close(other[0]);
  ::close(other[1]);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->output, "through the pipe");
}

}  // namespace
}  // namespace velin
