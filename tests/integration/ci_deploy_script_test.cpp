// contrib/ci/deploy.sh run as written, only /srv/shop pointing at a scratch application: a
// deploy commits; a failed smoke test rolls back; a retry of that version (a CI re-run)
// deploys it, and a retry of a version that went through changes nothing; a step that fails
// before the switch (no build to copy) and a cancelled job roll back at once. No outcome leaves
// the transaction open, which would block every deploy until its timeout. The docs show the
// script (and the recover unit) as shipped.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/test_support.hpp"
#include "velin/core/process.hpp"

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
    // SMOKE_SLEEP: a smoke test that takes that long (and says when it started).
    WriteFile(work_ + "/smoke-test.sh",
              "#!/bin/sh\nif [ -n \"${SMOKE_SLEEP:-}\" ]; then : > smoke-started; sleep "
              "\"$SMOKE_SLEEP\"; fi\nexit \"${SMOKE_RC:-0}\"\n");
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
  RunResult DeployAsIs(const std::string& version, int smoke_rc,
                       std::map<std::string, std::string> env = {}) {
    RunOptions o;
    o.cwd = work_;
    o.env = ScriptEnv(version, smoke_rc);
    o.env.insert(env.begin(), env.end());
    return RunProgram({"sh", "deploy.sh"}, o);
  }
  std::map<std::string, std::string> ScriptEnv(const std::string& version, int smoke_rc) {
    const std::string bin = std::filesystem::path(VelinBinary()).parent_path();
    return {{"CI_COMMIT_TAG", version},
            {"SMOKE_RC", std::to_string(smoke_rc)},
            {"PATH", bin + ":" + (getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin")}};
  }
  // The history's transaction entries.
  std::vector<nlohmann::json> Transactions() {
    RunResult r = Velin({"--json", "rollback", "history"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json doc = nlohmann::json::parse(r.out);
    std::vector<nlohmann::json> out;
    for (const auto& h : doc["history"]) {
      if (h["action"] == "transaction") out.push_back(h);
    }
    return out;
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

// A CI retry of a job that went through (the version is live, committed): the script says so
// and changes nothing. Before, it began a transaction, could not replace the live version (exit
// 2), rolled back (a stop and start of the service for nothing) and failed the job.
TEST_F(CiDeployScript, ARetryOfTheLiveVersionChangesNothing) {
  RunResult r = Deploy("v1.0", 0);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(Transactions().size(), 1u);
  // The runner's language is German: the script reads velin's status in English all the same.
  r = DeployAsIs("v1.0", 0, {{"LANG", "de_DE.UTF-8"}, {"LC_ALL", "de_DE.UTF-8"}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("version v1.0 is live already; nothing to deploy"), std::string::npos)
      << r.out << r.err;
  EXPECT_EQ(LiveWithNoOpenTransaction(), "v1.0");
  EXPECT_EQ(Transactions().size(), 1u);  // no transaction was opened
  r = Deploy("v1.1", 0);                 // and the next version deploys as ever
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(LiveWithNoOpenTransaction(), "v1.1");
}

// The CI job is cancelled in the middle of the smoke test (SIGTERM to its process group): the
// script rolls back before it ends, so the retry is not refused (exit 3) until the timeout.
TEST_F(CiDeployScript, ACancelledJobRollsBackAndItsRetryDeploys) {
  ASSERT_EQ(Deploy("v1.0", 0).exit_code, 0);
  WriteFile(work_ + "/build/bin/app", "#!/bin/sh\necho v1.1\n");
  ::chmod((work_ + "/build/bin/app").c_str(), 0755);
  std::filesystem::last_write_time(
      work_ + "/build/bin/app",
      std::filesystem::file_time_type::clock::now() + std::chrono::minutes(10 * ++builds_));
  ProcessOptions o;
  o.argv = {"sh", "deploy.sh"};
  o.cwd = work_;
  for (const auto& [k, v] : ScriptEnv("v1.1", 0)) o.extra_env.emplace_back(k, v);
  o.extra_env.emplace_back("SMOKE_SLEEP", "60");
  o.stdout_mode = Stdio::kNull;
  o.stderr_mode = Stdio::kNull;
  o.new_process_group = true;
  auto job = Subprocess::Start(o);
  ASSERT_TRUE(job) << job.error().message;
  bool smoking = false;
  for (int i = 0; i < 1200 && !smoking; ++i) {
    smoking = std::filesystem::exists(work_ + "/smoke-started");
    if (!smoking) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  job->Kill(SIGTERM);  // the whole process group, as a runner cancelling the job does
  auto rc = job->Wait();
  ASSERT_TRUE(smoking);
  ASSERT_TRUE(rc);
  EXPECT_EQ(*rc, 1);
  EXPECT_EQ(LiveWithNoOpenTransaction(), "v1.0");
  auto ends = Transactions();
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_EQ(ends.back()["outcome"], "rolled back by hand");
  EXPECT_NE(ends.back()["reason"].get<std::string>().find("deploy interrupted"), std::string::npos)
      << ends.back();
  std::filesystem::remove(work_ + "/smoke-started");
  RunResult r = DeployAsIs("v1.1", 0);  // the retry
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(LiveWithNoOpenTransaction(), "v1.1");
}

// docs/rollback.md shows the script and the recover unit as shipped, byte for byte.
TEST(CiDeployScriptDocs, TheDocsShowTheShippedScriptAndRecoverUnit) {
  const std::string docs = ReadFileOrDie(SourceDir() + "/docs/rollback.md");
  auto block_after = [&](const std::string& heading, const std::string& fence) {
    size_t at = docs.find(heading);
    EXPECT_NE(at, std::string::npos) << heading;
    if (at == std::string::npos) return std::string();
    at = docs.find(fence, at);
    if (at == std::string::npos) return std::string();
    at += fence.size();
    return docs.substr(at, docs.find("```", at) - at);
  };
  EXPECT_EQ(block_after("## CI deploy script", "```sh\n"),
            ReadFileOrDie(SourceDir() + "/contrib/ci/deploy.sh"));
  const std::string unit =
      ReadFileOrDie(SourceDir() + "/contrib/systemd/velin-rollback-recover.service");
  // The shipped file opens with comments the page says in prose.
  const std::string shown = unit.substr(unit.find("[Unit]"));
  EXPECT_EQ(block_after("### systemd", "```ini\n"), shown);
}

}  // namespace
}  // namespace velin::testing
