// The real binary: no child process sees velin's secrets. The user's rollback commands get
// velin's environment minus the secrets; the MariaDB tools a minimal one, and their password
// through a pipe (/dev/fd/N), never a file in $TMPDIR. Wrappers on PATH record what the real
// tools were given, then exec them.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/db_servers.hpp"
#include "support/rollback_app.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

// What velin is run with: secrets of every kind, and one ordinary setting.
std::map<std::string, std::string> SecretEnvironment() {
  return {{"REPO_PASS", "repo-pass-value"},         {"DB_PASS", "db-pass-value"},
          {"AWS_ACCESS_KEY_ID", "aws-id-value"},    {"AWS_SECRET_ACCESS_KEY", "aws-secret-value"},
          {"AWS_SESSION_TOKEN", "aws-token-value"}, {"VELIN_FTP_PASSWORD", "ftp-pass-value"},
          {"APP_SETTING", "app-setting-value"}};
}

const char* const kSecretValues[] = {"repo-pass-value",  "db-pass-value",   "aws-id-value",
                                     "aws-secret-value", "aws-token-value", "ftp-pass-value"};

void ExpectNoSecret(const std::string& env, const std::string& what) {
  for (const char* secret : kSecretValues) {
    EXPECT_EQ(env.find(secret), std::string::npos) << secret << " reached " << what << ":\n" << env;
  }
}

TEST(ChildEnvironmentTest, RollbackCommandsGetTheUsersEnvironmentWithoutVelinsSecrets) {
  ToyAppOptions options;
  options.with_service = false;
  options.extra_rollback =
      "stop = \"env > stop.env\"\nstart = \"env > start.env\"\nhealth = \"env > health.env\"\n"
      "\n[backup]\npassword_env = \"REPO_PASS\"\n"
      "\n[database]\ndriver = \"sqlite\"\npath = \"app.db\"\npassword_env = \"DB_PASS\"\n";
  ToyApp app(options);
  ASSERT_EQ(app.BuildVersion("v1").exit_code, 0);
  ASSERT_EQ(app.BuildVersion("v2").exit_code, 0);
  RunResult r = app.Velin({"rollback", "to-version", "v1"}, SecretEnvironment());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* file : {"stop.env", "start.env", "health.env"}) {
    std::string env = ReadFileOrDie(app.app() + "/" + file);
    ExpectNoSecret(env, file);
    EXPECT_NE(env.find("APP_SETTING=app-setting-value"), std::string::npos) << file << ":\n" << env;
    EXPECT_NE(env.find("PATH="), std::string::npos) << env;
  }
}

// --password-file replaces backup.password_env, but the variable velin.toml names is still in
// velin's environment: the hooks and the notify command must not get it either.
TEST(ChildEnvironmentTest, HooksDoNotSeeThePassphraseVariableWhenAPasswordFileIsGiven) {
  BackupApp app({"storage"},
                "password_env = \"REPO_PASS\"\nencryption = \"aes-256-gcm\"\n"
                "[database]\ndriver = \"sqlite\"\npath = \"app.db\"\npassword_env = \"DB_PASS\"\n"
                "[hooks]\nbefore_backup = \"env > before.env; exit 1\"\n"
                "[notify]\ncommand = \"env > notify.env\"\n");
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  WriteFile(app.path("pass"), "repo-pass-value\n", 0600);
  RunOptions options;
  options.env = SecretEnvironment();
  RunResult r = app.Run({"--password-file", app.path("pass"), "backup", "create"}, options);
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;  // refused by the hook: a failure, notified
  for (const char* file : {"before.env", "notify.env"}) {
    std::string env = ReadFileOrDie(app.root() + "/" + file);
    ExpectNoSecret(env, file);
    EXPECT_EQ(env.find("REPO_PASS="), std::string::npos) << file << ":\n" << env;
    EXPECT_NE(env.find("APP_SETTING=app-setting-value"), std::string::npos) << file << ":\n" << env;
  }
}

// A wrapper named like the tool that appends its environment, arguments and the content of
// $TMPDIR to `log`, then runs the real tool.
void WriteWrapper(const std::string& dir, const std::string& name, const std::string& log) {
  WriteFile(dir + "/" + name,
            "#!/bin/sh\n{ echo '--- env'; env; echo '--- args'; echo \"$0 $@\"; echo '--- tmp';"
            " ls -A \"${TMPDIR:-/tmp}\"; } >> " +
                log + " 2>&1\nexec /usr/bin/" + name + " \"$@\"\n",
            0755);
}

