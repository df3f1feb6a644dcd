#include "velin/storage/remote_url.hpp"

#include <gtest/gtest.h>

namespace velin::storage {
namespace {

TEST(RemoteUrl, ParsesEachScheme) {
  auto s3 = ParseRemoteUrl("s3://bucket/some/prefix/");
  ASSERT_TRUE(s3);
  EXPECT_EQ(s3->scheme, "s3");
  EXPECT_EQ(s3->host, "bucket");
  EXPECT_EQ(s3->path, "some/prefix");
  auto sftp = ParseRemoteUrl("sftp://backup@example.org:2222/srv/velin");
  ASSERT_TRUE(sftp);
  EXPECT_EQ(sftp->user, "backup");
  EXPECT_EQ(sftp->host, "example.org");
  EXPECT_EQ(sftp->port, 2222);
  EXPECT_EQ(sftp->path, "srv/velin");
  auto ftp = ParseRemoteUrl("ftp://u%40x@h/dir%20x");
  ASSERT_TRUE(ftp);
  EXPECT_EQ(ftp->user, "u@x");
  EXPECT_EQ(ftp->port, 0);
  EXPECT_EQ(ftp->path, "dir x");
}

TEST(RemoteUrl, RefusesPasswordsAndBadPorts) {
  auto pw = ParseRemoteUrl("ftp://user:secret@host/x");
  ASSERT_FALSE(pw);
  EXPECT_EQ(pw.error().code, ExitCode::kUsage);
  EXPECT_EQ(pw.error().message.find("secret"), std::string::npos);
  EXPECT_FALSE(ParseRemoteUrl("sftp://u@h:99999/x"));
  EXPECT_FALSE(ParseRemoteUrl("sftp://u@h:2x/x"));
  EXPECT_FALSE(ParseRemoteUrl("s3:///prefix"));
  EXPECT_FALSE(ParseRemoteUrl("ftp://h/a%2"));
  EXPECT_FALSE(ParseRemoteUrl("s3://b/p?x=1"));
  // Whatever else is wrong with a URL holding a password, the message never shows it.
  for (const char* url : {"ftp://u:Sup3rSecret@h/off?x", "ftp://u:Sup3rSecret@h:99999/x",
                          "ftp://u:Sup3rSecret@h/a%2", "ftp://u:Sup3rSecret@/x"}) {
    auto r = ParseRemoteUrl(url);
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().message.find("Sup3rSecret"), std::string::npos) << r.error().message;
  }
}

// libcurl folds "." and ".." out of the URLs it sends (and expands an SFTP "~" for transfers
// only): the objects would land elsewhere than where velin lists them.
TEST(RemoteUrl, RefusesDotSegmentsAndAnSftpTilde) {
  for (const char* url : {"s3://bkt/x/../dd", "s3://bkt/./p", "s3://bkt/p/..", "s3://bkt/.",
                          "s3://bkt/x/%2e%2e/dd", "sftp://u@h/srv/../etc", "ftp://u@h/a/./b",
                          "sftp://u@h:22/~/dir", "sftp://u@h/~", "sftp://u@h/~root/x"}) {
    auto r = ParseRemoteUrl(url);
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().code, ExitCode::kUsage) << url;
    EXPECT_NE(r.error().message.find(url), std::string::npos) << r.error().message;
  }
  EXPECT_NE(ParseRemoteUrl("sftp://u@h/~/d").error().message.find("absolute"), std::string::npos);
  // Dots inside a name, and a "~" that is not at the start of an SFTP path, are names.
  for (const char* url : {"s3://bkt/x..y/.hidden/...", "sftp://u@h/srv/a~b/~c", "ftp://u@h/~/x",
                          "s3://bkt/~/x", "sftp://u@h/srv/velin/"}) {
    EXPECT_TRUE(ParseRemoteUrl(url)) << url;
  }
}

