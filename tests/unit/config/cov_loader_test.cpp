// Every way velin.toml can be wrong, one case each: a bad structure, a wrong type (each TOML
// type named as such), a value out of range, a combination of keys that does not go together, a
// bad environment override, a config file that cannot be read. Each is refused with the usage
// exit code and one line that names the file, the line and column, and the key. The environment
// overrides come from a MemEnv, so no test changes the process's environment.
#include <gtest/gtest.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "velin/config/config.hpp"
#include "velin/config/describe.hpp"
#include "velin/core/i18n.hpp"
#include "velin/io/mem_env.hpp"

namespace velin::config {
namespace {

using velin::testing::TempDir;
using velin::testing::WriteFile;

constexpr const char* kPath = "/srv/app/velin.toml";

Result<Config> LoadIn(const std::string& text, io::Env& env) {
  return LoadConfigFromString(text, kPath, env);
}

Result<Config> LoadInMem(const std::string& text) {
  io::MemEnv env;
  return LoadIn(text, env);
}

// `text` is refused with exit code 2 and exactly `expected` (one line, no newline).
void ExpectError(const std::string& text, io::Env& env, const std::string& expected) {
  auto result = LoadIn(text, env);
  ASSERT_FALSE(result) << "accepted: " << text;
  EXPECT_EQ(result.error().code, ExitCode::kUsage) << text;
  EXPECT_EQ(result.error().message, expected) << text;
  EXPECT_EQ(result.error().message.find('\n'), std::string::npos) << text;
}

void ExpectError(const std::string& text, const std::string& expected) {
  io::MemEnv env;
  ExpectError(text, env, expected);
}

struct Case {
  const char* text;
  const char* message;  // after "/srv/app/velin.toml:"
};

void ExpectErrors(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    ExpectError(c.text, std::string(kPath) + ":" + c.message);
  }
}

TEST(ConfigErrors, StructureThatIsNotTheSchemasIsNamedWhereItIs) {
  ExpectErrors({
      {"storage = 1\n", "1:1: 'storage' must be a table"},
      {"[storage.ftp]\nhost = \"x\"\n",
       "1:10: unknown section [storage.ftp] (did you mean 'sftp'?)"},
      {"[storage.glacier]\n", "1:10: unknown section [storage.glacier]"},
      {"backup = 3\n", "1:1: 'backup' must be a table [backup]"},
      {"[storage]\ns3 = \"eu\"\n", "2:1: 'storage.s3' must be a table [storage.s3]"},
      {"[app]\n[zzzzzz]\n", "2:2: unknown section [zzzzzz]"},
      {"[rollback]\nkeep = 3\n", "2:1: unknown key 'keep' in [rollback]"},
  });
}

// The type velin.toml holds is named in the words of the key's kind and of the value's type.
TEST(ConfigErrors, EachWrongTypeNamesWhatTheKeyTakesAndWhatItGot) {
  ExpectErrors({
      {"[app]\nname = 1\n", "2:1: key 'name' in [app] must be a string, not an integer"},
      {"[backup]\ncompression = true\n",
       "2:1: key 'compression' in [backup] must be a string, not a boolean"},
      {"[monitor]\nmax_age = 30\n",
       "2:1: key 'max_age' in [monitor] must be a duration string like \"30s\", \"10m\", \"2h\", "
       "not an integer"},
      {"[backup]\nrepack_threshold = \"half\"\n",
       "2:1: key 'repack_threshold' in [backup] must be a number, not a string"},
      {"[backup]\nkeep_last = 1.5\n",
       "2:1: key 'keep_last' in [backup] must be an integer, not "
       "a number"},
      {"[backup]\nprune_after_create = [true]\n",
       "2:1: key 'prune_after_create' in [backup] must be a boolean (true or false), not an "
       "array"},
      {"[log]\nmax_files = { n = 3 }\n",
       "2:1: key 'max_files' in [log] must be an integer, not a table"},
      {"[database]\nport = 1979-05-27\n",
       "2:1: key 'port' in [database] must be an integer, not a date/time"},
      {"[notify]\nevents = \"backup-failed\"\n",
       "2:1: key 'events' in [notify] must be an array of strings, not a string"},
      {"[fleet]\nhosts = [\n  \"web1\",\n  false,\n]\n",
       "4:3: key 'hosts' in [fleet] must be an array of strings, but holds a boolean"},
  });
}

TEST(ConfigErrors, NumbersOutsideTheirRangeNameTheBound) {
  ExpectErrors({
      {"[backup]\ncompression_level = 23\n",
       "2:1: key 'compression_level' in [backup] must be at most 22, not 23"},
      {"[backup]\ncompression_level = -8\n",
       "2:1: key 'compression_level' in [backup] must be at least -7, not -8"},
      {"[storage.s3]\nparallel_uploads = 0\n",
       "2:1: key 'parallel_uploads' in [storage.s3] must be at least 1, not 0"},
      {"[database]\nport = 65536\n",
       "2:1: key 'port' in [database] must be at most 65535, not "
       "65536"},
      {"[rollback]\nstop_timeout = \"0s\"\n",
       "2:1: key 'stop_timeout' in [rollback] must be positive, not \"0s\" (e.g. \"30s\")"},
      {"[backup]\nrepack_threshold = 1.5\n",
       "2:1: key 'repack_threshold' in [backup] must be between 0 and 1"},
      {"[backup]\nrepack_threshold = -1\n",
       "2:1: key 'repack_threshold' in [backup] must be between 0 and 1"},
      {"[backup]\nrepack_threshold = nan\n",
       "2:1: key 'repack_threshold' in [backup] must be between 0 and 1"},
      {"[backup]\nrepack_threshold = inf\n",
       "2:1: key 'repack_threshold' in [backup] must be between 0 and 1"},
  });
}

TEST(ConfigErrors, KeysThatDoNotGoTogetherPointAtTheOneToChange) {
  ExpectErrors({
      {"[backup]\ninclude = [\n  \"storage\",\n  \"\",\n]\n",
       "4:3: key 'include' in [backup] holds an empty path"},
      {"[notify]\nwebhook_url = \"ftp://hooks.example/T0KEN\"\n",
       "2:1: key 'webhook_url' in [notify] must start with http:// or https://"},
      {"[notify]\nevents = [\n  \"backup-failed\",\n  \"backup-faild\",\n]\n",
       "4:3: key 'events' in [notify]: unknown event \"backup-faild\" (known: "
       "\"backup-succeeded\", \"backup-failed\", \"backup-unhealthy\", \"cleanup-failed\", "
       "\"restore-test-failed\", \"switch-undone\", \"rollback-timeout\")"},
      {"[backup]\ninclude = [\"storage\", \"db\"]\n",
       "2:23: key 'include' in [backup] names \"db\" but there is no [database] section"},
      {"[fleet]\nconfig = \"etc/velin.toml\"\n",
       "2:1: key 'config' in [fleet] must be an absolute path on the hosts, not "
       "\"etc/velin.toml\""},
      {"[database]\ndriver = \"mysql\"\n",
       "1:2: [database] with driver \"mysql\" needs key 'name'"},
  });
  // The webhook's path may hold a token: never repeated.
  auto refused = LoadInMem("[notify]\nwebhook_url = \"ftp://hooks.example/T0KEN\"\n");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message.find("T0KEN"), std::string::npos);
}

