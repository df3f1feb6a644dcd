// The [database] section as a user writes it: accepted with each driver, rejected (exit 2,
// naming the key) with an unknown one.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace velin::testing
