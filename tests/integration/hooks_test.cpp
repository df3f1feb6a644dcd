// [hooks]: before_/after_/on_*_failure around `backup create` and around a switch, with the real
// binary, a real repository and the toy service. Each hook writes `env` to a file so the test
// sees what the hook saw.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>

#include "support/backup_fixture.hpp"
#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

// KEY=value lines of a file written by `env` ("" when the file does not exist).
std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
  std::map<std::string, std::string> out;
  if (!std::filesystem::exists(path)) return out;
  std::istringstream in(ReadFileOrDie(path));
  for (std::string line; std::getline(in, line);) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

size_t SnapshotCount(const BackupApp& app) {
  auto j = app.Json({"backup", "list"});
  return j.contains("backups") ? j["backups"].size() : 0;
}

// The hooks of `BackupApp`: each writes its environment to hooks/EVENT.env below app/.
std::string BackupHooks(const std::string& log) {
  return "[log]\nfile = \"" + log +
         "\"\nlevel = \"info\"\n[hooks]\n"
         "before_backup = \"mkdir -p hooks && env > hooks/before.env && echo HOOK-MARK-BEFORE\"\n"
         "after_backup = \"env > hooks/after.env; echo HOOK-MARK-AFTER\"\n"
         "on_backup_failure = \"env > hooks/failure.env\"\n"
         "timeout = \"10s\"\n";
}