// Wrappers of `tools` in a scratch directory, all logging to log(), and velin's environment:
// the secrets, with the wrappers first on PATH.
class WrappedTools {
 public:
  explicit WrappedTools(std::initializer_list<const char*> tools) {
    std::filesystem::create_directories(scratch_ / "tools");
    for (const char* tool : tools) WriteWrapper(scratch_ / "tools", tool, log());
  }
  std::string log() const { return scratch_ / "tools.log"; }
  std::string scratch(const std::string& name) const { return scratch_ / name; }
  RunOptions Options() const {
    RunOptions options;
    options.env = SecretEnvironment();
    options.env["PATH"] = scratch_ / "tools" + ":" + std::getenv("PATH");
    return options;
  }

 private:
  TempDir scratch_;
};

TEST(ChildEnvironmentTest, MariadbToolsGetAMinimalEnvironmentAndThePasswordThroughAPipe) {
  MariadbServer& my = MariadbServer::Shared();
  std::string db = my.CreateDatabase();
  my.Sql(db, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');");
  BackupApp app({"db"}, "password_env = \"REPO_PASS\"\n\n[database]\ndriver = \"mysql\"\nport = " +
                            std::to_string(my.port()) + "\nuser = \"app\"\nname = \"" + db +
                            "\"\npassword_env = \"DB_PASS\"\n");
  WrappedTools tools({"mariadb-dump", "mariadb"});
  std::string tmp = tools.scratch("tmp");
  std::filesystem::create_directories(tmp);
  RunOptions options = tools.Options();
  options.env["DB_PASS"] = kAppPassword;
  options.env["TMPDIR"] = tmp;

  RunResult r = app.Run({"backup", "create"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  my.Sql(db, "DELETE FROM t;");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.Sql(db, "SELECT v FROM t"), "a\n");

  std::string seen = ReadFileOrDie(tools.log());
  ExpectNoSecret(seen, "a MariaDB tool");
  EXPECT_EQ(seen.find(kAppPassword), std::string::npos) << seen;
  EXPECT_EQ(seen.find("APP_SETTING"), std::string::npos) << seen;
  EXPECT_NE(seen.find("mariadb-dump"), std::string::npos);
  // Both tools ran with the password option (dump + restore), each time from a pipe.
  size_t pipes = 0;
  for (size_t p = seen.find("--defaults-extra-file="); p != std::string::npos;
       p = seen.find("--defaults-extra-file=", p + 1)) {
    EXPECT_EQ(seen.compare(p + 22, 8, "/dev/fd/"), 0) << seen.substr(p, 40);
    ++pipes;
  }
  EXPECT_GE(pipes, 2u) << seen;
  // Nothing in $TMPDIR while the tools ran, nor after.
  size_t tmp_listing = 0;
  for (size_t p = seen.find("--- tmp\n"); p != std::string::npos;
       p = seen.find("--- tmp\n", p + 1)) {
    ++tmp_listing;
    std::string rest = seen.substr(p + 8);
    EXPECT_TRUE(rest.empty() || rest.rfind("--- env", 0) == 0) << rest.substr(0, 200);
  }
  EXPECT_GE(tmp_listing, 2u);
  EXPECT_TRUE(std::filesystem::is_empty(tmp));
}

TEST(ChildEnvironmentTest, PostgresqlToolsGetTheirPasswordAndNothingElseOfVelins) {
  PostgresServer& pg = PostgresServer::Shared();
  std::string db = pg.CreateDatabase();
  pg.Sql(
      db,
      "SET ROLE app; CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');");
  BackupApp app({"db"},
                "password_env = \"REPO_PASS\"\n\n[database]\ndriver = \"postgresql\"\n"
                "host = \"127.0.0.1\"\nport = " +
                    std::to_string(pg.port()) + "\nuser = \"app\"\nname = \"" + db +
                    "\"\npassword_env = \"DB_PASS\"\n");
  WrappedTools tools({"pg_dump", "pg_restore"});
  RunOptions options = tools.Options();
  options.env["DB_PASS"] = kAppPassword;
  options.env["PGAPPNAME"] = "velin-env-test";  // libpq's own setting: the tools get it
  RunResult r = app.Run({"backup", "create"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  std::string seen = ReadFileOrDie(tools.log());
  ExpectNoSecret(seen, "a PostgreSQL tool");
  EXPECT_EQ(seen.find("APP_SETTING"), std::string::npos) << seen;
  EXPECT_NE(seen.find(std::string("PGPASSWORD=") + kAppPassword), std::string::npos) << seen;
  EXPECT_NE(seen.find("pg_restore"), std::string::npos) << seen;
  EXPECT_NE(seen.find("PGAPPNAME=velin-env-test"), std::string::npos) << seen;
  // Its argv never holds the password.
  for (size_t p = seen.find("--- args\n"); p != std::string::npos;
       p = seen.find("--- args\n", p + 1)) {
    std::string args = seen.substr(p + 9, seen.find('\n', p + 9) - p - 9);
    EXPECT_EQ(args.find(kAppPassword), std::string::npos) << args;
  }
}

// The database clients' own password variables (velin's connection uses them when velin.toml
// names no password_env, docs/databases.md) are secrets too: the tools get them, the hooks and
// the notify command do not. PostgreSQL.
TEST(ChildEnvironmentTest, PgpasswordReachesTheToolsButNoHookOrNotifyCommand) {
  PostgresServer& pg = PostgresServer::Shared();
  std::string db = pg.CreateDatabase();
  pg.Sql(db, "SET ROLE app; CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);");
  BackupApp app({"db"}, "\n[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nport = " +
                            std::to_string(pg.port()) + "\nuser = \"app\"\nname = \"" + db +
                            "\"\n[hooks]\nbefore_backup = \"env > hook.env\"\n"
                            "[notify]\ncommand = \"env > notify.env\"\n"
                            "events = [\"backup-succeeded\"]\n");
  WrappedTools tools({"pg_dump"});
  RunOptions options = tools.Options();
  options.env.erase("REPO_PASS");  // velin.toml names neither: not velin's secrets here
  options.env.erase("DB_PASS");
  options.env["PGPASSWORD"] = kAppPassword;
  options.env["MYSQL_PWD"] = "mysql-pwd-value";
  RunResult r = app.Run({"backup", "create"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(ReadFileOrDie(tools.log()).find(std::string("PGPASSWORD=") + kAppPassword),
            std::string::npos);
  for (const char* file : {"hook.env", "notify.env"}) {
    std::string env = ReadFileOrDie(app.root() + "/" + file);
    ExpectNoSecret(env, file);
    EXPECT_EQ(env.find("PGPASSWORD"), std::string::npos) << file << ":\n" << env;
    EXPECT_EQ(env.find("MYSQL_PWD"), std::string::npos) << file << ":\n" << env;
    EXPECT_NE(env.find("APP_SETTING=app-setting-value"), std::string::npos) << file << ":\n" << env;
  }
}

// The same with MYSQL_PWD: the MariaDB tools get it (no password configured, so no option
// file), a hook does not.
TEST(ChildEnvironmentTest, MysqlPwdReachesTheToolsButNoHook) {
  MariadbServer& my = MariadbServer::Shared();
  std::string db = my.CreateDatabase();
  my.Sql(db, "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a');");
  BackupApp app({"db"}, "\n[database]\ndriver = \"mysql\"\nport = " + std::to_string(my.port()) +
                            "\nuser = \"app\"\nname = \"" + db +
                            "\"\n[hooks]\nbefore_backup = \"env > hook.env\"\n");
  WrappedTools tools({"mariadb-dump", "mariadb"});
  RunOptions options = tools.Options();
  options.env.erase("REPO_PASS");  // velin.toml names neither: not velin's secrets here
  options.env.erase("DB_PASS");
  options.env["MYSQL_PWD"] = kAppPassword;
  RunResult r = app.Run({"backup", "create"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  my.Sql(db, "DELETE FROM t;");
  r = app.Run({"backup", "restore", "latest", "--only", "db", "--yes"}, options);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(my.Sql(db, "SELECT v FROM t"), "a\n");
  EXPECT_NE(ReadFileOrDie(tools.log()).find(std::string("MYSQL_PWD=") + kAppPassword),
            std::string::npos);
  std::string env = ReadFileOrDie(app.root() + "/hook.env");
  ExpectNoSecret(env, "the hook");
  EXPECT_EQ(env.find("MYSQL_PWD"), std::string::npos) << env;
}

}  // namespace
}  // namespace velin::testing
