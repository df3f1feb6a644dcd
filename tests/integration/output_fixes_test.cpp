// The everyday output of the backup commands (issue 21, item 11; issue 16's leftovers), through
// the real binary: list ordered by time, -q silent, one time format per output kind, verify of
// an empty repository, the restore prompt's "n" (exit 6) naming the database, config check's
// missing include, the progress bar's first and last frames, exactly one JSON document from
// status on every failure path, and the sweep of temp files that killed writers left.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/backup_fixture.hpp"
#include "support/pty_run.hpp"
#include "support/remote_servers.hpp"
#include "velin/io/env.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

RunOptions At(const std::string& utc, const std::string& tz = "UTC") {
  RunOptions o;
  o.env = {{"VELIN_NOW", utc}, {"TZ", tz}, {"LANG", "C"}};
  return o;
}

// The whole of stdout as one JSON document; fails the test when it is none or more than one.
nlohmann::json OneDocument(const RunResult& r) {
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "stdout is not exactly one JSON document:\n" << r.out;
  return j;
}

TEST(OutputFixesTest, ListIsOrderedByTimeAndQuietIsSilent) {
  BackupApp app({"storage"}, "prune_after_create = false");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  // In one minute: full, incremental, full: by id text "-full-2" would come before "-incr".
  ASSERT_EQ(app.Run({"backup", "create", "-q"}, At("2026-11-25T14:30:10Z")).exit_code, 0);
  WriteFile(app.root() + "/storage/b.txt", "b\n");
  RunResult incr =
      app.Run({"backup", "create", "-q", "--strategy", "incremental"}, At("2026-11-25T14:30:20Z"));
  ASSERT_EQ(incr.exit_code, 0) << incr.err;
  // -q: nothing at all on success (cron mails any output).
  EXPECT_EQ(incr.out, "");
  EXPECT_EQ(incr.err, "");
  // -q with --json: the document is still printed.
  RunResult full2 = app.Run({"backup", "create", "-q", "--json", "--strategy", "full"},
                            At("2026-11-25T14:30:30Z"));
  ASSERT_EQ(full2.exit_code, 0) << full2.err;
  EXPECT_EQ(OneDocument(full2)["id"], "20261125-1430-full-2");

  nlohmann::json list =
      OneDocument(app.Run({"backup", "list", "--json"}, At("2026-11-25T15:00:00Z")));
  ASSERT_EQ(list["backups"].size(), 3u) << list;
  EXPECT_EQ(list["backups"][0]["id"], "20261125-1430-full");
  EXPECT_EQ(list["backups"][1]["id"], "20261125-1430-incr");
  EXPECT_EQ(list["backups"][2]["id"], "20261125-1430-full-2");
  // JSON times: RFC 3339, UTC.
  EXPECT_EQ(list["backups"][1]["time"], "2026-11-25T14:30:20Z");

  // Human times: local, to the second; same order. Listings still print under -q.
  RunResult human = app.Run({"backup", "list", "-q"}, At("2026-11-25T15:00:00Z", "Europe/Berlin"));
  ASSERT_EQ(human.exit_code, 0) << human.err;
  const size_t full = human.out.find("20261125-1430-full ");
  const size_t inc = human.out.find("20261125-1430-incr ");
  const size_t full_2 = human.out.find("20261125-1430-full-2 ");
  ASSERT_NE(full, std::string::npos) << human.out;
  EXPECT_LT(full, inc) << human.out;
  EXPECT_LT(inc, full_2) << human.out;
  EXPECT_NE(human.out.find("2026-11-25 15:30:20"), std::string::npos) << human.out;  // CET

  // forget shows the same local format.
  RunResult forget =
      app.Run({"backup", "forget", "--dry-run"}, At("2026-11-25T15:00:00Z", "Europe/Berlin"));
  EXPECT_NE(forget.out.find("20261125-1430-incr         2026-11-25 15:30:20"), std::string::npos)
      << forget.out << forget.err;
}

