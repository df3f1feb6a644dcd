// The transaction's watchdog as the real binary starts it: `begin` reports a transaction open
// only once its watchdog runs (a config read from a pipe is refused: the watchdog could not read
// it), the watchdog holds its lock so that recover and extend find it alive instead of starting
// more, it restores from the repository the command line named, and a deadline rollback a killed
// watchdog began is notified when the next command finishes it.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/rollback_app.hpp"
#include "velin/rollback/lock.hpp"

namespace velin::testing {
namespace {

// The pids of the running watchdogs (`velin … rollback watchdog`) whose command line names
// `config` (each test's config file is in its own temp dir).
std::vector<long> WatchdogsOfConfig(const std::string& config) {
  std::vector<long> pids;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    std::ifstream in("/proc/" + std::string(e->d_name) + "/cmdline");
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<std::string> args;
    std::string arg;
    for (std::istringstream words(ss.str()); std::getline(words, arg, '\0');) args.push_back(arg);
    bool watchdog = false, ours = false;
    for (const std::string& a : args) {
      watchdog = watchdog || a == "watchdog";
      ours = ours || a == config;
    }
    // A zombie has an empty command line: it is no watchdog any more.
    if (watchdog && ours) pids.push_back(pid);
  }
  ::closedir(proc);
  return pids;
}

// Kills every watchdog of the app when the test ends, however it ends (~ToyApp kills only the
// one transaction.json names).
struct WatchdogReaper {
  std::string config;
  ~WatchdogReaper() {
    for (long pid : WatchdogsOfConfig(config)) KillPid(pid);
  }
};

void SetUpV1LiveV2Created(ToyApp& app, std::map<std::string, std::string> env = {}) {
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1 - First"}, env).exit_code, 0);
  app.Build("v2");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v2 - Second"}, env).exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v1"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

std::string ShellQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// `velin --config <(cat velin.toml) rollback begin`: velin reads the pipe, the watchdog started
// later would find /dev/fd/63 gone and end at once with its error on /dev/null; before, begin
// exited 0 and nothing rolled back at the deadline.
TEST(RollbackWatchdogStartTest, AConfigReadFromAPipeIsRefusedAndOpensNothing) {
  ToyApp app(NoService());
  WatchdogReaper reaper{app.config()};
  SetUpV1LiveV2Created(app);
  // The same config with an absolute app.root (a pipe has no directory to resolve it against).
  std::string toml = ReadFileOrDie(app.config());
  const std::string relative = "root = \"app\"";
  ASSERT_NE(toml.find(relative), std::string::npos);
  toml.replace(toml.find(relative), relative.size(), "root = \"" + app.app() + "\"");
  WriteFile(app.root() + "/absolute.toml", toml);
  RunOptions o;
  o.cwd = app.root();
  RunResult r =
      RunProgram({"bash", "-c",
                  "exec " + ShellQuoted(VelinBinary()) + " --config <(cat " +
                      ShellQuoted(app.root() + "/absolute.toml") + ") rollback begin --timeout 3s"},
                 o);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("is not a regular file (a pipe such as --config <(…) is read once): the "
                       "watchdog, which rolls back at the deadline, could not read it"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(app.state() + "/transaction.json"));
  EXPECT_TRUE(WatchdogsOfConfig("/dev/fd/63").empty());
  // With the file, it opens (and so does a retry: nothing was left in the way).
  r = app.Velin({"rollback", "begin", "--timeout", "10m"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(WatchdogsOfConfig(app.config()).size(), 1u);
}

// The watchdog holds watchdog-ID.lock from its first instant (the descriptor handed to it was
// closed before: every recover and extend found it "dead" and started one more).
TEST(RollbackWatchdogStartTest, RecoverAndExtendFindTheWatchdogAliveAndStartNoOther) {
  ToyApp app(NoService());
  WatchdogReaper reaper{app.config()};
  SetUpV1LiveV2Created(app);
  RunResult r = app.Velin({"--json", "rollback", "begin", "--timeout", "10m"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string id = nlohmann::json::parse(r.out)["id"];
  const std::string lock = app.state() + "/watchdog-" + id + ".lock";
  auto held = rollback::StateLock::Held(lock);
  ASSERT_TRUE(held) << held.error().message;
  EXPECT_TRUE(*held);
  for (int i = 0; i < 2; ++i) {
    r = app.Velin({"rollback", "recover"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("transaction " + id + " is open until"), std::string::npos) << r.out;
  }
  r = app.Velin({"rollback", "extend", "1m"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto watchdogs = WatchdogsOfConfig(app.config());
  ASSERT_EQ(watchdogs.size(), 1u);
  EXPECT_EQ(watchdogs[0], WatchdogPid(app.state()));
  // Once it is gone, recover starts one again, which holds the lock in turn.
  KillPid(watchdogs[0]);
  for (int i = 0; i < 100 && !WatchdogsOfConfig(app.config()).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  r = app.Velin({"rollback", "recover"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("its watchdog was re-armed"), std::string::npos) << r.out;
  EXPECT_EQ(WatchdogsOfConfig(app.config()).size(), 1u);
  EXPECT_TRUE(rollback::StateLock::Held(lock).value_or(false));
}

// `--repo DIR --password-file F rollback begin --backup`: the watchdog's restore at the deadline
// used the config's repository ("no backup 'X' in …/config-repo") and its passphrase variable;
// it gets the same repository and passphrase file as the command that armed it, both given
// relative to the directory that command ran in.
TEST(RollbackWatchdogStartTest, TheWatchdogRestoresFromTheRepositoryOfTheCommandLine) {
  ToyAppOptions o = NoService();
  o.extra_rollback =
      "restore_data_on_timeout = true\n"
      "[backup]\ninclude = [\"db\"]\ndestination = \"config-repo\"\n"
      "encryption = \"aes-256-gcm\"\npassword_env = \"VELIN_TEST_UNSET_PASSPHRASE\"\n"
      "[database]\ndriver = \"sqlite\"\npath = \"var/app.db\"\n";
  ToyApp app(o);
  WatchdogReaper reaper{app.config()};
  const std::string db = app.app() + "/var/app.db";
  std::filesystem::create_directories(app.app() + "/var");
  auto sql = [&](const std::string& statement) {
    RunResult r = RunProgram({"sqlite3", db, statement});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  sql("CREATE TABLE t (v text); INSERT INTO t VALUES ('before begin');");
  SetUpV1LiveV2Created(app);
  WriteFile(app.root() + "/pass.txt", "correct horse battery\n", 0600);
  const std::vector<std::string> flags = {"--repo", "other-repo", "--password-file", "pass.txt"};
  auto with_flags = [&](std::vector<std::string> args) {
    args.insert(args.begin(), flags.begin(), flags.end());
    return args;
  };
  RunResult r = app.Velin(with_flags({"backup", "init"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = app.Velin(with_flags({"rollback", "begin", "--backup", "--timeout", "4s"}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  sql("UPDATE t SET v = 'written after begin';");
  bool ended = false;
  for (int i = 0; i < 600 && !ended; ++i) {
    ended = !std::filesystem::exists(app.state() + "/transaction.json");
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(ended);
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v1\n");
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "history"}).out);
  nlohmann::json last;
  for (const auto& h : doc["history"]) {
    if (h["action"] == "transaction") last = h;
  }
  EXPECT_EQ(last["outcome"], "rolled back by timeout") << last;
  EXPECT_EQ(last["data"].get<std::string>().rfind("restored from backup ", 0), 0u) << last;
  EXPECT_EQ(sql("SELECT v FROM t;"), "before begin\n");
  EXPECT_FALSE(std::filesystem::exists(app.root() + "/config-repo"));
  EXPECT_FALSE(std::filesystem::exists(app.app() + "/other-repo"));
}

// A watchdog killed in the middle of the deadline's rollback (here: a command that began it and
// was killed) leaves it rolling back with cause "timeout"; the next command finishes it and that
// is the deadline's rollback: [notify] gets rollback-timeout, as when recover finishes it.
TEST(RollbackWatchdogStartTest, ADeadlineRollbackFinishedByTheNextCommandIsNotified) {
  ToyAppOptions o = NoService();
  ToyApp probe(o);  // for its root only: the notify log lives outside the app under test
  o.extra_rollback =
      "\n[notify]\ncommand = \"echo $VELIN_EVENT >> " + probe.root() + "/events.log\"\n";
  ToyApp app(o);
  WatchdogReaper reaper{app.config()};
  SetUpV1LiveV2Created(app);
  ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", "10m"}).exit_code, 0);
  KillPid(WatchdogPid(app.state()));
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  const auto later = ClockAhead(std::chrono::hours(1));
  auto crash = later;
  crash["VELIN_TEST_CRASH_AT"] = "txn-rolling-back";
  RunResult r = app.Velin({"rollback", "list"}, crash);
  ASSERT_EQ(r.exit_code, 86) << r.err;
  auto txn = nlohmann::json::parse(ReadFileOrDie(app.state() + "/transaction.json"));
  ASSERT_EQ(txn["state"], "rolling-back");
  ASSERT_EQ(txn["cause"], "timeout");
  EXPECT_FALSE(std::filesystem::exists(probe.root() + "/events.log"));
  r = app.Velin({"rollback", "status"}, later);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(app.app() + "/current/bin/VERSION"), "v1\n");
  EXPECT_EQ(ReadFileOrDie(probe.root() + "/events.log"), "rollback-timeout\n");
}

}  // namespace
}  // namespace velin::testing