TEST(ConfigErrors, ABadFleetHostIsRefusedAtItsItem) {
  auto refused = LoadInMem("[fleet]\nhosts = [\n  \"web1\",\n  \"\",\n]\n");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ExitCode::kUsage);
  const std::string& m = refused.error().message;
  EXPECT_EQ(m, std::string(kPath) + ":4:3: key 'hosts' in [fleet]: an empty host");
  ExpectError("[fleet]\nhosts = [\"web1\", \"-oProxyCommand=x\"]\n",
              std::string(kPath) +
                  ":2:18: key 'hosts' in [fleet]: \"-oProxyCommand=x\" starts with '-' (ssh "
                  "would take it for an option)");
  auto good =
      LoadInMem("[fleet]\nhosts = [\"web1\", \"deploy@web2\"]\nconfig = \"/srv/app/velin.toml\"\n");
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->fleet.hosts.size(), 2u);
}

// The messages of these rules are in the German catalogue too.
TEST(ConfigErrors, RuleMessagesAreTranslated) {
  ::setenv("LANG", "de_DE.UTF-8", 1);
  ::unsetenv("LC_ALL");
  ::unsetenv("LC_MESSAGES");
  InitLanguageFromEnvironment();
  auto app = LoadInMem("[app]\nname = \"\"\n");
  auto fleet = LoadInMem("[fleet]\nconfig = \"velin.toml\"\n");
  auto host = LoadInMem("[fleet]\nhosts = [\"\"]\n");
  ::unsetenv("LANG");
  InitLanguageFromEnvironment();
  ASSERT_FALSE(app);
  EXPECT_EQ(app.error().message,
            std::string(kPath) +
                ":2:1: Schlüssel 'name' in [app] muss 1 bis 255 Zeichen ohne Steuerzeichen haben");
  ASSERT_FALSE(fleet);
  EXPECT_EQ(fleet.error().message,
            std::string(kPath) +
                ":2:1: Schlüssel 'config' in [fleet] muss ein absoluter Pfad auf "
                "den Hosts sein, nicht \"velin.toml\"");
  ASSERT_FALSE(host);
  EXPECT_EQ(
      host.error().message.rfind(std::string(kPath) + ":2:10: Schlüssel 'hosts' in [fleet]: ", 0),
      0u)
      << host.error().message;
}

