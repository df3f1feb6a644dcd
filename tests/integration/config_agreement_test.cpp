// The real binary: what `config check` passes, the commands accept; what they refuse, it
// refuses, in one line naming where — a password in a repository URL (never shown), a secret
// source a command cannot use, a [database] made by overrides alone; a config from a pipe
// resolves its paths against the working directory; a repeated option is named as such.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_support.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

RunResult RunAgreementCase(const TempDir& dir, const std::vector<std::string>& args,
                           std::map<std::string, std::string> env = {}) {
  RunOptions o;
  o.cwd = dir.path();
  o.env = std::move(env);
  o.unset_env = {"VELIN_CONFIG", "VELIN_REPOSITORY", "VELIN_PASSPHRASE"};
  return RunVelin(args, o);
}

TEST(ConfigAgreementTest, APasswordInARepositoryUrlIsRefusedWithItsLineAndNeverShown) {
  struct Case {
    std::string toml;
    std::string where;  // FILE:LINE:COL and key
    std::string secret;
  };
  const Case cases[] = {
      {"[backup]\ndestination = \"sftp://u:pw123@127.0.0.1:1/x\"\n",
       "velin.toml:2:1: key 'destination' in [backup]: a password does not belong in the URL",
       "pw123"},
      {"[backup]\ndestination = \"s3://AK:SECRETS3@bucket/x\"\n",
       "velin.toml:2:1: key 'destination' in [backup]: a password does not belong in the URL",
       "SECRETS3"},
      {"[backup]\ndestination = \"/tmp/nowhere\"\noffsite = \"ftps://u:offpw@host/x\"\n",
       "velin.toml:3:1: key 'offsite' in [backup]: a password does not belong in the URL", "offpw"},
      {"[backup]\ndestination = \"s3://bucket/x\"\n[storage.s3]\n"
       "endpoint = \"https://key:SECRETX@minio.example.com\"\n",
       "velin.toml:4:1: key 'endpoint' in [storage.s3]: a password does not belong in the URL",
       "SECRETX"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    WriteFile(dir / "velin.toml", c.toml);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"config", "check"},
          std::vector<std::string>{"--json", "config", "check"},
          std::vector<std::string>{"backup", "list"}}) {
      RunResult r = RunAgreementCase(dir, args);
      EXPECT_EQ(r.exit_code, 2) << c.toml << args.front() << "\n" << r.out << r.err;
      EXPECT_NE(r.err.find(c.where), std::string::npos) << r.err;
      EXPECT_EQ((r.out + r.err).find(c.secret), std::string::npos) << r.out << r.err;
    }
  }
  // From an override: the variable is named, the password is not.
  TempDir dir;
  WriteFile(dir / "velin.toml", "[backup]\n");
  RunResult r = RunAgreementCase(dir, {"config", "check"},
                                 {{"VELIN_BACKUP_DESTINATION", "ftps://u:envpw@host/x"}});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("environment VELIN_BACKUP_DESTINATION: key 'destination' in [backup]: a "
                       "password does not belong in the URL"),
            std::string::npos)
      << r.err;
  EXPECT_EQ((r.out + r.err).find("envpw"), std::string::npos) << r.out << r.err;
  // From --repo, as the commands parse it.
  r = RunAgreementCase(dir, {"--repo", "sftp://u:repopw@host/x", "config", "check"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("destination 'sftp://…': a password does not belong in the URL"),
            std::string::npos)
      << r.err;
  EXPECT_EQ((r.out + r.err).find("repopw"), std::string::npos) << r.out << r.err;
}

