// contrib/ci/deploy.sh run as written, only /srv/shop pointing at a scratch application: a
// deploy commits; a failed smoke test rolls back; a retry of that version (a CI re-run)
// deploys it; a step that fails before the switch (no build to copy) rolls back at once. No
// outcome leaves the transaction open, which would block every deploy until its timeout.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support/test_support.hpp"

namespace velin::testing {
namespace {

class CiDeployScript : public ::testing::Test {
 protected:
  void SetUp() override {
    srv_ = dir_ / "srv/shop";
    work_ = dir_ / "checkout";
    WriteFile(srv_ + "/bin/app", "#!/bin/sh\necho v0\n");
    ::chmod((srv_ + "/bin/app").c_str(), 0755);
    WriteFile(srv_ + "/velin.toml",
              "[app]\nroot = \".\"\n[rollback]\nartifacts = [\"bin\"]\nstop = \"true\"\n"
              "start = \"true\"\nhealth = \"test -x " +
                  srv_ + "/current/bin/app\"\n");
    ASSERT_EQ(Velin({"rollback", "adopt", "v0 - initial", "--yes"}).exit_code, 0);
    // The script, with /srv/shop the only change.
    std::string script = ReadFileOrDie(SourceDir() + "/contrib/ci/deploy.sh");
    for (size_t at = 0; (at = script.find("/srv/shop", at)) != std::string::npos;
         at += srv_.size()) {
      script.replace(at, 9, srv_);
    }
    WriteFile(work_ + "/deploy.sh", script);
    WriteFile(work_ + "/smoke-test.sh", "#!/bin/sh\nexit \"${SMOKE_RC:-0}\"\n");
    ::chmod((work_ + "/smoke-test.sh").c_str(), 0755);
  }

  // A transaction a failing run left open ends here, not by its watchdog 10 minutes on.
  void TearDown() override { (void)Velin({"rollback", "rollback", "--reason", "test over"}); }

  RunResult Velin(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", srv_ + "/velin.toml"});
    return RunVelin(args);
  }
  // A build of `version` in the checkout, then the script for it.
  RunResult Deploy(const std::string& version, int smoke_rc) {
    WriteFile(work_ + "/build/bin/app", "#!/bin/sh\necho " + version + "\n");
    ::chmod((work_ + "/build/bin/app").c_str(), 0755);
    // Builds minutes apart, as in CI: rsync's quick check skips a file of the same size and
    // modification second ("echo v1.0" and "echo v1.1" written within one second).
    std::filesystem::last_write_time(
        work_ + "/build/bin/app",
        std::filesystem::file_time_type::clock::now() + std::chrono::minutes(10 * ++builds_));
    return DeployAsIs(version, smoke_rc);
  }
  RunResult DeployAsIs(const std::string& version, int smoke_rc) {
    RunOptions o;
    o.cwd = work_;
    o.env["CI_COMMIT_TAG"] = version;
    o.env["SMOKE_RC"] = std::to_string(smoke_rc);
    const std::string bin = std::filesystem::path(VelinBinary()).parent_path();
    o.env["PATH"] = bin + ":" + (getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    return RunProgram({"sh", "deploy.sh"}, o);
  }
  // `rollback status --json`: the live version, and no transaction left open.
  std::string LiveWithNoOpenTransaction() {
    RunResult r = Velin({"--json", "rollback", "status"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j["transaction"].is_null()) << j;
    return j["current"].is_string() ? j["current"].get<std::string>() : "";
  }

  TempDir dir_;
  int builds_ = 0;
  std::string srv_;
  std::string work_;
};

TEST_F(CiDeployScript, EveryOutcomeEndsTheTransactionAndARetryDeploysTheVersion) {
  RunResult r = Deploy("v1.0", 0);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(LiveWithNoOpenTransaction(), "v1.0");

  r = Deploy("v1.1", 1);  // the smoke test fails
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(LiveWithNoOpenTransaction(), "v1.0");

  r = Deploy("v1.1", 0);  // the CI job re-run once the smoke test is fixed
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(LiveWithNoOpenTransaction(), "v1.1");
  EXPECT_EQ(RunProgram({srv_ + "/current/bin/app"}).out, "v1.1\n");

  std::filesystem::remove_all(work_ + "/build");  // rsync fails: nothing to copy
  r = DeployAsIs("v1.2", 0);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(LiveWithNoOpenTransaction(), "v1.1");
}

}  // namespace
}  // namespace velin::testing
