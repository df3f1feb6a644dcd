// What an audit of the real binary found the CLI breaking of its own contract (docs/cli.md,
// docs/exit-codes.md): --json usage errors found before CLI11 applied --json printed no
// document; a held signal's error document named exit code 1 while the process ended by 143;
// `backup key` took a relative repository as an error; human output showed UTC RFC 3339 times
// where docs/cli.md "Times" promises local ones; `verify ID --all` said neither was given;
// `config check` errors without FILE:LINE:COLUMN and a --json shape with flat "storage.s3" keys.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/backup_fixture.hpp"
#include "support/rollback_app.hpp"
#include "velin/crypto/key_ring.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// A zone 5:30 ahead of UTC, as a POSIX TZ string (no zone database needed): local times differ
// from UTC ones in hours and minutes both.
constexpr char kCliAuditZone[] = "IST-5:30";

RunOptions CliAuditEnglish(const std::string& cwd) {
  RunOptions o;
  o.cwd = cwd;
  o.env = {{"LANG", "C"}, {"TZ", kCliAuditZone}};
  o.unset_env = {"LC_ALL",           "LC_MESSAGES",  "VELIN_PASSPHRASE",
                 "VELIN_REPOSITORY", "VELIN_CONFIG", "VELIN_LOG_FILE"};
  return o;
}

// Finding 1: each is a usage error CLI11 finds before it applies --json's result.
TEST(CliAuditFixes, AUsageErrorFoundBeforeJsonIsAppliedStillPrintsTheDocument) {
  TempDir dir;
  WriteFile(dir / "velin.toml", "[backup]\n");
  const std::vector<std::vector<std::string>> lines = {
      {"--json", "rollback", "begin", "--timeout"},
      {"--json", "backup", "list", "--host"},
      {"--json", "backup", "restore", "latest", "--json", "--target"},
      {"--json", "--config", "a", "--config", "b", "backup", "list"},
      {"--json", "backup", "list", "--config", ""},
      {"backup", "list", "--config", "", "--json"},
  };
  for (const auto& args : lines) {
    const std::string shown = nlohmann::json(args).dump();
    RunResult r = RunVelin(args, CliAuditEnglish(dir.path()));
    EXPECT_EQ(r.exit_code, 2) << shown << r.err;
    ASSERT_TRUE(r.err.starts_with("error: ")) << shown << r.err;
    EXPECT_EQ(SplitLines(r.err).size(), 1u) << shown << r.err;
    auto doc = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << shown << ": stdout is no JSON document: '" << r.out << "'";
    EXPECT_EQ(doc["error"]["exit_code"], 2) << shown << r.out;
    EXPECT_EQ(doc["error"]["message"], r.err.substr(7, r.err.size() - 8)) << shown << r.out;
  }
}

// Finding 5: --version gives a document with --json; --help wins over --json (documented).
TEST(CliAuditFixes, VersionIsADocumentWithJsonAndHelpStaysText) {
  TempDir dir;
  RunResult plain = RunVelin({"--version"}, CliAuditEnglish(dir.path()));
  ASSERT_EQ(plain.exit_code, 0);
  ASSERT_TRUE(plain.out.starts_with("velin ")) << plain.out;
  const std::string version = plain.out.substr(6, plain.out.size() - 7);
  for (const auto& args : {std::vector<std::string>{"--json", "--version"},
                           std::vector<std::string>{"--version", "--json"}}) {
    RunResult r = RunVelin(args, CliAuditEnglish(dir.path()));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto doc = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(doc.is_discarded()) << r.out;
    EXPECT_EQ(doc, nlohmann::json({{"version", version}})) << r.out;
  }
  RunResult help = RunVelin({"--json", "backup", "list", "--help"}, CliAuditEnglish(dir.path()));
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--host"), std::string::npos) << help.out;
  const std::string cli = ReadFileOrDie(SourceDir() + "/docs/cli.md");
  EXPECT_NE(cli.find("it wins over `--json`: the help text, no document"), std::string::npos);
  EXPECT_NE(cli.find("with `--json`, `{\"version\": \"X.Y.Z\"}`"), std::string::npos);
}

