#include "velin/core/process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace velin {
namespace {

TEST(Process, CapturesOutputAndExitCode) {
  auto r = RunShellCommand("echo out; echo err >&2; exit 3", Duration(0));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->output, "out\nerr\n");
}

// A switch records the command it starts (switch.json) before the command runs anything: the
// command waits for on_started, and when that fails it never runs.
TEST(Process, OnStartedRunsBeforeTheProgramAndItsFailureKeepsItFromRunning) {
  char dir_template[] = "/tmp/velin-on-started-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string marker = std::string(dir_template) + "/ran";
  ProcessOptions options;
  options.argv = {"/bin/sh", "-c", "echo $$; : > " + marker};
  pid_t told = 0;
  bool ran_before = true;
  options.on_started = [&](pid_t pid) -> Status {
    told = pid;
    ran_before = ::access(marker.c_str(), F_OK) == 0;
    return Ok();
  };
  auto r = RunCommand(options, Duration(30'000));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_FALSE(ran_before);
  EXPECT_EQ(r->output, std::to_string(told) + "\n");  // the shell itself: the group's leader
  ASSERT_EQ(::unlink(marker.c_str()), 0);

  options.on_started = [](pid_t) -> Status { return Failure("cannot record it"); };
  r = RunCommand(options, Duration(30'000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot record it");
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "the program ran";
  ::rmdir(dir_template);
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

// A command that leaves a daemon holding its output pipe (a `start` running `./server &`) is
// done when it ends itself: its own output is read, its exit code kept, no timeout met, and
// the daemon is left running.
TEST(Process, ACommandIsDoneWhenItEndsThoughADaemonHoldsItsPipe) {
  auto start = std::chrono::steady_clock::now();
  auto r =
      RunShellCommand("echo started; (exec sleep 30) & echo \"daemon $!\"; exit 4", Duration(5000));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->exit_code, 4);
  ASSERT_EQ(r->output.rfind("started\ndaemon ", 0), 0u) << r->output;
  const pid_t daemon = static_cast<pid_t>(std::atol(r->output.c_str() + 15));
  ASSERT_GT(daemon, 0);
  EXPECT_EQ(::kill(daemon, 0), 0) << "the daemon was killed";
  ::kill(daemon, SIGKILL);
  EXPECT_LT(elapsed, std::chrono::seconds(3));
}

// Only the first MiB was kept: a hook that printed more before it failed was reported with a
// line from the middle of its output.
TEST(Process, KeepsTheHeadAndTheTailOfALongOutput) {
  auto r = RunShellCommand("echo first words; yes chatter | head -c 3000000; echo last words",
                           Duration(0));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->output.rfind("first words\n", 0), 0u);
  EXPECT_EQ(LastLine(r->output), "last words");
  EXPECT_NE(r->output.find("bytes of output left out]\nchatter\n"), std::string::npos);
  EXPECT_LE(r->output.size(), (1u << 20) + 100);
}

// The head is cut at a line's end, as the tail starts at a line's start: no line of a hook's
// log is shown cut in two (its first 960 KiB ended mid-line).
TEST(Process, CutsALongOutputAtLineEnds) {
  auto r =
      RunShellCommand("yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 3000000", Duration(0));
  ASSERT_TRUE(r) << r.error().message;
  const size_t marker = r->output.find("\n[");
  ASSERT_NE(marker, std::string::npos);
  size_t lines = 0;
  for (size_t at = 0, nl; (nl = r->output.find('\n', at)) != std::string::npos; at = nl + 1) {
    const std::string line = r->output.substr(at, nl - at);
    if (line.rfind('[', 0) == 0) {
      EXPECT_NE(line.find("bytes of output left out]"), std::string::npos) << line;
      continue;
    }
    EXPECT_EQ(line, "0123456789abcdefghijklmnopqrstuvwxyz") << "at byte " << at;
    if (line != "0123456789abcdefghijklmnopqrstuvwxyz") break;
    ++lines;
  }
  EXPECT_GT(lines, 20000u);
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

// A descriptor velin opened without O_CLOEXEC (spdlog's log file, a client library's socket)
// does not reach a child either; the one it is given does, and so do its pipes.
TEST(Process, ClosesEveryInheritableFdButTheOnesItIsGiven) {
  int given[2], kept_open[2];
  ASSERT_EQ(::pipe(given), 0);  // inheritable, as the ones below
  ASSERT_EQ(::pipe(kept_open), 0);
  const int log = ::open("/dev/null", O_WRONLY);
  ASSERT_GE(log, 3);
  ASSERT_EQ(::write(given[1], "given", 5), 5);
  ::close(given[1]);
  ProcessOptions o;
  std::string script = "cat /dev/fd/" + std::to_string(given[0]);
  for (int fd : {kept_open[0], kept_open[1], log}) {
    script +=
        "; [ -e /dev/fd/" + std::to_string(fd) + " ] && echo ' leaked " + std::to_string(fd) + "'";
  }
  script += "; true";
  o.argv = {"/bin/sh", "-c", script};
  o.pass_fds = {given[0]};
  auto r = RunCommand(o, Duration(0));
  for (int fd : {given[0], kept_open[0], kept_open[1], log}) ::close(fd);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->output, "given");
}

TEST(Process, RefusesAnEmptyCommandLine) {
  ProcessOptions o;
  auto r = Subprocess::Start(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot start a process without a program name");
}

TEST(Process, ReportsAWorkingDirectoryThatIsNotThere) {
  auto r = RunShellCommand("echo never", Duration(0), "/nonexistent/velin-cwd");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "cannot run '/bin/sh' in /nonexistent/velin-cwd: No such file or directory");
}

TEST(Process, WaitsOnceAndSignalsOnlyALiveChild) {
  ProcessOptions o;
  o.argv = {"sleep", "30"};
  o.new_process_group = false;  // Kill() signals the child alone
  auto child = Subprocess::Start(o);
  ASSERT_TRUE(child) << child.error().message;
  child->Kill(SIGKILL);
  auto code = child->Wait();
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 128 + SIGKILL);
  EXPECT_EQ(child->pid(), -1);
  child->Kill(SIGKILL);  // nothing left to signal: no effect
  auto again = child->Wait();
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, "no process to wait for");
}

TEST(Process, StartsADetachedSessionWhenAsked) {
  ProcessOptions o;
  o.argv = {"sleep", "30"};
  o.new_session = true;
  auto child = Subprocess::Start(o);
  ASSERT_TRUE(child) << child.error().message;
  EXPECT_EQ(::getsid(child->pid()), child->pid());
  EXPECT_EQ(::getpgid(child->pid()), child->pid());
  child->Kill(SIGTERM);
  EXPECT_EQ(*child->Wait(), 128 + SIGTERM);
}

TEST(Process, SeparatesStderrAndDiscardsStdoutWhenAsked) {
  ProcessOptions o;
  o.argv = {"/bin/sh", "-c", "echo to-stdout; echo to-stderr >&2"};
  o.stdout_mode = Stdio::kNull;
  o.stderr_mode = Stdio::kPipe;
  auto child = Subprocess::Start(o);
  ASSERT_TRUE(child) << child.error().message;
  EXPECT_EQ(child->stdout_fd(), -1);
  std::string err;
  char buf[256];
  ssize_t n;
  while ((n = ::read(child->stderr_fd(), buf, sizeof buf)) > 0) err.append(buf, n);
  EXPECT_EQ(err, "to-stderr\n");
  EXPECT_EQ(*child->Wait(), 0);
}

TEST(Process, MovingAChildHandsOverItsPipes) {
  ProcessOptions o;
  o.argv = {"cat"};
  o.stdin_mode = Stdio::kPipe;
  o.stdout_mode = Stdio::kPipe;
  auto started = Subprocess::Start(o);
  ASSERT_TRUE(started);
  Subprocess first = std::move(*started);
  ProcessOptions other = o;
  other.argv = {"true"};
  auto second = Subprocess::Start(other);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second->Wait(), 0);
  *second = std::move(first);  // the finished child's pipes are closed, cat's taken over
  EXPECT_EQ(first.stdin_fd(), -1);
  ASSERT_GE(second->stdin_fd(), 0);
  ASSERT_EQ(::write(second->stdin_fd(), "moved", 5), 5);
  second->CloseStdin();
  char buf[16];
  EXPECT_EQ(::read(second->stdout_fd(), buf, sizeof buf), 5);
  EXPECT_EQ(std::string(buf, 5), "moved");
  EXPECT_EQ(*second->Wait(), 0);
}

