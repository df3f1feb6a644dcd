// S3Backend against real S3-compatible servers on loopback: pagination, retries through a
// fault-injecting proxy, signature checking, and the clear errors a user gets.
#include "velin/storage/s3_backend.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "support/remote_backends.hpp"
#include "support/remote_servers.hpp"

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

}  // namespace
}  // namespace velin::storage
