// The temp-file sweep of create touches only velin's own temp files in the repository's own
// directories: a repository made in a directory that already holds the user's files (their
// home) never loses one of them, on a local disk, over SFTP or over FTP.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

namespace fs = std::filesystem;

// The user's files, all hours old, some in temp shapes velin writes (in a place it never does).
std::vector<std::string> PlantUserFilesIn(const std::string& home) {
  const std::vector<std::string> files = {
      home + "/Documents/thesis.tmp-backup",     home + "/Documents/draft.tmp-0123456789ab",
      home + "/Documents/x.tmp-123-0badc0de-4",  home + "/budget.tmp-2024-01",
      home + "/notes.tmp-0123456789ab",          home + "/data/mine.txt.tmp-keep",
      home + "/index/nested/y.tmp-0123456789ab",
  };
  for (const std::string& f : files) {
    fs::create_directories(fs::path(f).parent_path());
    WriteFile(f, "keep\n");
    fs::last_write_time(f, fs::file_time_type::clock::now() - std::chrono::hours(3));
  }
  return files;
}

// A stale temp that velin did write: the sweep still removes it.
std::string PlantStaleIndexTemp(const std::string& repo, const std::string& shape) {
  const std::string f = repo + "/index/ab.tmp-" + shape;
  WriteFile(f, "partial");
  fs::last_write_time(f, fs::file_time_type::clock::now() - std::chrono::hours(3));
  return f;
}

void ExpectKept(const std::vector<std::string>& files) {
  for (const std::string& f : files) EXPECT_TRUE(fs::exists(f)) << f << " was removed";
}

TEST(StorageSweepScope, LocalCreateKeepsTheUsersFilesInTheRepositoryDirectory) {
  BackupApp app({"storage"}, "prune_after_create = false");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  const std::string home = app.path("home");
  const std::vector<std::string> files = PlantUserFilesIn(home);
  RunResult init = app.Run({"backup", "init", "--destination", home});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ASSERT_EQ(app.Run({"backup", "create", "-q", "--destination", home}).exit_code, 0);
  const std::string stale = PlantStaleIndexTemp(home, "99999999-0badc0de-1");
  WriteFile(app.root() + "/storage/b.txt", "b\n");
  RunResult r = app.Run({"backup", "create", "-q", "--destination", home});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectKept(files);
  EXPECT_FALSE(fs::exists(stale));
}

TEST(StorageSweepScope, SftpCreateKeepsTheUsersFilesInTheRepositoryDirectory) {
  SshServer ssh;
  TempDir cache;
  RunOptions env;
  env.env["VELIN_CACHE_DIR"] = cache.path();
  BackupApp app({"storage"}, "prune_after_create = false" + ssh.StorageConfig());
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  const std::string home = ssh.files_dir() + "/home";
  const std::vector<std::string> files = PlantUserFilesIn(home);
  const std::string url = ssh.Url(home);
  ASSERT_EQ(app.Run({"backup", "create", "-q", "--destination", url}, env).exit_code, 0);
  const std::string stale = PlantStaleIndexTemp(home, "0123456789ab");
  WriteFile(app.root() + "/storage/b.txt", "b\n");
  RunResult r = app.Run({"backup", "create", "-q", "--destination", url}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectKept(files);
  EXPECT_FALSE(fs::exists(stale));
}

TEST(StorageSweepScope, FtpCreateKeepsTheUsersFilesInTheRepositoryDirectory) {
  FtpServer ftp;
  TempDir cache;
  RunOptions env;
  env.env["VELIN_CACHE_DIR"] = cache.path();
  env.env["VELIN_FTP_PASSWORD"] = FtpServer::kPassword;
  BackupApp app({"storage"}, "prune_after_create = false");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  const std::string home = ftp.root_dir() + "/home";
  const std::vector<std::string> files = PlantUserFilesIn(home);
  ASSERT_EQ(RunProgram({"chown", "-R", FtpServer::kUser, home}).exit_code, 0);  // the FTP user's
  RunResult first = app.Run({"backup", "create", "-q", "--destination", ftp.Url("home")}, env);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string stale = PlantStaleIndexTemp(home, "0123456789ab");
  ASSERT_EQ(RunProgram({"chown", FtpServer::kUser, stale}).exit_code, 0);
  WriteFile(app.root() + "/storage/b.txt", "b\n");
  RunResult r = app.Run({"backup", "create", "-q", "--destination", ftp.Url("home")}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectKept(files);
  EXPECT_FALSE(fs::exists(stale));
}

}  // namespace
}  // namespace velin::testing
