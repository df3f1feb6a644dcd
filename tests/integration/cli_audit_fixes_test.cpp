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

}  // namespace
}  // namespace velin::testing