// Captured output is bounded (a runaway command cannot fill velin's memory); the command still
// runs to its end.
TEST(Process, KeepsAtMostOneMebibyteOfOutput) {
  auto r = RunShellCommand("head -c 3000000 /dev/zero; echo done >&2", Duration(0));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_GE(r->output.size(), size_t{1} << 20);
  EXPECT_LT(r->output.size(), (size_t{1} << 20) + 4096);
}

// A command that ignores SIGTERM is killed with SIGKILL shortly after its timeout.
TEST(Process, KillsACommandThatIgnoresTheTermSignal) {
  auto start = std::chrono::steady_clock::now();
  auto r =
      RunShellCommand("trap '' TERM; echo started; while :; do sleep 0.05; done", Duration(500));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, 128 + SIGKILL);
  EXPECT_EQ(r->output, "started\n");
  EXPECT_LT(elapsed, std::chrono::seconds(20));
}

// A command that sends its output elsewhere (`exec >log 2>&1`) closes velin's pipes long
// before it ends: it is still killed at its timeout, not waited for to its end.
TEST(Process, KillsACommandThatClosedItsOutputAtTheTimeout) {
  auto start = std::chrono::steady_clock::now();
  auto r = RunShellCommand("echo before; exec >/dev/null 2>&1; sleep 20", Duration(500));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, 128 + SIGTERM);
  EXPECT_EQ(r->output, "before\n");
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

