// Issue 17 §4: under LANG=de_DE.UTF-8 every line velin shows comes from the German catalogue.
// The demo's commands (scripts/demo.sh) and the rollback commands run through the real binary,
// happy paths and error paths, with VELIN_I18N_REPORT_MISSES pointing at a file; the catalogue
// and the console write there every text a German user would read in English
// (include/velin/core/i18n.hpp). The file must stay empty.
#include <gtest/gtest.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/backup_fixture.hpp"
#include "support/pty_run.hpp"
#include "support/rollback_app.hpp"
#include "support/test_support.hpp"
#include "velin/core/error.hpp"
#include "velin/core/i18n.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/lock.hpp"

namespace velin::testing {
namespace {

class GermanRun {
 public:
  GermanRun() : report_(dir_ / "misses.txt") {}

  std::map<std::string, std::string> Env(std::map<std::string, std::string> extra = {}) const {
    extra["LANG"] = "de_DE.UTF-8";
    extra["VELIN_I18N_REPORT_MISSES"] = report_;
    return extra;
  }
  RunOptions Options(const std::string& cwd, std::map<std::string, std::string> extra = {}) const {
    RunOptions o;
    o.cwd = cwd;
    o.env = Env(std::move(extra));
    o.unset_env = {"LC_ALL", "LC_MESSAGES"};
    o.timeout_seconds = 120;
    return o;
  }
  // The misses recorded so far, one per line.
  std::vector<std::string> Misses() const {
    std::vector<std::string> out;
    if (!std::filesystem::exists(report_)) return out;
    std::istringstream in(ReadFileOrDie(report_));
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) out.push_back(line);
    }
    return out;
  }
  void ExpectNoMisses() const {
    std::vector<std::string> misses = Misses();
    std::string listing;
    for (const auto& m : misses) listing += "  " + m + "\n";
    std::printf("German miss count: %zu\n", misses.size());
    EXPECT_EQ(misses.size(), 0u) << "untranslated under LANG=de_DE.UTF-8:\n" << listing;
  }

 private:
  TempDir dir_;
  std::string report_;
};

// Runs velin and checks its exit code; the output is for the failure message.
void Expect(const RunResult& r, int code, const std::string& what) {
  EXPECT_EQ(r.exit_code, code) << what << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err;
}

// The report itself, in-process: what it must catch and what it must let pass. Without this the
// zero below could mean a report that records nothing.
TEST(GermanTest, MissReportCatchesEveryKindOfEnglish) {
  TempDir dir;
  const std::string report = dir / "misses.txt";
  ::setenv("LANG", "de_DE.UTF-8", 1);
  ::unsetenv("LC_ALL");
  ::unsetenv("LC_MESSAGES");
  ::setenv("VELIN_I18N_REPORT_MISSES", report.c_str(), 1);
  InitLanguageFromEnvironment();
  ASSERT_TRUE(ReportingMisses());
  // Let pass: catalogue texts, decorated ones, language-free ones, translated errors.
  CheckShown(TrFormat("Backup ID: {}", "3f2a"));
  CheckShown("  1. " + TrFormat("stop: {}", "systemctl stop app"));
  CheckShown(NoTr("  3f2a  2026-11-30  12 MiB"));
  auto translated = Failure(TrFormat("cannot open {}", "/srv/x"));
  CheckShown(translated.value().message);
  // Catch: a lookup without German, a line from no catalogue, English inside a translation.
  CheckShown(TrFormat("A message nobody translated: {}", 1));
  CheckShown("Plain English line");
  auto english = ErrnoError("built without the catalogue", ENOENT);
  CheckShown(TrFormat("{}: {}", NoTr("/srv/x"), english.value().message));
  const std::string text = ReadFileOrDie(report);
  ::unsetenv("VELIN_I18N_REPORT_MISSES");
  ::unsetenv("LANG");
  InitLanguageFromEnvironment();
  EXPECT_EQ(text,
            "tr\tA message nobody translated: {}\n"
            "shown\tPlain English line\n"
            "english\tbuilt without the catalogue\n");  // strerror's German is in the catalogue
}

