// What an S3 server can answer besides success, each through a proxy that sends the raw reply a
// misbehaving or refusing server would (FaultProxy's canned replies): a 403 of each kind, a 404
// for an object and for the bucket, a redirect to another region, a web server that is no S3,
// a 5xx with an HTML page for a body, a body cut short, a listing that is not XML, a listing
// that loops, a range answered in any of the ways servers answer one, and a host where nothing
// listens. Each failure is one line
// naming the backend (s3://bucket/prefix), the operation and the object, with the exit code and
// errno the callers act on; the waits between retries are a MemEnv's, so nothing sleeps.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "support/remote_servers.hpp"
#include "support/test_support.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/storage/s3_backend.hpp"

namespace velin::storage {
namespace {

using testing::FaultProxy;

// A raw HTTP/1.1 reply; `headers` are extra lines, each ending in \r\n.
std::string Reply(const std::string& status, const std::string& body,
                  const std::string& headers = "") {
  return "HTTP/1.1 " + status +
         "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + headers + "\r\n" + body;
}

std::string ErrorBody(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>" +
         message + "</Message></Error>";
}

class CovS3Errors : public ::testing::Test {
 protected:
  // A backend for s3://bkt/repo whose server is `port`; `attempts` tries, waits on env_.
  std::unique_ptr<S3Backend> At(int port, int attempts = 1, const std::string& token = "") {
    S3Options o;
    o.bucket = "bkt";
    o.prefix = "repo";
    o.endpoint = "http://127.0.0.1:" + std::to_string(port);
    o.path_style = true;
    o.credentials = credentials_;
    o.credentials.session_token = token;
    retry_.max_attempts = attempts;
    retry_.env = &env_;
    auto backend = S3Backend::Create(o, &retry_);
    EXPECT_TRUE(backend) << backend.error().message;
    return std::move(*backend);
  }

  // One line, starting with where and what, holding `part`; never a secret.
  template <typename T>
  void ExpectOneLine(const Result<T>& r, const std::string& what, const std::string& part,
                     ExitCode code, int sys_errno) {
    ASSERT_FALSE(r.has_value()) << what;
    const std::string& m = r.error().message;
    EXPECT_EQ(m.rfind("s3://bkt/repo: " + what + ": ", 0), 0u) << m;
    EXPECT_NE(m.find(part), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.find("secret-never-shown"), std::string::npos) << m;
    EXPECT_EQ(r.error().code, code) << m;
    EXPECT_EQ(r.error().sys_errno, sys_errno) << m;
  }

