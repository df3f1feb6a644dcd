// A repository on a read-only file system behind SFTP or FTP reads as a local one on a read-only
// mount does: list, verify and restore warn that they cannot write their lock and go on (no
// retries of an upload that cannot succeed), and init names the read-only file system; they
// still wait for a live exclusive lock, also on a server whose listings show New York time.
// Read-only bind mounts need mount rights: skipped without.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"
#include "velin/repo/lock.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// `from` mounted read-only at `at` (made) until it goes out of scope; `ok` false when this
// process may not mount.
struct ReadOnlyBind {
  ReadOnlyBind(const std::string& from, const std::string& to) : at(to) {
    fs::create_directories(at);
    RunResult bound = RunProgram({"mount", "--bind", from, at});
    if (bound.exit_code != 0) {
      why = bound.err;
      return;
    }
    mounted = true;
    ok = RunProgram({"mount", "-o", "remount,bind,ro", at}).exit_code == 0 &&
         ::access(at.c_str(), W_OK) != 0;
  }
  ~ReadOnlyBind() {
    if (mounted) RunProgram({"umount", at});
  }
  std::string at;
  std::string why;
  bool mounted = false;
  bool ok = false;
};

// list, verify and restore of the backup `id` at `url` succeed with the warning, quickly.
void ExpectReadersGoOn(const BackupApp& app, const std::string& url, const std::string& id,
                       const RunOptions& env) {
  for (std::vector<std::string> args : {std::vector<std::string>{"backup", "list"},
                                        {"backup", "verify", "--all"},
                                        {"backup", "restore", id, "--target", app.path("out")}}) {
    args.insert(args.end(), {"--destination", url});
    const auto started = std::chrono::steady_clock::now();
    RunResult r = app.Run(args, env);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(r.exit_code, 0) << args[1] << ": " << r.err;
    EXPECT_NE(r.err.find("reading without one"), std::string::npos) << args[1] << ": " << r.err;
    EXPECT_EQ(r.err.find("gave up after"), std::string::npos) << args[1] << ": " << r.err;
    EXPECT_LT(took, std::chrono::seconds(30)) << args[1];
  }
  EXPECT_EQ(ReadFileOrDie(app.path("out/storage/a.txt")), "alpha\n");
}

TEST(StorageRemoteReadOnly, SftpReadersOfAReadOnlyFileSystemGoOnWithoutALock) {
  SshServer ssh;
  TempDir cache;
  RunOptions env;
  env.env["VELIN_CACHE_DIR"] = cache.path();
  BackupApp app({"storage"}, ssh.StorageConfig());
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  const std::string srv = ssh.files_dir() + "/srv";
  RunResult made =
      app.Run({"backup", "create", "--json", "--destination", ssh.Url(srv + "/repo")}, env);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string id = nlohmann::json::parse(made.out)["id"];
  ReadOnlyBind ro(srv, ssh.files_dir() + "/ro");
  if (!ro.ok) GTEST_SKIP() << "cannot mount read-only: " << ro.why;
  ExpectReadersGoOn(app, ssh.Url(ro.at + "/repo"), id, env);

  RunResult init = app.Run({"backup", "init", "--destination", ssh.Url(ro.at + "/new")}, env);
  EXPECT_EQ(init.exit_code, 1) << init.err;
  EXPECT_NE(init.err.find("is read-only"), std::string::npos) << init.err;
  EXPECT_EQ(init.err.find("gave up after"), std::string::npos) << init.err;
}

TEST(StorageRemoteReadOnly, FtpReadersOfAReadOnlyFileSystemGoOnWithoutALock) {
  FtpServer ftp;
  TempDir cache;
  RunOptions env;
  env.env["VELIN_CACHE_DIR"] = cache.path();
  env.env["VELIN_FTP_PASSWORD"] = FtpServer::kPassword;
  BackupApp app({"storage"}, "");
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  RunResult made =
      app.Run({"backup", "create", "--json", "--destination", ftp.Url("srv/repo")}, env);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string id = nlohmann::json::parse(made.out)["id"];
  ReadOnlyBind ro(ftp.root_dir() + "/srv", ftp.root_dir() + "/ro");
  if (!ro.ok) GTEST_SKIP() << "cannot mount read-only: " << ro.why;
  ExpectReadersGoOn(app, ftp.Url("ro/repo"), id, env);
}

// Must show: on an SFTP server on New York time (its listings' times 5 hours behind UTC, 4 in
// summer), a reader that cannot write its own lock (a read-only file system) still sees another
// host's prune, whose exclusive lock was written just now, as running: it waits and exits 3
// naming it, where it took the lock for 5 hours old and stale and read on. Once the lock is 31
// minutes old it is stale, and the reader goes on.
TEST(StorageRemoteReadOnly, AReaderOfAnSftpServerOnNewYorkTimeSeesAFreshLockAsLive) {
  SshServer ssh("America/New_York");
  TempDir cache;
  RunOptions env;
  env.env["VELIN_CACHE_DIR"] = cache.path();
  BackupApp app({"storage"}, ssh.StorageConfig());
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  const std::string srv = ssh.files_dir() + "/srv";
  ASSERT_EQ(
      app.Run({"backup", "create", "-q", "--destination", ssh.Url(srv + "/repo")}, env).exit_code,
      0);
  repo::LockHolder web9;
  web9.host = "web9";
  web9.pid = 4242;
  const std::string lock = srv + "/repo/locks/exclusive-web9";
  WriteFile(lock, repo::FormatLockRecord(repo::LockRecord{web9, "exclusive", ::time(nullptr)}));
  ReadOnlyBind ro(srv, ssh.files_dir() + "/ro");
  if (!ro.ok) GTEST_SKIP() << "cannot mount read-only: " << ro.why;
  const std::vector<std::string> list = {
      "backup", "list", "--destination", ssh.Url(ro.at + "/repo"), "--lock-wait", "2s"};
  RunResult r = app.Run(list, env);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("host web9 pid 4242, exclusive lock"), std::string::npos) << r.err;
  fs::last_write_time(lock, fs::file_time_type::clock::now() - std::chrono::minutes(31));
  r = app.Run(list, env);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("reading without one"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace velin::testing
