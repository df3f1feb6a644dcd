// What an unattended velin (cron, a systemd timer) leaves to be read afterwards, with the real
// binary: path keys that must name a place refuse "", warnings reach the [log] file, a log file
// that cannot be opened fails no backup, URLs' passwords and ping secrets stay hidden, pings
// are http(s) only, notifications name the configured host and app, and a chatty hook's last
// line is the one it printed last.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/ops_config.hpp"
#include "support/ops_http_server.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// An empty app.root resolved to nothing: `backup create` backed up the working directory as an
// app named "/"; an empty rollback.state_dir put the registry and lock into "/".
TEST(OpsAuditTest, AnEmptyPathKeyIsRefusedWithItsPlace) {
  struct Case {
    std::string toml;
    std::string expected;
  };
  for (const Case& c :
       {Case{"[app]\nroot = \"\"\n", "velin.toml:2:1: key 'root' in [app] must not be empty"},
        Case{"[rollback]\nstate_dir = \"\"\n",
             "velin.toml:2:1: key 'state_dir' in [rollback] must not be empty"},
        Case{"[rollback]\ncurrent = \"\"\n",
             "velin.toml:2:1: key 'current' in [rollback] must not be empty"}}) {
    TempDir dir;
    WriteFile(dir / "velin.toml", c.toml);
    RunResult r = RunVelin({"config", "check"}, {.cwd = dir.path()});
    EXPECT_EQ(r.exit_code, 2) << c.toml << r.out << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
  }
  // The same as an empty override: the variable is named, and no backup of the working
  // directory is made.
  for (const char* variable : {"VELIN_APP_ROOT", "VELIN_ROLLBACK_STATE_DIR"}) {
    TempDir dir;
    WriteFile(dir / "uploads/a.txt", "hello");
    WriteFile(dir / "velin.toml", "[backup]\ninclude = [\"uploads\"]\n");
    RunOptions o{.cwd = dir.path()};
    o.env[variable] = "";
    RunResult r = RunVelin({"config", "check"}, o);
    EXPECT_EQ(r.exit_code, 2) << variable << r.out << r.err;
    EXPECT_NE(r.err.find(std::string("environment ") + variable + ": key '"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("must not be empty"), std::string::npos) << r.err;
  }
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  WriteFile(dir / "velin.toml", "[backup]\ninclude = [\"uploads\"]\n");
  RunOptions o{.cwd = dir.path()};
  o.env["VELIN_APP_ROOT"] = "";
  RunResult r = RunVelin({"backup", "create"}, o);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / ".velin/backups")) << r.out;
  // German, as every message.
  o.env["LANG"] = "de_DE.UTF-8";
  r = RunVelin({"config", "check"}, o);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("darf nicht leer sein"), std::string::npos) << r.err;
}

