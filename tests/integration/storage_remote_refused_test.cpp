// A login the server refuses something is told so, as for a local repository: a read-only SFTP
// login reads a repository without a locks/ directory (a copy by a tool that drops empty ones)
// with the warning that it cannot write a lock, and `init` where it may not write says "access
// denied", not "no such object"; an FTP repository the login may not read is "access denied"
// (exit 1), not "no repository" with advice to init it again (exit 2).
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// Every directory under `root` (and itself) 0755, every file 0644: readable by every login.
void MakeReadableByAll(const std::string& root) {
  fs::permissions(root, fs::perms(0755));
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    fs::permissions(entry.path(), fs::perms(entry.is_directory() ? 0755 : 0644));
  }
}

TEST(StorageRemoteRefused, SftpReadOnlyLoginReadsARepositoryWithoutLocksDirectory) {
  FtpServer::EnsureUser();  // another local user, who may read the repository but not write it
  SshServer ssh;
  ssh.AdmitOtherUsers();
  TempDir cache;
  RunOptions env;
  env.env["VELIN_CACHE_DIR"] = cache.path();
  BackupApp app({"storage"}, ssh.StorageConfig());
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  const std::string srv = ssh.files_dir() + "/srv";
  RunResult made =
      app.Run({"backup", "create", "--json", "--destination", ssh.Url(srv + "/rrepo")}, env);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string id = nlohmann::json::parse(made.out)["id"];
  fs::remove_all(srv + "/rrepo/locks");
  MakeReadableByAll(srv);

  const std::string url = ssh.UrlAs(FtpServer::kUser, srv + "/rrepo");
  for (std::vector<std::string> args : {std::vector<std::string>{"backup", "list"},
                                        {"backup", "verify", "--all"},
                                        {"backup", "restore", id, "--target", app.path("out")}}) {
    args.insert(args.end(), {"--destination", url});
    RunResult r = app.Run(args, env);
    EXPECT_EQ(r.exit_code, 0) << args[1] << ": " << r.err;
    EXPECT_NE(r.err.find("reading without one"), std::string::npos) << args[1] << ": " << r.err;
    EXPECT_NE(r.err.find("access denied"), std::string::npos) << args[1] << ": " << r.err;
    EXPECT_NE(r.err.find(srv + "/rrepo/locks"), std::string::npos) << args[1] << ": " << r.err;
    EXPECT_EQ(r.err.find("no such object"), std::string::npos) << args[1] << ": " << r.err;
  }
  EXPECT_EQ(ReadFileOrDie(app.path("out/storage/a.txt")), "alpha\n");

  // A new repository where the login may not make its directory.
  RunResult init =
      app.Run({"backup", "init", "--destination", ssh.UrlAs(FtpServer::kUser, srv + "/new")}, env);
  EXPECT_EQ(init.exit_code, 1) << init.err;
  EXPECT_NE(init.err.find("access denied"), std::string::npos) << init.err;
  EXPECT_NE(init.err.find(srv + "/new"), std::string::npos) << init.err;
  EXPECT_EQ(init.err.find("no such object"), std::string::npos) << init.err;
  EXPECT_EQ(init.err.find("gave up after"), std::string::npos) << init.err;
}

TEST(StorageRemoteRefused, FtpRepositoryTheLoginMayNotReadIsAccessDenied) {
  FtpServer ftp;
  TempDir cache;
  RunOptions env;
  env.env["VELIN_CACHE_DIR"] = cache.path();
  env.env["VELIN_FTP_PASSWORD"] = FtpServer::kPassword;
  BackupApp app({"storage"}, "");
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  RunResult made = app.Run({"backup", "create", "--destination", ftp.Url("srv/repo")}, env);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string repo = ftp.root_dir() + "/srv/repo";

  fs::permissions(repo, fs::perms::none);
  RunResult dir_refused = app.Run({"backup", "list", "--destination", ftp.Url("srv/repo")}, env);
  fs::permissions(repo, fs::perms::owner_all);
  EXPECT_EQ(dir_refused.exit_code, 1) << dir_refused.err;
  EXPECT_NE(dir_refused.err.find("access denied"), std::string::npos) << dir_refused.err;
  EXPECT_NE(dir_refused.err.find("directory srv/repo"), std::string::npos) << dir_refused.err;
  EXPECT_EQ(dir_refused.err.find("no repository"), std::string::npos) << dir_refused.err;

  fs::permissions(repo + "/config", fs::perms::none);
  RunResult file_refused = app.Run({"backup", "list", "--destination", ftp.Url("srv/repo")}, env);
  fs::permissions(repo + "/config", fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(file_refused.exit_code, 1) << file_refused.err;
  EXPECT_NE(file_refused.err.find("access denied"), std::string::npos) << file_refused.err;
  EXPECT_NE(file_refused.err.find("srv/repo/config"), std::string::npos) << file_refused.err;
  EXPECT_EQ(file_refused.err.find("no repository"), std::string::npos) << file_refused.err;

  // Still "no repository" where there is none: an empty directory, and one that is not there.
  const std::string empty = ftp.root_dir() + "/srv/empty";
  fs::create_directories(empty);
  const passwd* login = getpwnam(FtpServer::kUser);
  ASSERT_NE(login, nullptr);
  ASSERT_EQ(::chown(empty.c_str(), login->pw_uid, login->pw_gid), 0);
  for (const char* none : {"srv/empty", "srv/none", "nowhere/none"}) {
    RunResult r = app.Run({"backup", "list", "--destination", ftp.Url(none)}, env);
    EXPECT_EQ(r.exit_code, 2) << none << ": " << r.err;
    EXPECT_NE(r.err.find("no repository"), std::string::npos) << none << ": " << r.err;
  }
}

}  // namespace
}  // namespace velin::testing
