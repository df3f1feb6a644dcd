// core/termination: each case runs in a forked child (the handlers are process-wide, and the
// signal is meant to end the process), which reports through its exit status.
#include "velin/core/termination.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <string>
#include <thread>

namespace velin {
namespace {

struct ChildResult {
  int status = 0;
  std::string err;  // what the child wrote to stderr
};

// Runs `body` in a child with `sig` at its default action (or ignored), as velin would start,
// its stderr captured. The child's own exit codes: 0 body returned, 10+ a failed check in it.
ChildResult InChild(int sig, bool inherit_ignored, const std::function<void()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return {-1, "pipe failed"};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::signal(sig, inherit_ignored ? SIG_IGN : SIG_DFL);
    body();
    ::_exit(0);
  }
  ::close(fds[1]);
  ChildResult r;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n > 0) r.err.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  while (::waitpid(pid, &r.status, 0) < 0) {
  }
  return r;
}

class TerminationTest : public ::testing::TestWithParam<int> {};

TEST_P(TerminationTest, OutsideAHoldTheSignalEndsTheProcessAtOnce) {
  const int sig = GetParam();
  ChildResult r = InChild(sig, false, [sig] {
    InstallTerminationHandlers();
    ::raise(sig);
    ::_exit(10);  // still alive: wrong
  });
  ASSERT_TRUE(WIFSIGNALED(r.status)) << r.status;
  EXPECT_EQ(WTERMSIG(r.status), sig);
  EXPECT_EQ(r.err, "");
}

TEST_P(TerminationTest, InsideAHoldItWaitsThenEndsTheProcessByTheSameSignal) {
  const int sig = GetParam();
  ChildResult r = InChild(sig, false, [sig] {
    InstallTerminationHandlers();
    {
      TerminationHold outer("outer work finishes first");
      {
        TerminationHold inner("inner work");
        ::raise(sig);
        ::raise(SIGTERM);  // a second signal does not replace the first
        if (HeldTerminationSignal() != sig) ::_exit(11);
      }
      if (HeldTerminationSignal() != sig) ::_exit(12);
    }
    // The hold ended: the work after it still runs, until EndByHeldSignal.
    if (HeldTerminationSignal() != sig) ::_exit(13);
    EndByHeldSignal();
    ::_exit(14);  // EndByHeldSignal returned: wrong
  });
  ASSERT_TRUE(WIFSIGNALED(r.status)) << "exit " << WEXITSTATUS(r.status);
  EXPECT_EQ(WTERMSIG(r.status), sig);
  // One line per signal received, each with the outermost hold's words.
  const std::string name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
  const std::string first = "warning: " + name + " received: outer work finishes first\n";
  EXPECT_EQ(r.err.substr(0, first.size()), first) << r.err;
  EXPECT_NE(r.err.find("warning: SIGTERM received: outer work finishes first\n", first.size()),
            std::string::npos)
      << r.err;
}

TEST_P(TerminationTest, ASignalInheritedAsIgnoredStaysIgnored) {
  const int sig = GetParam();
  ChildResult r = InChild(sig, true, [sig] {
    InstallTerminationHandlers();
    ::raise(sig);
    if (HeldTerminationSignal() != 0) ::_exit(10);
    EndByHeldSignal();  // nothing held: returns
  });
  ASSERT_TRUE(WIFEXITED(r.status)) << "signal " << WTERMSIG(r.status);
  EXPECT_EQ(WEXITSTATUS(r.status), 0);
}

TEST(TerminationTest, WithoutAHeldSignalEndByHeldSignalReturns) {
  ChildResult r = InChild(SIGTERM, false, [] {
    InstallTerminationHandlers();
    { TerminationHold hold("nothing arrives"); }
    EndByHeldSignal();
  });
  ASSERT_TRUE(WIFEXITED(r.status));
  EXPECT_EQ(WEXITSTATUS(r.status), 0);
  EXPECT_EQ(r.err, "");
}

// Must show: inside a cancel asked to stop, a hold's work does not see the request (it runs to
// its end: a MariaDB restore's client, a switch); after the hold the checks see it again.
TEST(TerminationTest, AHoldInsideACancelAskedToStopHidesTheRequestUntilItEnds) {
  ChildResult r = InChild(SIGTERM, false, [] {
    InstallTerminationHandlers();
    TerminationCancel cancel("the work stops");
    ::raise(SIGTERM);
    if (!Interrupted()) ::_exit(10);
    {
      TerminationHold hold("the held work finishes");
      if (Interrupted() || !CheckInterrupted()) ::_exit(11);
    }
    if (!Interrupted() || CheckInterrupted()) ::_exit(12);
    ::_exit(0);
  });
  ASSERT_TRUE(WIFEXITED(r.status)) << r.status << r.err;
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.err;
}

// Must show: the cleanup after a stop (the lock's release, removing what a stopped run wrote)
// does not see the request on its own thread, so its requests to a remote repository are not
// aborted; other threads (the work still winding down) and the code after it see it.
TEST(TerminationTest, ACleanupHidesTheRequestOnItsOwnThreadOnly) {
  ChildResult r = InChild(SIGTERM, false, [] {
    InstallTerminationHandlers();
    TerminationCancel cancel("the work stops");
    {
      TerminationCleanup early;  // a cleanup before any request: nothing to hide
      if (Interrupted() || StopRequested()) ::_exit(10);
    }
    ::raise(SIGTERM);
    if (!Interrupted() || !StopRequested()) ::_exit(11);
    {
      TerminationCleanup cleanup;
      if (Interrupted() || !CheckInterrupted() || !StopRequested()) ::_exit(12);
      {
        TerminationCleanup nested;
        if (Interrupted()) ::_exit(13);
      }
      if (Interrupted()) ::_exit(14);
      bool other = false;
      std::thread([&other] { other = Interrupted(); }).join();
      if (!other) ::_exit(15);
    }
    if (!Interrupted()) ::_exit(16);
    ::_exit(0);
  });
  ASSERT_TRUE(WIFEXITED(r.status)) << r.status << r.err;
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Signals, TerminationTest, ::testing::Values(SIGINT, SIGTERM, SIGHUP));

}  // namespace
}  // namespace velin