TEST(GermanTest, DemoCommandsAndTheirErrorsAreAllGerman) {
  GermanRun german;
  TempDir work;
  const std::string app = work / "app";
  std::filesystem::copy(SourceDir() + "/examples/demo", app,
                        std::filesystem::copy_options::recursive);
  std::filesystem::create_directories(app + "/var");
  ASSERT_EQ(RunProgram({"sh", "-c", "sqlite3 var/app.db < seed.sql"}, {.cwd = app}).exit_code, 0);
  auto run = [&](std::vector<std::string> args, int code,
                 std::map<std::string, std::string> env = {}) {
    std::string what;
    for (const auto& a : args) what += a + " ";
    RunResult r = RunVelin(args, german.Options(app, std::move(env)));
    Expect(r, code, what);
    return r;
  };
  // Before the first backup: no repository yet.
  run({"backup", "list"}, 1);
  run({"backup", "status"}, 1);
  // The demo (scripts/demo.sh).
  run({"config", "check"}, 0);
  RunResult created = run({"backup", "create"}, 0);
  EXPECT_NE(created.out.find("Backup-ID"), std::string::npos) << created.out;
  run({"backup", "list"}, 0);
  run({"backup", "verify", "latest"}, 0);
  run({"backup", "restore", "latest", "--target", work / "restored", "--yes"}, 0);
  run({"backup", "verify", "latest", "--restore-test"}, 0);
  run({"backup", "restore", "latest", "--only", "db", "--yes"}, 0);
  run({"backup", "status"}, 0);
  run({"backup", "forget", "--dry-run"}, 0);
  run({"backup", "prune", "--dry-run"}, 0);
  // Error paths: an unknown backup, a restore nobody confirmed, a bad and a missing config.
  run({"backup", "restore", "0000dead", "--target", work / "r2", "--yes"}, 2);
  run({"backup", "restore", "latest"}, 2);
  WriteFile(app + "/bad.toml", "[backup]\ncompression = \"brotli\"\nbogus = 1\n");
  run({"--config", "bad.toml", "backup", "list"}, 2);
  WriteFile(app + "/broken.toml", "[backup\ninclude = [\n");
  run({"--config", "broken.toml", "backup", "list"}, 2);
  run({"--config", "missing.toml", "backup", "list"}, 2);
  RunResult nowhere = RunVelin({"backup", "list"}, german.Options(work.path()));
  Expect(nowhere, 2, "no velin.toml");
  // An encrypted repository opened with the wrong passphrase, and with none.
  WriteFile(app + "/enc.toml",
            "[app]\nroot = \".\"\n[backup]\ninclude = [\"storage/uploads\"]\n"
            "destination = \".velin/enc\"\nencryption = \"aes-256-gcm\"\n"
            "password_env = \"VELIN_PASSWORD\"\n");
  run({"--config", "enc.toml", "backup", "create"}, 0, {{"VELIN_PASSWORD", "right horse"}});
  run({"--config", "enc.toml", "backup", "list"}, 2, {{"VELIN_PASSWORD", "wrong horse"}});
  run({"--config", "enc.toml", "backup", "list"}, 2);
  run({"--config", "enc.toml", "backup", "list"}, 2, {{"VELIN_PASSWORD", ""}});
  german.ExpectNoMisses();
}

// With --json a usage error of the command line is German on stderr, as without it; only the
// JSON document on stdout is English (docs/cli.md).
TEST(GermanTest, AJsonUsageErrorIsGermanOnStderrAndEnglishInTheDocument) {
  GermanRun german;
  TempDir work;
  struct Case {
    std::vector<std::string> args;
    std::string german;
    std::string english;
  };
  for (const Case& c : std::vector<Case>{
           {{"--json", "backup", "creat"},
            "Fehler: unbekannter Befehl 'velin backup creat' (meinten Sie 'create'?)\n",
            "unknown command 'velin backup creat' (did you mean 'create'?)"},
           {{"backup", "create", "--json", "--lock-wait", "5x"},
            "Fehler: --lock-wait '5x' ist keine Dauer (z. B. 30s; höchstens 36500d)\n",
            "--lock-wait '5x' is not a duration (e.g. 30s; at most 36500d)"},
       }) {
    RunResult r = RunVelin(c.args, german.Options(work.path()));
    Expect(r, 2, c.english);
    EXPECT_EQ(r.err, c.german);
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out;
    EXPECT_EQ(j["error"]["message"], c.english) << j;
    EXPECT_EQ(j["error"]["exit_code"], 2) << j;
  }
  german.ExpectNoMisses();
}