// Any other key holding a URL (a health command, a hook) shows its password as ***.
TEST(ConfigAgreementTest, CheckShowsNoPasswordOfAnyUrl) {
  TempDir dir;
  WriteFile(dir / "velin.toml",
            "[rollback]\nhealth = \"curl -fsS http://mon:hpw1@localhost:8080/up && curl "
            "https://a:hpw2@b.example/x\"\n[hooks]\nafter_backup = \"wget ftp://h:hookpw@host\"\n");
  for (bool json : {false, true}) {
    std::vector<std::string> args = {"config", "check"};
    if (json) args.insert(args.begin(), "--json");
    RunResult r = RunAgreementCase(dir, args);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    for (const char* secret : {"hpw1", "hpw2", "hookpw"}) {
      EXPECT_EQ((r.out + r.err).find(secret), std::string::npos) << secret << "\n" << r.out;
    }
    EXPECT_NE(r.out.find("curl -fsS http://mon:***@localhost:8080/up && curl "
                         "https://a:***@b.example/x"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("wget ftp://h:***@host"), std::string::npos) << r.out;
  }
}

// `--config <(…)` is /dev/fd/N: its relative paths are the working directory's, not /dev/fd's.
TEST(ConfigAgreementTest, AConfigFromAPipeResolvesAgainstTheWorkingDirectory) {
  TempDir dir;
  WriteFile(dir / "data/f", "x");
  RunOptions o;
  o.cwd = dir.path();
  o.unset_env = {"VELIN_CONFIG", "VELIN_REPOSITORY"};
  const std::string toml = "printf '[backup]\\ninclude=[\"data\"]\\n'";
  RunResult init =
      RunProgram({"bash", "-c", "'" + VelinBinary() + "' --config <(" + toml + ") backup init"}, o);
  ASSERT_EQ(init.exit_code, 0) << init.out << init.err;
  EXPECT_TRUE(fs::is_directory(dir / ".velin/backups")) << init.out;
  RunResult check = RunProgram(
      {"bash", "-c", "'" + VelinBinary() + "' --json --config <(" + toml + ") config check"}, o);
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  const nlohmann::json doc = nlohmann::json::parse(check.out);
  EXPECT_EQ(doc["config"]["app"]["root"], fs::canonical(dir.path()).string()) << check.out;
  RunResult stdin_check = RunProgram(
      {"bash", "-c", "" + toml + " | '" + VelinBinary() + "' --config /dev/stdin config check"}, o);
  ASSERT_EQ(stdin_check.exit_code, 0) << stdin_check.err;
  EXPECT_NE(stdin_check.out.find("app.root = \"" + fs::canonical(dir.path()).string() + "\""),
            std::string::npos)
      << stdin_check.out;
}

// What `backup init` refuses about the passphrase, `config check` refuses too, without showing
// a secret; the refused init leaves no repository directory behind.
TEST(ConfigAgreementTest, CheckRefusesThePassphraseSourcesInitRefuses) {
  for (const std::string empty : {"", "\n", "\r\n"}) {
    TempDir dir;
    WriteFile(dir / "pf", empty, 0600);
    WriteFile(dir / "velin.toml",
              "[backup]\nencryption = \"aes-256-gcm\"\npassword_file = \"pf\"\n");
    RunResult check = RunAgreementCase(dir, {"config", "check"});
    EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
    EXPECT_NE(check.err.find("repository passphrase: " + fs::canonical(dir.path()).string() +
                             "/pf is empty"),
              std::string::npos)
        << check.err;
    RunResult init = RunAgreementCase(dir, {"backup", "init"});
    EXPECT_EQ(init.exit_code, 2) << init.err;
    EXPECT_FALSE(fs::exists(dir / ".velin")) << "a refused init left its directory";
  }
  {
    TempDir dir;
    WriteFile(dir / "velin.toml", "[backup]\nencryption = \"aes-256-gcm\"\n");
    RunResult check = RunAgreementCase(dir, {"config", "check"});
    EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
    EXPECT_NE(check.err.find("no repository passphrase: set backup.password_env or "
                             "backup.password_file"),
              std::string::npos)
        << check.err;
    RunResult init = RunAgreementCase(dir, {"backup", "init"});
    EXPECT_EQ(init.exit_code, 2) << init.err;
    EXPECT_FALSE(fs::exists(dir / ".velin/backups")) << "a refused init left its directory";
    // A variable named but unset here: cron may set it, so the check does not fail on it.
    WriteFile(dir / "velin.toml",
              "[backup]\nencryption = \"aes-256-gcm\"\npassword_env = \"AGREEMENT_PASS\"\n");
    RunOptions o;
    o.cwd = dir.path();
    o.unset_env = {"AGREEMENT_PASS", "VELIN_CONFIG"};
    check = RunVelin({"config", "check"}, o);
    EXPECT_EQ(check.exit_code, 0) << check.err;
    o.env["AGREEMENT_PASS"] = "";
    check = RunVelin({"config", "check"}, o);
    EXPECT_EQ(check.exit_code, 2) << check.err;
    EXPECT_NE(check.err.find("environment variable AGREEMENT_PASS is empty"), std::string::npos)
        << check.err;
  }
  TempDir dir;
  WriteFile(dir / "velin.toml", "[backup]\n");
  WriteFile(dir / "p644", "topsecret-644\n", 0644);
  RunResult check = RunAgreementCase(dir, {"--password-file", "p644", "config", "check"});
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE(check.err.find("--password-file: " + fs::canonical(dir.path()).string() +
                           "/p644 can be read by other users"),
            std::string::npos)
      << check.err;
  EXPECT_EQ((check.out + check.err).find("topsecret"), std::string::npos) << check.out;
  check = RunAgreementCase(dir, {"--password-file", "nonexist", "config", "check"});
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE(check.err.find("--password-file: " + fs::canonical(dir.path()).string() +
                           "/nonexist does not exist"),
            std::string::npos)
      << check.err;
  WriteFile(dir / "p600", "fine\n", 0600);
  check = RunAgreementCase(dir, {"--password-file", "p600", "config", "check"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
}

TEST(ConfigAgreementTest, CheckRefusesAnS3CredentialsFileThatDoesNotParse) {
  TempDir dir;
  WriteFile(dir / "cred", "garbage-AKIASECRET\n", 0600);
  WriteFile(dir / "velin.toml",
            "[backup]\ndestination = \"s3://bkt/x\"\n[storage.s3]\ncredentials_file = \"cred\"\n");
  RunResult check = RunAgreementCase(dir, {"config", "check"});
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE(check.err.find("key 'credentials_file' in [storage.s3]: " +
                           fs::canonical(dir.path()).string() + "/cred:1: expected KEY=VALUE"),
            std::string::npos)
      << check.err;
  EXPECT_EQ((check.out + check.err).find("AKIASECRET"), std::string::npos) << check.err;
  WriteFile(dir / "cred", "AWS_ACCESS_KEY_ID=AKIAX\nAWS_SECRET_ACCESS_KEY=topsecret\n", 0600);
  check = RunAgreementCase(dir, {"config", "check"});
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_EQ((check.out + check.err).find("topsecret"), std::string::npos) << check.out;
}

// A [database] that only overrides made names them, not velin.toml:1:1.
TEST(ConfigAgreementTest, ADatabaseMadeByOverridesNamesTheirVariables) {
  TempDir dir;
  WriteFile(dir / "velin.toml", "[backup]\ninclude = [\"data\"]\n");
  RunResult r = RunAgreementCase(
      dir, {"config", "check"},
      {{"VELIN_DATABASE_HOST", "db.example.com"}, {"VELIN_DATABASE_PORT", "5433"}});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.err,
            "error: environment VELIN_DATABASE_HOST, VELIN_DATABASE_PORT: [database] needs key "
            "'driver' (\"postgresql\", \"mysql\" or \"sqlite\")\n");
}

TEST(ConfigAgreementTest, AnOptionGivenTwiceIsNamedAsSuch) {
  TempDir dir;
  WriteFile(dir / "velin.toml", "[backup]\n");
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const Case cases[] = {
      {{"--config", "/x", "--config", "./velin.toml", "config", "check"},
       "error: --config was given more than once: give it once\n"},
      {{"--repo", "a", "--repo", "b", "backup", "list"},
       "error: --repo was given more than once: give it once\n"},
      {{"backup", "list", "--host", "a", "--host", "b"},
       "error: --host was given more than once: give it once\n"},
      {{"rollback", "begin", "--timeout"}, "error: --timeout needs a value (DURATION)\n"},
  };
  for (const Case& c : cases) {
    RunResult r = RunAgreementCase(dir, c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args.front();
    EXPECT_EQ(r.err, c.err);
  }
}

// docs/exit-codes.md: one line, the error; no warning about the same log file before it.
TEST(ConfigAgreementTest, AnUnopenableLogFileIsOneErrorLineUnderCheck) {
  TempDir dir;
  WriteFile(dir / "velin.toml", "[log]\nfile = \"/proc/nonexist/x.log\"\n");
  RunResult r = RunAgreementCase(dir, {"config", "check"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_EQ(SplitLines(r.err).size(), 1u) << r.err;
  EXPECT_TRUE(r.err.starts_with("error: " + fs::canonical(dir.path()).string() +
                                "/velin.toml:2:1: key 'file' in [log]: cannot open log file "
                                "/proc/nonexist/x.log"))
      << r.err;
}

// The new messages are in the German catalogue (the miss report stays empty).
TEST(ConfigAgreementTest, TheNewMessagesAreGerman) {
  TempDir dir;
  const std::string report = dir / "misses.txt";
  WriteFile(dir / "p644", "x\n", 0644);
  RunOptions o;
  o.cwd = dir.path();
  o.env = {{"LANG", "de_DE.UTF-8"}, {"VELIN_I18N_REPORT_MISSES", report}};
  o.unset_env = {"LC_ALL", "LC_MESSAGES", "VELIN_CONFIG"};
  WriteFile(dir / "velin.toml", "[backup]\ndestination = \"sftp://u:pw@host/x\"\n");
  RunResult url = RunVelin({"config", "check"}, o);
  EXPECT_EQ(url.exit_code, 2);
  EXPECT_NE(url.err.find("ein Passwort gehört nicht in die URL"), std::string::npos) << url.err;
  WriteFile(dir / "velin.toml", "[backup]\n");
  RunResult twice = RunVelin({"--repo", "a", "--repo", "b", "backup", "list"}, o);
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.err.find("--repo wurde mehrfach angegeben"), std::string::npos) << twice.err;
  RunResult file = RunVelin({"--password-file", "p644", "config", "check"}, o);
  EXPECT_EQ(file.exit_code, 2);
  std::string misses = fs::exists(report) ? ReadFileOrDie(report) : "";
  EXPECT_EQ(misses, "") << "untranslated under LANG=de_DE.UTF-8";
}

}  // namespace
}  // namespace velin::testing
