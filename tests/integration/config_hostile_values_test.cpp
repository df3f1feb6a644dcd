// velin.toml values an audit found doing harm through the real binary: a retention_days so
// large that its cutoff wrapped into the future and every create forgot all but the newest
// backup; a NUL in an include (a backup of the wrong file that no restore could read) or the
// destination (a stray directory); an offsite that is the destination itself ("Copied
// offsite", no second copy); a table name deep enough to crash toml++; an endless pipe as
// the config (std::bad_alloc); and S3 settings that passed the check and failed every command.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

size_t BackupCount(const BackupApp& app) {
  return app.Json({"backup", "list"}).value("backups", nlohmann::json::array()).size();
}

void ThreeBackups(const BackupApp& app, const RunOptions& options = {}) {
  for (int i = 0; i < 3; ++i) {
    WriteFile(app.root() + "/storage/f", "version " + std::to_string(i) + "\n");
    RunResult r = app.Run({"-q", "backup", "create"}, options);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
}

TEST(ConfigHostileValues, HugeRetentionDaysKeepsEveryBackup) {
  BackupApp app({"storage"}, "prune_after_create = false\nretention_days = 200000\n");
  std::filesystem::create_directories(app.root() + "/storage");
  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  ThreeBackups(app);
  RunResult dry = app.Run({"backup", "forget", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("0 of 3 backups would be forgotten, 3 kept"), std::string::npos)
      << dry.out;
  EXPECT_NE(dry.out.find("within 200000 days"), std::string::npos) << dry.out;
  // The schema's largest value, from the environment, with forget after every create.
  RunOptions largest;
  largest.env = {{"VELIN_BACKUP_RETENTION_DAYS", "1000000"},
                 {"VELIN_BACKUP_PRUNE_AFTER_CREATE", "true"}};
  ThreeBackups(app, largest);
  EXPECT_EQ(BackupCount(app), 6u);
}

TEST(ConfigHostileValues, ANulInAnIncludeIsRefusedBeforeAnyBackup) {
  BackupApp app({"storage"});
  WriteFile(app.path("velin.toml"),
            "[app]\nroot = \"app\"\n[backup]\ninclude = [\"a\\u0000b\"]\ndestination = \"repo\"\n");
  WriteFile(app.root() + "/a", "x\n");
  RunResult check = app.Run({"config", "check"});
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE(check.err.find("velin.toml:4:12: key 'include' in [backup] holds a NUL character"),
            std::string::npos)
      << check.err;
  RunResult create = app.Run({"backup", "create"});
  EXPECT_EQ(create.exit_code, 2) << create.out << create.err;
  EXPECT_FALSE(std::filesystem::exists(app.repo()));
}

TEST(ConfigHostileValues, ANulInTheDestinationMakesNoStrayDirectory) {
  BackupApp app({"storage"});
  WriteFile(app.path("velin.toml"),
            "[app]\nroot = \"app\"\n[backup]\ninclude = [\"storage\"]\n"
            "destination = \"repo\\u0000zzz\"\n");
  RunResult init = app.Run({"backup", "init"});
  EXPECT_EQ(init.exit_code, 2) << init.out << init.err;
  EXPECT_NE(init.err.find("velin.toml:5:1: key 'destination' in [backup] holds a NUL character"),
            std::string::npos)
      << init.err;
  EXPECT_FALSE(std::filesystem::exists(app.repo()));
}

TEST(ConfigHostileValues, AnOffsiteThatIsTheDestinationIsRefused) {
  BackupApp app({"storage"}, "offsite = \"repo/\"\n");
  WriteFile(app.root() + "/storage/f", "x\n");
  RunResult check = app.Run({"config", "check"});
  EXPECT_EQ(check.exit_code, 2) << check.out << check.err;
  EXPECT_NE(check.err.find("velin.toml:6:1: key 'offsite' in [backup]: \"" + app.repo() +
                           "\" is the repository of backup.destination"),
            std::string::npos)
      << check.err;
  RunResult create = app.Run({"backup", "create"});
  EXPECT_EQ(create.exit_code, 2) << create.out << create.err;
  EXPECT_EQ(create.out.find("Copied offsite"), std::string::npos) << create.out;
}

TEST(ConfigHostileValues, CopyingARepositoryIntoItselfIsRefused) {
  BackupApp app({"storage"}, "offsite = \"elsewhere\"\n");
  WriteFile(app.root() + "/storage/f", "x\n");
  // --destination the offsite: refused before a backup is made there.
  RunResult create = app.Run({"backup", "create", "--destination", app.path("elsewhere")});
  EXPECT_EQ(create.exit_code, 2) << create.out << create.err;
  EXPECT_NE(create.err.find("is the repository backed up to"), std::string::npos) << create.err;
  EXPECT_FALSE(std::filesystem::exists(app.path("elsewhere")));

  ASSERT_EQ(app.Run({"backup", "init"}).exit_code, 0);
  ASSERT_EQ(app.Run({"-q", "backup", "create"}).exit_code, 0);
  std::filesystem::create_directory_symlink(app.repo(), app.path("same"));
  for (const std::string& to : {app.repo(), std::string("./repo/"), app.path("same")}) {
    SCOPED_TRACE(to);
    RunResult copy = app.Run({"backup", "copy", "--all", "--to", to});
    EXPECT_EQ(copy.exit_code, 2) << copy.out << copy.err;
    EXPECT_NE(copy.err.find("is the repository the backups are copied from"), std::string::npos)
        << copy.err;
  }
  // The configured offsite is another repository: copied there as always.
  EXPECT_TRUE(std::filesystem::exists(app.path("elsewhere/config")));
}

TEST(ConfigHostileValues, ADeepTableNameIsRefusedNotACrash) {
  TempDir dir;
  std::string deep = "a";
  for (int i = 0; i < 40000; ++i) deep += ".a";
  WriteFile(dir / "header.toml", "[" + deep + "]\n");
  WriteFile(dir / "key.toml", "[backup]\n" + deep + " = 1\n");
  for (const char* name : {"header.toml", "key.toml"}) {
    RunResult r = RunVelin({"--config", dir / name, "config", "check"});
    EXPECT_EQ(r.exit_code, 2) << name << r.err;
    EXPECT_NE(r.err.find(dir / name + ":"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("a key or table name of more than 64 dotted parts"), std::string::npos)
        << r.err;
  }
}

TEST(ConfigHostileValues, AConfigPipeIsReadOnlyUpToTheLimit) {
  TempDir dir;
  const std::string velin = VelinBinary();
  // 6 MiB of comments through a pipe (an endless `yes '#'` did the same, until std::bad_alloc).
  RunResult big = RunProgram(
      {"sh", "-c", "yes '#' | head -c 6291456 | \"$0\" --config /dev/stdin config check", velin});
  EXPECT_EQ(big.exit_code, 2) << big.out << big.err;
  EXPECT_NE(big.err.find("/dev/stdin: is more than 4194304 bytes, too large for a config file"),
            std::string::npos)
      << big.err;
  RunResult endless =
      RunProgram({"sh", "-c", "yes '#' | \"$0\" --config /dev/stdin config check", velin});
  EXPECT_EQ(endless.exit_code, 2) << endless.out << endless.err;
  // A config that fits still comes through a pipe.
  RunOptions small;
  small.cwd = dir.path();
  RunResult fits = RunProgram(
      {"sh", "-c",
       "printf '[backup]\\ninclude = [\"x\"]\\n' | \"$0\" --config /dev/stdin config check", velin},
      small);
  EXPECT_EQ(fits.exit_code, 0) << fits.out << fits.err;
}

// `config check` passed "http://" and a URL with a space (exit 0), and every run then warned
// that libcurl could not use it; "HTTPS://" was refused. One line naming file, line and key.
TEST(ConfigHostileValues, APingUrlWithoutAHostOrWithASpaceIsRefusedByConfigCheck) {
  for (const std::string url : {"http://", "https://hc ping.com/T0KEN"}) {
    SCOPED_TRACE(url);
    TempDir dir;
    WriteFile(dir / "velin.toml", "[monitor]\nping_url = \"" + url + "\"\n");
    RunResult r = RunVelin({"config", "check"}, {.cwd = dir.path()});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(dir / "velin.toml" + ":2:1: key 'ping_url' in [monitor] "),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("T0KEN"), std::string::npos) << r.err;  // the secret is not quoted
  }
  TempDir dir;
  WriteFile(dir / "velin.toml", "[monitor]\nping_url = \"HTTPS://hc-ping.com/T0KEN\"\n");
  RunResult r = RunVelin({"config", "check"}, {.cwd = dir.path()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

// S3 settings every repository command refused ("must start with https:// or http://", "the
// bucket goes where the host would") passed `config check` with exit 0; a cron job then failed on
// what the check let through. Refused by the check too, naming the variable that set them.
TEST(ConfigHostileValues, S3SettingsTheCommandsRefuseFailTheCheck) {
  BackupApp app({"storage"});
  WriteFile(app.root() + "/storage/f", "x\n");
  struct Case {
    const char* variable;
    const char* value;
    const char* message;
  };
  for (const Case& c :
       {Case{"VELIN_STORAGE_S3_ENDPOINT", "minio.local:9000",
             "key 'endpoint' in [storage.s3]: storage.s3.endpoint 'minio.local:9000' must start "
             "with https:// or http://"},
        Case{"VELIN_STORAGE_S3_ENDPOINT", "ftp://127.0.0.1:1", "must start with https://"},
        Case{"VELIN_STORAGE_S3_ENDPOINT", "https://",
             "storage.s3.endpoint 'https://' names no server"},
        Case{"VELIN_BACKUP_DESTINATION", "s3://bkt:9000/x",
             "key 'destination' in [backup]: destination 's3://bkt/…': the bucket goes where the "
             "host would"},
        Case{"VELIN_BACKUP_DESTINATION", "s3://u@bkt/x", "the bucket goes where the host would"},
        Case{"VELIN_BACKUP_OFFSITE", "s3://bkt:9000/x", "key 'offsite' in [backup]: "}}) {
    SCOPED_TRACE(std::string(c.variable) + "=" + c.value);
    RunOptions options;
    options.env[c.variable] = c.value;
    for (const std::vector<std::string>& command :
         {std::vector<std::string>{"config", "check"}, {"backup", "list"}}) {
      RunResult r = app.Run(command, options);
      EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
      EXPECT_NE(r.err.find(std::string("environment ") + c.variable + ": "), std::string::npos)
          << r.err;
      EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
      EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
    }
  }
}

}  // namespace
}  // namespace velin::testing