  io::MemEnv env_;
  RetryPolicy retry_;
  S3Credentials credentials_{"AKIDEXAMPLE", "secret-never-shown", ""};
};

TEST_F(CovS3Errors, EachKindOf403SaysWhatToCheck) {
  {
    FaultProxy proxy(0, Reply("403 Forbidden", ErrorBody("AccessDenied", "Access Denied")), 100);
    auto s3 = At(proxy.port(), 3);
    ExpectOneLine(s3->Get("index/i1"), "get index/i1",
                  "access denied (HTTP 403 AccessDenied: Access Denied): the credentials may not "
                  "use this bucket or prefix",
                  ExitCode::kFailed, EACCES);
    ExpectOneLine(s3->Put("config", "c"), "put config", "HTTP 403 AccessDenied", ExitCode::kFailed,
                  EACCES);
    ExpectOneLine(s3->Stat("config"), "stat config", "HTTP 403", ExitCode::kFailed, EACCES);
    ExpectOneLine(s3->Delete("locks/l1"), "delete locks/l1", "access denied", ExitCode::kFailed,
                  EACCES);
    EXPECT_EQ(proxy.injected(), 4) << "a refusal is not retried";
  }
  {
    FaultProxy proxy(0, Reply("403 Forbidden", ErrorBody("InvalidAccessKeyId", "no such key")), 9);
    ExpectOneLine(At(proxy.port(), 1, "session-token")->Get("config"), "get config",
                  "access denied (HTTP 403 InvalidAccessKeyId): check the S3 credentials",
                  ExitCode::kUsage, EACCES);
  }
  {
    FaultProxy proxy(0, Reply("403 Forbidden", ErrorBody("RequestTimeTooSkewed", "skew")), 9);
    ExpectOneLine(At(proxy.port())->Get("config"), "get config",
                  "HTTP 403 RequestTimeTooSkewed: this machine's clock is off", ExitCode::kFailed,
                  0);
  }
  {
    // A 403 without a body (a HEAD, or a proxy in front of the store): the status alone.
    FaultProxy proxy(0, Reply("403 Forbidden", ""), 9);
    ExpectOneLine(At(proxy.port())->Get("config"), "get config",
                  "access denied (HTTP 403): the credentials", ExitCode::kFailed, EACCES);
  }
}

TEST_F(CovS3Errors, A404IsAMissingObjectOrAMissingBucket) {
  {
    FaultProxy proxy(0, Reply("404 Not Found", ErrorBody("NoSuchKey", "gone")), 100);
    auto s3 = At(proxy.port(), 3);
    ExpectOneLine(s3->Get("snapshots/s1"), "get snapshots/s1",
                  "no such object (HTTP 404 NoSuchKey)", ExitCode::kFailed, ENOENT);
    ExpectOneLine(s3->GetRange("data/ab/p1", 5, 10), "get data/ab/p1 bytes 5+10", "no such object",
                  ExitCode::kFailed, ENOENT);
    auto stat = s3->Stat("snapshots/s1");
    ASSERT_TRUE(stat) << stat.error().message;
    EXPECT_FALSE(stat->has_value()) << "a missing object is no error for Stat";
    EXPECT_TRUE(s3->Delete("snapshots/s1")) << "deleting what is gone succeeds";
    EXPECT_EQ(proxy.injected(), 4) << "a 404 is not retried";
  }
  FaultProxy proxy(0, Reply("404 Not Found", ErrorBody("NoSuchBucket", "no bucket")), 9);
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(proxy.port());
  ExpectOneLine(At(proxy.port())->List(""), "list repo/",
                "bucket 'bkt' does not exist at " + endpoint + " (HTTP 404 NoSuchBucket)",
                ExitCode::kUsage, 0);
}

TEST_F(CovS3Errors, ARedirectNamesTheRegionFromTheHeaderOrSaysAnother) {
  {
    FaultProxy proxy(0, Reply("301 Moved Permanently", "", "x-amz-bucket-region: eu-central-1\r\n"),
                     9);
    ExpectOneLine(At(proxy.port(), 3)->Get("config"), "get config",
                  "wrong region (HTTP 301): bucket 'bkt' is in region 'eu-central-1', not "
                  "'us-east-1': set storage.s3.region",
                  ExitCode::kUsage, 0);
    EXPECT_EQ(proxy.injected(), 1);
  }
  FaultProxy proxy(0, Reply("301 Moved Permanently", ErrorBody("PermanentRedirect", "elsewhere")),
                   9);
  ExpectOneLine(At(proxy.port())->Get("config"), "get config",
                "wrong region (HTTP 301 PermanentRedirect): bucket 'bkt' is in another region",
                ExitCode::kUsage, 0);
}

// A web server that is no S3 (storage.s3.endpoint naming a site, a wrong port) answers the
// listing with a redirect or a 404 page: that was "wrong region … set storage.s3.region" or "no
// such object" for the bucket. Said as what it is, naming the endpoint; an S3 answer (its
// <Error> document, its x-amz-bucket-region header) and a HEAD (no body) keep their messages.
TEST_F(CovS3Errors, AWebServerThatIsNoS3IsNamedAsSuch) {
  {
    FaultProxy proxy(0,
                     Reply("301 Moved Permanently", "<html>moved</html>",
                           "Location: https://www.example.com/\r\n"),
                     9);
    const std::string endpoint = "http://127.0.0.1:" + std::to_string(proxy.port());
    auto s3 = At(proxy.port(), 3);
    ExpectOneLine(s3->List(""), "list repo/",
                  "the endpoint " + endpoint +
                      " did not answer as S3 (HTTP 301 redirect to https://www.example.com/): "
                      "check storage.s3.endpoint",
                  ExitCode::kUsage, 0);
    ExpectOneLine(s3->Get("config"), "get config", "did not answer as S3 (HTTP 301 redirect",
                  ExitCode::kUsage, 0);
    ExpectOneLine(s3->Stat("config"), "stat config", "wrong region (HTTP 301)", ExitCode::kUsage,
                  0);
    EXPECT_EQ(proxy.injected(), 3) << "not retried";
  }
  FaultProxy proxy(0, Reply("404 Not Found", "<html>Not Found</html>"), 9);
  const std::string endpoint = "http://127.0.0.1:" + std::to_string(proxy.port());
  auto s3 = At(proxy.port());
  ExpectOneLine(
      s3->List(""), "list repo/",
      "the endpoint " + endpoint + " did not answer as S3 (HTTP 404): check storage.s3.endpoint",
      ExitCode::kUsage, 0);
  // An object's 404 is S3's own answer for a missing object, body or not.
  ExpectOneLine(s3->Get("config"), "get config", "no such object (HTTP 404)", ExitCode::kFailed,
                ENOENT);
  auto stat = s3->Stat("config");
  ASSERT_TRUE(stat) << stat.error().message;
  EXPECT_FALSE(stat->has_value());
}

TEST_F(CovS3Errors, ServerErrorsAreRetriedAndOtherStatusesAreNot) {
  {
    // An HTML error page where XML was expected: the status is all there is to say.
    FaultProxy proxy(0, Reply("502 Bad Gateway", "<html><body>502 Bad Gateway</body></html>"), 100);
    auto got = At(proxy.port(), 3)->Get("config");
    ExpectOneLine(got, "get config", "HTTP 502 (gave up after 3 attempts)", ExitCode::kFailed, 0);
    EXPECT_EQ(proxy.injected(), 3);
  }
  {
    FaultProxy proxy(0, Reply("400 Bad Request", ErrorBody("RequestTimeout", "too slow")), 100);
    auto put = At(proxy.port(), 2)->Put("config", "c");
    ExpectOneLine(put, "put config", "HTTP 400 RequestTimeout: too slow (gave up after 2",
                  ExitCode::kFailed, 0);
    EXPECT_EQ(proxy.injected(), 2) << "S3's request timeout is worth another try";
  }
  {
    FaultProxy proxy(0, Reply("400 Bad Request", ErrorBody("InvalidArgument", "bad header")), 100);
    ExpectOneLine(At(proxy.port(), 3)->Put("config", "c"), "put config",
                  "HTTP 400 InvalidArgument: bad header", ExitCode::kFailed, 0);
    EXPECT_EQ(proxy.injected(), 1);
  }
  // A status S3 never gives for a plain GET: an error, not the object.
  FaultProxy proxy(0, Reply("304 Not Modified", ""), 9);
  ExpectOneLine(At(proxy.port())->Get("config"), "get config", "HTTP 304", ExitCode::kFailed, 0);
}

TEST_F(CovS3Errors, ABodyCutShortIsRetriedThenNamed) {
  const std::string cut =
      "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nonly twenty bytes...";
  {
    FaultProxy proxy(0, cut, 100);
    auto got = At(proxy.port(), 2)->Get("index/i1");
    ExpectOneLine(got, "get index/i1", "(gave up after 2 attempts)", ExitCode::kFailed, 0);
    EXPECT_EQ(proxy.injected(), 2);
  }
  // Once: the retry reaches the real server behind the proxy and gets the whole object.
  testing::S3Server server;
  credentials_ = {testing::S3Server::kAccessKey, testing::S3Server::kSecretKey, ""};
  ASSERT_TRUE(At(server.port())->Put("index/i1", "the whole index"));
  FaultProxy proxy(server.port(), cut, 1);
  auto got = At(proxy.port(), 2)->Get("index/i1");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, "the whole index");
  EXPECT_EQ(proxy.injected(), 1);
}

TEST_F(CovS3Errors, AListingThatIsNotXmlOrThatLoopsIsRefused) {
  {
    FaultProxy proxy(0, Reply("200 OK", "<ListBucketResult><Contents><Key>index/i1"), 9);
    auto listed = At(proxy.port())->List("index/");
    ExpectOneLine(listed, "list repo/index/", "ListObjectsV2", ExitCode::kFailed, 0);
  }
  {
    FaultProxy proxy(0, Reply("200 OK", "this is not XML at all"), 9);
    ExpectOneLine(At(proxy.port())->CheckAccess(), "list repo",
                  "the server's reply is not a ListObjectsV2 result (22 bytes)", ExitCode::kFailed,
                  0);
  }
  // Every page says "more, continue at T": the second request already asks for T.
  const std::string page =
      "<?xml version=\"1.0\"?><ListBucketResult><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>T</NextContinuationToken><Contents><Key>repo/index/i1</Key>"
      "<Size>3</Size></Contents></ListBucketResult>";
  FaultProxy proxy(0, Reply("200 OK", page), 100);
  auto listed = At(proxy.port())->List("index/");
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().message,
            "s3://bkt/repo: list: the server repeated a continuation token");
  EXPECT_EQ(proxy.injected(), 2) << "stops at the first repeat";
}

