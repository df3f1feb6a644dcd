// Secrets from password_env as cron and systemd see them: neither passes a variable the user
// exported by hand in the shell. A try in that shell passed (config check too), and then every
// scheduled run failed with exit 2:
// - `config check` said nothing of a database.password_env or backup.password_env naming a
//   variable that is not set (and no password_file beside it);
// - the repository passphrase's error at run time said only "... is not set", where the
//   database password's says what works unattended.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/backup_fixture.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUnattendedRepoVar = "VELIN_TEST_UNATTENDED_REPO_PASS";
constexpr const char* kUnattendedDbVar = "VELIN_TEST_UNATTENDED_DB_PASS";

// An encrypted repository's passphrase and a PostgreSQL database's password, both from
// variables (backup.password_env at line 7, database.password_env at line 13).
std::string UnattendedConfig(const std::string& extra_database = "") {
  return std::string("[app]\nroot = \"app\"\n[backup]\ninclude = [\"storage\"]\n") +
         "destination = \"repo\"\nencryption = \"aes-256-gcm\"\npassword_env = \"" +
         kUnattendedRepoVar +
         "\"\n[database]\ndriver = \"postgresql\"\nhost = \"127.0.0.1\"\nname = \"shop\"\n"
         "user = \"shop\"\npassword_env = \"" +
         kUnattendedDbVar + "\"\n" + extra_database;
}

RunOptions UnattendedWithout(std::vector<std::string> unset) {
  RunOptions o;
  o.unset_env = std::move(unset);
  return o;
}

TEST(UnattendedSecretsTest, ConfigCheckWarnsOfAPasswordVariableThatIsNotSet) {
  BackupApp app({"storage"});
  WriteFile(app.path("velin.toml"), UnattendedConfig());
  RunResult r =
      app.Run({"config", "check", "-q"}, UnattendedWithout({kUnattendedRepoVar, kUnattendedDbVar}));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;  // the file is valid: a warning, not a refusal
  const std::string file = app.path("velin.toml");
  EXPECT_NE(r.err.find("warning: " + file + ":7: backup.password_env names the environment " +
                       "variable " + kUnattendedRepoVar +
                       ", which is not set here; cron and systemd pass none of your shell's "
                       "variables: for scheduled runs set it in the unit (EnvironmentFile=) or "
                       "put the secret in a file only velin's user may read (chmod 600) and "
                       "name it in backup.password_file\n"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("warning: " + file + ":13: database.password_env names the environment " +
                       "variable " + kUnattendedDbVar + ", which is not set here;"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("name it in database.password_file\n"), std::string::npos) << r.err;

  nlohmann::json j =
      app.Json({"config", "check"}, 0, UnattendedWithout({kUnattendedRepoVar, kUnattendedDbVar}));
  ASSERT_TRUE(j.contains("unset_password_variables")) << j.dump();
  EXPECT_EQ(j["unset_password_variables"],
            nlohmann::json::parse(std::string("[{\"key\": \"backup.password_env\", "
                                              "\"variable\": \"") +
                                  kUnattendedRepoVar +
                                  "\"}, {\"key\": \"database.password_env\", \"variable\": \"" +
                                  kUnattendedDbVar + "\"}]"));
}

TEST(UnattendedSecretsTest, ConfigCheckIsQuietWhenTheVariableIsSetOrAFileIsNamed) {
  BackupApp app({"storage"});
  WriteFile(app.path("velin.toml"), UnattendedConfig());
  RunOptions set;
  set.env[kUnattendedRepoVar] = "right horse";
  set.env[kUnattendedDbVar] = "pw";
  RunResult r = app.Run({"config", "check", "-q"}, set);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("password_env"), std::string::npos) << r.err;

  // A file beside the variable: the file is what a scheduled run reads.
  WriteFile(app.path("db.pass"), "pw\n");
  fs::permissions(app.path("db.pass"), fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
  WriteFile(app.path("velin.toml"),
            UnattendedConfig("password_file = \"" + app.path("db.pass") + "\"\n"));
  r = app.Run({"config", "check", "-q"}, UnattendedWithout({kUnattendedDbVar}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("database.password_env"), std::string::npos) << r.err;

  // Nothing encrypted: the repository needs no passphrase.
  BackupApp plain({"storage"}, std::string("password_env = \"") + kUnattendedRepoVar + "\"\n");
  fs::create_directories(plain.root() + "/storage");
  r = plain.Run({"config", "check", "-q"}, UnattendedWithout({kUnattendedRepoVar}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "") << r.err;
}

TEST(UnattendedSecretsTest, AnUnsetPassphraseVariableSaysWhatWorksUnattended) {
  BackupApp app({"storage"}, std::string("encryption = \"aes-256-gcm\"\npassword_env = \"") +
                                 kUnattendedRepoVar + "\"\n");
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  RunOptions set;
  set.env[kUnattendedRepoVar] = "right horse";
  ASSERT_EQ(app.Run({"backup", "init"}, set).exit_code, 0);

  RunResult r = app.Run({"backup", "create"}, UnattendedWithout({kUnattendedRepoVar}));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(std::string("error: repository passphrase: environment variable ") +
                       kUnattendedRepoVar +
                       " is not set (backup.password_env); cron and systemd pass none of your "
                       "shell's variables: for scheduled runs put the passphrase in a file only "
                       "velin's user may read (chmod 600) and name it in backup.password_file "
                       "instead\n"),
            std::string::npos)
      << r.err;

  // And the way it names works: the passphrase from a file, no variable.
  WriteFile(app.path("repo.pass"), "right horse\n");
  fs::permissions(app.path("repo.pass"), fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace);
  WriteFile(app.path("velin.toml"), ReadFileOrDie(app.path("velin.toml")) + "password_file = \"" +
                                        app.path("repo.pass") + "\"\n");
  r = app.Run({"backup", "create"}, UnattendedWithout({kUnattendedRepoVar}));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace velin::testing