// A setting from the environment has no line: a rule it breaks points at its section, else at
// the top of the file.
// A rule broken by a value from the environment names the variable, not a place in the file
// (which does not hold that value).
TEST(ConfigErrors, ARuleBrokenByTheEnvironmentNamesTheVariable) {
  io::MemEnv env;
  env.SetEnv("VELIN_BACKUP_REPACK_THRESHOLD", "2");
  const std::string threshold =
      "environment VELIN_BACKUP_REPACK_THRESHOLD: key 'repack_threshold' in [backup] must be "
      "between 0 and 1";
  ExpectError("[app]\nname = \"shop\"\n\n[backup]\nkeep_last = 3\n", env, threshold);
  ExpectError("[backup]\nrepack_threshold = 0.5\n", env, threshold);
  ExpectError("", env, threshold);
  // Names recorded in every backup must be text: an environment variable can hold any bytes.
  io::MemEnv latin1;
  latin1.SetEnv("VELIN_APP_HOST", "caf\xe9");
  ExpectError("", latin1, "environment VELIN_APP_HOST: key 'host' in [app] is not UTF-8 text");
  io::MemEnv include;
  include.SetEnv("VELIN_BACKUP_INCLUDE", "storage,caf\xe9");
  ExpectError("", include,
              "environment VELIN_BACKUP_INCLUDE: key 'include' in [backup]: \"caf\xe9\" is not "
              "UTF-8 text");
  io::MemEnv db;
  db.SetEnv("VELIN_DATABASE_NAME", "shop");  // makes [database] configured, without a driver
  // Not velin.toml:1:1, which holds no [database]: the variable that made it.
  ExpectError("", db,
              "environment VELIN_DATABASE_NAME: [database] needs key 'driver' (\"postgresql\", "
              "\"mysql\" or \"sqlite\")");
}

