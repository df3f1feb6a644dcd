// Remote URLs whose path libcurl would change on the way are refused before anything is sent:
// "." and ".." segments (s3://bkt/x/../dd stored its objects under dd/, where list never looked)
// and an SFTP path starting with "~" (expanded for uploads, not for the rename after each).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

// Exit 2 with one line naming the URL and `says`.
void ExpectRefusedPath(const BackupApp& app, const std::vector<std::string>& args,
                       const std::string& url, const std::string& says, RunOptions env = {}) {
  RunResult r = app.Run(args, env);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find(url), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(StorageRemotePaths, DotSegmentsInAnS3PrefixAreRefused) {
  S3Server s3;
  TempDir cache;
  BackupApp app({"storage"},
                "[storage.s3]\nendpoint = \"" + s3.endpoint() + "\"\npath_style = true\n");
  WriteFile(app.root() + "/storage/a.txt", "a\n");
  const std::string url = "s3://bkt/x/../dd";
  for (const char* command : {"init", "create"}) {
    ExpectRefusedPath(app, {"backup", command, "--destination", url}, url,
                      "'.' and '..' are not allowed in the path", S3Server::RunEnv(cache));
  }
  for (const auto& e : std::filesystem::recursive_directory_iterator(s3.data_dir())) {
    EXPECT_EQ(e.path().string().find("/dd"), std::string::npos) << e.path() << " was stored";
  }
}

TEST(StorageRemotePaths, AnSftpPathStartingWithTildeIsRefused) {
  SshServer ssh;
  BackupApp app({"storage"}, ssh.StorageConfig());
  const std::string url = ssh.Url("~/velin-repo");
  ExpectRefusedPath(app, {"backup", "init", "--destination", url}, url, "write the absolute path");
}

TEST(StorageRemotePaths, TheRefusalsComeFromTheGermanCatalogue) {
  BackupApp app({"storage"}, "[storage.sftp]\nkey_file = \"/k\"\nknown_hosts = \"/kh\"\n");
  const std::string report = app.path("misses.txt");
  RunOptions de;
  de.env = {{"LANG", "de_DE.UTF-8"}, {"VELIN_I18N_REPORT_MISSES", report}};
  de.unset_env = {"LC_ALL", "LC_MESSAGES"};
  for (const char* url : {"s3://bkt/x/../dd", "sftp://u@127.0.0.1:1/~/dir"}) {
    RunResult r = app.Run({"backup", "init", "--destination", url}, de);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("Fehler: ", 0), 0u) << r.err;
  }
  EXPECT_EQ(std::filesystem::exists(report) ? ReadFileOrDie(report) : std::string(), "");
}

}  // namespace
}  // namespace velin::testing