// Finding 4: stopped by SIGTERM (before its first storage request), the backup ends by the signal
// and its error document says so.
TEST(CliAuditFixes, TheErrorDocumentOfASignalledRunNamesTheCodeTheShellSees) {
  BackupApp app({"storage"});
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  RunOptions o = CliAuditEnglish(app.path(""));
  o.env["VELIN_FAULT_SIGNAL"] = "1:SIGTERM";
  RunResult r = app.Run({"--json", "backup", "create"}, o);
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.err;
  EXPECT_NE(r.err.find("error: backup interrupted by SIGTERM"), std::string::npos) << r.err;
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_EQ(doc["error"]["exit_code"], 128 + SIGTERM) << r.out;
}

// Finding 6: both given is not "neither".
TEST(CliAuditFixes, VerifyWithAnIdAndAllSaysBothWereGiven) {
  TempDir dir;
  WriteFile(dir / "velin.toml", "[backup]\n");
  RunResult both = RunVelin({"backup", "verify", "latest", "--all"}, CliAuditEnglish(dir.path()));
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_EQ(both.err, "error: verify takes a backup ID or --all, not both\n");
  RunResult neither = RunVelin({"backup", "verify"}, CliAuditEnglish(dir.path()));
  EXPECT_EQ(neither.exit_code, 2);
  EXPECT_EQ(neither.err, "error: verify needs a backup ID or --all\n");
}

// Finding 7: every `config check` error names FILE:LINE:COLUMN (or the override's variable).
TEST(CliAuditFixes, ConfigCheckErrorsFoundAfterLoadingNameFileLineAndColumn) {
  TempDir dir;
  const std::string file = fs::canonical(dir.path()).string() + "/velin.toml";
  RunOptions o = CliAuditEnglish(dir.path());
  o.unset_env.push_back("CLI_AUDIT_EMPTY");

  WriteFile(dir / "velin.toml", "[app]\nname = \"shop\"\n[log]\nlevel = \"info\"\nfile = \"/\"\n");
  RunResult log = RunVelin({"config", "check"}, o);
  EXPECT_EQ(log.exit_code, 2);
  EXPECT_EQ(log.err, "error: " + file +
                         ":5:1: key 'file' in [log]: cannot open log file /: Is a directory\n");

  WriteFile(dir / "velin.toml", "[app]\nname = \"shop\"\n");
  RunOptions by_env = o;
  by_env.env["VELIN_LOG_FILE"] = "/";
  by_env.unset_env.pop_back();
  by_env.unset_env.erase(
      std::find(by_env.unset_env.begin(), by_env.unset_env.end(), "VELIN_LOG_FILE"));
  RunResult log_env = RunVelin({"config", "check"}, by_env);
  EXPECT_EQ(log_env.exit_code, 2);
  EXPECT_EQ(log_env.err,
            "error: environment VELIN_LOG_FILE: key 'file' in [log]: cannot open log file /: Is a "
            "directory\n");

  WriteFile(dir / "velin.toml", "[backup]\ninclude = []\nencryption = \"aes-256-gcm\"\n");
  RunResult none = RunVelin({"config", "check"}, o);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.err, "error: " + file +
                          ":3:1: key 'encryption' in [backup]: no repository passphrase: set "
                          "backup.password_env or backup.password_file\n");

  WriteFile(dir / "velin.toml",
            "[backup]\nencryption = \"aes-256-gcm\"\n\npassword_env = \"CLI_AUDIT_EMPTY\"\n");
  RunOptions empty = o;
  empty.unset_env.pop_back();
  empty.env["CLI_AUDIT_EMPTY"] = "";
  RunResult blank = RunVelin({"config", "check"}, empty);
  EXPECT_EQ(blank.exit_code, 2);
  EXPECT_EQ(blank.err, "error: " + file +
                           ":4:1: repository passphrase: environment variable CLI_AUDIT_EMPTY is "
                           "empty\n");

  WriteFile(dir / "pf", "\n", 0600);
  WriteFile(dir / "velin.toml", "[backup]\nencryption = \"aes-256-gcm\"\npassword_file = \"pf\"\n");
  RunResult empty_file = RunVelin({"config", "check"}, o);
  EXPECT_EQ(empty_file.exit_code, 2);
  EXPECT_EQ(empty_file.err, "error: " + file + ":3:1: repository passphrase: " +
                                fs::canonical(dir.path()).string() + "/pf is empty\n");
}