TEST(ConfigErrors, BadEnvironmentOverridesNameTheVariableAndTheKey) {
  struct EnvCase {
    const char* name;
    const char* value;
    const char* message;  // after "environment NAME: "
  };
  for (const EnvCase& c : std::vector<EnvCase>{
           {"VELIN_BACKUP_COMPRESSION", "lz4",
            "key 'compression' in [backup] must be one of \"zstd\", \"gzip\", \"none\", not "
            "\"lz4\""},
           {"VELIN_MONITOR_MAX_AGE", "a day",
            "key 'max_age' in [monitor]: \"a day\" is not a duration (write e.g. \"30s\", "
            "\"10m\", \"2h\", \"1d\"; at most \"36500d\")"},
           {"VELIN_HOOKS_TIMEOUT", "0m",
            "key 'timeout' in [hooks] must be positive, not \"0m\" (e.g. \"30s\")"},
           {"VELIN_LOG_MAX_FILES", "0", "key 'max_files' in [log] must be at least 1, not 0"},
           {"VELIN_LOG_MAX_FILES", "", "key 'max_files' in [log] must be an integer, not \"\""},
           {"VELIN_LOG_MAX_FILES", "12abc",
            "key 'max_files' in [log] must be an integer, not \"12abc\""},
           {"VELIN_LOG_MAX_FILES", "99999999999999999999",
            "key 'max_files' in [log] must be an integer, not \"99999999999999999999\""},
           {"VELIN_DATABASE_PORT", "70000",
            "key 'port' in [database] must be at most 65535, not 70000"},
           {"VELIN_STORAGE_S3_PATH_STYLE", "maybe",
            "key 'path_style' in [storage.s3] must be true, false, yes, no, 1 or 0, not "
            "\"maybe\""},
           // Only those six, lower case: the message lists exactly what is taken.
           {"VELIN_BACKUP_PRUNE_AFTER_CREATE", "on",
            "key 'prune_after_create' in [backup] must be true, false, yes, no, 1 or 0, not "
            "\"on\""},
           {"VELIN_BACKUP_PRUNE_AFTER_CREATE", "True",
            "key 'prune_after_create' in [backup] must be true, false, yes, no, 1 or 0, not "
            "\"True\""},
           {"VELIN_BACKUP_REPACK_THRESHOLD", "half",
            "key 'repack_threshold' in [backup] must be a number, not \"half\""},
           {"VELIN_BACKUP_REPACK_THRESHOLD", "",
            "key 'repack_threshold' in [backup] must be a number, not \"\""},
       }) {
    SCOPED_TRACE(std::string(c.name) + "=" + c.value);
    io::MemEnv env;
    env.SetEnv(c.name, c.value);
    ExpectError("[backup]\nkeep_last = 3\n", env,
                "environment " + std::string(c.name) + ": " + c.message);
  }
}

