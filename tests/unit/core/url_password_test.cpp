#include "velin/core/url_password.hpp"

#include <gtest/gtest.h>

namespace velin {
namespace {

TEST(UrlPassword, HidesThePasswordOfEveryUrlInACommand) {
  EXPECT_EQ(MaskUrlPasswords("curl -fsS http://deploy:s3cretpw@127.0.0.1:1/down; true"),
            "curl -fsS http://deploy:***@127.0.0.1:1/down; true");
  EXPECT_EQ(MaskUrlPasswords("curl http://a/x && curl 'https://u:p1@h:8080' \"ftp://v:p2@g\""),
            "curl http://a/x && curl 'https://u:***@h:8080' \"ftp://v:***@g\"");
  EXPECT_EQ(MaskUrlPasswords("curl http://u:pw@h\techo me@example.org"),
            "curl http://u:***@h\techo me@example.org");
  EXPECT_EQ(MaskUrlPasswords("wget http://:token@h/x"), "wget http://:***@h/x");
}

TEST(UrlPassword, LeavesEverythingElseAsItIs) {
  EXPECT_EQ(MaskUrlPasswords(""), "");
  EXPECT_EQ(MaskUrlPasswords("systemctl restart shop"), "systemctl restart shop");
  EXPECT_EQ(MaskUrlPasswords("sftp://u@h:2222/srv/a:b@c"), "sftp://u@h:2222/srv/a:b@c");
  EXPECT_EQ(MaskUrlPasswords("curl http://h:8080/a@b user@host:path"),
            "curl http://h:8080/a@b user@host:path");
  EXPECT_EQ(MaskUrlPasswords("s3://bucket/prefix"), "s3://bucket/prefix");
  EXPECT_EQ(MaskUrlPasswords("ends with ://"), "ends with ://");
}

TEST(UrlPassword, AnAtSignInThePasswordIsPartOfIt) {
  EXPECT_EQ(MaskUrlPasswords("ftpes://u:p@ss@h/x@y"), "ftpes://u:***@h/x@y");
  EXPECT_EQ(MaskUrlPasswords("ftp://u:p?ss#w@h/x"), "ftp://u:***@h/x");
}

}  // namespace
}  // namespace velin
