// S3Backend against real S3-compatible servers on loopback: pagination, retries through a
// fault-injecting proxy, signature checking, and the clear errors a user gets.
#include "velin/storage/s3_backend.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "support/remote_backends.hpp"
#include "support/remote_servers.hpp"
#include "velin/core/termination.hpp"

namespace velin::storage {
namespace {

using testing::FastRetries;
using testing::FaultProxy;
using testing::S3Server;

S3Options OptionsFor(int port, const std::string& prefix = "repo") {
  S3Options o;
  o.bucket = S3Server::kBucket;
  o.prefix = prefix;
  o.endpoint = "http://127.0.0.1:" + std::to_string(port);
  o.path_style = true;
  o.credentials = {S3Server::kAccessKey, S3Server::kSecretKey, ""};
  return o;
}

std::unique_ptr<S3Backend> Open(const S3Options& o, int attempts = 4) {
  RetryPolicy retry = FastRetries(attempts);
  auto backend = S3Backend::Create(o, &retry);
  EXPECT_TRUE(backend) << backend.error().message;
  return std::move(*backend);
}

TEST(S3Backend, ListsMoreThanOnePageOfObjects) {
  S3Server server;
  S3Options o = OptionsFor(server.port());
  o.parallel_uploads = 16;
  auto backend = Open(o);
  constexpr int kObjects = 1010;  // S3 pages hold at most 1,000 keys
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kObjects; i += 16) {
        if (!backend->Put("data/" + std::to_string(i % 7) + "/obj" + std::to_string(i), "x")) {
          failures++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(backend->Put("config", "c"));
  auto listed = backend->List("data/");
  ASSERT_TRUE(listed) << listed.error().message;
  std::set<std::string> names;
  for (const ObjectInfo& o : *listed) names.insert(o.name);
  EXPECT_EQ(names.size(), static_cast<size_t>(kObjects)) << "every key once, across pages";
  EXPECT_EQ(listed->size(), static_cast<size_t>(kObjects));
  EXPECT_TRUE(names.count("data/6/obj1007"));
  EXPECT_EQ(backend->List("")->size(), static_cast<size_t>(kObjects) + 1);
}

TEST(S3Backend, RetriesServerErrorsAndDroppedConnectionsUntilTheyPass) {
  S3Server server;
  for (auto fault :
       {FaultProxy::Fault::kHttp503, FaultProxy::Fault::kHttp500, FaultProxy::Fault::kDrop}) {
    SCOPED_TRACE(static_cast<int>(fault));
    FaultProxy proxy(server.port(), fault, 3);
    auto backend = Open(OptionsFor(proxy.port()), 5);
    auto put = backend->Put("index/i1", "index bytes");
    ASSERT_TRUE(put) << put.error().message;
    EXPECT_EQ(proxy.injected(), 3);
    EXPECT_EQ(*backend->Get("index/i1"), "index bytes");
  }
}

TEST(S3Backend, GivesUpAfterTooManyFailuresWithAClearError) {
  S3Server server;
  FaultProxy proxy(server.port(), FaultProxy::Fault::kHttp503, 100);
  auto backend = Open(OptionsFor(proxy.port()), 3);
  auto put = backend->Put("index/i1", "x");
  ASSERT_FALSE(put);
  EXPECT_EQ(proxy.injected(), 3);
  const std::string& m = put.error().message;
  EXPECT_NE(m.find("s3://bkt/repo: put index/i1: HTTP 503 SlowDown"), std::string::npos) << m;
  EXPECT_NE(m.find("gave up after 3 attempts"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << "one line";
}

TEST(S3Backend, SignedRequestsPassASignatureCheckingServer) {
  S3Server server(/*check_signatures=*/true);
  auto backend = Open(OptionsFor(server.port(), "deep/prefix"));
  auto check = backend->CheckAccess();
  ASSERT_TRUE(check) << check.error().message;
  // Keys and a prefix that need encoding must still sign correctly, in paths and queries.
  ASSERT_TRUE(backend->Put("snapshots/with space+plus=eq", "s"));
  ASSERT_TRUE(backend->Put("snapshots/plain", std::string(300000, 'p')));
  EXPECT_EQ(*backend->Get("snapshots/with space+plus=eq"), "s");
  EXPECT_EQ(*backend->GetRange("snapshots/plain", 1000, 10), std::string(10, 'p'));
  EXPECT_EQ(backend->List("snapshots/")->size(), 2u);
  EXPECT_TRUE((*backend->Stat("snapshots/plain")).has_value());
  EXPECT_TRUE(backend->Delete("snapshots/plain"));
}

TEST(S3Backend, WrongSecretGetsAClear403) {
  S3Server server(/*check_signatures=*/true);
  S3Options o = OptionsFor(server.port());
  o.credentials.secret_access_key = "not-the-secret";
  auto backend = Open(o);
  auto check = backend->CheckAccess();
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, ExitCode::kUsage);
  const std::string& m = check.error().message;
  EXPECT_NE(m.find("access denied (HTTP 403 SignatureDoesNotMatch)"), std::string::npos) << m;
  EXPECT_NE(m.find("check the S3 credentials"), std::string::npos) << m;
  EXPECT_EQ(m.find("not-the-secret"), std::string::npos) << "never the secret itself";
  EXPECT_FALSE(backend->Put("config", "x"));
}

TEST(S3Backend, MissingBucketAndWrongRegionAreNamed) {
  S3Server server;
  S3Options o = OptionsFor(server.port());
  o.bucket = "no-such-bucket";
  auto check = Open(o)->CheckAccess();
  ASSERT_FALSE(check);
  EXPECT_NE(check.error().message.find("bucket 'no-such-bucket' does not exist"), std::string::npos)
      << check.error().message;

  FaultProxy proxy(server.port(), FaultProxy::Fault::kWrongRegion, 100);
  auto region = Open(OptionsFor(proxy.port()))->CheckAccess();
  ASSERT_FALSE(region);
  EXPECT_EQ(proxy.injected(), 1) << "a wrong region is not retried";
  EXPECT_NE(region.error().message.find("is in region 'eu-west-1', not 'us-east-1'"),
            std::string::npos)
      << region.error().message;
}

TEST(S3Backend, ServerStoppedMidUploadGivesACleanErrorAndARetryLaterWorks) {
  S3Server server;
  auto backend = Open(OptionsFor(server.port()), 3);
  std::string big(96 << 20, 'z');
  auto upload = std::async(std::launch::async, [&] { return backend->Put("data/big", big); });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  server.Stop();
  auto put = upload.get();
  ASSERT_FALSE(put) << "the upload finished before the server stopped; make it bigger";
  EXPECT_NE(put.error().message.find("s3://bkt/repo: put data/big: "), std::string::npos)
      << put.error().message;
  EXPECT_NE(put.error().message.find("gave up after 3 attempts"), std::string::npos)
      << put.error().message;
  EXPECT_FALSE(backend->Stat("data/small")) << "the server is down";
  server.Start();
  ASSERT_TRUE(backend->Put("data/small", "after the restart"));
  EXPECT_EQ(*backend->Get("data/small"), "after the restart");
}

// An HTTP server on loopback that answers every request 200 after reading its body and never
// sends "100 Continue". For each request it keeps how long the body took to begin after the
// header block ended: a client that waits for "100 Continue" waits its whole timeout.
// `before_answer` runs once a request's whole body is in, before its answer goes out.
class ContinueWatchingServer {
 public:
  explicit ContinueWatchingServer(std::function<void()> before_answer = nullptr)
      : before_answer_(std::move(before_answer)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), n) != 0 ||
        ::listen(listen_fd_, 8) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &n) != 0) {
      throw std::runtime_error("cannot listen on loopback");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ContinueWatchingServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }
  int port() const { return port_; }
  // Per request, in order: its header block and the ms from its end to the body's first byte.
  std::vector<std::pair<std::string, int64_t>> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  using Clock = std::chrono::steady_clock;