// Finding 8: the JSON nests [storage.*] as TOML does, every section with its defaults, as the
// human output lists them; fleet.config shows its default, this file's path.
TEST(CliAuditFixes, ConfigCheckJsonNestsStorageAndShowsEffectiveDefaults) {
  TempDir dir;
  const std::string file = fs::canonical(dir.path()).string() + "/velin.toml";
  WriteFile(dir / "velin.toml", "[app]\nname = \"shop\"\n");
  RunResult r = RunVelin({"--json", "config", "check"}, CliAuditEnglish(dir.path()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  const nlohmann::json& config = doc["config"];
  EXPECT_FALSE(config.contains("storage.s3")) << r.out;
  EXPECT_FALSE(config.contains("storage.sftp")) << r.out;
  ASSERT_TRUE(config.contains("storage")) << r.out;
  EXPECT_EQ(config["storage"]["s3"]["region"], "us-east-1");
  EXPECT_EQ(config["storage"]["s3"]["parallel_uploads"], 4);
  EXPECT_EQ(config["storage"]["sftp"]["key_file"], "");
  EXPECT_EQ(config["fleet"]["config"], file);

  // The human output holds the same keys with the same values.
  RunResult human = RunVelin({"config", "check"}, CliAuditEnglish(dir.path()));
  ASSERT_EQ(human.exit_code, 0) << human.err;
  size_t keys = 0;
  for (const std::string& line : SplitLines(human.out)) {
    const size_t eq = line.find(" = ");
    if (!line.starts_with("  ") || eq == std::string::npos) continue;
    const std::string key = line.substr(2, eq - 2);
    std::string pointer;
    for (char c : key) pointer += c == '.' ? '/' : c;
    const nlohmann::json::json_pointer p("/" + pointer);
    ASSERT_TRUE(config.contains(p)) << key;
    EXPECT_EQ(config[p].dump(), line.substr(eq + 3)) << key;
    ++keys;
  }
  EXPECT_GT(keys, 50u) << human.out;
}

// The man page names the variables docs/config.md lists for a repository alone.
TEST(CliAuditFixes, TheManPageNamesTheRepositoryVariables) {
  TempDir dir;
  const std::string page = RunVelin({"__man"}, CliAuditEnglish(dir.path())).out;
  const size_t environment = page.find(".SH ENVIRONMENT");
  ASSERT_NE(environment, std::string::npos);
  const std::string section = page.substr(environment, page.find(".SH FILES") - environment);
  EXPECT_NE(section.find("VELIN_REPOSITORY"), std::string::npos) << section;
  EXPECT_NE(section.find("VELIN_PASSPHRASE"), std::string::npos) << section;
}

// "2026-11-25T10:00:00Z" as local time in kCliAuditZone: "2026-11-25 15:30:00".
std::string CliAuditLocalOf(const std::string& iso) {
  std::tm tm{};
  EXPECT_NE(::strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm), nullptr) << iso;
  std::time_t t = ::timegm(&tm) + 5 * 3600 + 30 * 60;
  std::tm shifted{};
  ::gmtime_r(&t, &shifted);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &shifted);
  return buf;
}

