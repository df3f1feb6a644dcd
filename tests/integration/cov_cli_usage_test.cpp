// The CLI's own refusals (issue 16 §5): flags that do not go together, values that do not
// parse, a configuration that lacks what a command needs, a question without a terminal. Each
// is exit 2 with one line naming what is wrong, stdout empty (or, with --json, one document
// holding the error), and the repository, the application's files and its database untouched.
// One application with a SQLite database and two backups serves every test.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "support/backup_fixture.hpp"
#include "support/pty_run.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// Every file under `root` with its size: equal listings, nothing was written.
std::map<std::string, uintmax_t> Files(const std::string& root) {
  std::map<std::string, uintmax_t> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = e.file_size();
  }
  return out;
}

class CovCliUsage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    app_ = new BackupApp({"storage", "db"},
                         "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n");
    WriteFile(app_->root() + "/storage/a.txt", "alpha");
    fs::create_directories(app_->root() + "/var");
    RunProgram({"sqlite3", app_->root() + "/var/app.db",
                "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a'), ('b');"});
    ASSERT_EQ(app_->Run({"backup", "create"}).exit_code, 0);
    WriteFile(app_->root() + "/storage/b.txt", "beta");
    RunResult second = app_->Run({"backup", "create", "--json"});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    latest_ = new std::string(nlohmann::json::parse(second.out)["id"].get<std::string>());
  }
  static void TearDownTestSuite() {
    delete app_;
    delete latest_;
    app_ = nullptr;
    latest_ = nullptr;
  }

  static RunOptions English() {
    RunOptions o;
    o.env = {{"LANG", "C"}};
    o.unset_env = {"VELIN_PASSPHRASE", "VELIN_REPOSITORY", "VELIN_CONFIG"};
    return o;
  }

  // Runs in the application's directory; checks exit 2, stdout empty, one line on stderr
  // holding `what`, and that neither the repository nor the application changed.
  static void ExpectUsage(const std::vector<std::string>& args, const std::string& what,
                          RunOptions options = English()) {
    const auto repo_before = Files(app_->repo());
    const auto app_before = Files(app_->root());
    RunResult r = app_->Run(args, options);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_EQ(Files(app_->repo()), repo_before);
    EXPECT_EQ(Files(app_->root()), app_before);
  }

  static BackupApp* app_;
  static std::string* latest_;
};

BackupApp* CovCliUsage::app_ = nullptr;
std::string* CovCliUsage::latest_ = nullptr;

TEST_F(CovCliUsage, ALockWaitThatIsNoDurationIsRefusedBeforeTheRepositoryIsOpened) {
  ExpectUsage({"backup", "list", "--lock-wait", "soon"},
              "--lock-wait 'soon' is not a duration (e.g. 30s; at most 36500d)");
  ExpectUsage({"backup", "list", "--lock-wait", "5300w"}, "--lock-wait '5300w' is not a duration");
  ExpectUsage({"backup", "prune", "--lock-wait", "-5s"}, "--lock-wait '-5s' is not a duration");
}

TEST_F(CovCliUsage, CopyNeedsADestinationAndEitherIdsOrAll) {
  const std::string to = app_->path("copy");
  ExpectUsage({"backup", "copy", "latest"}, "backup copy: --to DIR|URL is required");
  ExpectUsage({"backup", "copy", "--to", to},
              "backup copy: name the backups to copy (ID …, e.g. latest) or --all");
  ExpectUsage({"backup", "copy", "latest", "--all", "--to", to}, "or --all, not both");
  EXPECT_FALSE(fs::exists(to));
}

TEST_F(CovCliUsage, AllWithHostOrAppIsRefused) {
  for (const char* flag : {"--host", "--app"}) {
    ExpectUsage({"backup", "list", "--all", flag, "web1"},
                "--all means every host and application; leave out --host and --app");
  }
}

TEST_F(CovCliUsage, DumpHasNoJsonDocumentAndSaysSoInOne) {
  RunResult r = app_->Run({"backup", "dump", "latest", "storage/a.txt", "--json"}, English());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err,
            "error: backup dump writes the file's bytes to stdout; it has no --json "
            "document\n");
  auto doc = nlohmann::json::parse(r.out);  // the error document, never the file's bytes
  EXPECT_EQ(doc["error"]["exit_code"], 2);
  EXPECT_EQ(r.out.find("alpha"), std::string::npos);
}