  void Serve() {
    for (;;) {
      int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::string in;
      std::string head;
      size_t length = 0;
      Clock::time_point head_end;
      char buf[65536];
      for (;;) {
        if (head.empty()) {
          size_t end = in.find("\r\n\r\n");
          if (end != std::string::npos) {
            head = in.substr(0, end + 4);
            in.erase(0, end + 4);
            head_end = Clock::now();
            std::string lower = head;
            for (char& ch : lower) {
              ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            }
            size_t at = lower.find("content-length:");
            length = at == std::string::npos ? 0 : std::stoul(head.substr(at + 15));
            if (!in.empty() || length == 0) Record(head, head_end);
          }
        }
        if (!head.empty() && in.size() >= length) {
          in.erase(0, length);
          head.clear();
          if (before_answer_) before_answer_();
          const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
          if (::send(c, ok.data(), ok.size(), MSG_NOSIGNAL) < 0) break;
          continue;
        }
        ssize_t got = ::recv(c, buf, sizeof buf, 0);
        if (got <= 0) break;
        if (!head.empty() && in.empty()) Record(head, head_end);  // the body's first bytes
        in.append(buf, static_cast<size_t>(got));
      }
      ::close(c);
    }
  }
  void Record(const std::string& head, Clock::time_point head_end) {
    std::lock_guard lock(mu_);
    requests_.emplace_back(
        head,
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - head_end).count());
  }