TEST(RemoteUrl, WithoutPasswordHidesOnlyThePassword) {
  EXPECT_EQ(WithoutPassword("ftp://u:Sup3r@h:21/off"), "ftp://u:***@h:21/off");
  EXPECT_EQ(WithoutPassword("ftpes://u:p@ss@h/x@y"), "ftpes://u:***@h/x@y");
  EXPECT_EQ(WithoutPassword("sftp://u@h:2222/srv/a:b@c"), "sftp://u@h:2222/srv/a:b@c");
  EXPECT_EQ(WithoutPassword("s3://bucket/prefix"), "s3://bucket/prefix");
  EXPECT_EQ(WithoutPassword("/srv/backups"), "/srv/backups");
  EXPECT_EQ(WithoutPassword("ftp://u:pw@h"), "ftp://u:***@h");
}

TEST(RemoteUrl, ClearTextTransportsNeedLoopbackOrAllowInsecure) {
  for (const char* host : {"localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host :
       {"127.0.0.1.example.com", "1270.0.0.1", "10.0.0.1", "localhost.evil", "", "127.0.0"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
  EXPECT_TRUE(CheckCleartextTransport("/srv/backups", "http://10.0.0.1", false));
  EXPECT_TRUE(CheckCleartextTransport("ftp://u@127.0.0.1:2121/x", "", false));
  EXPECT_TRUE(CheckCleartextTransport("ftps://u@10.0.0.1/x", "", false));
  EXPECT_TRUE(CheckCleartextTransport("sftp://u@10.0.0.1/x", "", false));
  EXPECT_TRUE(CheckCleartextTransport("s3://b/p", "https://10.0.0.1", false));
  EXPECT_TRUE(CheckCleartextTransport("s3://b/p", "http://[::1]:9000/", false));
  EXPECT_TRUE(CheckCleartextTransport("s3://b/p", "http://localhost", false));
  EXPECT_TRUE(CheckCleartextTransport("sftp://u@10.0.0.1/x", "http://10.0.0.1", false));

  auto ftp = CheckCleartextTransport("ftp://u@10.0.0.1/x", "", false);
  ASSERT_FALSE(ftp);
  EXPECT_EQ(ftp.error().code, ExitCode::kUsage);
  EXPECT_NE(ftp.error().message.find("allow_insecure = true"), std::string::npos);
  auto http = CheckCleartextTransport("s3://b/p", "http://127.0.0.1.nip.io:9000", false);
  ASSERT_FALSE(http);
  EXPECT_NE(http.error().message.find("storage.s3.endpoint"), std::string::npos);
  EXPECT_TRUE(CheckCleartextTransport("ftp://u@10.0.0.1/x", "", true));
  EXPECT_TRUE(CheckCleartextTransport("s3://b/p", "http://10.0.0.1", true));
}

TEST(RemoteUrl, AnS3UrlHoldsNeitherUserNorPort) {
  for (const char* url : {"s3://bkt:9000/x", "s3://u@bkt/x"}) {
    auto parsed = ParseRemoteUrl(url);
    ASSERT_TRUE(parsed) << url;
    auto checked = CheckS3Url(*parsed);
    ASSERT_FALSE(checked) << url;
    EXPECT_EQ(checked.error().code, ExitCode::kUsage);
    EXPECT_NE(checked.error().message.find("the bucket goes where the host would"),
              std::string::npos)
        << checked.error().message;
  }
  EXPECT_TRUE(CheckS3Url(*ParseRemoteUrl("s3://bkt/x")));
}

TEST(RemoteUrl, SameRemoteLocationComparesDecodedParts) {
  auto same = [](const std::string& a, const std::string& b) {
    auto url_a = ParseRemoteUrl(a);
    auto url_b = ParseRemoteUrl(b);
    EXPECT_TRUE(url_a && url_b) << a << " / " << b;
    return url_a && url_b && SameRemoteLocation(*url_a, *url_b);
  };
  EXPECT_TRUE(same("s3://bkt/my repo", "s3://bkt/my%20repo/"));
  EXPECT_TRUE(same("s3://bkt/a/b", "s3://bkt//a//b"));
  EXPECT_TRUE(same("s3://bkt", "s3://bkt/"));
  EXPECT_TRUE(same("sftp://u@Host/x", "sftp://u@host:22/x"));
  EXPECT_FALSE(same("s3://bkt/a", "s3://bkt/a%252"));
  EXPECT_FALSE(same("sftp://u@h:2222/x", "sftp://u@h/x"));
  EXPECT_FALSE(same("ftp://h/x", "ftps://h/x"));
}

}  // namespace
}  // namespace velin::storage
