// `backup create` to a remote repository whose server stopped answering (it accepted the
// connection and never replies: a hung S3 gateway, a NAS in trouble), stopped by SIGTERM as
// `systemctl stop` or a timer's TimeoutStartSec sends it: velin ends within moments, runs
// on_backup_failure and says why. Before, the request in flight waited out its stall timeout
// (60 s) and was then retried, six attempts in all: the service manager's SIGKILL came first,
// and the failure hook never ran.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "support/background_velin.hpp"
#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

// Must show: SIGTERM during a request that gets no answer stops the backup within moments
// (not after the 60 s stall timeout of each attempt), on_backup_failure runs with the reason,
// and velin ends by the signal.
TEST(BackupSignalRemote, SigtermWhileTheServerDoesNotAnswerStopsTheBackupAtOnce) {
  SilentServer server;
  BackupApp app({"storage"},
                "\n[hooks]\non_backup_failure = \"echo \\\"$VELIN_ERROR\\\" > "
                "../failure\"\n[storage.s3]\nendpoint = \"http://127.0.0.1:" +
                    std::to_string(server.port()) +
                    "\"\nregion = \"us-east-1\"\npath_style = true\n");
  std::string config = ReadFileOrDie(app.path("velin.toml"));
  config.replace(config.find("destination = \"repo\""), 20, "destination = \"s3://bkt/repo\"");
  WriteFile(app.path("velin.toml"), config);
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  RunOptions options;
  options.cwd = app.path("");
  options.env = {{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", "secret"}};

  BackgroundVelin velin({"backup", "create"}, options);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // its first request waits for a reply
  ASSERT_TRUE(velin.Running());
  const auto signalled = std::chrono::steady_clock::now();
  velin.Signal(SIGTERM);
  ASSERT_TRUE(velin.WaitExit());
  // Not a speed goal: before, the stall timeout alone was 60 s.
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(20));
  RunResult r = velin.Finish();
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.out << r.err;
  EXPECT_NE(r.err.find("error: backup interrupted by SIGTERM; nothing was committed"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(ReadFileOrDie(app.path("failure")),
            "backup interrupted by SIGTERM; nothing was committed\n");
}

}  // namespace
}  // namespace velin::testing