  std::function<void()> before_answer_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::pair<std::string, int64_t>> requests_;
};

TEST(S3Backend, OnlyALargePutWaitsForContinue) {
  // libcurl has every PUT wait for "100 Continue" (up to a second) before its body: a round trip
  // more for each small object, a whole second against a server that never sends it (as this
  // one). A small body goes at once; a large one still waits, so a refused one is not sent.
  ContinueWatchingServer server;
  auto backend = Open(OptionsFor(server.port()), 1);
  ASSERT_TRUE(backend->Put("locks/small", std::string(1000, 's')));
  ASSERT_TRUE(backend->Put("data/large", std::string(2 << 20, 'l')));
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_LT(requests[0].second, 900) << "the small PUT waited for 100 Continue\n"
                                     << requests[0].first;
  EXPECT_GE(requests[1].second, 900) << "the large PUT did not wait for 100 Continue\n"
                                     << requests[1].first;
}

// Runs `body` in a child process inside a TerminationCancel, as a backup runs, stderr
// discarded (the signal handlers are the process's); returns the child's exit code (body's
// result), or -1 when it did not exit.
int InStoppableChild(const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (int null = ::open("/dev/null", O_WRONLY); null >= 0) ::dup2(null, STDERR_FILENO);
    ::signal(SIGTERM, SIG_DFL);
    InstallTerminationHandlers();
    TerminationCancel cancel("stopping the test");
    ::_exit(body());
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(S3Backend, AStopWaitsForTheAnswerToAWholeUploadAndSendsNothingAfter) {
  // A backup asked to stop (SIGTERM) aborts its requests, and its cleanup then deletes the packs
  // it put. A PUT whose body the server already has is stored whether velin listens or not —
  // maybe after that delete. So such a PUT is answered first; a request not yet sent is not
  // sent.
  const int code = InStoppableChild([] {
    ContinueWatchingServer server([] {
      ::kill(::getpid(), SIGTERM);  // the whole body is in: stop now, answer a bit later
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    });
    auto backend = Open(OptionsFor(server.port()), 1);
    if (!backend->Put("data/whole", std::string(4000, 'w'))) return 11;  // not waited for
    if (!StopRequested()) return 12;
    auto next = backend->Put("data/next", std::string(10, 'n'));
    if (next) return 13;  // went out after the stop
    if (next.error().message.find("interrupted by SIGTERM") == std::string::npos) return 14;
    if (server.requests().size() != 1) return 15;
    return 0;
  });
  EXPECT_EQ(code, 0)
      << "11: the whole PUT was aborted, 12: no stop seen, 13: a PUT went out after the stop, "
         "14: its error does not say why, 15: the server saw other than one request";
}

TEST(S3Backend, AStopWaitsForAWholeUploadsAnswerNoLongerThanTheCleanupsGrace) {
  // The server has the body and never answers: the stopped run waits as long as its cleanup
  // would (kTerminationCleanupGrace), not the minute of the stall timeout.
  const int code = InStoppableChild([] {
    std::atomic<bool> done{false};
    ContinueWatchingServer server([&done] {
      ::kill(::getpid(), SIGTERM);
      for (int i = 0; i < 300 && !done.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    });
    auto backend = Open(OptionsFor(server.port()), 1);
    const auto start = std::chrono::steady_clock::now();
    auto put = backend->Put("data/hung", std::string(4000, 'h'));
    const auto waited = std::chrono::steady_clock::now() - start;
    done = true;  // the server's thread lets go, so that it can stop
    if (put) return 11;
    if (put.error().message.find("interrupted by SIGTERM") == std::string::npos) return 12;
    if (waited < kTerminationCleanupGrace - std::chrono::milliseconds(500)) return 13;
    if (waited > kTerminationCleanupGrace + std::chrono::seconds(5)) return 14;
    return 0;
  });
  EXPECT_EQ(code, 0) << "11: it succeeded, 12: its error does not say why, 13: it gave up before "
                        "the grace, 14: it waited far past the grace";
}

}  // namespace
}  // namespace velin::storage