TEST_F(CovCliUsage, FindRefusesAnEmptyPattern) {
  ExpectUsage({"backup", "find", ""}, "GLOB is empty (an unset variable?)");
}

TEST_F(CovCliUsage, VerifyNeedsExactlyOneOfAnIdAndAll) {
  ExpectUsage({"backup", "verify"}, "verify needs a backup ID or --all");
  ExpectUsage({"backup", "verify", "latest", "--all"},
              "verify takes a backup ID or --all, not both");
}

TEST_F(CovCliUsage, RestoreRefusesDatabaseFlagsWithFileSelections) {
  const std::string target = app_->path("restored");
  ExpectUsage({"backup", "restore", "latest", "--only", "storage", "--database", "copy.db",
               "--target", target},
              "--database goes with --only db");
  ExpectUsage({"backup", "restore", "latest", "--only", "db", "--include", "*.txt"},
              "--include and --exclude select files, not --only db");
  ExpectUsage({"backup", "restore", "latest", "--only", "db", "--exclude", "*.txt"},
              "--include and --exclude select files, not --only db");
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(CovCliUsage, AQuestionWithoutATerminalNeedsYes) {
  // In place, the question names the files and the database it would replace.
  ExpectUsage({"backup", "restore", "latest"},
              "Restore backup " + *latest_ + " in place into " + app_->root() +
                  ", overwriting files there, and replace database '" + app_->root() +
                  "/var/app.db' with the one in the backup? — no terminal to ask; pass --yes to "
                  "confirm");
  ExpectUsage({"backup", "restore", "latest", "--only", "db"},
              "Replace database '" + app_->root() + "/var/app.db' with the one from backup " +
                  *latest_ + "? — no terminal to ask; pass --yes to confirm");
}

TEST_F(CovCliUsage, RestoreTestServerDoesNotApplyToSqlite) {
  RunResult r = app_->Run(
      {"backup", "verify", "latest", "--restore-test", "--restore-test-server", "db.example:5432"},
      English());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("error: --restore-test-server does not apply to sqlite"), std::string::npos)
      << r.err;
}

TEST_F(CovCliUsage, ARestoreIntoAnotherDriverIsRefusedBeforeTheDatabaseIsTouched) {
  // The same repository and app, configured for PostgreSQL: the backup's dump is SQLite's.
  WriteFile(
      app_->path("pg.toml"),
      "[app]\nroot = \"app\"\n[backup]\ninclude = [\"storage\", \"db\"]\ndestination = "
      "\"repo\"\n[database]\ndriver = \"postgresql\"\nname = \"shop\"\nhost = \"127.0.0.1\"\n");
  ExpectUsage({"--config", app_->path("pg.toml"), "backup", "restore", "latest", "--only", "db",
               "--database", "other", "--yes"},
              "the backup holds a sqlite database but database.driver is 'postgresql'");
  // verify has checked the blobs and restored the files by then; the database is refused.
  RunResult v =
      app_->Run({"--config", app_->path("pg.toml"), "backup", "verify", "latest", "--restore-test"},
                English());
  EXPECT_EQ(v.exit_code, 2) << v.out << v.err;
  EXPECT_EQ(v.err,
            "error: the backup holds a sqlite database but database.driver is 'postgresql'\n");
}

TEST_F(CovCliUsage, ACommandWithoutARepositoryNamesTheSettingToSet) {
  WriteFile(app_->path("norepo.toml"),
            "[app]\nroot = \"app\"\n[backup]\ninclude = [\"storage\"]\ndestination = \"\"\n");
  const std::string cfg = app_->path("norepo.toml");
  ExpectUsage({"--config", cfg, "backup", "list"}, "no backup.destination configured");
  ExpectUsage({"--config", cfg, "backup", "verify", "--all"}, "no backup.destination configured");
  RunOptions with_secret = English();
  with_secret.env["VELIN_PASSPHRASE"] = "secret";
  WriteFile(app_->path("norepo-pw.toml"),
            "[app]\nroot = \"app\"\n[backup]\ninclude = [\"storage\"]\ndestination = \"\"\n"
            "password_env = \"VELIN_PASSPHRASE\"\n");
  ExpectUsage({"--config", app_->path("norepo-pw.toml"), "backup", "key", "list"},
              "no repository: set backup.destination in velin.toml or pass --destination",
              with_secret);
}

