// Locks of one repository on a file server (SFTP, a real sshd on loopback), shared by several
// hosts: a create whose lock is refreshed while a prune waits for the repository never lets the
// prune in (OpenSSH's rename replaces no file, so a refresh that rewrote the lock object under
// its name left an instant without it, and the prune deleted the running backup's data).
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "support/background_velin.hpp"
#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"
#include "velin/repo/lock.hpp"

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
  // `zone`: the time zone of the server, and so of its listings' times ("" this process's).
  explicit SftpRepoApp(const std::string& zone = "") : ssh(zone) {}
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

// A lock object of host web9 (another machine), refreshed now, as velin writes it.
std::string RemoteLocksForeignLock(const std::string& kind) {
  repo::LockHolder web9;
  web9.host = "web9";
  web9.machine_id = "web9-machine";
  web9.pid = 4242;
  return repo::FormatLockRecord(repo::LockRecord{web9, kind, ::time(nullptr)});
}

// Must show: on an SFTP server on New York time, in a repository whose `config` is over half a
// year old (listed with a date only), `backup unlock --stale` leaves a prune's lock written a
// minute ago alone when the newest object of the locks/ listing is gone before its attributes
// are read (a waiting create's attempt that backed off; here a name whose listed form names no
// file): the listing's times were then left in New York time, 5 hours behind the storage clock's
// corrected probe, and the live lock was removed as stale.
TEST(RemoteLocks, UnlockStaleKeepsALiveLockOnAServerOnNewYorkTime) {
  SftpRepoApp s("America/New_York");
  TempDir cache;
  WriteFile(s.app.root() + "/storage/a.txt", "alpha\n");
  ASSERT_EQ(s.Run({"backup", "create", "-q"}, cache).exit_code, 0);
  fs::last_write_time(s.repo_dir + "/config",
                      fs::file_time_type::clock::now() - std::chrono::hours(24 * 200));
  const std::string live = s.repo_dir + "/locks/exclusive-00000000000000aa";
  WriteFile(live, RemoteLocksForeignLock("exclusive"));
  fs::last_write_time(live, fs::file_time_type::clock::now() - std::chrono::minutes(1));
  WriteFile(s.repo_dir + "/locks/shared-gone\nx", RemoteLocksForeignLock("shared"));
  RunResult unlocked = s.Run({"backup", "unlock", "--stale"}, cache);
  EXPECT_EQ(unlocked.exit_code, 0) << unlocked.out << unlocked.err;
  EXPECT_TRUE(fs::exists(live)) << unlocked.out << unlocked.err;
  RunResult status = s.Run({"backup", "status", "--json"}, cache);
  auto j = nlohmann::json::parse(status.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << status.out << status.err;
  ASSERT_EQ(j["locks"].size(), 1u) << status.out;
  EXPECT_FALSE(j["locks"][0]["stale"].get<bool>()) << status.out;
  EXPECT_LE(j["locks"][0]["age_seconds"].get<int64_t>(), 180) << status.out;
}

// Must show: a lock whose holder wrote its next object and was killed before it removed the one
// before ("<id>" and "<id>-2" both there) is one lock: `status` shows it once, by its newest
// object, and `backup unlock` removes both objects, leaving locks/ empty.
TEST(RemoteLocks, StatusShowsALockAndItsRefreshOnceAndUnlockRemovesBoth) {
  SftpRepoApp s;
  TempDir cache;
  WriteFile(s.app.root() + "/storage/a.txt", "alpha\n");
  ASSERT_EQ(s.Run({"backup", "create", "-q"}, cache).exit_code, 0);
  const std::string first = s.repo_dir + "/locks/shared-00000000000000aa";
  WriteFile(first, RemoteLocksForeignLock("shared"));
  fs::last_write_time(first, fs::file_time_type::clock::now() - std::chrono::minutes(5));
  WriteFile(first + "-2", RemoteLocksForeignLock("shared"));
  RunResult status = s.Run({"backup", "status", "--json"}, cache);
  auto j = nlohmann::json::parse(status.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << status.out << status.err;
  ASSERT_EQ(j["locks"].size(), 1u) << status.out;
  EXPECT_EQ(j["locks"][0]["name"], "locks/shared-00000000000000aa-2") << status.out;
  EXPECT_EQ(j["locks"][0]["objects"].size(), 2u) << status.out;
  RunResult unlocked = s.Run({"backup", "unlock", "--yes"}, cache);
  EXPECT_EQ(unlocked.exit_code, 0) << unlocked.out << unlocked.err;
  EXPECT_NE(unlocked.out.find("1 lock(s) removed, 0 left"), std::string::npos)
      << unlocked.out << unlocked.err;
  EXPECT_TRUE(RemoteLocksFilesUnder(s.repo_dir + "/locks").empty());
}

}  // namespace
}  // namespace velin::testing