// Without a timeout such a command is waited for to its end, and its exit code kept.
TEST(Process, WaitsForACommandThatClosedItsOutputToEnd) {
  auto start = std::chrono::steady_clock::now();
  auto r = RunShellCommand("exec >/dev/null 2>&1; sleep 0.4; exit 5", Duration(0));
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->exit_code, 5);
  EXPECT_EQ(r->output, "");
  EXPECT_GE(elapsed, std::chrono::milliseconds(400));
}

// Whether process `pid` is gone (or a zombie nobody reaped yet).
bool ProcessTestPidGone(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r");
  if (f == nullptr) return true;
  char state = '?';
  const int got = std::fscanf(f, "%*d %*s %c", &state);
  std::fclose(f);
  return got == 1 && (state == 'Z' || state == 'X');
}

// Starts `sleep 30` from a forked stand-in for velin, kills the stand-in with SIGKILL and says
// whether the sleep went with it (it is killed either way before this returns).
bool ProcessTestChildDiesWithItsStarter(bool die_with_velin) {
  int report[2];
  if (::pipe(report) != 0) return false;
  const pid_t starter = ::fork();
  if (starter == 0) {
    ProcessOptions o;
    o.argv = {"sleep", "30"};
    o.die_with_velin = die_with_velin;
    auto child = Subprocess::Start(o);
    const pid_t pid = child ? child->pid() : -1;
    (void)!::write(report[1], &pid, sizeof pid);
    for (;;) ::pause();
  }
  ::close(report[1]);
  pid_t pid = -1;
  const bool read_pid = ::read(report[0], &pid, sizeof pid) == static_cast<ssize_t>(sizeof pid);
  ::close(report[0]);
  ::kill(starter, SIGKILL);
  ::waitpid(starter, nullptr, 0);
  if (!read_pid || pid <= 0) return false;
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = ProcessTestPidGone(pid);
    if (!gone) ::usleep(20'000);
  }
  if (!gone) ::kill(-pid, SIGKILL);  // its own process group
  return gone;
}