TEST_F(CovCliUsage, KeyCommandsSayWhereEachPassphraseIsMissing) {
  // The new passphrase comes first: from a variable or a file, never from argv.
  for (const char* command : {"add", "passwd"}) {
    ExpectUsage({"backup", "key", command},
                "say where the new passphrase is: --new-password-env VAR or --new-password-file "
                "FILE (0600); velin never takes a passphrase from the command line");
  }
  RunOptions empty = English();
  empty.env["VELIN_TEST_EMPTY_PASSPHRASE"] = "";
  ExpectUsage({"backup", "key", "add", "--new-password-env", "VELIN_TEST_EMPTY_PASSPHRASE"},
              "the new passphrase is empty", empty);
  // velin.toml names neither backup.password_env nor backup.password_file.
  ExpectUsage({"backup", "key", "list"},
              "no repository passphrase: set backup.password_env or backup.password_file in " +
                  app_->path("velin.toml"));
  ExpectUsage({"backup", "key", "remove", "0123abcd"},
              "no repository passphrase: set backup.password_env or backup.password_file");
}

TEST_F(CovCliUsage, NoConfigAndNoRepositoryNamesBothWays) {
  TempDir empty;
  RunOptions o = English();
  o.cwd = empty.path();
  RunResult r = RunVelin({"backup", "list"}, o);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: no velin.toml in " + empty.path() +
                       " or any parent directory (use --config FILE, or --repo URL / "
                       "VELIN_REPOSITORY for a repository alone)\n");
  // A repository alone serves reading, not what needs a velin.toml.
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"backup", "create"}, {"backup", "forget"}, {"rollback", "list"}}) {
    std::vector<std::string> all = {"--repo", app_->repo()};
    all.insert(all.end(), args.begin(), args.end());
    r = RunVelin(all, o);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("'velin " + args[0] + " " + args[1] +
                         "' needs a velin.toml and there "
                         "is none in " +
                         empty.path()),
              std::string::npos)
        << r.err;
  }
  EXPECT_EQ(fs::directory_iterator(empty.path()), fs::directory_iterator());  // nothing written
}

// Run from a directory removed meanwhile (a deploy swapped it out under a shell): one line that
// says so, where it said "no velin.toml in  or any parent directory" with no directory at all.
TEST_F(CovCliUsage, AWorkingDirectoryThatIsGoneIsSaidSo) {
  TempDir parent;
  const std::string gone = parent.path() + "/gone";
  fs::create_directories(gone);
  RunOptions o = English();
  o.env["GONE"] = gone;
  o.env["VELIN"] = VelinBinary();
  RunResult r =
      RunProgram({"sh", "-c", "cd \"$GONE\" && rmdir \"$GONE\" && exec \"$VELIN\" backup list"}, o);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err,
            "error: cannot look for velin.toml: the working directory is gone (No such file or "
            "directory); cd into the application, or use --config FILE\n");
  // --config with an absolute path still works from there.
  o.env["CONFIG"] = app_->path("velin.toml");
  r = RunProgram({"sh", "-c",
                  "mkdir \"$GONE\" && cd \"$GONE\" && rmdir \"$GONE\" && exec \"$VELIN\" "
                  "--config \"$CONFIG\" backup list"},
                 o);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(CovCliUsage, ARepositoryAloneRestoresOnlyUnderATargetAndADatabaseOnlyWithItsUrl) {
  TempDir elsewhere;
  RunOptions o = English();
  o.cwd = elsewhere.path();
  o.env["VELIN_PASSPHRASE"] = "unused";  // the repository is not encrypted
  // Refused before a thing is written: not even the directory of the SQLite file.
  for (const std::vector<std::string>& url :
       {std::vector<std::string>{}, {"--database-url", "sqlite:sub/app.db"}}) {
    std::vector<std::string> args = {"--repo",  app_->repo(), "backup",
                                     "restore", "latest",     "--yes"};
    args.insert(args.end(), url.begin(), url.end());
    RunResult r = RunVelin(args, o);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err,
              "error: without a velin.toml there is no app.root to restore into: pass --target "
              "DIR\n");
  }
  RunResult r =
      RunVelin({"--repo", app_->repo(), "backup", "restore", "latest", "--only", "db"}, o);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("backup " + *latest_ +
                       " holds a database; without a velin.toml say where it goes with "
                       "--database-url URL"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(fs::directory_iterator(elsewhere.path()), fs::directory_iterator());
}

