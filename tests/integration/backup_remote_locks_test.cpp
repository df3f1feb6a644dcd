// Locks of one repository on a file server (SFTP, a real sshd on loopback), shared by several
// hosts: a create whose lock is refreshed while a prune waits for the repository never lets the
// prune in (OpenSSH's rename replaces no file, so a refresh that rewrote the lock object under
// its name left an instant without it, and the prune deleted the running backup's data).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "support/background_velin.hpp"
#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// The files under `dir` (recursively), as "relative path size" lines: what a prune deleted.
std::vector<std::string> RemoteLocksFilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    out.push_back(fs::relative(e.path(), dir).string() + " " + std::to_string(e.file_size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// One application backing up to an SFTP repository; each "host" has its own velin cache.
struct SftpRepoApp {
  SshServer ssh;
  BackupApp app{{"storage"}, "prune_after_create = false" + ssh.StorageConfig()};
  std::string repo_dir = ssh.files_dir() + "/repo";
  std::string url = ssh.Url(repo_dir);

  RunOptions Host(const TempDir& cache) const {
    RunOptions o;
    o.cwd = app.path(".");
    o.env["VELIN_CACHE_DIR"] = cache.path();
    return o;
  }
  RunResult Run(std::vector<std::string> args, const TempDir& cache) const {
    args.push_back("--destination");
    args.push_back(url);
    return app.Run(args, Host(cache));
  }
};

// Must show: a create paused just before its commit, its lock refreshed every 10 ms (each
// refresh a new object on the SFTP server), and a prune from another host waiting 20 s for the
// repository: the prune never gets the exclusive lock (exit 3, nothing deleted), and the create,
// let go, commits a backup that verifies.
TEST(RemoteLocks, APruneWaitingOnSftpNeverGetsInWhileACreateRefreshesItsLock) {
  SftpRepoApp s;
  TempDir cache_a, cache_b;
  WriteFile(s.app.root() + "/storage/a.txt", "alpha\n");
  RunResult first = s.Run({"backup", "create", "-q"}, cache_a);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  WriteFile(s.app.root() + "/storage/new.bin", RandomData(2 << 20, 31));

  const std::string gate = s.app.path("gate");
  fs::create_directories(gate);
  RunOptions paused = s.Host(cache_a);
  paused.env["VELIN_TEST_LOCK_REFRESH_MS"] = "10";
  paused.env["VELIN_TEST_PAUSE_AT"] = "snapshot-commit";
  paused.env["VELIN_TEST_PAUSE_DIR"] = gate;
  BackgroundVelin create({"backup", "create", "--destination", s.url}, paused);
  ASSERT_TRUE(WaitForPath(gate + "/reached"));
  // The create's packs and index objects are written; its snapshot is not: to a prune that
  // does not see its lock, they are unreferenced.
  const std::vector<std::string> before = RemoteLocksFilesUnder(s.repo_dir + "/data");
  RunResult prune = s.Run({"backup", "prune", "--lock-wait", "20s"}, cache_b);
  EXPECT_EQ(prune.exit_code, 3) << prune.out << prune.err;
  EXPECT_NE(prune.err.find("is locked by"), std::string::npos) << prune.err;
  EXPECT_EQ(RemoteLocksFilesUnder(s.repo_dir + "/data"), before) << "the prune deleted packs";

  WriteFile(gate + "/go", "");
  RunResult created = create.Finish();
  EXPECT_EQ(created.exit_code, 0) << created.out << created.err;
  RunResult verified = s.Run({"backup", "verify", "--all"}, cache_b);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  // Both backups there, and no lock left behind (every refresh's earlier object went).
  RunResult listed = s.Run({"backup", "list", "--json"}, cache_a);
  EXPECT_EQ(nlohmann::json::parse(listed.out)["backups"].size(), 2u) << listed.out;
  EXPECT_TRUE(RemoteLocksFilesUnder(s.repo_dir + "/locks").empty());
}

}  // namespace
}  // namespace velin::testing
