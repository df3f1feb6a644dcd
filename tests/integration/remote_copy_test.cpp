// velin backup copy and backup.offsite with the real binary: a local repository mirrored to
// S3 (s3rver) and SFTP (sshd); the second copy transfers nothing; an offsite failure exits 1
// and leaves the local backup intact.
#include <gtest/gtest.h>

#include <filesystem>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/backend.hpp"

namespace velin::testing {
namespace {

std::string RemoteConfig(const S3Server* s3, const SshServer* ssh) {
  std::string c;
  if (s3) c += "\n[storage.s3]\nendpoint = \"" + s3->endpoint() + "\"\npath_style = true\n";
  if (ssh) {
    c += ssh->StorageConfig();
  }
  return c;
}

size_t CountObjects(const std::string& url, const storage::BackendOptions& options) {
  auto backend = storage::OpenBackend(url, options, io::Env::Default(), false);
  EXPECT_TRUE(backend) << backend.error().message;
  auto listed = (*backend)->List("");
  EXPECT_TRUE(listed);
  size_t n = 0;
  for (const auto& o : *listed) n += o.name.rfind("locks/", 0) == 0 ? 0 : 1;
  return n;
}

void TwoBackups(const BackupApp& app, const RunOptions& env) {
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  WriteFile(app.root() + "/storage/big.bin", RandomData(3 << 20, 1));
  ASSERT_EQ(app.Run({"backup", "create"}, env).exit_code, 0);
  WriteFile(app.root() + "/storage/b.txt", "beta\n");
  ASSERT_EQ(app.Run({"backup", "create"}, env).exit_code, 0);
}

TEST(RemoteCopy, CopiesToS3AndTheSecondRunTransfersNothing) {
  S3Server server;
  TempDir cache;
  RunOptions env = S3Server::RunEnv(cache);
  BackupApp app({"storage"}, RemoteConfig(&server, nullptr));
  TwoBackups(app, env);
  const std::string url = "s3://bkt/mirror";

  auto first = app.Json({"backup", "copy", "--all", "--to", url}, 0, env);
  EXPECT_EQ(first.value("snapshots_copied", -1), 2) << first.dump();
  EXPECT_GT(first.value("blobs_copied", 0), 2) << first.dump();
  storage::BackendOptions options;
  options.s3_endpoint = server.endpoint();
  options.s3_path_style = true;
  setenv("AWS_ACCESS_KEY_ID", S3Server::kAccessKey, 1);
  setenv("AWS_SECRET_ACCESS_KEY", S3Server::kSecretKey, 1);
  setenv("VELIN_CACHE_DIR", cache.path().c_str(), 1);
  size_t objects = CountObjects(url, options);

  auto second = app.Json({"backup", "copy", "--all", "--to", url}, 0, env);
  EXPECT_EQ(second.value("snapshots_copied", -1), 0) << second.dump();
  EXPECT_EQ(second.value("snapshots_present", -1), 2) << second.dump();
  EXPECT_EQ(second.value("blobs_copied", -1), 0) << second.dump();
  EXPECT_EQ(second.value("packs_written", -1), 0) << second.dump();
  EXPECT_EQ(CountObjects(url, options), objects) << "nothing new may reach the mirror";

  // A third backup copies only what it adds.
  WriteFile(app.root() + "/storage/c.txt", "gamma\n");
  ASSERT_EQ(app.Run({"backup", "create"}, env).exit_code, 0);
  auto third = app.Json({"backup", "copy", "latest", "--to", url}, 0, env);
  EXPECT_EQ(third.value("snapshots_copied", -1), 1);
  EXPECT_LE(third.value("blobs_copied", 99), 4) << "the new file and the trees above it";

  RunResult restored = app.Run(
      {"backup", "restore", "latest", "--target", app.path("out"), "--destination", url}, env);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(DescribeTree(app.path("out")), DescribeTree(app.root()));
  EXPECT_EQ(app.Run({"backup", "verify", "latest", "--destination", url}, env).exit_code, 0);
}

TEST(RemoteCopy, CopiesToSftpAndTheSecondRunTransfersNothing) {
  SshServer ssh;
  TempDir cache;
  RunOptions env;
  env.env["VELIN_CACHE_DIR"] = cache.path();
  BackupApp app({"storage"}, RemoteConfig(nullptr, &ssh));
  TwoBackups(app, env);
  const std::string url = ssh.Url(ssh.files_dir() + "/mirror");

  auto first = app.Json({"backup", "copy", "--all", "--to", url}, 0, env);
  EXPECT_EQ(first.value("snapshots_copied", -1), 2) << first.dump();
  auto files = [&] {
    size_t n = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(ssh.files_dir() + "/mirror")) {
      n += e.is_regular_file() && e.path().string().find("/locks/") == std::string::npos;
    }
    return n;
  };
  size_t before = files();
  auto second = app.Json({"backup", "copy", "--all", "--to", url}, 0, env);
  EXPECT_EQ(second.value("snapshots_copied", -1), 0) << second.dump();
  EXPECT_EQ(second.value("blobs_copied", -1), 0) << second.dump();
  EXPECT_EQ(files(), before);

  RunResult restored = app.Run(
      {"backup", "restore", "latest", "--target", app.path("out"), "--destination", url}, env);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(DescribeTree(app.path("out")), DescribeTree(app.root()));
}

TEST(RemoteCopy, OffsiteRunsAfterCreateAndItsFailureNeverHarmsTheLocalBackup) {
  S3Server server;
  TempDir cache;
  RunOptions env = S3Server::RunEnv(cache);
  BackupApp app({"storage"}, "offsite = \"s3://bkt/offsite\"\n" + RemoteConfig(&server, nullptr));
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");

  auto created = app.Json({"backup", "create"}, 0, env);
  std::string id = created.value("id", "");
  EXPECT_GT(created["offsite"].value("blobs_copied", 0), 0) << created.dump();
  EXPECT_GT(created["offsite"].value("bytes_stored", 0), 0) << created.dump();
  auto offsite = app.Json({"backup", "list", "--destination", "s3://bkt/offsite"}, 0, env);
  EXPECT_NE(offsite.dump().find(id), std::string::npos);

  server.Stop();
  WriteFile(app.root() + "/storage/b.txt", "beta\n");
  RunResult failed = app.Run({"backup", "create"}, env);
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_NE(failed.err.find("was created, but the offsite copy to s3://bkt/offsite failed"),
            std::string::npos)
      << failed.err;
  auto local = app.Json({"backup", "list"}, 0, env);
  ASSERT_EQ(local["backups"].size(), 2u) << "the local backup was committed: " << local.dump();
  EXPECT_EQ(app.Run({"backup", "verify", "latest"}, env).exit_code, 0);
}

}  // namespace
}  // namespace velin::testing
