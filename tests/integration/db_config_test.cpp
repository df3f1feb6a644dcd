// The [database] section as a user writes it: accepted with each driver, rejected (exit 2,
// naming the key) with an unknown one.
#include <gtest/gtest.h>

#include "support/rollback_app.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

TEST(DatabaseConfig, AcceptsEachDriverAndRejectsAnUnknownOne) {
  TempDir dir;
  for (const char* driver : {"postgresql", "mysql", "sqlite"}) {
    WriteFile(dir / "velin.toml", std::string("[database]\ndriver = \"") + driver +
                                      "\"\nname = \"shop\"\npath = \"var/app.db\"\n");
    RunResult r = RunVelin({"config", "check", "--config", dir / "velin.toml"});
    EXPECT_EQ(r.exit_code, 0) << driver << ": " << r.err;
  }
  WriteFile(dir / "velin.toml", "[database]\ndriver = \"oracle\"\n");
  RunResult r = RunVelin({"config", "check", "--config", dir / "velin.toml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("driver"), std::string::npos) << r.err;
}

// A user tries the backup in a shell where the password's variable is exported, then the cron
// line or the systemd timer runs it without: the line said only that the variable was not set.
// Must show: it names the key and the way that works unattended (database.password_file), and
// a password file alone is taken (no variable needed).
TEST(DatabaseConfig, AnUnsetPasswordVariableSaysWhatWorksUnattended) {
  TempDir dir;
  WriteFile(dir / "velin.toml",
            "[backup]\ninclude = [\"db\"]\ndestination = \"repo\"\n[database]\n"
            "driver = \"postgresql\"\nport = " +
                std::to_string(FreePort()) +
                "\nname = \"shop\"\nuser = \"shop\"\npassword_env = \"VELIN_TEST_UNSET_DB_PW\"\n");
  RunOptions o;
  o.unset_env.push_back("VELIN_TEST_UNSET_DB_PW");
  RunResult r = RunVelin({"backup", "create", "--config", dir / "velin.toml"}, o);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("error: database password: environment variable VELIN_TEST_UNSET_DB_PW "
                       "is not set (database.password_env); cron and systemd pass none of "
                       "your shell's variables"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("name it in database.password_file instead\n"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace velin::testing
