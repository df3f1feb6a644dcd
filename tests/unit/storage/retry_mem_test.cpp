// The remote backends' backoff on a MemEnv clock (RetryPolicy::env): the requests are real
// (libcurl against a loopback port that refuses, or a proxy answering 503), the waits between
// attempts are the Env's, so a schedule of many seconds is asserted in milliseconds: each wait
// is drawn from the upper half of base_delay, 2x, 4x ... capped at max_delay.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "support/remote_servers.hpp"
#include "support/test_support.hpp"
#include "velin/core/termination.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/storage/file_server_backend.hpp"
#include "velin/storage/s3_backend.hpp"

namespace velin::storage {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FaultProxy;

// 2 s, 4 s, 8 s, then 10 s: at least 12 s of real sleep for five attempts.
RetryPolicy MemRetries(io::MemEnv& env, int attempts) {
  RetryPolicy p;
  p.max_attempts = attempts;
  p.base_delay = seconds(2);
  p.max_delay = seconds(10);
  p.connect_timeout = seconds(5);
  p.stall_timeout = seconds(10);
  p.env = &env;
  return p;
}

// Every wait the Env was asked for, in order.
class SleepLog {
 public:
  explicit SleepLog(io::MemEnv& env) : env_(env) {
    env.OnSleep([this] {
      const auto slept = env_.Slept();
      waits.push_back(std::chrono::duration_cast<milliseconds>(slept - seen_));
      seen_ = slept;
    });
  }
  std::vector<milliseconds> waits;

 private:
  io::MemEnv& env_;
  std::chrono::nanoseconds seen_{0};
};

// Wait i (from 0) lies in [d/2, d] for d = base * 2^i capped at max.
void ExpectBackoff(const std::vector<milliseconds>& waits, const RetryPolicy& p) {
  milliseconds d = p.base_delay;
  for (size_t i = 0; i < waits.size(); ++i) {
    const milliseconds capped = std::min(d, p.max_delay);
    EXPECT_GE(waits[i], capped / 2) << "wait " << i;
    EXPECT_LE(waits[i], capped) << "wait " << i;
    d *= 2;
  }
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

TEST(RetryMem, S3BacksOffOnTheEnvClockUntilItGivesUp) {
  io::MemEnv env;
  SleepLog log(env);
  const RetryPolicy retry = MemRetries(env, 5);
  auto backend = S3Backend::Create(S3At(velin::testing::FreeLoopbackPort()), &retry);
  ASSERT_TRUE(backend) << backend.error().message;
  const auto wall_start = std::chrono::steady_clock::now();
  auto put = (*backend)->Put("index/i1", "x");  // nothing listens there: refused, transient
  ASSERT_FALSE(put);
  EXPECT_NE(put.error().message.find("gave up after 5 attempts"), std::string::npos)
      << put.error().message;
  ASSERT_EQ(log.waits.size(), 4u);  // between the five attempts
  ExpectBackoff(log.waits, retry);
  EXPECT_GE(env.Slept(), milliseconds(12'000));
  EXPECT_LT(std::chrono::steady_clock::now() - wall_start, seconds(10));  // none of it slept
}

TEST(RetryMem, S3RetriesA503OnTheEnvClockAndNotAPermanentError) {
  io::MemEnv env;
  SleepLog log(env);
  const RetryPolicy retry = MemRetries(env, 3);
  {
    FaultProxy proxy(velin::testing::FreeLoopbackPort(), FaultProxy::Fault::kHttp503, 100);
    auto backend = S3Backend::Create(S3At(proxy.port()), &retry);
    ASSERT_TRUE(backend) << backend.error().message;
    auto got = (*backend)->Get("config");
    ASSERT_FALSE(got);
    EXPECT_NE(got.error().message.find("HTTP 503 SlowDown"), std::string::npos)
        << got.error().message;
    EXPECT_EQ(proxy.injected(), 3);
    ASSERT_EQ(log.waits.size(), 2u);
    ExpectBackoff(log.waits, retry);
  }
  log.waits.clear();
  {
    // A 400 (the bucket lives in another region) will not change: one attempt, no wait.
    FaultProxy proxy(velin::testing::FreeLoopbackPort(), FaultProxy::Fault::kWrongRegion, 100);
    auto backend = S3Backend::Create(S3At(proxy.port()), &retry);
    ASSERT_TRUE(backend) << backend.error().message;
    ASSERT_FALSE((*backend)->Get("config"));
    EXPECT_EQ(proxy.injected(), 1);
    EXPECT_TRUE(log.waits.empty());
  }
}

TEST(RetryMem, FtpBacksOffOnTheEnvClockToo) {
  io::MemEnv env;
  SleepLog log(env);
  const RetryPolicy retry = MemRetries(env, 4);
  FileServerOptions o;
  o.protocol = FileProtocol::kFtp;
  o.host = "127.0.0.1";
  o.port = velin::testing::FreeLoopbackPort();
  o.user = "velin";
  o.password = "secret";
  o.root = "repo";
  auto backend = FileServerBackend::Create(o, &retry);
  ASSERT_TRUE(backend) << backend.error().message;
  auto put = (*backend)->Put("index/i1", "x");
  ASSERT_FALSE(put);
  EXPECT_NE(put.error().message.find("gave up after 4 attempts"), std::string::npos)
      << put.error().message;
  ASSERT_EQ(log.waits.size(), 3u);
  ExpectBackoff(log.waits, retry);
}

TEST(RetryMem, OneAttemptNeverWaits) {
  io::MemEnv env;
  const RetryPolicy retry = MemRetries(env, 1);
  auto backend = S3Backend::Create(S3At(velin::testing::FreeLoopbackPort()), &retry);
  ASSERT_TRUE(backend) << backend.error().message;
  auto put = (*backend)->Put("index/i1", "x");
  ASSERT_FALSE(put);
  EXPECT_NE(put.error().message.find("gave up after 1 attempts"), std::string::npos)
      << put.error().message;
  EXPECT_EQ(env.Slept(), milliseconds(0));
}

// A backup or restore asked to stop (Ctrl-C, `systemctl stop`: core/termination.hpp) while a
// remote request is under way ends at once: a request in flight is aborted (libcurl's progress
// callback sees Interrupted()), and a failed one is not retried. Before, a backup stopped while
// the server was gone waited out every retry, and one stopped while the server had stopped
// answering waited out the stall timeout of each attempt: six minutes by default. Each case runs
// in a forked child, as the signal handlers are process-wide.
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
              testing::SilentServer server;
              RetryPolicy retry;
              retry.max_attempts = 3;
              retry.stall_timeout = seconds(60);
              auto backend = S3Backend::Create(S3At(server.port()), &retry);
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
              return 0;
            }),
            0);
}