TEST_F(CovCliUsage, DurationsOfTransactionsMustParseAndBePositive) {
  ExpectUsage({"rollback", "begin", "--timeout", "later"},
              "--timeout: 'later' is not a duration (e.g. 90s, 10m, 1h; at most 36500d)");
  // Beyond 100 years the deadline overflowed into the past: the transaction rolled back at once.
  ExpectUsage({"rollback", "begin", "--timeout", "106751991167d"},
              "--timeout: '106751991167d' is not a duration");
  ExpectUsage({"rollback", "begin", "--timeout", "36500d1ms"},
              "--timeout: '36500d1ms' is not a duration");
  ExpectUsage({"rollback", "begin", "--timeout", "0s"},
              "--timeout: the duration must be positive, not '0s' (e.g. 90s)");
  ExpectUsage({"rollback", "extend", "soon"}, "extend: 'soon' is not a duration");
  EXPECT_FALSE(fs::exists(app_->path(".velin")));
}

TEST_F(CovCliUsage, ADatabaseRestoreOfARollbackAsksFirst) {
  ExpectUsage({"rollback", "rollback", "--restore-data"},
              "Roll back and replace the database with the backup taken at begin, losing the "
              "writes made since? — no terminal to ask; pass --yes to confirm");
  ExpectUsage({"rollback", "to-version", "v1", "--restore-data", "at-version"},
              "Switch to v1 and replace the database with the backup (at-version), losing the "
              "writes made since? — no terminal to ask; pass --yes to confirm");
  EXPECT_FALSE(fs::exists(app_->path(".velin")));
}

// "n" at a question (a terminal): exit 6 with one line saying nothing was changed.
TEST_F(CovCliUsage, NoAtAQuestionCancelsAndChangesNothing) {
  RunOptions no = English();
  no.cwd = app_->path("");
  no.stdin_data = "n\n";
  const auto repo_before = Files(app_->repo());
  const std::string db_before = RunProgram({"sqlite3", app_->root() + "/var/app.db", ".dump"}).out;
  struct Case {
    std::vector<std::string> args;
    std::string question;
    std::string cancelled;
  };
  const std::vector<Case> cases = {
      {{"backup", "restore", "latest", "--only", "db"},
       "Replace database '" + app_->root() + "/var/app.db' with the one from backup " + *latest_ +
           "? [y/N]",
       "error: restore cancelled; nothing was changed\n"},
      {{"rollback", "rollback", "--restore-data"},
       "losing the writes made since? [y/N]",
       "error: rollback cancelled; nothing was changed\n"},
      {{"rollback", "to-version", "v1", "--restore-data", "at-version"},
       "Switch to v1 and replace the database with the backup (at-version), losing the writes "
       "made since? [y/N]",
       "error: to-version cancelled; nothing was changed\n"},
      // Last: the torn lock (an exclusive one) would stop the restore above.
      {{"backup", "unlock"},
       "Remove all 1 lock(s) of " + app_->repo() + ", including live ones? [y/N]",
       "error: unlock cancelled; no lock removed\n"},
  };
  for (const Case& c : cases) {
    if (c.args[1] == "unlock") WriteFile(app_->repo() + "/locks/exclusive-torn", "{not json");
    RunResult r = RunVelinInPty(c.args, no);
    EXPECT_EQ(r.exit_code, 6) << c.args[1] << ": " << r.out << r.err;
    EXPECT_NE(r.err.find(c.question), std::string::npos) << r.err;
    EXPECT_TRUE(r.err.size() >= c.cancelled.size() &&
                r.err.compare(r.err.size() - c.cancelled.size(), std::string::npos, c.cancelled) ==
                    0)
        << r.err;
  }
  auto with_lock = repo_before;
  with_lock["locks/exclusive-torn"] = 9;
  EXPECT_EQ(Files(app_->repo()), with_lock);  // the lock stayed, nothing else came
  EXPECT_EQ(RunProgram({"sqlite3", app_->root() + "/var/app.db", ".dump"}).out, db_before);
  EXPECT_FALSE(fs::exists(app_->path(".velin")));
  // "y" removes the lock the question named.
  RunOptions yes = no;
  yes.stdin_data = "y\n";
  RunResult r = RunVelinInPty({"backup", "unlock"}, yes);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Removed locks/exclusive-torn (an unreadable lock object)"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(fs::exists(app_->repo() + "/locks/exclusive-torn"));
}

