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
}

}  // namespace
}  // namespace velin::storage
