#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "support/test_support.hpp"
#include "velin/config/config.hpp"

namespace velin::config {
namespace {

using velin::testing::TempDir;
using velin::testing::WriteFile;

Result<Config> Load(const std::string& text) {
  return LoadConfigFromString(text, "/srv/app/velin.toml");
}

// Asserts that `text` is refused with exit code 2 and a message containing `expected`.
void ExpectRefused(const std::string& text, const std::string& expected) {
  auto result = Load(text);
  ASSERT_FALSE(result) << "accepted: " << text;
  EXPECT_EQ(result.error().code, ExitCode::kUsage);
  EXPECT_NE(result.error().message.find(expected), std::string::npos)
      << "message: " << result.error().message << "\nexpected to contain: " << expected;
}

TEST(ConfigLoader, AcceptsTheProductExample) {
  auto c = Load(R"(
[backup]
include = ["db", "storage/uploads"]
compression = "gzip"
retention_days = 42
[database]
driver = "postgresql"
name = "shop"
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->backup.compression, "gzip");
  EXPECT_EQ(c->backup.compression_level, 6);  // gzip's default level
  EXPECT_EQ(c->backup.retention_days, 42);
  EXPECT_EQ(c->backup.include, (std::vector<std::string>{"db", "storage/uploads"}));
  EXPECT_TRUE(c->database.configured);
}

// [databases.NAME]: the keys of [database], paths resolved alike, "db:NAME" in include.
TEST(ConfigLoader, NamedDatabasesTakeTheKeysOfDatabase) {
  auto c = Load(R"(
[backup]
include = ["db", "db:queue", "db:reports"]
[database]
driver = "postgresql"
name = "shop"
[databases.queue]
driver = "sqlite"
path = "var/queue.db"
[databases.reports]
driver = "mysql"
name = "reports"
port = 3307
password_env = "REPORTS_PW"
)");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->databases.size(), 2u);
  EXPECT_TRUE(c->databases.at("queue").configured);
  EXPECT_EQ(c->databases.at("queue").path, "/srv/app/var/queue.db");
  EXPECT_EQ(c->databases.at("reports").port, 3307);
  EXPECT_EQ(c->databases.at("reports").host, "127.0.0.1");
  EXPECT_EQ(c->database.name, "shop");
  EXPECT_EQ(IncludedDatabases(*c), (std::vector<std::string>{"db", "db:queue", "db:reports"}));
  EXPECT_EQ(DatabaseOfSource(*c, "db:queue"), &c->databases.at("queue"));
  EXPECT_EQ(DatabaseOfSource(*c, "db"), &c->database);
  EXPECT_EQ(DatabaseOfSource(*c, "db:nope"), nullptr);
  EXPECT_TRUE(c->warnings.empty());
}

TEST(ConfigLoader, NamedDatabasesAreCheckedLikeDatabase) {
  ExpectRefused("[backup]\ninclude = [\"db:queue\"]\n",
                "velin.toml:2:12: key 'include' in [backup] names \"db:queue\" but there is no "
                "[databases.queue] section");
  ExpectRefused("[databases.queue]\npath = \"q.db\"\n", "[databases.queue] needs key 'driver'");
  ExpectRefused("[databases.queue]\ndriver = \"postgresql\"\n",
                "[databases.queue] with driver \"postgresql\" needs key 'name'");
  ExpectRefused("[databases.queue]\ndriver = \"oracle\"\n",
                "velin.toml:2:1: key 'driver' in [databases.queue] must be one of");
  ExpectRefused("[databases.queue]\ndriver = \"sqlite\"\npth = \"q\"\n",
                "velin.toml:3:1: unknown key 'pth' in [databases.queue] (did you mean 'path'?)");
  ExpectRefused("[databases.\"a b\"]\ndriver = \"sqlite\"\npath = \"q\"\n",
                "[databases.a b]: a database's name is 1 to 32 of a-z");
  ExpectRefused("[databases]\nqueue = 1\n", "'databases.queue' must be a table");
  auto unlisted = Load(
      "[backup]\ninclude = [\"storage\"]\n[databases.cache]\ndriver = \"sqlite\"\npath = "
      "\"c.db\"\n");
  ASSERT_TRUE(unlisted) << unlisted.error().message;
  ASSERT_EQ(unlisted->warnings.size(), 1u);
  EXPECT_NE(unlisted->warnings[0].find("[databases.cache] is configured but backup.include does "
                                       "not name \"db:cache\""),
            std::string::npos)
      << unlisted->warnings[0];
}

TEST(ConfigLoader, IncludePathsAreRecordedInOneSpelling) {
  // "storage/uploads/" made backups whose source no restore could take (its top node had an
  // empty name); an exclude "storage/cache/" matched nothing.
  auto c = Load(R"(
[backup]
include = ["./storage//uploads/", "storage/uploads", "logs/"]
exclude = ["storage/uploads/cache/", "tmp//", "*.log", "./storage/x"]
allow_empty = ["logs/", "./logs"]
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->backup.include, (std::vector<std::string>{"storage/uploads", "logs"}));
  EXPECT_EQ(c->backup.exclude,
            (std::vector<std::string>{"storage/uploads/cache", "tmp", "*.log", "storage/x"}));
  EXPECT_EQ(c->backup.allow_empty, (std::vector<std::string>{"logs", "logs"}));
  ExpectRefused("[backup]\ninclude = [\"./\"]\n", "must be a path inside app.root");
  ExpectRefused("[backup]\ninclude = [\"a/./../..\"]\n", "must be a path inside app.root");
  ExpectRefused("[backup]\ninclude = [\"//etc\"]\n", "must be a path inside app.root");
}

TEST(ConfigLoader, AnAbsoluteExcludeInsideTheRootIsTakenRelativeAndOneOutsideIsAWarning) {
  auto c = Load(R"(
[backup]
exclude = ["/srv/app/storage/cache/", "/srv/other/x", "/srv/application"]
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->backup.exclude,
            (std::vector<std::string>{"storage/cache", "/srv/other/x", "/srv/application"}));
  ASSERT_EQ(c->warnings.size(), 2u);
  EXPECT_NE(c->warnings[0].find("backup.exclude '/srv/other/x' is outside app.root (/srv/app)"),
            std::string::npos)
      << c->warnings[0];
}

TEST(ConfigLoader, RollbackPathsAreTakenOnceInOneSpelling) {
  auto c = Load(R"(
[rollback]
artifacts = ["bin/", "./bin", "bin/app", "public//", "binaries"]
config = [".env", "./.env", "config/", "config/app.ini"]
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->rollback.artifacts, (std::vector<std::string>{"bin", "public", "binaries"}));
  EXPECT_EQ(c->rollback.config, (std::vector<std::string>{".env", "config"}));
}

TEST(ConfigLoader, DefaultsWhenEmpty) {
  auto c = Load("");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->app.root, "/srv/app");
  EXPECT_EQ(c->backup.compression, "zstd");
  EXPECT_EQ(c->backup.compression_level, 3);
  EXPECT_EQ(c->backup.strategy, "full");
  EXPECT_EQ(c->backup.destination, "/srv/app/.velin/backups");
  EXPECT_EQ(c->rollback.state_dir, "/srv/app/.velin");
  EXPECT_EQ(c->rollback.current, "/srv/app/current");
  EXPECT_EQ(c->monitor.max_age, Duration(26LL * 3600 * 1000));
  EXPECT_FALSE(c->database.configured);
}

TEST(ConfigLoader, AppNameAndHostDefaultToTheDirectoryAndTheMachine) {
  auto c = Load("[app]\nroot = \"shop\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->app.name, "shop");
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(c->app.host, host);
  auto set = Load("[app]\nname = \"blog\"\nhost = \"web1\"\n");
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->app.name, "blog");
  EXPECT_EQ(set->app.host, "web1");
}

TEST(ConfigLoader, RejectsAnEmptyOrControlCharacterAppNameOrHost) {
  ExpectRefused("[app]\nname = \"\"\n", "velin.toml:2:1: key 'name' in [app] must be 1 to 255");
  ExpectRefused("[app]\nhost = \"web\\u0007\"\n", "key 'host' in [app]");
  ExpectRefused("[app]\nhost = \"" + std::string(256, 'h') + "\"\n", "key 'host' in [app]");
}

TEST(ConfigLoader, RejectsUnknownKeyWithLineColumnAndSuggestion) {
  ExpectRefused("[backup]\n\ncompresion = \"zstd\"\n",
                "/srv/app/velin.toml:3:1: unknown key 'compresion' in [backup] (did you mean "
                "'compression'?)");
}

TEST(ConfigLoader, RejectsUnknownSection) {
  ExpectRefused("[bakup]\nx = 1\n",
                "velin.toml:1:2: unknown section [bakup] (did you mean 'backup'?)");
}

TEST(ConfigLoader, RejectsKeyOutsideASection) {
  ExpectRefused("compression = \"zstd\"\n",
                "velin.toml:1:1: key 'compression' must be inside a section");
}

TEST(ConfigLoader, RejectsWrongType) {
  ExpectRefused(
      "[backup]\nretention_days = \"42\"\n",
      "velin.toml:2:1: key 'retention_days' in [backup] must be an integer, not a string");
  ExpectRefused("[backup]\ninclude = \"uploads\"\n",
                "key 'include' in [backup] must be an array of strings, not a string");
  ExpectRefused("[backup]\ninclude = [\"a\", 3]\n",
                "velin.toml:2:17: key 'include' in [backup] must be an array of strings, but holds "
                "an integer");
  ExpectRefused("[backup]\nprune_after_create = \"yes\"\n", "must be a boolean");
}

TEST(ConfigLoader, RejectsBadEnumValue) {
  ExpectRefused("[backup]\ncompression = \"lz4\"\n",
                "velin.toml:2:1: key 'compression' in [backup] must be one of \"zstd\", \"gzip\", "
                "\"none\", not \"lz4\"");
  ExpectRefused("[database]\ndriver = \"oracle\"\nname = \"x\"\n",
                "key 'driver' in [database] must be one of");
}

TEST(ConfigLoader, RejectsBadDuration) {
  ExpectRefused("[monitor]\nmax_age = \"10x\"\n",
                "velin.toml:2:1: key 'max_age' in [monitor]: \"10x\" is not a duration");
  ExpectRefused("[rollback]\nhealth_timeout = \"30\"\n", "\"30\" is not a duration");
}

TEST(ConfigLoader, ParsesDurations) {
  auto c = Load(
      "[rollback]\nhealth_timeout = \"30s\"\ntransaction_timeout = \"1h30m\"\n"
      "[monitor]\nmax_age = \"2d\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->rollback.health_timeout, Duration(30'000));
  EXPECT_EQ(c->rollback.transaction_timeout, Duration(5'400'000));
  EXPECT_EQ(c->monitor.max_age, Duration(2LL * 86'400'000));
}

TEST(ConfigLoader, RejectsNegativeRetention) {
  ExpectRefused("[backup]\nretention_days = -1\n",
                "velin.toml:2:1: key 'retention_days' in [backup] must be at least 0, not -1");
  ExpectRefused("[backup]\nkeep_daily = -3\n", "key 'keep_daily' in [backup] must be at least 0");
}

TEST(ConfigLoader, RejectsMissingRequiredKeys) {
  ExpectRefused("[database]\nname = \"shop\"\n", "velin.toml:1:2: [database] needs key 'driver'");
  ExpectRefused("[database]\ndriver = \"postgresql\"\n",
                "[database] with driver \"postgresql\" needs key 'name'");
  ExpectRefused("[database]\ndriver = \"sqlite\"\n",
                "[database] with driver \"sqlite\" needs key 'path'");
}

TEST(ConfigLoader, RejectsDbIncludeWithoutDatabase) {
  ExpectRefused("[backup]\ninclude = [\"db\"]\n",
                "names \"db\" but there is no [database] section");
}

TEST(ConfigLoader, RejectsGzipLevelOutOfRange) {
  ExpectRefused("[backup]\ncompression = \"gzip\"\ncompression_level = 12\n",
                "velin.toml:3:1: key 'compression_level' in [backup] must be 1..9 for gzip");
}

TEST(ConfigLoader, ReportsSyntaxErrorsWithPosition) {
  ExpectRefused("[backup\n", "/srv/app/velin.toml:1:");
}

TEST(ConfigLoader, ResolvesRelativePaths) {
  auto c = Load(R"(
[app]
root = "site"
[backup]
destination = "../backups"
[database]
driver = "sqlite"
path = "var/app.db"
[rollback]
state_dir = "/var/lib/velin"
current = "current"
)");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->app.root, "/srv/app/site");
  EXPECT_EQ(c->backup.destination, "/srv/backups");         // against velin.toml's directory
  EXPECT_EQ(c->database.path, "/srv/app/site/var/app.db");  // against app.root
  EXPECT_EQ(c->rollback.state_dir, "/var/lib/velin");       // absolute stays
  EXPECT_EQ(c->rollback.current, "/srv/app/site/current");
  EXPECT_EQ(ResolveAppPath(*c, "storage/uploads"), "/srv/app/site/storage/uploads");
}

TEST(ConfigLoader, LeavesUrlsAlone) {
  auto c = Load("[backup]\ndestination = \"s3://bucket/prefix\"\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->backup.destination, "s3://bucket/prefix");
  EXPECT_TRUE(IsRemoteDestination(c->backup.destination));
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { ::setenv(name, value, 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST(ConfigLoader, EnvironmentOverridesTheFile) {
  ScopedEnv a("VELIN_BACKUP_COMPRESSION", "none");
  ScopedEnv b("VELIN_BACKUP_RETENTION_DAYS", "7");
  ScopedEnv c("VELIN_STORAGE_S3_REGION", "eu-west-1");
  ScopedEnv d("VELIN_BACKUP_EXCLUDE", "*.tmp,cache");
  ScopedEnv e("VELIN_BACKUP_PRUNE_AFTER_CREATE", "false");
  auto cfg = Load("[backup]\ncompression = \"zstd\"\nretention_days = 42\n");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->backup.compression, "none");
  EXPECT_EQ(cfg->backup.retention_days, 7);
  EXPECT_EQ(cfg->s3.region, "eu-west-1");
  EXPECT_EQ(cfg->backup.exclude, (std::vector<std::string>{"*.tmp", "cache"}));
  EXPECT_FALSE(cfg->backup.prune_after_create);
}

TEST(ConfigLoader, SpacesAroundTheCommasOfAnEnvironmentArrayAreDropped) {
  ScopedEnv a("VELIN_BACKUP_INCLUDE", " storage/uploads/ ,\tlogs");
  ScopedEnv b("VELIN_BACKUP_EXCLUDE", "*.tmp, cache ,a b");
  auto cfg = Load("");
  ASSERT_TRUE(cfg) << cfg.error().message;
  EXPECT_EQ(cfg->backup.include, (std::vector<std::string>{"storage/uploads", "logs"}));
  EXPECT_EQ(cfg->backup.exclude, (std::vector<std::string>{"*.tmp", "cache", "a b"}));
}

TEST(ConfigLoader, RejectsBadEnvironmentOverride) {
  ScopedEnv a("VELIN_BACKUP_RETENTION_DAYS", "many");
  ExpectRefused("",
                "environment VELIN_BACKUP_RETENTION_DAYS: key 'retention_days' in [backup] "
                "must be an integer, not \"many\"");
}

TEST(ConfigLoader, RefusesPasswordFileOthersCanRead) {
  TempDir dir;
  WriteFile(dir / "secret", "hunter2\n", 0644);
  auto c = LoadConfigFromString(
      "[database]\ndriver = \"postgresql\"\nname = \"shop\"\npassword_file = \"secret\"\n",
      dir / "velin.toml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ExitCode::kUsage);
  EXPECT_NE(c.error().message.find(":4:1: key 'password_file' in [database]: " + (dir / "secret") +
                                   " can be read by other users (mode 0644); run: chmod 600"),
            std::string::npos)
      << c.error().message;
  EXPECT_EQ(c.error().message.find("hunter2"), std::string::npos);
}

TEST(ConfigLoader, AcceptsPrivatePasswordFileAndReadsSecret) {
  TempDir dir;
  WriteFile(dir / "secret", "hunter2\n", 0600);
  auto c = LoadConfigFromString(
      "[database]\ndriver = \"postgresql\"\nname = \"shop\"\npassword_file = \"secret\"\n",
      dir / "velin.toml");
  ASSERT_TRUE(c) << c.error().message;
  auto secret = ReadSecret("", c->database.password_file, "database 'shop'");
  ASSERT_TRUE(secret);
  EXPECT_EQ(*secret, "hunter2");
}

TEST(ConfigLoader, RefusesMissingPasswordFile) {
  ExpectRefused("[backup]\npassword_file = \"/nonexistent/pw\"\n",
                "/nonexistent/pw does not exist");
}

TEST(ConfigLoader, ReadSecretPrefersEnvironment) {
  ScopedEnv a("VELIN_TEST_SECRET", "from-env");
  auto secret = ReadSecret("VELIN_TEST_SECRET", "", "x");
  ASSERT_TRUE(secret);
  EXPECT_EQ(*secret, "from-env");
  auto missing = ReadSecret("VELIN_TEST_SECRET_UNSET", "", "database 'shop'");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "database 'shop': environment variable VELIN_TEST_SECRET_UNSET is not set");
}

// A variable set from a file (a Kubernetes secret --from-file) ends in its newline: stripped as
// a password file's is, so one secret is one passphrase; the value as it was is kept aside for
// unlocking a repository an older velin initialised with it.
TEST(ConfigLoader, ReadSecretStripsAVariablesTrailingNewlineAsAFiles) {
  ScopedEnv a("VELIN_TEST_SECRET_NL", "s3cret\r\n");
  std::string unstripped = "left over";
  auto secret = ReadSecret("VELIN_TEST_SECRET_NL", "", "x", &unstripped);
  ASSERT_TRUE(secret);
  EXPECT_EQ(*secret, "s3cret");
  EXPECT_EQ(unstripped, "s3cret\r\n");
  ScopedEnv b("VELIN_TEST_SECRET_NL", "s3cret");
  secret = ReadSecret("VELIN_TEST_SECRET_NL", "", "x", &unstripped);
  ASSERT_TRUE(secret);
  EXPECT_EQ(*secret, "s3cret");
  EXPECT_EQ(unstripped, "");  // nothing stripped: nothing else to try
}

TEST(ConfigLoader, FindsConfigInAParentDirectory) {
  TempDir dir;
  WriteFile(dir / "velin.toml", "");
  WriteFile(dir / "a/b/c/file", "x");
  auto found = FindConfigFile(dir / "a/b/c");
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, dir / "velin.toml");
}

TEST(ConfigLoader, ExampleFileIsValid) {
  auto c = LoadConfig(velin::testing::SourceDir() + "/velin.toml.example");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->database.configured);
}

// A [database] with backups of paths only: each backup would leave the database out silently.
TEST(ConfigLoader, ADatabaseThatNoIncludeNamesIsAWarning) {
  const std::string database = "[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n";
  auto c = Load("[backup]\ninclude = [\"storage\"]\n" + database);
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_EQ(c->warnings.size(), 1u);
  EXPECT_EQ(c->warnings[0],
            "[database] is configured but backup.include does not name \"db\": backups hold no "
            "database (add \"db\" to backup.include, or remove [database])");
  for (const std::string& quiet : {"[backup]\ninclude = [\"storage\", \"db\"]\n" + database,
                                   database,  // no backups here (rollback only)
                                   std::string("[backup]\ninclude = [\"storage\"]\n")}) {
    auto q = Load(quiet);
    ASSERT_TRUE(q) << q.error().message;
    EXPECT_TRUE(q->warnings.empty()) << quiet << q->warnings.front();
  }
}

TEST(ConfigLoader, RefusesIncludePathsOutsideTheAppAtTheirLine) {
  ExpectRefused("[backup]\ninclude = [\"storage\", \"../etc\"]\n",
                "/srv/app/velin.toml:2:23: key 'include' in [backup]: \"../etc\" must be a path "
                "inside app.root (relative, without '..')");
  ExpectRefused("[backup]\ninclude = [\n  \"/etc/passwd\",\n]\n", "velin.toml:3:3: key 'include'");
  ExpectRefused("[backup]\ninclude = [\"a/../../b\"]\n", "\"a/../../b\" must be a path inside");
  ScopedEnv e("VELIN_BACKUP_INCLUDE", "storage,../x");
  ExpectRefused("",
                "environment VELIN_BACKUP_INCLUDE: key 'include' in [backup]: \"../x\" must be "
                "a path inside");
}

TEST(ConfigLoader, WarnsAboutVelinVariablesThatNameNoKey) {
  ScopedEnv typo("VELIN_BACKUP_COMPRESION", "gzip");
  ScopedEnv section("VELIN_MONITOR_PING", "x");
  ScopedEnv other("VELIN_CACHE_DIR", "/tmp/c");
  ScopedEnv named("VELIN_MY_PASSPHRASE", "s");
  auto c = Load("[backup]\npassword_env = \"VELIN_MY_PASSPHRASE\"\n");
  ASSERT_TRUE(c) << c.error().message;
  std::string all;
  for (const auto& w : c->warnings) all += w + "\n";
  EXPECT_NE(all.find("environment variable VELIN_BACKUP_COMPRESION is not a velin setting and is "
                     "ignored (did you mean 'VELIN_BACKUP_COMPRESSION'?)"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("VELIN_MONITOR_PING is not a velin setting"), std::string::npos) << all;
  EXPECT_EQ(all.find("VELIN_CACHE_DIR"), std::string::npos) << all;
  EXPECT_EQ(all.find("VELIN_MY_PASSPHRASE"), std::string::npos) << all;
  EXPECT_EQ(c->backup.compression, "zstd");
}

// What a hook gets in its environment is not a misspelt setting: a hook may run velin itself.
TEST(ConfigLoader, HookVariablesAreNotSettings) {
  ScopedEnv event("VELIN_EVENT", "after_switch");
  ScopedEnv id("VELIN_BACKUP_ID", "20261130-0400-full");
  ScopedEnv version("VELIN_VERSION", "v2");
  ScopedEnv from("VELIN_FROM_VERSION", "v1");
  ScopedEnv error("VELIN_ERROR", "health check failed");
  // ... nor what rollback.stop, start and health get (they may run velin too).
  ScopedEnv release("VELIN_RELEASE_DIR", "/srv/shop/.velin/releases/v2");
  ScopedEnv level("VELIN_ROLLBACK_LEVEL", "");
  auto c = Load("[hooks]\nbefore_switch = \"php artisan down\"\ntimeout = \"30s\"\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(c->warnings.empty()) << c->warnings.front();
  EXPECT_EQ(c->hooks.before_switch, "php artisan down");
  EXPECT_EQ(c->hooks.timeout, Duration(30'000));
  EXPECT_EQ(Load("")->hooks.timeout, Duration(300'000));
  ExpectRefused("[hooks]\ntimeout = \"0s\"\n", "'timeout' in [hooks]");
}

TEST(ConfigLoader, ASecretFileBehindASymlinkIsJudgedByItsTarget) {
  TempDir dir;
  WriteFile(dir / "real", "hunter2\n", 0600);
  std::filesystem::create_symlink(dir / "real", dir / "link");
  const std::string text =
      "[database]\ndriver = \"postgresql\"\nname = \"shop\"\npassword_file = \"link\"\n";
  auto c = LoadConfigFromString(text, dir / "velin.toml");
  ASSERT_TRUE(c) << c.error().message;
  auto secret = ReadSecret("", c->database.password_file, "database 'shop'");
  ASSERT_TRUE(secret) << secret.error().message;
  EXPECT_EQ(*secret, "hunter2");
  ::chmod((dir / "real").c_str(), 0640);
  auto refused = LoadConfigFromString(text, dir / "velin.toml");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("link can be read by other users (mode 0640)"),
            std::string::npos)
      << refused.error().message;
  EXPECT_FALSE(ReadSecret("", c->database.password_file, "database 'shop'"));
  // A directory is no secret file.
  std::filesystem::create_directory(dir / "dir");
  ::chmod((dir / "dir").c_str(), 0700);
  auto dir_refused =
      LoadConfigFromString("[backup]\npassword_file = \"dir\"\n", dir / "velin.toml");
  ASSERT_FALSE(dir_refused);
  EXPECT_NE(dir_refused.error().message.find("is not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace velin::config