// Every refusal above, in German: each line comes from the catalogue (the miss report of
// tests/integration/i18n_german_test.cpp stays empty).
TEST_F(CovCliUsage, EveryRefusalIsGermanUnderAGermanLocale) {
  const std::string report = app_->path("misses.txt");
  RunOptions de;
  de.env = {{"LANG", "de_DE.UTF-8"}, {"VELIN_I18N_REPORT_MISSES", report}};
  de.unset_env = {"LC_ALL", "LC_MESSAGES", "VELIN_PASSPHRASE"};
  const std::string pg = app_->path("pg.toml");
  WriteFile(pg,
            "[app]\nroot = \"app\"\n[backup]\ninclude = [\"storage\", \"db\"]\ndestination = "
            "\"repo\"\n[database]\ndriver = \"postgresql\"\nname = \"shop\"\n");
  const std::vector<std::vector<std::string>> runs = {
      {"backup", "list", "--lock-wait", "soon"},
      {"backup", "copy", "latest"},
      {"backup", "copy", "--to", app_->path("copy")},
      {"backup", "list", "--all", "--host", "web1"},
      {"backup", "find", ""},
      {"backup", "verify"},
      {"backup", "restore", "latest", "--only", "storage", "--database", "x", "--target", "t"},
      {"backup", "restore", "latest", "--only", "db", "--include", "*.txt"},
      {"backup", "restore", "latest"},
      {"backup", "verify", "latest", "--restore-test", "--restore-test-server", "h:1"},
      {"--config", pg, "backup", "restore", "latest", "--only", "db", "--database", "o", "--yes"},
      {"--config", pg, "backup", "verify", "latest", "--restore-test"},
      {"backup", "key", "add"},
      {"backup", "key", "list"},
      {"rollback", "begin", "--timeout", "later"},
      {"rollback", "extend", "0s"},
      {"rollback", "--fleet", "list"},
      {"rollback", "--fleet", "status"},
      {"rollback", "--fleet", "begin", "--backup"},
      {"rollback", "rollback", "--restore-data"},
  };
  for (const auto& args : runs) {
    RunResult r = app_->Run(args, de);
    EXPECT_NE(r.exit_code, 0) << args[1];
    EXPECT_EQ(r.err.rfind("Fehler: ", 0), 0u) << r.err;
  }
  const std::string misses = fs::exists(report) ? ReadFileOrDie(report) : std::string();
  EXPECT_EQ(misses, "");
  EXPECT_FALSE(fs::exists(app_->path("copy")));
}

TEST_F(CovCliUsage, FleetFlagsThatDoNotReachTheHostsAreRefused) {
  ExpectUsage({"rollback", "--fleet", "list"},
              "--fleet works with begin, to-version, commit, rollback and status, not 'rollback "
              "list'");
  ExpectUsage(
      {"rollback", "--fleet", "status"},
      "--fleet needs [fleet] hosts in " + app_->path("velin.toml") + " (docs/config.md#fleet)");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"rollback", "--fleet", "begin", "--backup"},
        {"rollback", "--fleet", "rollback", "--restore-data"},
        {"rollback", "--fleet", "to-version", "v1", "--restore-data", "at-version"}}) {
    const std::string flag = args[3] == "v1" ? "--restore-data" : args[3];
    ExpectUsage(args, "--fleet does not pass " + flag +
                          " to the hosts; set rollback.backup_on_begin and "
                          "rollback.restore_data_on_timeout in each host's velin.toml instead");
  }
}

TEST_F(CovCliUsage, AParseErrorWithJsonIsOneErrorDocument) {
  RunResult r = app_->Run({"--json", "backup", "list", "--frobnicate"}, English());
  EXPECT_EQ(r.exit_code, 2);
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["error"]["exit_code"], 2);
  EXPECT_NE(doc["error"]["message"].get<std::string>().find("--frobnicate"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
}

}  // namespace
}  // namespace velin::testing