// Finding 3: the rollback transaction's human lines and messages show local times.
TEST(CliAuditFixes, TransactionTimesAreLocalInHumanOutputAndUtcInJson) {
  ToyApp app(NoService());
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  const std::map<std::string, std::string> zone = {{"TZ", kCliAuditZone}, {"LANG", "C"}};

  RunResult begun = app.Velin({"rollback", "begin", "--timeout", "1h"}, zone);
  ASSERT_EQ(begun.exit_code, 0) << begun.err;
  auto st = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}, zone).out);
  const auto txn = st["transaction"];
  const std::string deadline = txn["deadline"];
  const std::string started = txn["started"];
  ASSERT_TRUE(deadline.ends_with("Z")) << deadline;  // JSON: RFC 3339 in UTC
  ASSERT_TRUE(started.ends_with("Z")) << started;
  EXPECT_NE(begun.out.find("open until " + CliAuditLocalOf(deadline) + " (base "),
            std::string::npos)
      << begun.out;

  RunResult status = app.Velin({"rollback", "status"}, zone);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("started " + CliAuditLocalOf(started) + " by "), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("Deadline " + CliAuditLocalOf(deadline) + " ("), std::string::npos)
      << status.out;

  RunResult second = app.Velin({"rollback", "begin"}, zone);
  EXPECT_EQ(second.exit_code, 3) << second.err;
  EXPECT_NE(second.err.find("open until " + CliAuditLocalOf(deadline) + ")"), std::string::npos)
      << second.err;

  RunResult extended = app.Velin({"rollback", "extend", "5m"}, zone);
  ASSERT_EQ(extended.exit_code, 0) << extended.err;
  auto st2 = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}, zone).out);
  EXPECT_NE(extended.out.find("extended until " +
                              CliAuditLocalOf(st2["transaction"]["deadline"].get<std::string>())),
            std::string::npos)
      << extended.out;

  ASSERT_EQ(app.Velin({"rollback", "commit"}, zone).exit_code, 0);
  auto history = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}, zone).out);
  std::string ended;
  for (const auto& h : history["history"]) {
    if (h["action"] == "transaction") ended = h["time"];
  }
  ASSERT_FALSE(ended.empty()) << history.dump();
  RunResult again = app.Velin({"rollback", "commit"}, zone);
  EXPECT_EQ(again.exit_code, 1) << again.err;
  EXPECT_NE(again.err.find("ended at " + CliAuditLocalOf(ended) + ": "), std::string::npos)
      << again.err;
}

// An encrypted repository at `repo`, its one key made at 2026-11-25T10:00:00Z.
void CliAuditMakeEncryptedRepository(const std::string& repo, const std::string& passphrase) {
  auto backend = storage::LocalBackend::Open(io::Env::Default(), repo, true);
  ASSERT_TRUE(backend) << backend.error().message;
  crypto::KeyOrigin origin{.hostname = "h", .username = "u", .created = "2026-11-25T10:00:00Z"};
  auto created = crypto::CreateRepositoryKey(**backend, passphrase, origin, {});
  ASSERT_TRUE(created) << created.error().message;
}