TEST(GermanTest, RollbackCommandsAndTheirErrorsAreAllGerman) {
  GermanRun german;
  ToyApp app;
  auto run = [&](std::vector<std::string> args, int code) {
    std::string what;
    for (const auto& a : args) what += a + " ";
    RunResult r = app.Velin(args, german.Env());
    Expect(r, code, what);
    return r;
  };
  run({"rollback", "list"}, 0);
  run({"rollback", "history"}, 0);
  run({"rollback", "status"}, 0);
  app.Build("v1");
  run({"rollback", "create-version", "v1 - First"}, 0);
  run({"rollback", "create-version", "v1 - Again"}, 2);
  app.Build("v2");
  run({"rollback", "create-version", "v2 - Second"}, 0);
  run({"rollback", "to-version", "v1", "--dry-run"}, 0);
  run({"rollback", "to-version", "v1"}, 0);
  run({"rollback", "to-version", "nope"}, 2);
  run({"rollback", "commit"}, 1);
  run({"rollback", "begin", "--timeout", "10m", "--reason", "deploy v2"}, 0);
  run({"rollback", "begin", "--timeout", "soon"}, 2);
  run({"rollback", "status"}, 0);
  run({"rollback", "to-version", "v2"}, 0);
  run({"rollback", "extend", "5m"}, 0);
  run({"rollback", "commit"}, 0);
  run({"rollback", "begin"}, 0);
  run({"rollback", "to-version", "v1"}, 0);
  run({"rollback", "rollback", "--reason", "test"}, 0);
  run({"rollback", "recover"}, 0);
  run({"rollback", "list"}, 0);
  run({"rollback", "history"}, 0);
  WriteFile(app.root() + "/bad.toml", "[rollback]\nkeep_versions = \"many\"\n");
  Expect(RunVelin({"--config", "bad.toml", "rollback", "list"}, german.Options(app.root())), 2,
         "bad config");
  german.ExpectNoMisses();
}

// The lines below were German around English pieces that went into them as values (the miss
// report sees the line as translated, so the tests above passed): each names what it shows.
void ExpectGermanLine(const RunResult& r, const std::string& german,
                      const std::vector<std::string>& english) {
  EXPECT_NE(r.err.find(german), std::string::npos) << r.err;
  for (const std::string& e : english) EXPECT_EQ(r.err.find(e), std::string::npos) << e << r.err;
}

// Exit 3 (another velin holds the lock) in a cron mail: the holder, its kind and age in German.
TEST(GermanTest, ALockHeldLineNamesItsHolderInGerman) {
  GermanRun german;
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  repo::LockHolder self = io::Env::Default().ThisProcess();  // this test: alive, so held
  if (self.boot_id.empty() || self.start_ticks == 0) GTEST_SKIP() << "no /proc identity";
  std::filesystem::create_directories(app.repo() + "/locks");
  WriteFile(app.repo() + "/locks/exclusive-live",
            repo::FormatLockRecord(repo::LockRecord{self, "exclusive", std::time(nullptr)}));
  RunResult r = app.Run({"backup", "create"}, german.Options(app.path(".")));
  Expect(r, 3, "backup create under a held lock");
  ExpectGermanLine(r,
                   "gesperrt durch Host " + self.host + " PID " + std::to_string(self.pid) +
                       ", exklusive Sperre, vor ",
                   {"host ", " pid ", "exclusive lock", "s ago"});
  // An unreadable lock object (young: it still counts as held).
  std::filesystem::remove(app.repo() + "/locks/exclusive-live");
  WriteFile(app.repo() + "/locks/exclusive-torn", "{not json");
  r = app.Run({"backup", "create"}, german.Options(app.path(".")));
  Expect(r, 3, "backup create under an unreadable lock");
  ExpectGermanLine(r, "gesperrt durch ein unlesbares Sperrobjekt", {"an unreadable lock object"});
}

// The passphrase variable not set (a cron job without the environment of the shell): the line
// names the secret in German too.
TEST(GermanTest, AnUnsetPassphraseVariableIsNamedInGerman) {
  GermanRun german;
  BackupApp app({"storage"}, "encryption = \"aes-256-gcm\"\npassword_env = \"VELIN_TEST_PASS\"");
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  RunOptions init;
  init.env["VELIN_TEST_PASS"] = "right horse";
  ASSERT_EQ(app.Run({"backup", "init"}, init).exit_code, 0);
  RunOptions o = german.Options(app.path("."));
  o.unset_env.push_back("VELIN_TEST_PASS");
  RunResult r = app.Run({"backup", "list"}, o);
  Expect(r, 2, "backup list without the passphrase variable");
  EXPECT_EQ(r.err,
            "Fehler: Repository-Passphrase: Umgebungsvariable VELIN_TEST_PASS ist nicht gesetzt "
            "(backup.password_env); cron und systemd geben keine Variablen der Shell weiter: für "
            "geplante Läufe die Passphrase in eine Datei legen, die nur velins Benutzer lesen darf "
            "(chmod 600), und sie stattdessen in backup.password_file nennen\n");
  // config check warns of it, in German too.
  r = app.Run({"config", "check", "-q"}, o);
  Expect(r, 0, "config check without the passphrase variable");
  ExpectGermanLine(r,
                   "backup.password_env nennt die Umgebungsvariable VELIN_TEST_PASS, die hier "
                   "nicht gesetzt ist; cron und systemd geben keine Variablen der Shell weiter",
                   {"names the environment variable"});
  german.ExpectNoMisses();
  // The database password's variable, likewise.
  BackupApp db({"db"}, "");
  WriteFile(db.path("velin.toml"),
            "[app]\nroot = \"app\"\n[backup]\ninclude = [\"db\"]\ndestination = \"repo\"\n"
            "[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nname = \"shop\"\n"
            "user = \"shop\"\npassword_env = \"VELIN_TEST_DB_PASS\"\n");
  o = german.Options(db.path("."));
  o.unset_env.push_back("VELIN_TEST_DB_PASS");
  r = db.Run({"backup", "create"}, o);
  EXPECT_NE(r.exit_code, 0) << r.err;
  ExpectGermanLine(r, "Datenbankpasswort: Umgebungsvariable VELIN_TEST_DB_PASS ist nicht gesetzt",
                   {"database password"});
}