TEST_F(CovS3Errors, EachMalformedListingIsNamedAndForeignKeysAreSkipped) {
  const std::string head = "<?xml version=\"1.0\"?><ListBucketResult>";
  const std::pair<std::string, std::string> bad[] = {
      {"<Contents><Size>3</Size></Contents>", "<Contents> without <Key>"},
      {"<Contents><Key>repo/a</Key><Size>many</Size></Contents>", "<Size>many</Size>"},
      {"<IsTruncated>true</IsTruncated>", "truncated page without NextContinuationToken"},
      {"<Contents><Key>repo/a&bogus;</Key></Contents>", "malformed XML entity"},
  };
  for (const auto& [body, part] : bad) {
    FaultProxy proxy(0, Reply("200 OK", head + body + "</ListBucketResult>"), 9);
    ExpectOneLine(At(proxy.port())->List(""), "list repo/", "malformed", ExitCode::kFailed, 0);
    auto listed = At(proxy.port())->List("");
    ASSERT_FALSE(listed);
    EXPECT_NE(listed.error().message.find(part), std::string::npos) << listed.error().message;
  }
  // Keys outside the prefix (a server that ignores it) are not the repository's; a key with
  // a two-byte character arrives decoded.
  FaultProxy proxy(0,
                   Reply("200 OK", head + "<Contents><Key>repo/index/caf&#233;</Key><Size>4</Size>"
                                          "</Contents><Contents><Key>repo</Key></Contents>"
                                          "<Contents><Key>other/index/x</Key></Contents>"
                                          "</ListBucketResult>"),
                   9);
  auto listed = At(proxy.port())->List("index/");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "index/caf\xc3\xa9");
  EXPECT_EQ((*listed)[0].size, 4u);
}