// Must show: the cleanup after a stop (the lock's release, the stopped run's packs) still
// reaches the repository: its failed requests are retried, with waits of at most a second.
TEST(RetryInterrupt, ACleanupAfterTheStopIsRetriedWithShortWaits) {
  const int port = velin::testing::FreeLoopbackPort();
  EXPECT_EQ(InCancelledChild([port] {
              io::MemEnv env;
              RetryPolicy retry;
              retry.max_attempts = 5;
              retry.base_delay = seconds(2);  // waits of 1-2, 2-4, 4-8, 4-8 s outside a cleanup
              retry.env = &env;
              auto backend = S3Backend::Create(S3At(port), &retry);
              if (!backend) return 10;
              ::raise(SIGTERM);
              TerminationCleanup cleanup;
              auto gone = (*backend)->Delete("locks/shared-1");
              if (gone) return 11;
              if (gone.error().message.find("(gave up after 5 attempts)") == std::string::npos)
                return 12;
              if (env.Slept() <= milliseconds(0) || env.Slept() > seconds(4)) return 13;
              return 0;
            }),
            0);
}

// Must show: a cleanup's request to a server that never answers ends after the grace
// (kTerminationCleanupGrace after the signal), not after the stall timeout of each attempt.
TEST(RetryInterrupt, ACleanupToAServerThatDoesNotAnswerEndsAfterTheGrace) {
  EXPECT_EQ(InCancelledChild([] {
              testing::SilentServer server;
              RetryPolicy retry;
              retry.max_attempts = 3;
              retry.stall_timeout = seconds(60);
              auto backend = S3Backend::Create(S3At(server.port()), &retry);
              if (!backend) return 10;
              const auto start = std::chrono::steady_clock::now();
              ::raise(SIGTERM);
              TerminationCleanup cleanup;
              auto gone = (*backend)->Delete("locks/shared-1");
              const auto took = std::chrono::steady_clock::now() - start;
              if (gone) return 11;
              if (gone.error().message.find("interrupted by SIGTERM") == std::string::npos)
                return 12;
              if (took < kTerminationCleanupGrace - milliseconds(100)) return 13;
              if (took > kTerminationCleanupGrace + seconds(5)) return 14;  // not a speed goal
              return 0;
            }),
            0);
}

}  // namespace
}  // namespace velin::storage
