// A `backup copy` to an SFTP repository stopped by SIGTERM while it uploads a pack: the server
// had part of the pack under its temp name (`data/xx/<id>.tmp-<12 hex>`), and the stop's cleanup
// (which removes the packs the run wrote and its locks) left it there, 4 MiB and more, for a
// sweep an hour later. Found killing copies at many instants (docs/exit-codes.md, "Prune, forget
// and copy stop cleanly").
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/background_velin.hpp"
#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"
#include "support/test_support.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> StopTempUploadsUnder(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().find(".tmp-") != std::string::npos) {
      found.push_back(it->path().string());
    }
  }
  return found;
}

TEST(StorageRemoteStopTemp, ACopyStoppedMidUploadLeavesNoTempOnTheServer) {
  SshServer ssh;
  BackupApp app({"storage"}, ssh.StorageConfig());
  for (int i = 0; i < 6; ++i) {
    WriteFile(app.root() + "/storage/f" + std::to_string(i) + ".bin",
              RandomData(8u << 20, 40 + static_cast<unsigned>(i)));
  }
  RunResult created = app.Run({"backup", "create"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  const std::string target = ssh.files_dir() + "/copy";
  RunOptions options;
  options.cwd = app.path("");
  bool stopped_mid_upload = false;
  for (int attempt = 0; attempt < 3 && !stopped_mid_upload; ++attempt) {
    fs::remove_all(target);
    BackgroundVelin velin({"backup", "copy", "latest", "--to", ssh.Url(target)}, options);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (velin.Running() && std::chrono::steady_clock::now() < give_up) {
      if (!StopTempUploadsUnder(target + "/data").empty()) {
        velin.Signal(SIGTERM);
        stopped_mid_upload = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    ASSERT_TRUE(velin.WaitExit());
    RunResult r = velin.Finish();
    if (!stopped_mid_upload) {
      EXPECT_EQ(r.exit_code, 0) << r.err;  // finished before an upload was seen
      continue;
    }
    EXPECT_TRUE(r.exit_code == 128 + SIGTERM || r.exit_code == 0) << r.exit_code << r.err;
    EXPECT_EQ(StopTempUploadsUnder(target), std::vector<std::string>()) << r.err;
  }
  ASSERT_TRUE(stopped_mid_upload) << "no upload was seen in three copies";
  // And the copy, run again, completes.
  RunResult again = app.Run({"backup", "copy", "latest", "--to", ssh.Url(target)});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  RunResult verified = app.Run({"backup", "verify", "--all", "--destination", ssh.Url(target)});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
}

}  // namespace
}  // namespace velin::testing