TEST_F(CovS3Errors, RangesAreTakenHoweverTheServerAnswers) {
  const std::string object = "0123456789";
  {
    // A server that ignores Range sends the whole object with 200.
    FaultProxy proxy(0, Reply("200 OK", object), 9);
    auto got = At(proxy.port())->GetRange("data/ab/p1", 3, 4);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, "3456");
  }
  {
    // A 206 with more than was asked: Content-Range says where the body starts.
    FaultProxy proxy(
        0, Reply("206 Partial Content", object.substr(2), "Content-Range: bytes 2-9/10\r\n"), 9);
    auto got = At(proxy.port())->GetRange("data/ab/p1", 4, 3);
    ASSERT_TRUE(got) << got.error().message;
    EXPECT_EQ(*got, "456");
  }
  const std::string shorter =
      "object data/ab/p1 is shorter than expected (wanted 4 bytes at "
      "offset 8)";
  {
    // The same, but the body starts after the offset asked for: not the bytes wanted.
    FaultProxy proxy(
        0, Reply("206 Partial Content", object.substr(6), "Content-Range: bytes 6-9/10\r\n"), 9);
    auto got = At(proxy.port())->GetRange("data/ab/p1", 1, 2);
    ASSERT_FALSE(got);
    EXPECT_NE(got.error().message.find("is shorter than expected (wanted 2 bytes at offset 1)"),
              std::string::npos)
        << got.error().message;
  }
  for (const std::string& reply :
       {Reply("200 OK", object), Reply("206 Partial Content", "89"),
        Reply("416 Range Not Satisfiable", ErrorBody("InvalidRange", "past the end"))}) {
    FaultProxy proxy(0, reply, 9);
    auto got = At(proxy.port())->GetRange("data/ab/p1", 8, 4);
    ASSERT_FALSE(got) << reply;
    EXPECT_EQ(got.error().message, "s3://bkt/repo: " + shorter) << reply;
    EXPECT_EQ(got.error().code, ExitCode::kFailed);
  }
  FaultProxy proxy(0, Reply("403 Forbidden", ErrorBody("AccessDenied", "no")), 9);
  ExpectOneLine(At(proxy.port())->GetRange("data/ab/p1", 8, 4), "get data/ab/p1 bytes 8+4",
                "access denied", ExitCode::kFailed, EACCES);
  EXPECT_EQ(*At(proxy.port())->GetRange("data/ab/p1", 8, 0), "") << "nothing asked, none sent";
  EXPECT_EQ(proxy.injected(), 1);
}

TEST_F(CovS3Errors, AHostWhereNothingListensIsNamedAfterTheRetries) {
  const int port = testing::FreeLoopbackPort();
  auto s3 = At(port, 2);
  const std::string where = "127.0.0.1 port " + std::to_string(port);
  for (auto r : {s3->Put("config", "c"), s3->Delete("config")}) {
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find(where), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("(gave up after 2 attempts)"), std::string::npos)
        << r.error().message;
  }
  ExpectOneLine(s3->Get("config"), "get config", "(gave up after 2 attempts)", ExitCode::kFailed,
                ECONNREFUSED);
  ExpectOneLine(s3->Stat("config"), "stat config", where, ExitCode::kFailed, ECONNREFUSED);
  ExpectOneLine(s3->List(""), "list repo/", where, ExitCode::kFailed, ECONNREFUSED);
}

}  // namespace
}  // namespace velin::storage
