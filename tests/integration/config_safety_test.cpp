// The real binary: what `config check` accepts, the commands accept too, and what they would
// refuse it refuses with file:line — include paths outside app.root, clear-text transports,
// secret files behind symlinks; a misspelt VELIN_* override is named; the log file is private.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

TEST(ConfigSafetyTest, IncludePathsOutsideTheAppAreRefusedByCheckWithTheirLine) {
  for (std::string bad : {"../etc", "/etc", "storage/../../x", "."}) {
    TempDir dir;
    WriteFile(
        dir / "velin.toml",
        "[app]\nroot = \"app\"\n[backup]\ninclude = [\n  \"storage\",\n  \"" + bad + "\",\n]\n");
    RunResult r = RunVelin({"config", "check", "--config", dir / "velin.toml"});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("velin.toml:6:3: key 'include' in [backup]: \"" + bad +
                         "\" must be a path inside app.root"),
              std::string::npos)
        << r.err;
  }
}

TEST(ConfigSafetyTest, AMisspeltEnvironmentOverrideIsNamedWithTheLikelyKey) {
  BackupApp app;
  std::filesystem::create_directories(app.root() + "/storage");  // no missing-include warning
  RunOptions o;
  o.env["VELIN_BACKUP_COMPRESION"] = "gzip";
  o.env["VELIN_ROLLBACK_NO_SUCH_KEY"] = "1";
  o.env["VELIN_FTP_PASSWORD"] = "not a key, but velin's";
  RunResult r = app.Run({"config", "check"}, o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("environment variable VELIN_BACKUP_COMPRESION is not a velin setting and "
                       "is ignored (did you mean 'VELIN_BACKUP_COMPRESSION'?)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("VELIN_ROLLBACK_NO_SUCH_KEY is not a velin setting"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("VELIN_FTP_PASSWORD"), std::string::npos) << r.err;
  o.env.erase("VELIN_BACKUP_COMPRESION");
  o.env.erase("VELIN_ROLLBACK_NO_SUCH_KEY");
  o.env["VELIN_BACKUP_COMPRESSION"] = "gzip";
  r = app.Run({"config", "check"}, o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

// A ping or webhook URL carries its secret in the path (healthchecks.io uuid, Slack hook
// token): `config check` shows scheme and host only. The variables a hook or notify command
// is given are no misspelt settings when that command runs velin itself.
TEST(ConfigSafetyTest, CheckMasksUrlTokensAndKnowsTheHookVariables) {
  BackupApp app;
  std::filesystem::create_directories(app.root() + "/storage");  // no missing-include warning
  RunOptions o;
  o.env["VELIN_MONITOR_PING_URL"] = "https://hc-ping.com/5f1c0ffee-secret-uuid";
  o.env["VELIN_NOTIFY_WEBHOOK_URL"] = "https://hooks.slack.com/services/T0/B0/xoxsecret?x=1";
  for (const char* v : {"VELIN_EVENT", "VELIN_OUTCOME", "VELIN_SUMMARY", "VELIN_HOST", "VELIN_APP",
                        "VELIN_TIME", "VELIN_VERSION", "VELIN_ERROR"}) {
    o.env[v] = "x";
  }
  for (bool json : {false, true}) {
    std::vector<std::string> args = {"config", "check"};
    if (json) args.push_back("--json");
    RunResult r = app.Run(args, o);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ((r.out + r.err).find("secret"), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.out.find("https://hc-ping.com/…"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("https://hooks.slack.com/…"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  }
}

// A ping or webhook URL written in a velin.toml other users may read: its token is theirs too.
// `config check` says so with the key's line (not for a URL from the environment, above).
TEST(ConfigSafetyTest, CheckWarnsOfATokenUrlInAFileOthersMayRead) {
  BackupApp app({"storage"},
                "[notify]\nwebhook_url = \"https://hooks.slack.com/services/T0/B0/xx\"\n");
  std::filesystem::create_directories(app.root() + "/storage");  // no missing-include warning
  const std::string file = app.path("velin.toml");
  ASSERT_TRUE(std::filesystem::exists(file));
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  RunResult r = app.Run({"config", "check"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("notify.webhook_url may hold a token, and " + file +
                       " is readable by other users (mode 0644): `chmod 600 " + file + "`"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("VELIN_NOTIFY_WEBHOOK_URL"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("tok3n-secret"), std::string::npos) << r.err;
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  r = app.Run({"config", "check"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

TEST(ConfigSafetyTest, ClearTextTransportsOffThisMachineNeedAllowInsecure) {
  struct Case {
    std::string backup;  // [backup] lines
    std::string s3;      // [storage.s3] lines
    std::string error;   // "" when allowed
  };
  const std::string ftp_error = "plain FTP sends the data and the password in clear";
  const std::string http_error = "plain HTTP sends the data and the credentials in clear";
  const std::vector<Case> cases = {
      {"destination = \"ftp://backup@192.0.2.1/velin\"", "", ftp_error},
      {"offsite = \"ftp://backup@files.example.net/velin\"", "", ftp_error},
      {"destination = \"s3://bkt/velin\"", "endpoint = \"http://192.0.2.1:9000\"", http_error},
      {"destination = \"ftp://backup@192.0.2.1/velin\"\nallow_insecure = true", "", ""},
      {"destination = \"s3://bkt/v\"\nallow_insecure = true", "endpoint = \"http://192.0.2.1\"",
       ""},
      {"destination = \"ftp://backup@127.0.0.1:2121/velin\"", "", ""},
      {"destination = \"s3://bkt/v\"", "endpoint = \"http://localhost:9000\"", ""},
      {"destination = \"ftps://backup@192.0.2.1/velin\"", "", ""},
      {"destination = \"s3://bkt/v\"", "endpoint = \"https://192.0.2.1\"", ""},
  };
  for (const Case& c : cases) {
    TempDir dir;
    WriteFile(dir / "velin.toml", "[app]\nroot = \".\"\n[backup]\ninclude = [\"x\"]\n" + c.backup +
                                      "\n[storage.s3]\n" + c.s3 + "\n");
    RunResult check = RunVelin({"config", "check", "--config", dir / "velin.toml"});
    if (c.error.empty()) {
      EXPECT_EQ(check.exit_code, 0) << c.backup << c.s3 << check.err;
      continue;
    }
    EXPECT_EQ(check.exit_code, 2) << c.backup << c.s3 << check.err;
    EXPECT_NE(check.err.find(c.error), std::string::npos) << check.err;
    EXPECT_NE(check.err.find("allow_insecure = true"), std::string::npos) << check.err;
    if (c.backup.find("offsite") != std::string::npos) continue;
    // The command refuses before it connects anywhere (192.0.2.1 is TEST-NET: nothing answers).
    RunResult create = RunVelin({"backup", "create", "--config", dir / "velin.toml"});
    EXPECT_EQ(create.exit_code, 2) << create.err;
    EXPECT_NE(create.err.find(c.error), std::string::npos) << create.err;
  }
}

// A password written into a destination URL is refused, and shown nowhere: not in the
// "Copying backups to …" line before the refusal, not in an error about another part of the URL,
// not in the offsite copy's failure.
TEST(ConfigSafetyTest, APasswordInADestinationUrlIsShownNowhere) {
  BackupApp app({"storage"});
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  for (const char* to :
       {"ftp://velin-ftp:Sup3rSecret@127.0.0.1:1/off", "ftp://u:Sup3rSecret@h/off?x",
        "ftpes://u:Sup3rSecret@h/off", "ftp://u:Sup3rSecret@h:99999/off"}) {
    RunResult r = app.Run({"backup", "copy", "latest", "--to", to});
    EXPECT_EQ(r.exit_code, 2) << to << ": " << r.out << r.err;
    EXPECT_EQ((r.out + r.err).find("Sup3rSecret"), std::string::npos) << r.out << r.err;
    r = app.Run({"backup", "copy", "latest", "--to", to, "--json"});
    EXPECT_EQ((r.out + r.err).find("Sup3rSecret"), std::string::npos) << r.out << r.err;
  }
  RunOptions offsite;
  offsite.env["VELIN_BACKUP_OFFSITE"] = "ftp://u:Sup3rSecret@127.0.0.1:1/off";
  RunResult r = app.Run({"backup", "create"}, offsite);
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ((r.out + r.err).find("Sup3rSecret"), std::string::npos) << r.out << r.err;
}

TEST(ConfigSafetyTest, TheLogFileIsPrivate) {
  BackupApp app({"storage"}, "\n[log]\nfile = \"logs/velin.log\"\n");
  WriteFile(app.root() + "/storage/a", "a");
  RunResult r = app.Run({"backup", "create"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(app.path("logs/velin.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_GT(st.st_size, 0);
  // A log an older velin left readable is narrowed.
  ::chmod(app.path("logs/velin.log").c_str(), 0644);
  ASSERT_EQ(app.Run({"backup", "list"}).exit_code, 0);
  ASSERT_EQ(::stat(app.path("logs/velin.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(ConfigSafetyTest, ASymlinkedCredentialsFileIsJudgedAlikeByCheckAndUse) {
  S3Server server;
  BackupApp app({"storage"}, "\n[storage.s3]\nendpoint = \"" + server.endpoint() +
                                 "\"\npath_style = true\ncredentials_file = \"s3.link\"\n");
  WriteFile(app.root() + "/storage/a", "a");
  TempDir secrets, cache;
  RunOptions o;
  o.env["VELIN_CACHE_DIR"] = cache.path();
  std::filesystem::create_symlink(secrets / "s3.env", app.path("s3.link"));

  // The target is private: both accept it.
  WriteFile(secrets / "s3.env",
            std::string("AWS_ACCESS_KEY_ID=") + S3Server::kAccessKey +
                "\nAWS_SECRET_ACCESS_KEY=" + S3Server::kSecretKey + "\n",
            0600);
  RunResult check = app.Run({"config", "check"}, o);
  EXPECT_EQ(check.exit_code, 0) << check.err;
  const std::vector<std::string> create_args = {"backup", "create", "--destination",
                                                "s3://bkt/velin"};
  RunResult create = app.Run(create_args, o);
  EXPECT_EQ(create.exit_code, 0) << create.err;

  // The target can be read by others: both refuse it, with the same words.
  ::chmod((secrets / "s3.env").c_str(), 0644);
  check = app.Run({"config", "check"}, o);
  EXPECT_EQ(check.exit_code, 2) << check.err;
  create = app.Run(create_args, o);
  EXPECT_EQ(create.exit_code, 2) << create.err;
  const std::string refusal = "s3.link can be read by other users (mode 0644); run: chmod 600";
  EXPECT_NE(check.err.find(refusal), std::string::npos) << check.err;
  EXPECT_NE(create.err.find(refusal), std::string::npos) << create.err;
}

}  // namespace
}  // namespace velin::testing
