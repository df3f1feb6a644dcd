// --database-url: each malformed part is named in the one line refusing it (what is wrong,
// the URL when it holds no password, and the accepted forms), and the accepted odd spellings.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "velin/config/database_url.hpp"

namespace velin::config {
namespace {

constexpr const char* kForms =
    " (the forms: postgres://USER@HOST[:PORT]/NAME, mysql://USER@HOST[:PORT]/NAME or "
    "sqlite:///PATH)";

TEST(DatabaseUrlErrors, EachBadPartIsNamed) {
  struct Case {
    const char* url;
    const char* why;
  };
  for (const Case& c : std::vector<Case>{
           {"postgres://[::1]x/shop", "bad host"},
           {"postgres://a b/shop", "bad host"},
           {"postgres://db:0/shop", "bad port '0'"},
           {"mysql://db:123456/shop", "bad port '123456'"},
           {"postgres://us%zzer@db/shop", "bad user"},
           {"postgres://db/shop?socket=/run/pg&sslmode=off", "the only parameter is ?socket=PATH"},
           {"postgres://db/shop?socket=", "?socket= needs an absolute path"},
           {"oracle://db/shop", "unknown scheme 'oracle'"},
           {"sqlite:", "no database file"},
           {"mysql:db/shop", "no //HOST"},
       }) {
    SCOPED_TRACE(c.url);
    auto d = DatabaseFromUrl(c.url, "/srv");
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, ExitCode::kUsage);
    EXPECT_EQ(d.error().message, std::string("--database-url '") + c.url + "': " + c.why + kForms);
  }
  auto control = DatabaseFromUrl("postgres://db/sh\x7fop", "/srv");
  ASSERT_FALSE(control);
  EXPECT_EQ(control.error().message,
            std::string("--database-url holds a control character") + kForms);
}

TEST(DatabaseUrlErrors, OddButValidSpellingsAreTaken) {
  auto upper = DatabaseFromUrl("POSTGRESQL://db/shop", "/srv");
  ASSERT_TRUE(upper) << upper.error().message;
  EXPECT_EQ(upper->driver, "postgresql");
  EXPECT_EQ(upper->host, "db");
  auto maria = DatabaseFromUrl("mariadb://app%2Dro@[::1]:3307/shop%5Fv2", "/srv");
  ASSERT_TRUE(maria) << maria.error().message;
  EXPECT_EQ(maria->driver, "mysql");
  EXPECT_EQ(maria->user, "app-ro");
  EXPECT_EQ(maria->host, "::1");
  EXPECT_EQ(maria->port, 3307);
  EXPECT_EQ(maria->name, "shop_v2");
  auto relative = DatabaseFromUrl("sqlite:var/app.db", "/srv");
  ASSERT_TRUE(relative) << relative.error().message;
  EXPECT_EQ(relative->path, "/srv/var/app.db");
  EXPECT_TRUE(relative->configured);
}

}  // namespace
}  // namespace velin::config