// A dump or restore tool does not go on alone when velin is killed with SIGKILL (it is in its
// own process group, which a terminal's or systemd's kill of velin's group does not reach).
TEST(Process, AToolStartedToDieWithVelinDiesWithIt) {
  EXPECT_TRUE(ProcessTestChildDiesWithItsStarter(true));
  EXPECT_FALSE(ProcessTestChildDiesWithItsStarter(false));  // what every other child does
}

// Out of file descriptors: starting fails with one message naming the program, and the pipes
// made before the one that failed are closed again (the limit is lowered in a child process of
// the test only).
TEST(ProcessDeathTest, ReportsRunningOutOfDescriptorsAndLeaksNone) {
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
  // The sanitizer runtime itself needs descriptors (its symbolizer, and UBSan's vptr check
  // reported libfmt's buffer as "invalid vptr" once none were left): this test runs in the
  // normal build only.
  GTEST_SKIP() << "needs free descriptors the sanitizer runtime would use";
#endif
#endif
  EXPECT_EXIT(
      {
        auto free_slots = [] {
          std::vector<int> fds;
          for (int fd; (fd = ::dup(0)) >= 0;) fds.push_back(fd);
          for (int fd : fds) ::close(fd);
          return fds.size();
        };
        int probe = ::dup(0);
        ::close(probe);
        rlimit lim{};
        ::getrlimit(RLIMIT_NOFILE, &lim);
        lim.rlim_cur = static_cast<rlim_t>(probe) + 3;  // room for one pipe, not for two
        ::setrlimit(RLIMIT_NOFILE, &lim);
        const size_t before = free_slots();
        ProcessOptions o;
        o.argv = {"cat"};
        o.stdin_mode = Stdio::kPipe;
        o.stdout_mode = Stdio::kPipe;
        auto r = Subprocess::Start(o);
        if (r) std::exit(1);
        std::fprintf(stderr, "%s\n", r.error().message.c_str());
        std::exit(free_slots() == before ? 0 : 2);
      },
      ::testing::ExitedWithCode(0), "cannot create a pipe for cat: Too many open files");
}

// velin raises its soft limit on open files to the hard one (a restore holds many
// directories open); the programs it starts get the limit it started with, and after
// RestoreOpenFileLimit so does velin. In a child process of the test: the limit is the process's.
TEST(ProcessDeathTest, RaisesTheOpenFileLimitAndGivesChildrenTheOneItStartedWith) {
  EXPECT_EXIT(
      {
        rlimit lim{};
        ::getrlimit(RLIMIT_NOFILE, &lim);
        if (lim.rlim_max < 2048) std::exit(0);  // nothing to raise to: nothing to check
        lim.rlim_cur = 1000;
        ::setrlimit(RLIMIT_NOFILE, &lim);
        RaiseOpenFileLimit();
        rlimit raised{};
        ::getrlimit(RLIMIT_NOFILE, &raised);
        if (raised.rlim_cur != std::min<rlim_t>(lim.rlim_max, 65536)) std::exit(3);
        auto r = RunShellCommand("ulimit -Sn", Duration(0));
        if (!r || r->output != "1000\n") std::exit(4);
        RestoreOpenFileLimit();
        ::getrlimit(RLIMIT_NOFILE, &raised);
        if (raised.rlim_cur != 1000) std::exit(5);
        r = RunShellCommand("ulimit -Sn", Duration(0));
        std::exit(r && r->output == "1000\n" ? 0 : 6);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace velin