TEST(ConfigErrors, EnvironmentOverridesOfEveryKindAreTaken) {
  io::MemEnv env;
  env.SetEnv("VELIN_APP_NAME", "shop");
  env.SetEnv("VELIN_ROLLBACK_HEALTH_TIMEOUT", "1m30s");
  env.SetEnv("VELIN_STORAGE_S3_PATH_STYLE", "yes");
  env.SetEnv("VELIN_ROLLBACK_BACKUP_ON_BEGIN", "1");
  env.SetEnv("VELIN_BACKUP_PRUNE_AFTER_CREATE", "no");
  env.SetEnv("VELIN_BACKUP_ALLOW_INSECURE", "0");
  env.SetEnv("VELIN_BACKUP_REPACK_THRESHOLD", "0.25");
  env.SetEnv("VELIN_BACKUP_EXCLUDE", "");  // an empty list, not one empty pattern
  env.SetEnv("VELIN_DATABASE_DRIVER", "sqlite");
  env.SetEnv("VELIN_DATABASE_PATH", "var/app.db");
  auto c = LoadIn(
      "[backup]\nexclude = [\"*.log\"]\nprune_after_create = true\nallow_insecure = true\n"
      "[rollback]\nbackup_on_begin = false\n",
      env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->app.name, "shop");
  EXPECT_EQ(c->rollback.health_timeout, Duration(90'000));
  EXPECT_TRUE(c->s3.path_style);
  EXPECT_TRUE(c->rollback.backup_on_begin);
  EXPECT_FALSE(c->backup.prune_after_create);
  EXPECT_FALSE(c->backup.allow_insecure);
  EXPECT_DOUBLE_EQ(c->backup.repack_threshold, 0.25);
  EXPECT_TRUE(c->backup.exclude.empty());
  EXPECT_TRUE(c->database.configured);  // by the environment alone
  EXPECT_EQ(c->database.driver, "sqlite");
  EXPECT_EQ(c->database.path, "/srv/app/var/app.db");
  // An empty item of a list from the environment is judged like one in the file.
  io::MemEnv holes;
  holes.SetEnv("VELIN_BACKUP_INCLUDE", "storage,,uploads");
  ExpectError("", holes,
              "environment VELIN_BACKUP_INCLUDE: key 'include' in [backup] holds an empty path");
}

TEST(ConfigErrors, ANumberKeyTakesAnInteger) {
  auto c = LoadInMem("[backup]\nrepack_threshold = 1\n");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_DOUBLE_EQ(c->backup.repack_threshold, 1.0);
}

TEST(ConfigErrors, HomeAndTrailingSlashesInPathsAreResolved) {
  io::MemEnv env;
  env.SetEnv("HOME", "/home/ops");
  auto c = LoadIn(
      "[backup]\ndestination = \"~/backups/\"\npassword_file = \"\"\n"
      "[rollback]\nstate_dir = \"~\"\n[log]\nfile = \"/var/log/velin//velin.log\"\n",
      env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->backup.destination, "/home/ops/backups");
  EXPECT_EQ(c->rollback.state_dir, "/home/ops");
  EXPECT_EQ(c->log.file, "/var/log/velin/velin.log");
  EXPECT_EQ(c->backup.password_file, "");  // empty stays empty: no secret file
}

// A systemd service without User= runs with HOME unset: "~" is then the user's home in the
// password database, as in a shell, never a directory named "~" under the config's directory.
TEST(ConfigErrors, WithoutHomeTheTildeIsThePasswordDatabasesHome) {
  passwd* me = ::getpwuid(::getuid());
  ASSERT_NE(me, nullptr);
  const std::string home = me->pw_dir;
  for (const char* value : std::initializer_list<const char*>{"", nullptr}) {
    io::MemEnv env;
    if (value) env.SetEnv("HOME", value);  // set but empty counts as unset
    auto c = LoadIn("[backup]\ndestination = \"~/backups\"\n[rollback]\nstate_dir = \"~\"\n", env);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->backup.destination,
              (std::filesystem::path(home) / "backups").lexically_normal().string());
    EXPECT_EQ(c->rollback.state_dir, std::filesystem::path(home).lexically_normal().string());
    EXPECT_EQ(c->backup.destination.find("/~"), std::string::npos);
  }
}

TEST(ConfigErrors, TheIdentityDefaultsToTheAppDirectoryAndTheEnvsHost) {
  io::MemEnv env;
  auto c = LoadIn("[app]\nroot = \"/\"\n", env);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->app.root, "/");
  EXPECT_EQ(c->app.name, "/");
  EXPECT_EQ(c->app.host, "mem-host");
  // A directory named in Latin-1: the name each backup records is text, U+FFFD for the byte.
  io::MemEnv latin1;
  latin1.SetEnv("VELIN_APP_ROOT", "/srv/caf\xe9");
  auto l = LoadIn("", latin1);
  ASSERT_TRUE(l) << l.error().message;
  EXPECT_EQ(l->app.root, "/srv/caf\xe9");
  EXPECT_EQ(l->app.name, "caf\xEF\xBF\xBD");
}

