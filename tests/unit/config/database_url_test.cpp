#include "velin/config/database_url.hpp"

#include <gtest/gtest.h>

namespace velin::config {
namespace {

TEST(DatabaseUrl, PostgresWithUserHostPortAndName) {
  auto d = DatabaseFromUrl("postgres://app@db.internal:6543/shop", "/tmp");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_TRUE(d->configured);
  EXPECT_EQ(d->driver, "postgresql");
  EXPECT_EQ(d->user, "app");
  EXPECT_EQ(d->host, "db.internal");
  EXPECT_EQ(d->port, 6543);
  EXPECT_EQ(d->name, "shop");
  EXPECT_TRUE(d->password_env.empty());
}

TEST(DatabaseUrl, MysqlDefaultsAndIpv6AndSocket) {
  auto d = DatabaseFromUrl("mariadb://[::1]/my%20db", "/tmp");
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->driver, "mysql");
  EXPECT_EQ(d->host, "::1");
  EXPECT_EQ(d->port, 0);
  EXPECT_EQ(d->name, "my db");
  auto s = DatabaseFromUrl("postgresql://app@/shop?socket=/run/postgresql", "/tmp");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->host, "127.0.0.1");
  EXPECT_EQ(s->socket, "/run/postgresql");
}

TEST(DatabaseUrl, SqliteAbsoluteAndRelative) {
  auto a = DatabaseFromUrl("sqlite:///srv/shop/var/app.db", "/home/me");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->driver, "sqlite");
  EXPECT_EQ(a->path, "/srv/shop/var/app.db");
  auto r = DatabaseFromUrl("sqlite:restored/app.db", "/home/me");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, "/home/me/restored/app.db");
}

TEST(DatabaseUrl, APasswordIsRefusedAndNeverRepeated) {
  auto d = DatabaseFromUrl("postgres://app:hunter2@db/shop", "/tmp");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, ExitCode::kUsage);
  EXPECT_NE(d.error().message.find("password"), std::string::npos);
  EXPECT_NE(d.error().message.find("PGPASSWORD"), std::string::npos);
  EXPECT_EQ(d.error().message.find("hunter2"), std::string::npos) << d.error().message;
}

TEST(DatabaseUrl, HostileAndMalformedUrlsAreUsageErrors) {
  for (const char* url :
       {"", "shop.db", "redis://h/x", "postgres:/h/x", "postgres://h", "postgres://h/",
        "postgres://h:99999/x", "postgres://h:5x/x", "postgres://h/a/b", "postgres://h/x%2Fy",
        "postgres://h/x%0a", "postgres://h/%zz", "postgres://[::1/x", "postgres://h/x?sslmode=off",
        "postgres://h/x?socket=rel", "sqlite:", "sqlite://", "postgres://h/x\ny",
        "postgres://@h/x"}) {
    auto d = DatabaseFromUrl(url, "/tmp");
    ASSERT_FALSE(d) << "accepted: " << url;
    EXPECT_EQ(d.error().code, ExitCode::kUsage) << url;
    EXPECT_NE(d.error().message.find("--database-url"), std::string::npos) << url;
  }
}

}  // namespace
}  // namespace velin::config