// Under cron nobody reads stderr: an include that holds no files (a NAS not mounted) must be
// found in the log afterwards, in the format of the errors there.
TEST(OpsAuditTest, WarningsReachTheLogFile) {
  TempDir dir;
  std::filesystem::create_directories(dir / "uploads");
  WriteFile(dir / "velin.toml",
            UploadsConfigWith("log", "file = \"logs/velin.log\"\nlevel = \"info\"\n"));
  RunResult r = RunVelin({"backup", "create"}, {.cwd = dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_NE(r.err.find("warning: backup.include 'uploads' holds no files"), std::string::npos)
      << r.err;
  const std::string log = ReadFileOrDie(dir / "logs/velin.log");
  EXPECT_NE(log.find("] warning: backup.include 'uploads' holds no files"), std::string::npos)
      << log;
  EXPECT_EQ(Count(log, "holds no files"), 1u) << log;
  // [log] level "error" keeps warnings out, as it keeps info out.
  WriteFile(dir / "velin.toml",
            UploadsConfigWith("log", "file = \"logs/errors.log\"\nlevel = \"error\"\n"));
  r = RunVelin({"backup", "create"}, {.cwd = dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(ReadFileOrDie(dir / "logs/errors.log").find("holds no files"), std::string::npos);
}

// A password in a webhook or ping URL is a secret like the path's token.
TEST(OpsAuditTest, APasswordInAWebhookOrPingUrlIsNeverShown) {
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  const std::string host = "127.0.0.1:" + std::to_string(OpsHttpServer::UnusedPort());
  WriteFile(dir / "velin.toml",
            "[backup]\ninclude = [\"uploads\"]\nprune_after_create = false\n"
            "[notify]\nwebhook_url = \"http://user:hunter2@" +
                host +
                "/hook/TOKEN\"\nevents = [\"backup-succeeded\"]\n"
                "[monitor]\nping_url = \"http://pinger:hunter2@" +
                host + "/ping\"\n");
  RunResult r = RunVelin({"backup", "create"}, {.cwd = dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("notification to http://user:***@" + host + "/… failed"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("http://pinger:***@" + host + "/…"), std::string::npos) << r.err;
  for (bool json : {false, true}) {
    std::vector<std::string> args = {"config", "check"};
    if (json) args.push_back("--json");
    r = RunVelin(args, {.cwd = dir.path()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ((r.out + r.err).find("hunter2"), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.out.find("http://user:***@" + host + "/…"), std::string::npos) << r.out;
  }
}

// A log file velin cannot open (here a directory) must not cost the backup: the command runs
// and says once why it logs to stderr only; `config check` fails on it.
TEST(OpsAuditTest, ALogFileThatCannotBeOpenedFailsNoBackup) {
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  std::filesystem::create_directories(dir / "velin.log");
  WriteFile(dir / "velin.toml", UploadsConfigWith("log", "file = \"velin.log\"\n"));
  RunResult r = RunVelin({"backup", "create"}, {.cwd = dir.path()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string warning = "warning: cannot open log file " + (dir / "velin.log") +
                              ": Is a directory; logging to stderr only";
  EXPECT_NE(r.err.find(warning), std::string::npos) << r.err;
  EXPECT_EQ(Count(r.err, "cannot open log file"), 1u) << r.err;
  r = RunVelin({"backup", "list", "--json"}, {.cwd = dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["backups"].size(), 1u) << r.out;

  r = RunVelin({"config", "check"}, {.cwd = dir.path()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  // Where the key is, as every error of velin.toml says (docs/cli.md, "config").
  EXPECT_TRUE(r.err.starts_with("error: " + std::filesystem::canonical(dir.path()).string() +
                                "/velin.toml:"))
      << r.err;
  EXPECT_NE(r.err.find(": key 'file' in [log]: cannot open log file " + (dir / "velin.log")),
            std::string::npos)
      << r.err;
}

// libcurl refused ftp:// at every ping, and sent a URL without a scheme over plain http.
TEST(OpsAuditTest, APingUrlMustBeHttpOrHttps) {
  for (const std::string url : {"ftp://hc.example.com/uuid", "hc-ping.com/uuid"}) {
    TempDir dir;
    WriteFile(dir / "velin.toml", "[monitor]\nping_url = \"" + url + "\"\n");
    RunResult r = RunVelin({"config", "check"}, {.cwd = dir.path()});
    EXPECT_EQ(r.exit_code, 2) << url << r.out << r.err;
    EXPECT_NE(r.err.find("velin.toml:2:1: key 'ping_url' in [monitor] must start with http:// or "
                         "https://"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("uuid"), std::string::npos) << r.err;  // the secret is not quoted
  }
  TempDir dir;
  WriteFile(dir / "velin.toml", "[monitor]\n");
  RunOptions o{.cwd = dir.path()};
  o.env["VELIN_MONITOR_PING_URL"] = "ftp://hc.example.com/uuid";
  RunResult r = RunVelin({"config", "check"}, o);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("environment VELIN_MONITOR_PING_URL: key 'ping_url'"), std::string::npos)
      << r.err;
}

// Backups record [app] host and name; the notifications name the same, not the machine's host
// name and the app's path.
TEST(OpsAuditTest, NotificationsNameTheConfiguredHostAndApp) {
  OpsHttpServer server;
  TempDir dir;
  WriteFile(dir / "velin.toml",
            "[app]\nname = \"shop\"\nhost = \"web-7\"\n"
            "[backup]\ninclude = [\"uploads\"]\n"
            "[notify]\nwebhook_url = \"" +
                server.url() + "/hook\"\ncommand = \"env > notify.env\"\n");
  RunResult r = RunVelin({"backup", "create"}, {.cwd = dir.path()});  // uploads is missing
  ASSERT_EQ(r.exit_code, 1) << r.err;
  auto requests = server.WaitForRequests(1);
  ASSERT_EQ(requests.size(), 1u);
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["host"], "web-7") << body;
  EXPECT_EQ(body["app"], "shop") << body;
  const std::string env = "\n" + ReadFileOrDie(dir / "notify.env");
  EXPECT_NE(env.find("\nVELIN_HOST=web-7\n"), std::string::npos) << env;
  EXPECT_NE(env.find("\nVELIN_APP=shop\n"), std::string::npos) << env;
}

// VELIN_MONITOR_PING_URL holds the healthcheck's UUID: no hook and no notify command gets it.
TEST(OpsAuditTest, ThePingUrlOverrideReachesNoChild) {
  OpsHttpServer server;
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  WriteFile(dir / "velin.toml",
            "[backup]\ninclude = [\"uploads\"]\nprune_after_create = false\n"
            "[hooks]\nbefore_backup = \"env > hook.env\"\n"
            "[notify]\ncommand = \"env > notify.env\"\nevents = [\"backup-succeeded\"]\n");
  RunOptions o{.cwd = dir.path()};
  o.env["VELIN_MONITOR_PING_URL"] = server.url() + "/ping/uuid-SECRET-4711";
  RunResult r = RunVelin({"backup", "create"}, o);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server.WaitForRequests(2).size(), 2u);  // the override was used
  for (const char* file : {"hook.env", "notify.env"}) {
    const std::string env = ReadFileOrDie(dir / file);
    EXPECT_NE(env.find("VELIN_EVENT="), std::string::npos) << file << env;
    EXPECT_EQ(env.find("SECRET-4711"), std::string::npos) << file << env;
  }
}

// Only the first MiB of a hook's output was kept: one printing more before it failed was
// reported with a line from the middle of its chatter.
TEST(OpsAuditTest, AHookPrintingMoreThanAMebibyteReportsItsRealLastLine) {
  TempDir dir;
  WriteFile(dir / "uploads/a.txt", "hello");
  WriteFile(dir / "velin.toml",
            UploadsConfigWith("hooks",
                              "before_backup = \"yes chatter | head -c 3000000; echo the disk is "
                              "full; exit 3\"\n[log]\nfile = \"velin.log\"\n"));
  RunResult r = RunVelin({"backup", "create"}, {.cwd = dir.path()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("hooks.before_backup failed (exit code 3): the disk is full"),
            std::string::npos)
      << r.err.substr(0, 2000);
  const std::string log = ReadFileOrDie(dir / "velin.log");
  EXPECT_NE(log.find("hooks.before_backup: the disk is full"), std::string::npos);
  EXPECT_NE(log.find("bytes of output left out]"), std::string::npos);
}

}  // namespace
}  // namespace velin::testing