TEST(HooksTest, BackupHooksSeeTheBackupAndLogTheirOutput) {
  TempDir logs;
  BackupApp app({"storage"}, BackupHooks(logs / "velin.log"));
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  RunOptions secret;  // no hook sees velin's secrets
  secret.env["AWS_SECRET_ACCESS_KEY"] = "hook-must-not-see-this";
  auto j = app.Json({"backup", "create"}, 0, secret);  // --json stdout stays one document
  ASSERT_TRUE(j.contains("id")) << j;
  const std::string id = j["id"];

  auto before = ReadEnvFile(app.root() + "/hooks/before.env");
  EXPECT_EQ(before["VELIN_EVENT"], "before_backup");
  EXPECT_EQ(before.count("VELIN_BACKUP_ID"), 0u);
  EXPECT_EQ(before["PWD"], app.root());  // runs in app.root
  EXPECT_EQ(before.count("AWS_SECRET_ACCESS_KEY"), 0u);
  auto after = ReadEnvFile(app.root() + "/hooks/after.env");
  EXPECT_EQ(after["VELIN_EVENT"], "after_backup");
  EXPECT_EQ(after["VELIN_BACKUP_ID"], id);
  EXPECT_EQ(after.count("VELIN_ERROR"), 0u);
  EXPECT_FALSE(std::filesystem::exists(app.root() + "/hooks/failure.env"));

  std::string log = ReadFileOrDie(logs / "velin.log");
  EXPECT_NE(log.find("hooks.before_backup: HOOK-MARK-BEFORE"), std::string::npos) << log;
  EXPECT_NE(log.find("hooks.after_backup: HOOK-MARK-AFTER"), std::string::npos) << log;
  RunResult text = app.Run({"backup", "create"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out.find("HOOK-MARK"), std::string::npos) << text.out;
  EXPECT_EQ(text.err.find("HOOK-MARK"), std::string::npos) << text.err;
}

// A hook gets stdin, stdout and stderr of velin's descriptors and nothing else: not the log file
// velin writes (spdlog opens it without O_CLOEXEC), which a daemon the hook starts would keep
// open past log rotation.
TEST(HooksTest, AHookInheritsNoDescriptorButStdio) {
  TempDir logs;
  BackupApp app({"storage"}, "[log]\nfile = \"" + (logs / "velin.log") +
                                 "\"\nlevel = \"debug\"\n[hooks]\n"
                                 "before_backup = \"ls -l /proc/self/fd | cat > fds.txt\"\n");
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  const std::string listing = ReadFileOrDie(app.root() + "/fds.txt");
  std::istringstream in(listing);
  std::vector<std::string> fds;
  for (std::string line; std::getline(in, line);) {
    const size_t arrow = line.find(" -> ");
    if (arrow == std::string::npos) continue;
    if (line.find(" -> /proc/", arrow) == arrow) continue;  // ls reading its own fds
    const size_t start = line.rfind(' ', arrow - 1) + 1;
    fds.push_back(line.substr(start, arrow - start));
  }
  EXPECT_EQ(fds, (std::vector<std::string>{"0", "1", "2"})) << listing;
  EXPECT_EQ(listing.find("velin.log"), std::string::npos) << listing;
}

TEST(HooksTest, FailingBeforeBackupWritesNoSnapshot) {
  TempDir logs;
  BackupApp app({"storage"}, BackupHooks(logs / "velin.log"));
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  ASSERT_EQ(app.Run({"backup", "create"}).exit_code, 0);
  ASSERT_EQ(SnapshotCount(app), 1u);
  std::filesystem::remove_all(app.root() + "/hooks");

  RunOptions o;
  o.env["VELIN_HOOKS_BEFORE_BACKUP"] = "echo maintenance mode refused; exit 3";
  RunResult r = app.Run({"backup", "create"}, o);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("hooks.before_backup failed (exit code 3): maintenance mode refused"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("no backup was made"), std::string::npos) << r.err;
  EXPECT_EQ(SnapshotCount(app), 1u);
  o.env["LANG"] = "de_DE.UTF-8";
  r = app.Run({"backup", "create"}, o);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("hooks.before_backup fehlgeschlagen"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("es wurde kein Backup erstellt"), std::string::npos) << r.err;
  EXPECT_EQ(SnapshotCount(app), 1u);
  // Neither after_backup nor on_backup_failure: the backup never started.
  EXPECT_FALSE(std::filesystem::exists(app.root() + "/hooks/after.env"));
  EXPECT_FALSE(std::filesystem::exists(app.root() + "/hooks/failure.env"));
}

TEST(HooksTest, FailingAfterBackupKeepsTheSnapshot) {
  TempDir logs;
  BackupApp app({"storage"}, BackupHooks(logs / "velin.log"));
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  RunOptions o;
  o.env["VELIN_HOOKS_AFTER_BACKUP"] = "echo cache flush failed >&2; exit 4";
  RunResult r = app.Run({"backup", "create"}, o);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("hooks.after_backup failed (exit code 4): cache flush failed"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("stands"), std::string::npos) << r.err;
  EXPECT_EQ(SnapshotCount(app), 1u);
  EXPECT_FALSE(std::filesystem::exists(app.root() + "/hooks/failure.env"));
}

TEST(HooksTest, OnBackupFailureRunsWithTheErrorAndKeepsTheExitCode) {
  TempDir logs;
  BackupApp app({"storage"}, BackupHooks(logs / "velin.log"));
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  WriteFile(app.repo(), "not a repository\n");  // the destination is a plain file
  RunOptions plain;
  plain.env["VELIN_HOOKS_ON_BACKUP_FAILURE"] = "";
  RunResult without = app.Run({"backup", "create"}, plain);
  ASSERT_NE(without.exit_code, 0) << without.out;
  EXPECT_FALSE(std::filesystem::exists(app.root() + "/hooks/failure.env"));

  RunResult r = app.Run({"backup", "create"});
  EXPECT_EQ(r.exit_code, without.exit_code) << r.err;
  auto env = ReadEnvFile(app.root() + "/hooks/failure.env");
  EXPECT_EQ(env["VELIN_EVENT"], "on_backup_failure");
  EXPECT_FALSE(env["VELIN_ERROR"].empty());
  EXPECT_NE(r.err.find(env["VELIN_ERROR"]), std::string::npos) << r.err << env["VELIN_ERROR"];
  EXPECT_FALSE(std::filesystem::exists(app.root() + "/hooks/after.env"));

  // A failing on_backup_failure is a warning; the backup's failure stays the exit code.
  RunOptions bad;
  bad.env["VELIN_HOOKS_ON_BACKUP_FAILURE"] = "exit 9";
  RunResult b = app.Run({"backup", "create"}, bad);
  EXPECT_EQ(b.exit_code, without.exit_code) << b.err;
  EXPECT_NE(b.err.find("hooks.on_backup_failure failed (exit code 9)"), std::string::npos) << b.err;
}

// A flag value the command would refuse only once it opens the repository (--lock-wait) or
// plans the backup (--strategy) is refused while the command line is parsed: no hook runs, no
// notification or monitor event goes out for a run that never started.
TEST(HooksTest, ABadFlagValueOfCreateRunsNoHookAndSendsNothing) {
  BackupApp app({"storage"},
                "\n[hooks]\nbefore_backup = \"echo maintenance-on >> hook.log\"\n"
                "on_backup_failure = \"echo failure-hook >> hook.log\"\n"
                "[notify]\ncommand = \"echo event $VELIN_EVENT >> hook.log\"\n"
                "events = [\"backup-failed\", \"cleanup-failed\"]\n");
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  const std::string hook_log = app.root() + "/hook.log";
  const std::vector<std::vector<std::string>> runs = {
      {"backup", "create", "--lock-wait", "5x"}, {"backup", "create", "--lock-wait", "99999d"},
      {"backup", "create", "--lock-wait=-1s"},   {"backup", "create", "--strategy", "fast"},
      {"backup", "prune", "--lock-wait", "5x"},
  };
  for (const auto& args : runs) {
    RunResult r = app.Run(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << r.err;
    EXPECT_FALSE(std::filesystem::exists(hook_log)) << args.back() << ReadFileOrDie(hook_log);
    std::filesystem::remove(hook_log);
  }
  RunResult r = app.Run({"backup", "create", "--lock-wait", "5x"});
  EXPECT_NE(r.err.find("--lock-wait '5x' is not a duration"), std::string::npos) << r.err;
  r = app.Run({"backup", "create", "--strategy", "fast"});
  EXPECT_NE(r.err.find("--strategy 'fast' must be full or incremental"), std::string::npos)
      << r.err;
  // The same run with good values does run them.
  ASSERT_EQ(app.Run({"backup", "create", "--lock-wait", "5s"}).exit_code, 0);
  EXPECT_NE(ReadFileOrDie(hook_log).find("maintenance-on"), std::string::npos);
}

TEST(HooksTest, HangingHookIsKilledAtTheTimeout) {
  TempDir logs;
  BackupApp app({"storage"}, BackupHooks(logs / "velin.log"));
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  RunOptions o;
  // A child of the hook hangs too: the whole process group goes.
  o.env["VELIN_HOOKS_BEFORE_BACKUP"] = "sleep 60 & echo $! > sleeper.pid; wait";
  o.env["VELIN_HOOKS_TIMEOUT"] = "1s";
  auto start = std::chrono::steady_clock::now();
  RunResult r = app.Run({"backup", "create"}, o);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("hooks.before_backup did not finish within 1s"), std::string::npos) << r.err;
  EXPECT_LT(seconds, 20.0);
  long sleeper = ReadPidFile(app.root() + "/sleeper.pid");
  ASSERT_GT(sleeper, 0);
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {  // reaped by init shortly after the kill
    gone = ::kill(static_cast<pid_t>(sleeper), 0) != 0;
    if (!gone) ::usleep(100'000);
  }
  EXPECT_TRUE(gone) << "the hook's child survived the timeout";
  KillPid(sleeper);
  EXPECT_FALSE(std::filesystem::exists(app.repo()));  // nothing written
}

// A hook that sends its output elsewhere (`exec >log 2>&1`) closes velin's pipes at once: its
// timeout still holds (velin waited for it to its end, and made the backup).
TEST(HooksTest, AHookThatClosedItsOutputIsStillKilledAtTheTimeout) {
  TempDir logs;
  BackupApp app({"storage"}, BackupHooks(logs / "velin.log"));
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  RunOptions o;
  o.env["VELIN_HOOKS_BEFORE_BACKUP"] = "exec >/dev/null 2>&1; sleep 20";
  o.env["VELIN_HOOKS_TIMEOUT"] = "1s";
  auto start = std::chrono::steady_clock::now();
  RunResult r = app.Run({"backup", "create"}, o);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("hooks.before_backup did not finish within 1s and was killed"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("no backup was made"), std::string::npos) << r.err;
  EXPECT_LT(seconds, 10.0);
  EXPECT_FALSE(std::filesystem::exists(app.repo()));  // nothing written
}

// The hooks of a switch: each writes its environment to ../EVENT.env (beside app/).
ToyAppOptions SwitchOpts(bool service, const std::string& hooks) {
  ToyAppOptions o;
  o.with_service = service;
  o.extra_rollback = "[hooks]\ntimeout = \"10s\"\n" + hooks;
  return o;
}

const char* kAllSwitchHooks =
    "before_switch = \"env > ../before.env\"\n"
    "after_switch = \"env > ../after.env\"\n"
    "on_switch_failure = \"env > ../failure.env\"\n";

void TwoVersions(ToyApp& app, bool broken_v2 = false) {
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  app.Build("v2", broken_v2);
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v2"}).exit_code, 0);
}

TEST(HooksTest, SwitchHooksSeeBothVersions) {
  ToyApp app(SwitchOpts(false, kAllSwitchHooks));
  TwoVersions(app);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto before = ReadEnvFile(app.root() + "/before.env");
  EXPECT_EQ(before["VELIN_EVENT"], "before_switch");
  EXPECT_EQ(before["VELIN_VERSION"], "v2");
  EXPECT_EQ(before["VELIN_FROM_VERSION"], "v1");
  EXPECT_EQ(before["PWD"], app.app());
  auto after = ReadEnvFile(app.root() + "/after.env");
  EXPECT_EQ(after["VELIN_EVENT"], "after_switch");
  EXPECT_EQ(after["VELIN_VERSION"], "v2");
  EXPECT_EQ(after["VELIN_FROM_VERSION"], "v1");
  EXPECT_EQ(after.count("VELIN_ERROR"), 0u);
  EXPECT_FALSE(std::filesystem::exists(app.root() + "/failure.env"));
}

TEST(HooksTest, FailingBeforeSwitchChangesNothing) {
  ToyApp app(SwitchOpts(true,
                        "before_switch = \"echo site busy; exit 2\"\n"
                        "on_switch_failure = \"env > ../failure.env\"\n"));
  TwoVersions(app);
  RunResult first =
      app.Velin({"rollback", "to-version", "v1"}, {{"VELIN_HOOKS_BEFORE_SWITCH", ""}});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_TRUE(app.WaitForVersion("v1", 5));
  long pid = ReadPidFile(app.app() + "/server.pid");
  RunResult r = app.Velin({"rollback", "to-version", "v2"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("hooks.before_switch failed (exit code 2): site busy"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("nothing was changed (still v1)"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v1");
  EXPECT_EQ(ReadPidFile(app.app() + "/server.pid"), pid);  // never stopped
  EXPECT_EQ(app.Health(), "version=v1");
  EXPECT_FALSE(std::filesystem::exists(app.state() + "/switch.json"));
  EXPECT_FALSE(std::filesystem::exists(app.root() + "/failure.env"));
  // No switch to recover: the hook is not run again by `recover`.
  r = app.Velin({"rollback", "recover"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(app.Current(), "v1");
}

// A switch killed half-way is finished by `recover`: before_switch ran once (before switch.json
// existed) and is not run again; after_switch runs once, when recover ends the switch.
TEST(HooksTest, RecoverDoesNotRerunBeforeSwitch) {
  ToyApp app(SwitchOpts(false,
                        "before_switch = \"echo $VELIN_VERSION >> ../before.log\"\n"
                        "after_switch = \"echo $VELIN_VERSION >> ../after.log\"\n"));
  TwoVersions(app);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  RunResult r =
      app.Velin({"rollback", "to-version", "v2"}, {{"VELIN_TEST_CRASH_AT", "switch-renamed"}});
  ASSERT_EQ(r.exit_code, 86) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.root() + "/before.log"), "v1\nv2\n");
  EXPECT_EQ(ReadFileOrDie(app.root() + "/after.log"), "v1\n");
  r = app.Velin({"rollback", "recover"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(app.Current(), "v2");
  EXPECT_EQ(ReadFileOrDie(app.root() + "/before.log"), "v1\nv2\n");
  EXPECT_EQ(ReadFileOrDie(app.root() + "/after.log"), "v1\nv2\n");
}

// A deploy transaction's rollback is a switch too: its hooks see the base it goes back to.
TEST(HooksTest, TransactionRollbackRunsTheSwitchHooks) {
  ToyApp app(SwitchOpts(false,
                        "before_switch = \"echo $VELIN_FROM_VERSION-$VELIN_VERSION >> "
                        "../before.log\"\n"
                        "after_switch = \"echo $VELIN_FROM_VERSION-$VELIN_VERSION >> "
                        "../after.log\"\n"));
  TwoVersions(app);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", "5m"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "rollback"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string base = app.Current();  // the transaction's base (v1's files)
  EXPECT_NE(base, "v2");
  EXPECT_EQ(ReadFileOrDie(app.root() + "/before.log"), "-v1\nv1-v2\nv2-" + base + "\n");
  EXPECT_EQ(ReadFileOrDie(app.root() + "/after.log"), "-v1\nv1-v2\nv2-" + base + "\n");
}

// The rollback of a deploy transaction is what saves the service from a bad deploy: a failing
// before_switch (maintenance mode that cannot be switched on) is a warning there, not a veto.
TEST(HooksTest, FailingBeforeSwitchDoesNotBlockATransactionRollback) {
  ToyApp app(SwitchOpts(false, ""));
  TwoVersions(app);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", "5m"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  RunResult r =
      app.Velin({"rollback", "rollback"}, {{"VELIN_HOOKS_BEFORE_SWITCH", "echo no; exit 4"}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("rolling back to"), std::string::npos) << r.err;
  EXPECT_NE(app.Current(), "v2");
  // An ordinary switch is still vetoed.
  RunResult vetoed =
      app.Velin({"rollback", "to-version", "v2"}, {{"VELIN_HOOKS_BEFORE_SWITCH", "exit 4"}});
  EXPECT_EQ(vetoed.exit_code, 1) << vetoed.err;
  EXPECT_NE(app.Current(), "v2");
}

TEST(HooksTest, FailingAfterSwitchKeepsTheSwitch) {
  ToyApp app(SwitchOpts(false, "after_switch = \"echo flush failed; exit 6\"\n"));
  TwoVersions(app);
  ASSERT_EQ(
      app.Velin({"rollback", "to-version", "v1"}, {{"VELIN_HOOKS_AFTER_SWITCH", ""}}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v2"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("hooks.after_switch failed (exit code 6): flush failed"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("the switch to v2 stands"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v2");
}

TEST(HooksTest, OnSwitchFailureRunsOnAHealthFailure) {
  ToyApp app(SwitchOpts(true, kAllSwitchHooks));
  TwoVersions(app, /*broken_v2=*/true);
  RunResult first = app.Velin({"rollback", "to-version", "v1"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::filesystem::remove(app.root() + "/after.env");
  RunResult r = app.Velin({"rollback", "to-version", "v2"},
                          {{"VELIN_HOOKS_ON_SWITCH_FAILURE", "env > ../failure.env; exit 3"}});
  EXPECT_EQ(r.exit_code, 5) << r.out << r.err;  // the health failure's code, not the hook's
  EXPECT_NE(r.err.find("hooks.on_switch_failure failed (exit code 3)"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current(), "v1");
  auto env = ReadEnvFile(app.root() + "/failure.env");
  EXPECT_EQ(env["VELIN_EVENT"], "on_switch_failure");
  EXPECT_EQ(env["VELIN_VERSION"], "v2");
  EXPECT_EQ(env["VELIN_FROM_VERSION"], "v1");
  EXPECT_NE(env["VELIN_ERROR"].find("health"), std::string::npos) << env["VELIN_ERROR"];
  EXPECT_FALSE(std::filesystem::exists(app.root() + "/after.env"));
}

// A password in a URL inside a command (a hook's, rollback.stop's) is shown as *** wherever the
// command or its failure is: the log, stderr, the history, VELIN_ERROR of on_switch_failure and
// the dry-run's plan (docs/cli.md: "a password in any URL shows as ***").
TEST(HooksTest, APasswordInACommandsUrlIsShownAsStars) {
  TempDir logs;
  ToyApp app(SwitchOpts(true, "on_switch_failure = \"env > ../failure.env\"\n[log]\nfile = \"" +
                                  (logs / "velin.log") + "\"\nlevel = \"info\"\n"));
  TwoVersions(app);
  RunResult first = app.Velin({"rollback", "to-version", "v2"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const std::map<std::string, std::string> env = {
      {"VELIN_HOOKS_BEFORE_SWITCH", "curl -fsS http://deploy:s3cretpw@127.0.0.1:1/down; true"},
      {"VELIN_ROLLBACK_STOP", "sleep 5; curl http://svc:stoppw@127.0.0.1:1/stop"},
      {"VELIN_ROLLBACK_STOP_TIMEOUT", "1s"}};

  RunResult plan = app.Velin({"rollback", "to-version", "v1", "--dry-run"}, env);
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_NE(plan.out.find("stop: sleep 5; curl http://svc:***@127.0.0.1:1/stop"), std::string::npos)
      << plan.out;

  RunResult r = app.Velin({"rollback", "to-version", "v1"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("rollback.stop command did not finish within 1s: sleep 5; curl "
                       "http://svc:***@127.0.0.1:1/stop"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(app.Current(), "v2");
  const std::string log = ReadFileOrDie(logs / "velin.log");
  EXPECT_NE(log.find("hooks.before_switch: running curl -fsS http://deploy:***@127.0.0.1:1/down"),
            std::string::npos)
      << log;
  const std::string history = ReadFileOrDie(app.state() + "/history.jsonl");
  EXPECT_NE(history.find("http://svc:***@127.0.0.1:1/stop"), std::string::npos) << history;
  auto failure = ReadEnvFile(app.root() + "/failure.env");
  EXPECT_NE(failure["VELIN_ERROR"].find("http://svc:***@"), std::string::npos)
      << failure["VELIN_ERROR"];
  for (const std::string& shown : {plan.out, plan.err, r.out, r.err, log, history}) {
    EXPECT_EQ(shown.find("s3cretpw"), std::string::npos) << shown;
    EXPECT_EQ(shown.find("stoppw"), std::string::npos) << shown;
  }
  EXPECT_EQ(failure["VELIN_ERROR"].find("stoppw"), std::string::npos);
}

// velin raises its own soft limit on open files (a restore holds many directories open); a
// hook gets the limit velin was started with.
TEST(HooksTest, AHookGetsTheOpenFileLimitVelinStartedWith) {
  BackupApp app({"storage"},
                "[hooks]\nbefore_backup = \"ulimit -Sn > limit.txt\"\ntimeout = \"10s\"\n");
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  RunOptions limits;
  limits.open_files_soft = 1000;
  limits.open_files_hard = 4096;
  RunResult r = app.Run({"backup", "create"}, limits);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.root() + "/limit.txt"), "1000\n");
}

}  // namespace
}  // namespace velin::testing