TEST(ConfigErrors, AnUnreadableConfigFileIsOneLineNamingIt) {
  TempDir dir;
  WriteFile(dir / "plain", "x");
  WriteFile(dir / "huge.toml", std::string((4 << 20) + 1, '#'));
  std::filesystem::create_directory(dir / "sub");
  std::filesystem::create_symlink(dir / "loop", dir / "loop");
  struct FileCase {
    std::string path;
    std::string message;
  };
  for (const FileCase& c : std::vector<FileCase>{
           {dir / "absent.toml", dir / "absent.toml: no such config file"},
           {dir / "plain/velin.toml", dir / "plain/velin.toml: no such config file"},
           {dir / "sub", dir / "sub: is a directory, not a config file"},
           {dir / "loop", dir / "loop: cannot read: Too many levels of symbolic links"},
           // Read to the end, these never end (or take all memory): refused before reading.
           {"/dev/zero", "/dev/zero: is a device or socket, not a config file"},
           {dir / "huge.toml", dir / "huge.toml: is 4194305 bytes, too large for a config file "
                                     "(at most 4194304)"},
       }) {
    auto r = LoadConfig(c.path);
    ASSERT_FALSE(r) << c.path;
    EXPECT_EQ(r.error().code, ExitCode::kUsage);
    EXPECT_EQ(r.error().message, c.message);
  }
  // A file found through a symlink is read, and its errors name the path given.
  WriteFile(dir / "real.toml", "[backup]\nkeep_last = -1\n");
  std::filesystem::create_symlink(dir / "real.toml", dir / "velin.toml");
  auto r = LoadConfig(dir / "velin.toml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            dir / "velin.toml:2:1: key 'keep_last' in [backup] must be at least 0, not -1");
}

TEST(ConfigErrors, NoConfigFileUpToTheRootIsNotFound) {
  TempDir dir;
  WriteFile(dir / "a/b/file", "x");
  // Only when nothing above the temp directory holds a velin.toml (a test machine's / does not).
  bool above = false;
  for (auto p = std::filesystem::path(dir.path()); p != p.root_path(); p = p.parent_path()) {
    above = above || std::filesystem::exists(p / "velin.toml");
  }
  above = above || std::filesystem::exists("/velin.toml");
  if (above) GTEST_SKIP() << "a velin.toml above " << dir.path();
  EXPECT_EQ(FindConfigFile(dir / "a/b"), std::nullopt);
  // A directory named velin.toml ends the search, and LoadConfig says what it is: searching on
  // would take a parent directory's config (another application's, perhaps) without a word.
  std::filesystem::create_directories(dir / "a/velin.toml");
  WriteFile(dir / "velin.toml", "");
  EXPECT_EQ(FindConfigFile(dir / "a/b"), std::optional<std::string>(dir / "a/velin.toml"));
  std::filesystem::remove(dir / "a/velin.toml");
  std::filesystem::create_symlink(dir / "gone", dir / "a/velin.toml");  // dangling: the same
  EXPECT_EQ(FindConfigFile(dir / "a/b"), std::optional<std::string>(dir / "a/velin.toml"));
  std::filesystem::remove(dir / "a/velin.toml");
  EXPECT_EQ(FindConfigFile(dir / "a/b"), std::optional<std::string>(dir / "velin.toml"));
}

TEST(ConfigErrors, ReadSecretFallsBackToTheFileAndStripsTheLineEnd) {
  TempDir dir;
  WriteFile(dir / "pw", "s3cret\r\n\n", 0600);
  auto from_file = ReadSecret("VELIN_TEST_SURELY_UNSET_VARIABLE", dir / "pw", "backup");
  ASSERT_TRUE(from_file) << from_file.error().message;
  EXPECT_EQ(*from_file, "s3cret");
  auto none = ReadSecret("", "", "backup");
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, "");
  auto missing = ReadSecret("", dir / "absent", "database 'shop'");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ExitCode::kUsage);
  EXPECT_EQ(missing.error().message, "database 'shop': " + (dir / "absent") + " does not exist");
}

