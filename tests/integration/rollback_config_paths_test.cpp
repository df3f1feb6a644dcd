// [rollback] artifacts and config name paths inside app.root: `config check` refuses an absolute
// one, or one leading out with "..", with its file:line, as it does backup.include. Before
// 2026-12-06 it passed, and create-version then said "rollback.artifacts: /srv/app/etc does not
// exist" (the absolute path glued onto app.root).
#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace velin::testing {
namespace {

TEST(RollbackConfigPathsTest, PathsOutsideTheAppAreRefusedByCheckWithTheirLine) {
  for (const char* key : {"artifacts", "config"}) {
    for (std::string bad : {"/etc", "../etc", "bin/../../x"}) {
      TempDir dir;
      WriteFile(dir / "app/bin/app", "x\n");
      WriteFile(dir / "velin.toml", "[app]\nroot = \"app\"\n[rollback]\n" + std::string(key) +
                                        " = [\n  \"bin\",\n  \"" + bad + "\",\n]\n");
      RunResult r = RunVelin({"config", "check", "--config", dir / "velin.toml"});
      EXPECT_EQ(r.exit_code, 2) << key << " " << bad << ": " << r.out << r.err;
      EXPECT_NE(r.err.find("velin.toml:6:3: key '" + std::string(key) + "' in [rollback]: \"" +
                           bad + "\" must be a path inside app.root (relative, without '..')"),
                std::string::npos)
          << r.err;
      // The command that would use it says the same, not "app.root/etc does not exist".
      r = RunVelin({"rollback", "create-version", "v1", "--config", dir / "velin.toml"});
      EXPECT_EQ(r.exit_code, 2) << r.err;
      EXPECT_NE(r.err.find("must be a path inside app.root"), std::string::npos) << r.err;
      EXPECT_EQ(r.err.find("does not exist"), std::string::npos) << r.err;
    }
  }
}

TEST(RollbackConfigPathsTest, AnAbsoluteArtifactFromTheEnvironmentIsRefused) {
  TempDir dir;
  WriteFile(dir / "app/etc/x", "x\n");  // app.root/etc exists: it must not be taken for /etc
  WriteFile(dir / "velin.toml", "[app]\nroot = \"app\"\n[rollback]\nartifacts = [\"bin\"]\n");
  RunOptions o;
  o.env["VELIN_ROLLBACK_ARTIFACTS"] = "/etc";
  RunResult r = RunVelin({"config", "check", "--config", dir / "velin.toml"}, o);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("VELIN_ROLLBACK_ARTIFACTS"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("key 'artifacts' in [rollback]: \"/etc\" must be a path inside app.root"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace velin::testing