// PostgreSQL not running: velin's own words for it in German, as for MariaDB.
TEST(GermanTest, APostgresqlServerThatIsNotRunningIsSaidInGerman) {
  GermanRun german;
  BackupApp app({"db"}, "");
  WriteFile(app.path("velin.toml"),
            "[app]\nroot = \"app\"\n[backup]\ninclude = [\"db\"]\ndestination = \"repo\"\n"
            "[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nport = " +
                std::to_string(FreePort()) + "\nname = \"shop\"\nuser = \"shop\"\n");
  RunResult r = app.Run({"backup", "create"}, german.Options(app.path(".")));
  if (r.err.find("libpq") != std::string::npos) GTEST_SKIP() << "no libpq: " << r.err;
  Expect(r, 1, "backup create with no server");
  ExpectGermanLine(r,
                   "Verbindung abgelehnt (läuft der Server und nimmt er TCP/IP-Verbindungen an?)",
                   {"connection refused", "is the server running"});
}

// `rollback history` and the line of a commit too late: the outcomes velin recorded (in
// English, pieced together) and its own reasons, in German.
TEST(GermanTest, RollbackHistoryOutcomesAreGerman) {
  GermanRun german;
  ToyAppOptions options;
  options.health_timeout = "3s";
  ToyApp app(options);
  auto run = [&](std::vector<std::string> args, int code) {
    RunResult r = app.Velin(args, german.Env());
    Expect(r, code, args[1]);
    return r;
  };
  app.Build("v1");
  run({"rollback", "create-version", "v1 - Eins"}, 0);
  run({"rollback", "to-version", "v1"}, 0);
  app.Build("v2", true);
  run({"rollback", "create-version", "v2 - Kaputt"}, 0);
  run({"rollback", "to-version", "v2"}, 5);
  run({"rollback", "begin"}, 0);
  run({"rollback", "rollback", "--reason", "Test"}, 0);
  RunResult late = run({"rollback", "commit"}, 1);
  ExpectGermanLine(late, ": von Hand zurückgesetzt)", {"rolled back by hand"});
  RunResult history = run({"rollback", "history"}, 0);
  EXPECT_NE(history.out.find(
                "[fehlgeschlagen]: Health-Check fehlgeschlagen; zurückgewechselt zu v1 (gesund)"),
            std::string::npos)
      << history.out;
  EXPECT_NE(history.out.find("[Transaktion zurückgesetzt]"), std::string::npos) << history.out;
  for (const char* english :
       {"health check failed", "switched back", "transaction rolled back", "rolled back by hand"}) {
    EXPECT_EQ(history.out.find(english), std::string::npos) << english << history.out;
  }
  german.ExpectNoMisses();
}

// A confirmation in German: the hint says "[j/N]", and "J" (as "Ja", "y") is a yes.
TEST(GermanTest, AConfirmationTakesAGermanYes) {
  GermanRun german;
  BackupApp app;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  for (const char* yes : {"J\n", "Ja\n", " ja \n", "Y\n"}) {
    WriteFile(app.repo() + "/locks/exclusive-torn", "{not json");
    RunOptions o = german.Options(app.path("."));
    o.stdin_data = yes;
    RunResult r = RunVelinInPty({"backup", "unlock"}, o);
    EXPECT_EQ(r.exit_code, 0) << yes << r.out << r.err;
    EXPECT_NE(r.err.find("? [j/N]"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(app.repo() + "/locks/exclusive-torn")) << yes;
  }
  WriteFile(app.repo() + "/locks/exclusive-torn", "{not json");
  RunOptions o = german.Options(app.path("."));
  o.stdin_data = "n\n";
  RunResult r = RunVelinInPty({"backup", "unlock"}, o);
  EXPECT_EQ(r.exit_code, 6) << r.out << r.err;
  EXPECT_TRUE(std::filesystem::exists(app.repo() + "/locks/exclusive-torn"));
}

}  // namespace
}  // namespace velin::testing
