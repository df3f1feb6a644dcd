// The small things a user reads and trips over (issue 14, defect 7): messages only after
// validation, status telling a running switch from an interrupted one and announcing an
// expired transaction's rollback, durations that must be positive, unknown subcommands, an
// empty history, the list's columns and order, plain ASCII off a terminal, and the state dir's
// permissions.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "support/rollback_app.hpp"

namespace velin::testing {
namespace {

uint32_t ModeOf(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

TEST(RollbackMessagesTest, NothingIsAnnouncedBeforeItIsValidated) {
  ToyApp app(NoService());
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  RunResult r = app.Velin({"rollback", "create-version", "v1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out.find("Creating"), std::string::npos) << r.out;
  r = app.Velin({"rollback", "to-version", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no version 'nope'"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("Switching"), std::string::npos) << r.out;
}

// `artifacts = ["."]` copied the state directory (registry, lock, every release) into the new
// release, and each later version nested all earlier ones. Must show: an artifact or config
// path holding the state directory or `current`, or inside the state directory, is refused
// before anything is announced or made; the application's own paths still work.
TEST(RollbackMessagesTest, PathsHoldingTheStateDirectoryOrCurrentAreRefused) {
  ToyApp app(NoService());
  app.Build("v1");
  // The state directory inside app.root, as the default (".velin" next to velin.toml) is
  // when velin.toml lives in the application's directory.
  std::string original = ReadFileOrDie(app.config());
  const std::string state_line = "state_dir = \".velin\"";
  ASSERT_NE(original.find(state_line), std::string::npos);
  original.replace(original.find(state_line), state_line.size(), "state_dir = \"app/.velin\"");
  const std::string artifacts = "artifacts = [\"bin\", \"scripts\"]";
  ASSERT_NE(original.find(artifacts), std::string::npos);
  struct Case {
    std::string line;
    std::string item;  // the refused item as written: its place in velin.toml is named
    std::string message;
  };
  const std::string state = app.app() + "/.velin";
  for (const Case& c : std::vector<Case>{
           {"artifacts = [\".\"]", "\".\"",
            "rollback.artifacts: '.' holds rollback.state_dir (" + state},
           {"artifacts = [\"bin\", \"./.velin\"]", "\"./.velin\"",
            "rollback.artifacts: '.velin' holds rollback.state_dir"},
           {"artifacts = [\"bin\", \".velin/releases\"]", "\".velin/releases\"",
            "rollback.artifacts: '.velin/releases' holds rollback.state_dir"},
           {"artifacts = [\"bin\", \"current\"]", "\"current\"",
            "rollback.artifacts: 'current' holds the current link"},
           {"artifacts = [\"bin\"]\nconfig = [\"bin/../\"]", "\"bin/../\"",
            "rollback.config: 'bin/..' holds rollback.state_dir"},
       }) {
    std::string toml = original;
    toml.replace(toml.find(artifacts), artifacts.size(), c.line);
    if (c.line.find("config") != std::string::npos) {
      toml.erase(toml.find("config = [\".env\"]\n"), 18);
    }
    WriteFile(app.config(), toml);
    const size_t at = toml.find(c.item, toml.find(c.line));
    const size_t line_start = toml.rfind('\n', at) + 1;
    const std::string place =
        "velin.toml:" +
        std::to_string(1 + std::count(toml.begin(), toml.begin() + static_cast<long>(at), '\n')) +
        ":" + std::to_string(at - line_start + 1) + ": ";
    RunResult r = app.Velin({"rollback", "create-snapshot", "v1"});
    EXPECT_EQ(r.exit_code, 2) << c.line << ": " << r.out << r.err;
    EXPECT_NE(r.err.find(place + c.message), std::string::npos) << c.line << ": " << r.err;
    EXPECT_EQ(r.out.find("Creating"), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(state + "/releases/v1")) << c.line;
    // config check makes the check the commands make before they start, and says the same.
    RunResult check = app.Velin({"config", "check"});
    EXPECT_EQ(check.exit_code, 2) << c.line << ": " << check.out << check.err;
    EXPECT_NE(check.err.find(place + c.message), std::string::npos) << c.line << ": " << check.err;
  }
  // From the environment, the variable is named.
  WriteFile(app.config(), original);
  std::map<std::string, std::string> env;
  env["VELIN_ROLLBACK_ARTIFACTS"] = "bin,.";
  RunResult check = app.Velin({"config", "check"}, env);
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE(check.err.find("environment VELIN_ROLLBACK_ARTIFACTS: rollback.artifacts: '.' holds"),
            std::string::npos)
      << check.err;
  EXPECT_EQ(app.Velin({"config", "check"}).exit_code, 0);
  WriteFile(app.config(), original);
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1"}).exit_code, 0);
}

TEST(RollbackMessagesTest, DurationsMustBePositive) {
  ToyApp app(NoService());
  RunResult r = app.Velin({"rollback", "begin", "--timeout", "0s"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("must be positive"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("is not a duration"), std::string::npos) << r.err;
  r = app.Velin({"rollback", "extend", "0s"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("must be positive"), std::string::npos) << r.err;

  std::string toml = ReadFileOrDie(app.config());
  for (const char* key : {"health_timeout", "transaction_timeout"}) {
    std::string bad = toml;
    size_t at = bad.find("health_timeout = ");
    bad.replace(at, bad.find('\n', at) - at, std::string(key) + " = \"0s\"");
    WriteFile(app.config(), bad);
    size_t line = 1 + std::count(bad.begin(), bad.begin() + static_cast<long>(at), '\n');
    r = app.Velin({"rollback", "status"});
    EXPECT_EQ(r.exit_code, 2) << key;
    EXPECT_NE(r.err.find("velin.toml:" + std::to_string(line) + ":"), std::string::npos)
        << key << ": " << r.err;
    EXPECT_NE(r.err.find(std::string(key) + "' in [rollback] must be positive"), std::string::npos)
        << r.err;
  }
}

TEST(RollbackMessagesTest, UnknownSubcommandIsNamed) {
  ToyApp app(NoService());
  RunResult r = app.Velin({"rollback", "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown command 'velin rollback frobnicate'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("to-version"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("watchdog"), std::string::npos) << r.err;  // hidden stays hidden
  EXPECT_EQ(r.err.find("A subcommand is required"), std::string::npos) << r.err;
  r = app.Velin({"rollback"});  // a missing subcommand is still a missing subcommand
  EXPECT_EQ(r.exit_code, 2);
}

TEST(RollbackMessagesTest, EmptyHistorySaysSo) {
  ToyApp app(NoService());
  RunResult r = app.Velin({"rollback", "history"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("No history yet"), std::string::npos) << r.out;
}

// Long names keep the columns straight; --json lists in the table's order (newest first);
// off a terminal the markers are plain ASCII.
TEST(RollbackMessagesTest, ListIsAlignedOrderedAndPlainOffATerminal) {
  ToyApp app(NoService());
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-version",
                       "v1.0.0-rc.1+build.20261125 - A release with a long description"})
                .exit_code,
            0);
  app.Build("v2");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v2 - Short"}).exit_code, 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v2"}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> rows;
  for (const auto& line : SplitLines(r.out)) {
    if (line.find("  version  ") != std::string::npos) rows.push_back(line);
  }
  ASSERT_EQ(rows.size(), 2u) << r.out;
  EXPECT_EQ(rows[0].rfind("  v2 - Short", 0), 0u) << r.out;  // newest first
  EXPECT_EQ(rows[0].find("  version  "), rows[1].find("  version  ")) << r.out;
  // The created column too: local time to the second (docs/cli.md, "Times").
  static const std::regex kLocalTime(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  )");
  std::smatch m0, m1;
  ASSERT_TRUE(std::regex_search(rows[0], m0, kLocalTime)) << r.out;
  ASSERT_TRUE(std::regex_search(rows[1], m1, kLocalTime)) << r.out;
  EXPECT_EQ(m0.position(0), m1.position(0)) << r.out;
  EXPECT_NE(rows[0].find("<- current"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("←"), std::string::npos) << r.out;
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
  EXPECT_EQ(doc["versions"][0]["name"], "v2");
  EXPECT_EQ(doc["versions"][1]["name"], "v1.0.0-rc.1+build.20261125");
  EXPECT_GT(doc["versions"][0]["seq"].get<int>(), doc["versions"][1]["seq"].get<int>());
  r = app.Velin({"rollback", "history"});
  EXPECT_NE(r.out.find("- -> v2: switched"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("→"), std::string::npos) << r.out;
}

// A description or reason with a newline or an escape sequence (a commit message's body, pasted)
// is shown quoted with C escapes: one row each, nothing sent to the terminal as a command.
TEST(RollbackMessagesTest, ControlCharactersInADescriptionOrReasonAreShownEscaped) {
  ToyApp app(NoService());
  app.Build("v1");
  ASSERT_EQ(app.Velin({"rollback", "create-version", "v1 - fix\nsecond line \x1b[31mred\x1b[0m"})
                .exit_code,
            0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1", "--reason", "line\none"}).exit_code, 0);
  RunResult r = app.Velin({"rollback", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  v1 - \"fix\\nsecond line \\x1b[31mred\\x1b[0m\"  version  "),
            std::string::npos)
      << r.out;
  r = app.Velin({"rollback", "history"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("- -> v1: switched  [\"line\\none\"]\n"), std::string::npos) << r.out;
  // JSON keeps the text as it was given.
  auto doc = nlohmann::json::parse(app.Velin({"--json", "rollback", "list"}).out);
  EXPECT_EQ(doc["versions"][0]["description"], "fix\nsecond line \x1b[31mred\x1b[0m");
}

// switch.json exists while a switch runs as well: status asks the lock before calling it
// interrupted.
TEST(RollbackMessagesTest, StatusTellsARunningSwitchFromAnInterruptedOne) {
  ToyApp app(NoService());
  for (const char* v : {"v1", "v2"}) {
    app.Build(v);
    ASSERT_EQ(app.Velin({"rollback", "create-version", v}).exit_code, 0);
  }
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  RunResult r =
      app.Velin({"rollback", "to-version", "v2"}, {{"VELIN_TEST_CRASH_AT", "switch-intent"}});
  ASSERT_EQ(r.exit_code, 86);
  int fd = ::open((app.state() + "/lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // as the velin running the switch would
  r = app.Velin({"rollback", "status"});
  EXPECT_NE(r.out.find("Switch v1 -> v2 in progress"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("recover"), std::string::npos) << r.out;
  auto st = nlohmann::json::parse(app.Velin({"--json", "rollback", "status"}).out);
  EXPECT_TRUE(st.contains("running_switch")) << st.dump();
  EXPECT_FALSE(st.contains("interrupted_switch")) << st.dump();
  ::close(fd);
  r = app.Velin({"rollback", "status"});
  EXPECT_NE(r.out.find("Interrupted switch v1 -> v2: run 'velin rollback recover'"),
            std::string::npos)
      << r.out;
  ASSERT_EQ(app.Velin({"rollback", "recover"}).exit_code, 0);
}

TEST(RollbackMessagesTest, StatusAnnouncesAnExpiredRollbackBeforeDoingIt) {
  ToyApp app(NoService());
  for (const char* v : {"v1", "v2"}) {
    app.Build(v);
    ASSERT_EQ(app.Velin({"rollback", "create-version", v}).exit_code, 0);
  }
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  // status runs an hour later (VELIN_NOW), past the deadline of a watchdog killed long before.
  ASSERT_EQ(app.Velin({"rollback", "begin", "--timeout", "10m"}).exit_code, 0);
  KillPid(WatchdogPid(app.state()));
  RunResult r = app.Velin({"rollback", "status"}, ClockAhead(std::chrono::hours(1)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t announced = r.err.find("expired at");
  size_t done = r.err.find("rolled back by timeout");
  ASSERT_NE(announced, std::string::npos) << r.err;
  ASSERT_NE(done, std::string::npos) << r.err;
  EXPECT_LT(announced, done) << r.err;
  EXPECT_NE(r.err.find("rolling it back to"), std::string::npos) << r.err;
  EXPECT_EQ(app.Current().rfind("base-", 0), 0u) << app.Current();  // it was done, too
}

// Nobody but velin's user may open the lock (an flock on it would block every deploy and the
// watchdog): the lock is 0600 and a symlinked lock is refused; the state dir is 0711, so a
// service running as another user still reaches its release through `current`.
TEST(RollbackMessagesTest, StateDirIsPrivate) {
  ToyApp app(NoService());
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  EXPECT_EQ(ModeOf(app.state()), 0711u);
  EXPECT_EQ(ModeOf(app.state() + "/lock"), 0600u);

  // A state dir and lock an earlier velin made (0755, 0644) are tightened.
  ASSERT_EQ(::chmod(app.state().c_str(), 0755), 0);
  ASSERT_EQ(::chmod((app.state() + "/lock").c_str(), 0644), 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  EXPECT_EQ(ModeOf(app.state()), 0711u);
  EXPECT_EQ(ModeOf(app.state() + "/lock"), 0600u);
  // A mode its owner chose is theirs.
  ASSERT_EQ(::chmod(app.state().c_str(), 0750), 0);
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  EXPECT_EQ(ModeOf(app.state()), 0750u);

  std::string elsewhere = app.root() + "/elsewhere";
  WriteFile(elsewhere, "keep\n", 0644);
  ASSERT_EQ(::unlink((app.state() + "/lock").c_str()), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), (app.state() + "/lock").c_str()), 0);
  RunResult r = app.Velin({"rollback", "to-version", "v1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("symlink"), std::string::npos) << r.err;
  EXPECT_EQ(ModeOf(elsewhere), 0644u);
  EXPECT_EQ(ReadFileOrDie(elsewhere), "keep\n");
}

// A new user's first `to-version`, whose `stop` fails (a typo, a service not installed yet):
// nothing is live, and the line said "nothing was changed (still )". Must show: it says
// nothing was changed and names no version; once one is live, a failing switch names it.
TEST(RollbackMessagesTest, AFirstSwitchThatChangedNothingNamesNoLiveVersion) {
  ToyAppOptions options = NoService();
  options.extra_rollback = "stop = \"test ! -e STOP_FAILS\"\n";
  ToyApp app(options);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  WriteFile(app.app() + "/STOP_FAILS", "");
  RunResult first = app.Velin({"rollback", "to-version", "v1"});
  EXPECT_EQ(first.exit_code, 1) << first.out << first.err;
  EXPECT_NE(first.err.find("error: switch to v1: rollback.stop command failed (exit code 1); "
                           "nothing was changed\n"),
            std::string::npos)
      << first.err;
  EXPECT_EQ(first.err.find("(still"), std::string::npos) << first.err;
  EXPECT_EQ(app.Current(), "");

  std::filesystem::remove(app.app() + "/STOP_FAILS");
  ASSERT_EQ(app.Velin({"rollback", "to-version", "v1"}).exit_code, 0);
  WriteFile(app.app() + "/STOP_FAILS", "");
  RunResult later = app.Velin({"rollback", "to-version", "v2"});
  EXPECT_EQ(later.exit_code, 1) << later.out << later.err;
  EXPECT_NE(later.err.find("nothing was changed (still v1)"), std::string::npos) << later.err;
}

}  // namespace
}  // namespace velin::testing