// Finding 2 (and 3 for `key list`): a relative repository is from the working directory, as
// for every other command, and --destination shows in each key command's help.
TEST(CliAuditFixes, KeyCommandsTakeARelativeRepositoryFromTheWorkingDirectory) {
  TempDir dir;
  const std::string passphrase = "cli-audit-Passphrase-31";
  fs::create_directories(dir / "sub");
  CliAuditMakeEncryptedRepository(dir / "sub/erepo", passphrase);
  const std::string repo = fs::canonical(dir / "sub/erepo").string();
  // The velin.toml one level up: a relative --destination is not from its directory.
  WriteFile(dir / "velin.toml", "[backup]\npassword_env = \"CLI_AUDIT_PASS\"\n");
  RunOptions o = CliAuditEnglish(dir / "sub");
  o.env["CLI_AUDIT_PASS"] = passphrase;
  o.env["VELIN_PASSPHRASE"] = passphrase;
  o.unset_env.erase(std::find(o.unset_env.begin(), o.unset_env.end(), "VELIN_PASSPHRASE"));

  RunResult listed = RunVelin({"--json", "backup", "key", "list", "--destination", "erepo"}, o);
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  auto doc = nlohmann::json::parse(listed.out);
  EXPECT_EQ(doc["repository"], repo);
  ASSERT_EQ(doc["keys"].size(), 1u);
  EXPECT_EQ(doc["keys"][0]["created"], "2026-11-25T10:00:00Z");  // JSON: UTC as recorded

  // Human output: local time (finding 3).
  RunResult human = RunVelin({"backup", "key", "list", "--destination", "erepo"}, o);
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("2026-11-25 15:30:00"), std::string::npos) << human.out;
  EXPECT_EQ(human.out.find("T10:00:00Z"), std::string::npos) << human.out;

  WriteFile(dir / "new.pass", "cli-audit-Second-88\n", 0600);
  RunResult added = RunVelin(
      {"backup", "key", "add", "--destination", "erepo", "--new-password-file", dir / "new.pass"},
      o);
  EXPECT_EQ(added.exit_code, 0) << added.err;

  // Without a velin.toml: --repo and $VELIN_REPOSITORY, relative.
  TempDir alone;
  fs::create_directories(alone / "w");
  CliAuditMakeEncryptedRepository(alone / "w/erepo", passphrase);
  RunOptions a = o;
  a.cwd = alone / "w";
  RunResult by_flag = RunVelin({"--json", "--repo", "erepo", "backup", "key", "list"}, a);
  ASSERT_EQ(by_flag.exit_code, 0) << by_flag.err;
  EXPECT_EQ(nlohmann::json::parse(by_flag.out)["repository"],
            fs::canonical(alone / "w/erepo").string());
  a.env["VELIN_REPOSITORY"] = "erepo";
  a.unset_env.erase(std::find(a.unset_env.begin(), a.unset_env.end(), "VELIN_REPOSITORY"));
  RunResult by_env = RunVelin({"--json", "backup", "key", "list"}, a);
  ASSERT_EQ(by_env.exit_code, 0) << by_env.err;
  EXPECT_EQ(nlohmann::json::parse(by_env.out)["repository"],
            fs::canonical(alone / "w/erepo").string());

  for (const char* command : {"list", "add", "remove", "passwd"}) {
    RunResult help = RunVelin({"backup", "key", command, "--help"}, o);
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_NE(help.out.find("--destination"), std::string::npos) << command << ":\n" << help.out;
  }
}

// A new user's first `backup list` (or status, verify) before any backup: the line said only
// that the repository directory does not exist. Must show: it says what makes one and what
// else to check; the first create then makes it (no init).
TEST(CliAuditFixes, NoRepositoryYetSaysTheFirstCreateMakesIt) {
  TempDir dir;
  fs::create_directories(dir / "uploads");
  WriteFile(dir / "uploads/a.jpg", "jpeg");
  WriteFile(dir / "velin.toml", "[backup]\ninclude = [\"uploads\"]\n");
  const std::string repo = fs::path(dir.path()) / ".velin/backups";
  for (const std::vector<std::string>& args : {std::vector<std::string>{"backup", "list"},
                                               {"backup", "status"},
                                               {"backup", "verify", "latest"}}) {
    RunResult r = RunVelin(args, CliAuditEnglish(dir.path()));
    EXPECT_EQ(r.exit_code, 1) << args[1] << ": " << r.err;
    EXPECT_NE(r.err.find("error: no repository at " + repo +
                         ": directory does not exist (no backup made yet? the first 'velin "
                         "backup create' makes it; else check backup.destination or --repo, "
                         "and that its disk is mounted)\n"),
              std::string::npos)
        << args[1] << ": " << r.err;
  }
  ASSERT_EQ(RunVelin({"backup", "create"}, CliAuditEnglish(dir.path())).exit_code, 0);
  EXPECT_EQ(RunVelin({"backup", "list"}, CliAuditEnglish(dir.path())).exit_code, 0);
}

}  // namespace
}  // namespace velin::testing