TEST(OutputFixesTest, StatusJsonIsOneDocumentOnEveryPath) {
  BackupApp app({"storage", "empty"},
                "prune_after_create = false\nallow_empty = []\n[monitor]\nmax_age = \"2h\"\n"
                "max_verify_age = \"1d\"");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  fs::create_directories(app.root() + "/empty");
  auto status = [&](const std::vector<std::string>& extra, const std::string& now) {
    std::vector<std::string> args{"backup", "status", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return app.Run(args, At(now));
  };
  // No repository at all: the error document.
  RunResult missing = status({}, "2026-11-01T10:00:00Z");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_TRUE(OneDocument(missing).contains("error"));

  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  // Failing paths where the status document itself is printed: it carries the error.
  auto failing = [&](const RunResult& r, const std::string& says) {
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    nlohmann::json j = OneDocument(r);
    EXPECT_EQ(j["ok"], false) << j;
    EXPECT_EQ(j["error"]["exit_code"], 1) << j;
    EXPECT_NE(j["error"]["message"].get<std::string>().find(says), std::string::npos) << j;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    return j;
  };
  failing(status({}, "2026-11-01T10:00:00Z"), "holds no backup");
  ASSERT_EQ(app.Run({"backup", "create"}, At("2026-11-01T10:00:00Z")).exit_code, 0);
  failing(status({"--host", "elsewhere"}, "2026-11-01T10:00:00Z"), "no backup of host");
  // The empty include comes first here (no verify recorded yet comes after it).
  failing(status({}, "2026-11-01T10:30:00Z"), "holds no files of 'empty'");
  WriteFile(app.root() + "/empty/x", "x");
  ASSERT_EQ(app.Run({"backup", "create"}, At("2026-11-01T10:40:00Z")).exit_code, 0);
  failing(status({}, "2026-11-01T10:45:00Z"), "no successful verify is recorded");
  ASSERT_EQ(app.Run({"backup", "verify", "--all"}, At("2026-11-01T10:50:00Z")).exit_code, 0);
  failing(status({}, "2026-11-01T20:00:00Z"), "monitor.max_age");

  // Intact: times as RFC 3339 strings beside the numeric fields scripts already read.
  RunResult fine = status({}, "2026-11-01T11:00:00Z");
  ASSERT_EQ(fine.exit_code, 0) << fine.out << fine.err;
  nlohmann::json ok = OneDocument(fine);
  EXPECT_FALSE(ok.contains("error"));
  EXPECT_EQ(ok["newest"]["time"], "2026-11-01T10:40:00Z");
  EXPECT_EQ(ok["verify"]["last_ok_time_utc"], "2026-11-01T10:50:00Z");
  EXPECT_EQ(ok["verify"]["last_ok_time"], 1793530200);  // Unix seconds, kept

  // A damaged snapshot object is a problem too.
  for (const auto& e : fs::recursive_directory_iterator(app.repo() + "/snapshots")) {
    if (e.is_regular_file()) {
      WriteFile(e.path().string(), "garbage");
      break;
    }
  }
  RunResult damaged = status({}, "2026-11-01T11:00:00Z");
  EXPECT_NE(damaged.exit_code, 0);
  EXPECT_FALSE(OneDocument(damaged)["ok"].get<bool>());

  // A broken velin.toml: the error document.
  WriteFile(app.path("velin.toml"), "[backup\n");
  RunResult broken = status({}, "2026-11-01T11:00:00Z");
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_TRUE(OneDocument(broken).contains("error"));
}

// A command that fails after it made its document (the backup is committed, then after_backup
// fails): still one document, the backup's, with the error in it.
TEST(OutputFixesTest, CreateJsonCarriesAFailureAfterTheCommit) {
  BackupApp app({"storage"}, "prune_after_create = false");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  RunOptions o;
  o.env["VELIN_HOOKS_AFTER_BACKUP"] = "exit 4";
  RunResult r = app.Run({"backup", "create", "--json"}, o);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  nlohmann::json j = OneDocument(r);
  EXPECT_TRUE(j["id"].is_string()) << j;
  EXPECT_EQ(j["error"]["exit_code"], 1) << j;
  EXPECT_NE(j["error"]["message"].get<std::string>().find("hooks.after_backup failed"),
            std::string::npos)
      << j;
}

// A name with a newline or an escape sequence (a crafted upload's file name) in an error or a
// warning: one line, the control characters as C escapes, so it cannot forge a log line or
// send a command to the terminal; --json keeps the text exact.
TEST(OutputFixesTest, ErrorsAndWarningsStayOneLineWhateverTheNamesHold) {
  BackupApp app({"storage", "missing\\nfake: line"});  // a TOML escape: the name holds a newline
  WriteFile(app.root() + "/storage/a", "a");
  RunResult r = app.Run({"backup", "create"});  // the include is missing: an error
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("missing\\nfake: line"), std::string::npos) << r.err;
  fs::create_directories(app.root() + "/missing\nfake: line");  // empty: a warning
  r = app.Run({"backup", "create"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.rfind("warning: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("missing\\nfake: line"), std::string::npos) << r.err;
  const std::string hostile = "storage/x\n\x1b[2Jerror: forged";
  r = app.Run({"backup", "restore", "latest", "--only", hostile, "--target", app.path("t")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err, "error: backup " +
                       app.Json({"backup", "list"})["backups"][0]["id"].get<std::string>() +
                       " has no path 'storage/x\\n\\x1b[2Jerror: forged'\n");
  // The log file too: one line, the forged one not there.
  RunOptions logged;
  logged.env["VELIN_LOG_FILE"] = app.path("velin.log");
  r = app.Run({"backup", "restore", "latest", "--only", hostile, "--target", app.path("t")},
              logged);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const std::string log = ReadFileOrDie(app.path("velin.log"));
  EXPECT_NE(log.find("error: backup "), std::string::npos) << log;
  EXPECT_NE(log.find("storage/x\\n\\x1b[2Jerror: forged'\n"), std::string::npos) << log;
  EXPECT_EQ(log.find('\x1b'), std::string::npos) << log;
  r = app.Run(
      {"--json", "backup", "restore", "latest", "--only", hostile, "--target", app.path("t")});
  EXPECT_NE(nlohmann::json::parse(r.out)["error"]["message"].get<std::string>().find(hostile),
            std::string::npos)
      << r.out;
  // The status lines on stdout too: a restore into a target so named says where in one line.
  const std::string target = app.path("t\n\x1b[2Jforged");
  r = app.Run({"backup", "restore", "latest", "--target", target});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(target + "/storage/a"), "a");
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("into " + app.path("t\\n\\x1b[2Jforged") + "\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 2) << r.out;
}

TEST(OutputFixesTest, VerifyOfAnEmptyRepositorySaysSo) {
  BackupApp app;
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  RunResult r = app.Run({"backup", "verify", "--all"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: no backups to verify in "), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("intact"), std::string::npos) << r.out;
  RunResult json = app.Run({"backup", "verify", "--all", "--json"});
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_EQ(OneDocument(json)["backups"], nlohmann::json::array());
  // Nothing was verified, so nothing is recorded as a verify.
  EXPECT_FALSE(fs::exists(app.repo() + "/state/verify"));
}

// A backup of one file said "1 files" (its dry run too, and the summary notifications carry):
// one form for one, in English and in German.
TEST(OutputFixesTest, ACountOfOneFileIsSingular) {
  TempDir notes;
  BackupApp app({"storage"},
                "prune_after_create = false\n[notify]\nevents = "
                "[\"backup-succeeded\"]\ncommand = 'printf %s \"$VELIN_SUMMARY\" > " +
                    notes / "summary.txt" + "'\n");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  RunOptions en;
  en.env = {{"LANG", "C"}};
  RunResult r = app.Run({"backup", "create", "--dry-run"}, en);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Dry run: 1 file (2 B) would be read;"), std::string::npos) << r.out;
  r = app.Run({"backup", "create"}, en);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 file, 2 B read, "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("1 files"), std::string::npos) << r.out;
  const std::string summary = ReadFileOrDie(notes / "summary.txt");
  EXPECT_NE(summary.find(": 1 file, "), std::string::npos) << summary;
  EXPECT_EQ(summary.find("1 files"), std::string::npos) << summary;

  RunOptions de;
  de.env = {{"LANG", "de_DE.UTF-8"}};
  de.unset_env = {"LC_ALL", "LC_MESSAGES"};
  r = app.Run({"backup", "create"}, de);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 Datei, 2 B gelesen, "), std::string::npos) << r.out;
  r = app.Run({"backup", "create", "--dry-run"}, de);
  EXPECT_NE(r.out.find("Probelauf: 1 Datei (2 B) würde gelesen;"), std::string::npos) << r.out;

  // Two: the plural, as before.
  WriteFile(app.root() + "/storage/b.txt", "b\n");
  r = app.Run({"backup", "create"}, en);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 files, 4 B read, "), std::string::npos) << r.out;
}

// A restore of one file said "Restored 1 files", and as root a file of an owner this machine
// lacks "1 files and directories are restored with an owner …": one form for one.
TEST(OutputFixesTest, ARestoreOfOneFileSaysSo) {
  BackupApp app({"storage"}, "prune_after_create = false\n");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  uint32_t nobody = 47000;
  while (::getpwuid(nobody) != nullptr || ::getgrgid(nobody) != nullptr) ++nobody;
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::chown((app.root() + "/storage/a.txt").c_str(), nobody, nobody), 0);
  }
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  RunOptions en;
  en.env = {{"LANG", "C"}};
  RunResult r = app.Run({"backup", "restore", "latest", "--target", app.path("out")}, en);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Restored 1 file (2 B) into " + app.path("out")), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("1 files"), std::string::npos) << r.out;
  if (root) {
    EXPECT_NE(r.err.find("1 file or directory is restored with an owner this machine has no user "
                         "or group for (uid " +
                         std::to_string(nobody) + ", gid " + std::to_string(nobody) + "; e.g. " +
                         app.path("out") +
                         "/storage/a.txt): a backup keeps numeric owners; "
                         "give it to the application's user"),
              std::string::npos)
        << r.err;
  }
  RunOptions de;
  de.env = {{"LANG", "de_DE.UTF-8"}};
  de.unset_env = {"LC_ALL", "LC_MESSAGES"};
  r = app.Run({"backup", "restore", "latest", "--target", app.path("de")}, de);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("1 Datei (2 B) nach " + app.path("de") + " wiederhergestellt"),
            std::string::npos)
      << r.out;
}

TEST(OutputFixesTest, ConfigCheckWarnsAboutAMissingInclude) {
  BackupApp app({"storage", "uploads/missing"});
  fs::create_directories(app.root() + "/storage");
  RunResult r = app.Run({"config", "check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("velin.toml:4: backup.include 'uploads/missing' does not exist (" +
                       app.root() + "/uploads/missing); every backup fails until it does"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("'storage'"), std::string::npos) << r.err;
  RunResult json = app.Run({"config", "check", "--json"});
  nlohmann::json j = OneDocument(json);
  ASSERT_EQ(j["missing_includes"].size(), 1u) << j;
  EXPECT_EQ(j["missing_includes"][0]["include"], "uploads/missing");
  EXPECT_EQ(j["missing_includes"][0]["line"], 4);
  // What the warning says is what a backup does: it fails, naming the path.
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  RunResult created = app.Run({"backup", "create"});
  EXPECT_EQ(created.exit_code, 1) << created.err;
  EXPECT_NE(created.err.find("error: backup.include 'uploads/missing': cannot stat"),
            std::string::npos)
      << created.err;
  // Once it exists, both agree again: no warning, and the backup is made.
  fs::create_directories(app.root() + "/uploads/missing");
  WriteFile(app.root() + "/uploads/missing/a.txt", "a\n");
  WriteFile(app.root() + "/storage/b.txt", "b\n");
  r = app.Run({"config", "check"});
  EXPECT_EQ(r.err.find("does not exist"), std::string::npos) << r.err;
  created = app.Run({"backup", "create"});
  EXPECT_EQ(created.exit_code, 0) << created.err;
}

// A UTF-8 byte order mark before [backup] (an editor on Windows writes one) and an include
// written as "./uploads/gone/" (the loader's "uploads/gone") still get the warning's line.
TEST(OutputFixesTest, ConfigCheckNamesTheLineOfAMissingIncludeAfterAByteOrderMark) {
  TempDir dir;
  fs::create_directories(dir / "app/storage");
  WriteFile(dir / "velin.toml",
            "\xEF\xBB\xBF[backup]\ndestination = \"repo\"\ninclude = [\n  \"storage\",\n"
            "  \"./uploads/gone/\",\n]\n[app]\nroot = \"app\"\n");
  RunOptions o;
  o.cwd = dir.path();
  o.env = {{"LANG", "C"}};
  RunResult r = RunVelin({"config", "check"}, o);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("velin.toml:5: backup.include 'uploads/gone' does not exist"),
            std::string::npos)
      << r.err;
  nlohmann::json j = OneDocument(RunVelin({"config", "check", "--json"}, o));
  ASSERT_EQ(j["missing_includes"].size(), 1u) << j;
  EXPECT_EQ(j["missing_includes"][0]["line"], 5) << j;
}

// On a terminal: the bar's frames never read "0 B/s" and the last one is 100 %; the restore
// prompt names the database, "n" is exit 6 and changes nothing, "y" asks no second question.
TEST(OutputFixesTest, TerminalProgressAndTheRestorePrompt) {
  BackupApp app({"db", "storage"}, "\n[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n");
  fs::create_directories(app.root() + "/var");
  const std::string db = app.root() + "/var/app.db";
  ASSERT_EQ(
      RunProgram({"sqlite3", db, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('a');"}).exit_code,
      0);
  WriteFile(app.root() + "/storage/big.bin", RandomData(4 << 20, 7));
  WriteFile(app.root() + "/storage/a.txt", "original\n");
  RunOptions in_app;
  in_app.cwd = app.path("");
  in_app.env = {{"LANG", "C"}, {"TERM", "xterm"}};
  in_app.unset_env = {"NO_COLOR"};
  RunResult created = RunVelinInPty({"backup", "create"}, in_app);
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;

  RunResult restored = RunVelinInPty({"backup", "restore", "latest", "--target", "copy"}, in_app);
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  for (const std::string& out : {created.out, restored.out}) {
    EXPECT_EQ(out.find(" 0 B/s"), std::string::npos) << out;
  }
  // The last frame: complete, with what was restored (4 MiB and a file), not a stale "0 B".
  // (A frame drawn while the last bytes are still on their way may read 99 %; the last may not.)
  const size_t last_frame = restored.out.rfind("Restoring [");
  ASSERT_NE(last_frame, std::string::npos) << restored.out;
  EXPECT_NE(restored.out.find("] 100% 4.00 MiB  2 files", last_frame), std::string::npos)
      << restored.out;
  EXPECT_NE(restored.out.find("✓"), std::string::npos) << restored.out;

  WriteFile(app.root() + "/storage/a.txt", "changed\n");
  RunProgram({"sqlite3", db, "DELETE FROM t;"});
  RunOptions no = in_app;
  no.stdin_data = "n\n";
  RunResult declined = RunVelinInPty({"backup", "restore", "latest"}, no);
  EXPECT_EQ(declined.exit_code, 6) << declined.out << declined.err;
  EXPECT_NE(declined.err.find("overwriting files there, and replace"), std::string::npos)
      << declined.err;
  EXPECT_NE(declined.err.find("restore cancelled; nothing was changed"), std::string::npos)
      << declined.err;
  EXPECT_EQ(ReadFileOrDie(app.root() + "/storage/a.txt"), "changed\n");

  RunOptions yes = in_app;
  yes.stdin_data = "y\n";
  RunResult accepted = RunVelinInPty({"backup", "restore", "latest"}, yes);
  EXPECT_EQ(accepted.exit_code, 0) << accepted.out << accepted.err;
  EXPECT_EQ(accepted.err.find("Replace"), std::string::npos) << accepted.err;  // one question
  EXPECT_EQ(ReadFileOrDie(app.root() + "/storage/a.txt"), "original\n");
  EXPECT_EQ(RunProgram({"sqlite3", db, "SELECT count(*) FROM t;"}).out, "1\n");
}

// Sets a file's mtime `seconds_ago` seconds back.
void Age(const std::string& path, int seconds_ago) {
  const auto t = fs::last_write_time(path);
  fs::last_write_time(path, t - std::chrono::seconds(seconds_ago));
}

// A writer killed mid-Put leaves "<name>.tmp-<pid>-<tag>-<n>"; the next create removes the
// temps of dead writers of this process space and any other temp older than an hour, and never
// one of a live writer.
TEST(OutputFixesTest, CreateRemovesTempFilesOfDeadWriters) {
  BackupApp app({"storage"}, "prune_after_create = false");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string tag = io::ProcessSpaceTag();
  ASSERT_FALSE(tag.empty());
  // A process that ran and is gone: its pid is dead.
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int st = 0;
  ::waitpid(child, &st, 0);
  const std::string dead = std::to_string(child);
  const std::string live = std::to_string(::getpid());
  const std::string data = app.repo() + "/data/00";
  fs::create_directories(data);
  const std::string dead_writer = data + "/00ab.tmp-" + dead + "-" + tag + "-1";
  const std::string live_writer = data + "/00cd.tmp-" + live + "-" + tag + "-2";
  const std::string other_old = app.repo() + "/index/ef.tmp-" + dead + "-0badc0de-3";
  const std::string other_new = app.repo() + "/index/ef.tmp-" + dead + "-0badc0de-4";
  const std::string old_format = app.repo() + "/snapshots/x.tmp-" + dead + "-5";
  for (const auto& p : {dead_writer, live_writer, other_old, other_new, old_format}) {
    WriteFile(p, "partial");
  }
  Age(live_writer, 7200);  // a live writer's temp stays, however old
  Age(other_old, 7200);
  Age(old_format, 7200);

  WriteFile(app.root() + "/storage/b.txt", "b\n");
  RunResult r = app.Run({"backup", "create"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(dead_writer));
  EXPECT_TRUE(fs::exists(live_writer));
  EXPECT_FALSE(fs::exists(other_old));
  EXPECT_TRUE(fs::exists(other_new));  // another host's, or an earlier boot's: under an hour
  EXPECT_FALSE(fs::exists(old_format));
  // The repository is intact and the live writer's file untouched.
  EXPECT_EQ(ReadFileOrDie(live_writer), "partial");
  EXPECT_EQ(app.Run({"backup", "verify", "--all"}).exit_code, 0);

  // prune sweeps too.
  const std::string later = data + "/00ef.tmp-" + dead + "-" + tag + "-6";
  WriteFile(later, "partial");
  RunResult pruned = app.Run({"backup", "prune"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_FALSE(fs::exists(later));
  EXPECT_TRUE(fs::exists(live_writer));

  // copy sweeps its target: what a killed copy left there goes with the next successful one.
  const std::string target = app.root() + "/../copy-target";
  ASSERT_EQ(app.Run({"backup", "copy", "latest", "--to", target}).exit_code, 0);
  const std::string killed_copy = target + "/data/00/0012.tmp-" + dead + "-" + tag + "-7";
  WriteFile(killed_copy, "partial");
  WriteFile(app.root() + "/storage/c.txt", "c\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  RunResult copied = app.Run({"backup", "copy", "latest", "--to", target});
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  EXPECT_FALSE(fs::exists(killed_copy));
  EXPECT_EQ(app.Run({"backup", "verify", "--all", "--destination", target}).exit_code, 0);
}

// On SFTP there are no pids to ask: a temp goes when it is an hour older than the command's own
// lock object; an old object moved aside ("<name>.tmp-old-…") only when <name> exists.
TEST(OutputFixesTest, CreateOnSftpRemovesTempUploadsOlderThanAnHour) {
  SshServer ssh;
  TempDir cache;
  RunOptions env;
  env.env["VELIN_CACHE_DIR"] = cache.path();
  BackupApp app({"storage"}, "prune_after_create = false" + ssh.StorageConfig());
  const std::string url = ssh.Url(ssh.files_dir() + "/repo");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  ASSERT_EQ(app.Run({"backup", "create", "--destination", url}, env).exit_code, 0);
  const std::string index = ssh.files_dir() + "/repo/index";
  std::string some_index;
  for (const auto& e : fs::directory_iterator(index)) some_index = e.path().filename().string();
  ASSERT_FALSE(some_index.empty());
  const std::string old_upload = index + "/ab.tmp-0123456789ab";
  const std::string new_upload = index + "/cd.tmp-0123456789cd";
  const std::string aside_with_object = index + "/" + some_index + ".tmp-old-0123456789ef";
  const std::string only_copy = index + "/ef.tmp-old-012345678901";
  for (const auto& p : {old_upload, new_upload, aside_with_object, only_copy}) {
    WriteFile(p, "partial");
  }
  Age(old_upload, 7200);
  Age(aside_with_object, 7200);
  Age(only_copy, 7200);
  WriteFile(app.root() + "/storage/b.txt", "b\n");
  RunResult r = app.Run({"backup", "create", "--destination", url}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(old_upload));
  EXPECT_TRUE(fs::exists(new_upload));
  EXPECT_FALSE(fs::exists(aside_with_object));
  EXPECT_TRUE(fs::exists(only_copy));
  EXPECT_TRUE(fs::exists(index + "/" + some_index));
}

}  // namespace
}  // namespace velin::testing