TEST(ConfigErrors, ASecretFileOthersCanReadIsRefusedAtItsKey) {
  TempDir dir;
  WriteFile(dir / "creds", "[default]\n", 0604);
  auto r = LoadConfigFromString("[storage.s3]\nregion = \"eu\"\ncredentials_file = \"creds\"\n",
                                dir / "velin.toml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ExitCode::kUsage);
  EXPECT_EQ(r.error().message,
            dir / "velin.toml:3:1: key 'credentials_file' in [storage.s3]: " + (dir / "creds") +
                " can be read by other users (mode 0604); " + "run: chmod 600 " + (dir / "creds"));
}

// `config check` shows what a URL key holds only up to its host: the rest may be a token.
TEST(ConfigDescribe, UrlsAreShownUpToTheirHostAndAnUnsetDatabaseNotAtAll) {
  auto c = LoadInMem(
      "[monitor]\nping_url = \"https://hc-ping.com/5f1c-secret\"\n"
      "[notify]\nwebhook_url = \"https://hooks.slack.com\"\n"
      "[rollback]\nhealth_timeout = \"90s\"\n");
  ASSERT_TRUE(c) << c.error().message;
  nlohmann::json json = ConfigToJson(*c);
  EXPECT_EQ(json["monitor"]["ping_url"], "https://hc-ping.com/…");
  EXPECT_EQ(json["notify"]["webhook_url"], "https://hooks.slack.com");  // no path: as it is
  EXPECT_EQ(json["rollback"]["health_timeout"], "1m30s");
  EXPECT_EQ(json["backup"]["keep_last"], 0);
  EXPECT_EQ(json["backup"]["prune_after_create"], true);  // the default
  EXPECT_FALSE(json.contains("database"));
  EXPECT_EQ(json.dump().find("secret"), std::string::npos);

  Config odd = *c;
  odd.monitor.ping_url = "hc-ping.com/5f1c-secret";  // no scheme: nothing of it shown
  odd.notify.webhook_url = "";
  odd.database.configured = true;
  odd.database.driver = "sqlite";
  nlohmann::json shown = ConfigToJson(odd);
  EXPECT_EQ(shown["monitor"]["ping_url"], "…");
  EXPECT_EQ(shown["notify"]["webhook_url"], "");
  EXPECT_EQ(shown["database"]["driver"], "sqlite");

  std::vector<std::pair<std::string, std::string>> lines = ConfigToLines(odd);
  auto find = [&](const std::string& key) -> std::string {
    for (const auto& [k, v] : lines) {
      if (k == key) return v;
    }
    return "(absent)";
  };
  EXPECT_EQ(find("monitor.ping_url"), "\"…\"");
  EXPECT_EQ(find("rollback.health_timeout"), "\"1m30s\"");
  EXPECT_EQ(find("database.driver"), "\"sqlite\"");
  EXPECT_EQ(find("backup.include"), "[]");
  EXPECT_EQ(ConfigToLines(*c).size() + 9, lines.size());  // [database]'s nine keys added
}

// Any other key's URL (an override's destination, a health command) shows no password: every
// URL in the value has it as ***, the rest as it is.
TEST(ConfigDescribe, APasswordInAnyUrlIsShownAsStars) {
  Config c = DefaultConfig("/srv/app");
  c.rollback.health = "curl -fsS http://u:pw1@localhost:8080/up && curl 'https://a:pw2@b.x'";
  c.hooks.after_backup = "ftp://user@host/x ftp://h:pw3@host";
  c.fleet.ssh_options = {"-o", "ProxyCommand=curl http://p:pw4@proxy/"};
  const std::string json = ConfigToJson(c).dump();
  for (const char* secret : {"pw1", "pw2", "pw3", "pw4"}) {
    EXPECT_EQ(json.find(secret), std::string::npos) << secret << " in " << json;
  }
  nlohmann::json shown = ConfigToJson(c);
  EXPECT_EQ(shown["rollback"]["health"],
            "curl -fsS http://u:***@localhost:8080/up && curl 'https://a:***@b.x'");
  EXPECT_EQ(shown["hooks"]["after_backup"], "ftp://user@host/x ftp://h:***@host");
  EXPECT_EQ(shown["fleet"]["ssh_options"][1], "ProxyCommand=curl http://p:***@proxy/");
}

// A refused password names the key and its place, never the URL; an override names its variable.
TEST(ConfigErrors, APasswordInARepositoryUrlIsRefusedWithoutShowingIt) {
  ExpectErrors({
      {"[backup]\ndestination = \"sftp://u:pw@h/x\"\n",
       "2:1: key 'destination' in [backup]: a password does not belong in the URL (use "
       "VELIN_FTP_PASSWORD for FTP, a key file for SFTP, storage.s3.credentials_file for S3)"},
      {"[backup]\noffsite = \"s3://AK:SK@bucket\"\n",
       "2:1: key 'offsite' in [backup]: a password does not belong in the URL (use "
       "VELIN_FTP_PASSWORD for FTP, a key file for SFTP, storage.s3.credentials_file for S3)"},
      {"[storage.s3]\nregion = \"eu\"\nendpoint = \"https://k:s@minio:9000\"\n",
       "3:1: key 'endpoint' in [storage.s3]: a password does not belong in the URL (use "
       "VELIN_FTP_PASSWORD for FTP, a key file for SFTP, storage.s3.credentials_file for S3)"},
  });
  for (const char* fine : {"[backup]\ndestination = \"sftp://u@h:22/x\"\n",
                           "[storage.s3]\nendpoint = \"https://minio:9000\"\n",
                           "[backup]\ndestination = \"/srv/backups/a:b@c\"\n"}) {
    EXPECT_TRUE(LoadInMem(fine)) << fine;
  }
}

// A config read from a pipe (`--config <(…)` is /dev/fd/63) or standard input has no directory
// of its own: relative paths are the working directory's.
// libcurl cannot use these: "http://" warned "Couldn't resolve host name" at every run, a
// space "URL using bad/illegal format". The URL itself (maybe a token) is never quoted.
TEST(ConfigErrors, AUrlVelinFetchesNeedsAHostAndNoSpace) {
  ExpectErrors({
      {"[monitor]\nping_url = \"http://\"\n",
       "2:1: key 'ping_url' in [monitor] must name a host after the scheme (http://HOST/…)"},
      {"[monitor]\nping_url = \"https:///T0KEN\"\n",
       "2:1: key 'ping_url' in [monitor] must name a host after the scheme (http://HOST/…)"},
      {"[monitor]\nping_url = \"https://user@:443/T0KEN\"\n",
       "2:1: key 'ping_url' in [monitor] must name a host after the scheme (http://HOST/…)"},
      {"[monitor]\nping_url = \"https://hc ping.com/T0KEN\"\n",
       "2:1: key 'ping_url' in [monitor] holds a space or control character (write a space as "
       "%20)"},
      {"[monitor]\nping_url = \"https://hc-ping.com/T0KEN\\t\"\n",
       "2:1: key 'ping_url' in [monitor] holds a space or control character (write a space as "
       "%20)"},
      {"[monitor]\nping_url = \"https://hc-ping.com:99999/T0KEN\"\n",
       "2:1: key 'ping_url' in [monitor] has a port that is not a number from 1 to 65535"},
      {"[notify]\nwebhook_url = \"https://\"\n",
       "2:1: key 'webhook_url' in [notify] must name a host after the scheme (http://HOST/…)"},
      {"[notify]\nwebhook_url = \"https://hooks.example:x/T0KEN\"\n",
       "2:1: key 'webhook_url' in [notify] has a port that is not a number from 1 to 65535"},
      {"[rollback]\nhealth = \"http://localhost/T0KEN || true\"\n",
       "2:1: key 'health' in [rollback] holds a space or control character (write a space as "
       "%20)"},
  });
  // The scheme in any case, as libcurl reads it; a host with a port, an IPv6 address, a user.
  for (const char* url : {"HTTPS://hc-ping.com/abc", "Http://127.0.0.1:8080/x",
                          "https://[::1]:443/x?y=1", "https://u:p@h.example", "http://h:/x"}) {
    SCOPED_TRACE(url);
    auto loaded =
        LoadInMem(std::string("[monitor]\nping_url = \"") + url + "\"\n[notify]\nwebhook_url = \"" +
                  url + "\"\n[rollback]\nhealth = \"" + url + "\"\n");
    EXPECT_TRUE(loaded) << (loaded ? "" : loaded.error().message);
  }
  // A health command (no URL) may hold spaces.
  EXPECT_TRUE(LoadInMem("[rollback]\nhealth = \"curl -fsS http://localhost/up\"\n"));
}

TEST(ConfigPaths, AConfigFromAPipeResolvesAgainstTheWorkingDirectory) {
  const std::string cwd = std::filesystem::current_path().string();
  for (const char* pipe : {"/dev/fd/63", "/proc/self/fd/0", "/proc/4711/fd/3", "/dev/stdin"}) {
    io::MemEnv env;
    auto c = LoadConfigFromString("[backup]\ndestination = \"repo\"\n", pipe, env);
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->app.root, cwd) << pipe;
    EXPECT_EQ(c->backup.destination, cwd + "/repo") << pipe;
    EXPECT_EQ(c->file, pipe);
  }
  io::MemEnv env;
  auto file = LoadConfigFromString("", "/srv/app/velin.toml", env);
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(file->app.root, "/srv/app");
}

}  // namespace
}  // namespace velin::config
