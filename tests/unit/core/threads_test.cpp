// core/threads: what is thrown becomes an Error; a thread's throw reaches its owner; what
// nothing caught ends the process with one line and exit 1 (a forked child: the terminate
// handler is process-wide and ends the process).
#include "velin/core/threads.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>

namespace velin {
namespace {

TEST(CatchExceptions, OutOfMemoryIsAnErrorNamingIt) {
  Status st = CatchExceptions([]() -> Status { throw std::bad_alloc(); });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ExitCode::kFailed);
  EXPECT_TRUE(st.error().message.starts_with("out of memory: ")) << st.error().message;
  EXPECT_EQ(st.error().sys_errno, ENOMEM);
}

TEST(CatchExceptions, PassesAValueAndAnErrorThrough) {
  Result<int> v = CatchExceptions([]() -> Result<int> { return 7; });
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 7);
  Result<int> e = CatchExceptions([]() -> Result<int> { return Failure("as it was"); });
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "as it was");
  Status other = CatchExceptions([]() -> Status { throw std::runtime_error("what it says"); });
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().message, "what it says");
}

TEST(ThreadStartError, NamesTheThreadAndWhy) {
  const Error e = ThreadStartError(EAGAIN);
  EXPECT_EQ(e.message, "cannot start a worker thread: Resource temporarily unavailable");
  EXPECT_EQ(e.sys_errno, EAGAIN);
  EXPECT_EQ(e.code, ExitCode::kFailed);
}

TEST(StartThread, AThrowReachesTheOwner) {
  std::mutex mu;
  std::optional<Error> thrown;
  auto t = StartThread([] { throw std::bad_alloc(); },
                       [&](const Error& e) {
                         std::lock_guard lock(mu);
                         thrown = e;
                       });
  ASSERT_TRUE(t);
  t->join();
  ASSERT_TRUE(thrown.has_value());
  EXPECT_TRUE(thrown->message.starts_with("out of memory: ")) << thrown->message;
}

TEST(InstallTerminateHandler, WhatNothingCaughtIsOneLineAndExitOne) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    InstallTerminateHandler();
    auto t = StartThread([] { throw std::system_error(EAGAIN, std::generic_category()); }, nullptr);
    if (t) t->join();
    ::_exit(0);  // not reached: the throw ends the process
  }
  ::close(fds[1]);
  std::string err;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) err.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status << ": " << err;
  EXPECT_EQ(WEXITSTATUS(status), 1) << err;
  EXPECT_EQ(err, "error: a system call failed: Resource temporarily unavailable\n");
}

}  // namespace
}  // namespace velin
