// A backup or restore asked to stop (Ctrl-C, `systemctl stop`: core/termination.hpp) while a
// remote request is under way ends at once: a request in flight is aborted (libcurl's progress
// callback sees Interrupted()), and a failed one is not retried. Before, a backup stopped while
// the server was gone waited out every retry, and one stopped while the server had stopped
// answering waited out the stall timeout of each attempt: six minutes by default. Each case runs
// in a forked child, as the signal handlers are process-wide.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <string>
#include <thread>

#include "support/test_support.hpp"
#include "velin/core/termination.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/storage/s3_backend.hpp"

namespace velin::storage {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Runs `body` in a child with velin's handlers inside a TerminationCancel; the child's exit
// status is the body's (0 when every check held). Its stderr is discarded.
int InCancelledChild(const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stderr);
    InstallTerminationHandlers();
    TerminationCancel cancel("the test stops");
    ::_exit(body());
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

S3Options S3At(int port) {
  S3Options o;
  o.bucket = "bkt";
  o.prefix = "repo";
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.path_style = true;
  o.credentials = {"AKIDEXAMPLE", "secret", ""};
  return o;
}

// Must show: after the request to stop, a request (to a port where nothing listens: refused,
// which is retried otherwise) ends after its one attempt, with no wait and a message saying why.
TEST(RetryInterrupt, AFailedRequestOfWorkAskedToStopIsNotRetried) {
  const int port = velin::testing::FreeLoopbackPort();
  EXPECT_EQ(InCancelledChild([port] {
              io::MemEnv env;
              RetryPolicy retry;
              retry.max_attempts = 5;
              retry.env = &env;
              auto backend = S3Backend::Create(S3At(port), &retry);
              if (!backend) return 10;
              ::raise(SIGTERM);
              if (!Interrupted()) return 11;
              auto put = (*backend)->Put("index/i1", "x");
              if (put) return 12;
              if (put.error().message.find("interrupted by SIGTERM") == std::string::npos)
                return 13;
              if (env.Slept() != milliseconds(0)) return 14;
              return 0;
            }),
            0);
}

// Must show: a request to a server that accepted the connection and never answers ends within
// moments of the signal, not after the stall timeout (here 60 s) of each of its attempts.
TEST(RetryInterrupt, ARequestToAServerThatStoppedAnsweringEndsWhenAskedToStop) {
  EXPECT_EQ(InCancelledChild([] {
              // The kernel completes the connection (backlog); nobody ever reads or answers.
              const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
              sockaddr_in addr{};
              addr.sin_family = AF_INET;
              addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
              socklen_t len = sizeof addr;
              if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
                  ::listen(fd, 16) != 0 ||
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
                return 10;
              RetryPolicy retry;
              retry.max_attempts = 3;
              retry.stall_timeout = seconds(60);
              auto backend = S3Backend::Create(S3At(ntohs(addr.sin_port)), &retry);
              if (!backend) return 11;
              std::thread stopper([] {
                std::this_thread::sleep_for(milliseconds(500));
                ::kill(::getpid(), SIGTERM);
              });
              const auto start = std::chrono::steady_clock::now();
              auto got = (*backend)->Get("config");
              const auto took = std::chrono::steady_clock::now() - start;
              stopper.join();
              if (got) return 12;
              if (!Interrupted()) return 13;
              if (got.error().message.find("interrupted by SIGTERM") == std::string::npos)
                return 15;
              // Not a speed goal: 60 s is what it waited before, 3 minutes in all.
              if (took > seconds(20)) return 14;
              ::close(fd);
              return 0;
            }),
            0);
}

}  // namespace
}  // namespace velin::storage
