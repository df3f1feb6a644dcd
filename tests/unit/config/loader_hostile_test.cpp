// velin.toml values that once got through the loader and did harm later: a NUL in a path or
// name (the system read the part before it, a backup recorded a name no restore reads), a key
// path deep enough to overflow toml++'s stack, an offsite that is the destination itself, and S3
// settings no command could use.
// Each is refused with exit 2 and the place in the file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/test_support.hpp"
#include "velin/config/config.hpp"

namespace velin::config {
namespace {

using velin::testing::TempDir;

Result<Config> LoadHostile(const std::string& text) {
  return LoadConfigFromString(text, "/srv/app/velin.toml");
}

// `text` refused with exit 2 and a message starting with `where` and containing `what`.
void ExpectHostileRefused(const std::string& text, const std::string& where,
                          const std::string& what) {
  auto result = LoadHostile(text);
  ASSERT_FALSE(result) << "accepted: " << text.substr(0, 200);
  EXPECT_EQ(result.error().code, ExitCode::kUsage);
  EXPECT_EQ(result.error().message.rfind(where, 0), 0u) << result.error().message;
  EXPECT_NE(result.error().message.find(what), std::string::npos) << result.error().message;
}

std::string Dotted(size_t parts) {
  std::string out = "a";
  for (size_t i = 1; i < parts; ++i) out += ".a";
  return out;
}

TEST(ConfigLoaderHostile, RefusesANulInAnyStringKeyAtItsPlace) {
  ExpectHostileRefused("[backup]\ninclude = [\"ok\", \"a\\u0000b\"]\n", "/srv/app/velin.toml:2:18:",
                       "key 'include' in [backup] holds a NUL character");
  ExpectHostileRefused("[backup]\ndestination = \"repo\\u0000zzz\"\n", "/srv/app/velin.toml:2:1:",
                       "key 'destination' in [backup] holds a NUL character");
  ExpectHostileRefused("[hooks]\nbefore_backup = \"true\\u0000rm\"\n", "/srv/app/velin.toml:2:1:",
                       "key 'before_backup' in [hooks] holds a NUL character");
  ExpectHostileRefused("[storage.s3]\nregion = \"eu\\u0000\"\n",
                       "/srv/app/velin.toml:2:1:", "holds a NUL character");
  // Other control characters are a file name's to have (the tree reader takes them).
  auto tab = LoadHostile("[backup]\ninclude = [\"a\\tb\"]\n");
  ASSERT_TRUE(tab) << tab.error().message;
  EXPECT_EQ(tab->backup.include, (std::vector<std::string>{"a\tb"}));
}

TEST(ConfigLoaderHostile, RefusesADeepTableHeaderBeforeParsingIt) {
  ExpectHostileRefused("# comment\n[" + Dotted(40000) + "]\n", "/srv/app/velin.toml:2:2:",
                       "a key or table name of more than 64 dotted parts");
  ExpectHostileRefused("[[" + Dotted(65) + "]]\n", "/srv/app/velin.toml:1:3:", "dotted parts");
  ExpectHostileRefused("[backup]\n" + Dotted(40000) + " = 1\n",
                       "/srv/app/velin.toml:2:1:", "dotted parts");
  ExpectHostileRefused("[backup]\nx = { " + Dotted(100) + " = 1 }\n",
                       "/srv/app/velin.toml:2:7:", "dotted parts");
  // Quoted parts count as parts, their dots do not.
  ExpectHostileRefused("[\"a.b\" . " + Dotted(64) + "]\n",
                       "/srv/app/velin.toml:1:2:", "dotted parts");
}

TEST(ConfigLoaderHostile, DotsInStringsCommentsAndValuesAreNoKeyParts) {
  const std::string dots(1000, '.');
  const std::string text =
      "# " + dots + "\n[backup] # " + dots + "\nrepack_threshold = 0.5\nexclude = [\"*" + dots +
      "\", '" + dots + "']\n[hooks]\nbefore_backup = \"\"\"\n" + dots + "\n\\\"\"\" " + dots +
      "\n\"\"\"\nafter_backup = '''\n" + dots + "\n'''\n[" + Dotted(64) + "]\n";
  // Only the last line's 64 parts are a name; not too deep, but no section of velin's.
  auto c = LoadHostile(text);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message.find("dotted parts"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("unknown section [a]"), std::string::npos) << c.error().message;
  // The line count across the multi-line strings is right: the deep name is on line 14.
  ExpectHostileRefused(text + "[" + Dotted(65) + "]\n",
                       "/srv/app/velin.toml:14:2:", "dotted parts");
}

class ConfigLoaderOffsite : public ::testing::Test {
 protected:
  Result<Config> LoadIn(const std::string& backup) {
    return LoadConfigFromString("[backup]\n" + backup, dir_ / "velin.toml");
  }
  TempDir dir_;
};

TEST_F(ConfigLoaderOffsite, RefusesAnOffsiteThatIsTheDestination) {
  // The default destination, spelled as it is and otherwise; existing or not yet.
  for (const char* offsite : {".velin/backups", "./.velin//backups/", ".velin/x/../backups"}) {
    SCOPED_TRACE(offsite);
    auto c = LoadIn(std::string("offsite = \"") + offsite + "\"\n");
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().code, ExitCode::kUsage);
    EXPECT_NE(c.error().message.find("velin.toml:2:1: key 'offsite' in [backup]: "),
              std::string::npos)
        << c.error().message;
    EXPECT_NE(c.error().message.find("is the repository of backup.destination"), std::string::npos)
        << c.error().message;
  }
  // A symlink to the destination is the destination.
  std::filesystem::create_directories(dir_ / "repo");
  std::filesystem::create_directory_symlink(dir_ / "repo", dir_ / "link");
  auto linked = LoadIn("destination = \"repo\"\noffsite = \"link\"\n");
  ASSERT_FALSE(linked);
  EXPECT_NE(linked.error().message.find("is the repository of backup.destination"),
            std::string::npos)
      << linked.error().message;
  // A URL as velin opens it, percent-escapes decoded: "my%20repo" is the prefix "my repo".
  for (const char* backup :
       {"destination = \"s3://bucket/shop\"\noffsite = \"s3://bucket/shop/\"\n",
        "destination = \"s3://bucket/my repo\"\noffsite = \"s3://bucket/my%20repo\"\n",
        "destination = \"sftp://u@h/srv/r\"\noffsite = \"sftp://u@h:22/srv/%72\"\n"}) {
    SCOPED_TRACE(backup);
    auto url = LoadIn(backup);
    ASSERT_FALSE(url);
    EXPECT_NE(url.error().message.find("is the repository of backup.destination"),
              std::string::npos)
        << url.error().message;
  }
}

TEST_F(ConfigLoaderOffsite, AcceptsAnOffsiteElsewhere) {
  std::filesystem::create_directories(dir_ / "repo");
  for (const char* backup :
       {"offsite = \"/mnt/offsite/shop\"\n", "destination = \"repo\"\noffsite = \"repo/off\"\n",
        "destination = \"s3://bucket/shop\"\noffsite = \"s3://bucket/shop-offsite\"\n",
        "destination = \"repo\"\noffsite = \"s3://bucket/repo\"\n"}) {
    SCOPED_TRACE(backup);
    auto c = LoadIn(backup);
    EXPECT_TRUE(c) << c.error().message;
  }
}

// The S3 settings every repository command refuses (S3Backend::Create, OpenBackend), refused
// at their line: `config check` passed them and `backup list` then exited 2.
TEST(ConfigLoaderHostile, RefusesS3SettingsNoCommandCouldUse) {
  for (const char* endpoint : {"minio.local:9000", "ftp://127.0.0.1:1"}) {
    ExpectHostileRefused(std::string("[storage.s3]\nendpoint = \"") + endpoint + "\"\n",
                         "/srv/app/velin.toml:2:1: key 'endpoint' in [storage.s3]: ",
                         "must start with https:// or http://");
  }
  ExpectHostileRefused("[storage.s3]\nendpoint = \"https://\"\n",
                       "/srv/app/velin.toml:2:1: key 'endpoint' in [storage.s3]: ",
                       "storage.s3.endpoint 'https://' names no server");
  for (const char* url : {"s3://bkt:9000/x", "s3://u@bkt/x"}) {
    ExpectHostileRefused(std::string("[backup]\ndestination = \"") + url + "\"\n",
                         "/srv/app/velin.toml:2:1: key 'destination' in [backup]: ",
                         "the bucket goes where the host would");
    ExpectHostileRefused(std::string("[backup]\noffsite = \"") + url + "\"\n",
                         "/srv/app/velin.toml:2:1: key 'offsite' in [backup]: ",
                         "the bucket goes where the host would");
  }
  ExpectHostileRefused("[backup]\noffsite = \"sftp://u@h:99999/x\"\n",
                       "/srv/app/velin.toml:2:1: key 'offsite' in [backup]: ", "bad port");
  auto fine = LoadHostile(
      "[backup]\ndestination = \"s3://bkt/x\"\noffsite = \"sftp://u@h:2222/srv/x\"\n"
      "[storage.s3]\nendpoint = \"https://minio.local:9000/\"\n");
  EXPECT_TRUE(fine) << fine.error().message;
}

}  // namespace
}  // namespace velin::config
