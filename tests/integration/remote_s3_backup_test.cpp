// The real velin binary with its repository straight on S3 (s3rver on loopback): create →
// list → restore identical → verify, a server that dies mid-backup commits nothing, one that
// dies mid-restore leaves no half-written file under its name, a percent-escaped spelling of the
// repository is that repository, and an endpoint that is no S3 is named as such.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

std::string S3Config(const S3Server& server) {
  return "\n[storage.s3]\nendpoint = \"" + server.endpoint() +
         "\"\nregion = \"us-east-1\"\npath_style = true\n";
}

void MakeTree(const std::string& root) {
  WriteFile(root + "/storage/a.txt", "alpha\n");
  WriteFile(root + "/storage/sub/b.bin", RandomData((2 << 20) + 77, 3), 0600);
  WriteFile(root + "/storage/sub/empty", "");
  std::filesystem::create_directories(root + "/storage/empty dir");
  std::filesystem::create_symlink("a.txt", root + "/storage/link");
}

TEST(RemoteS3Backup, CreateListRestoreVerifyStraightOnS3) {
  S3Server server(/*check_signatures=*/true);
  BackupApp app({"storage"}, S3Config(server));
  TempDir cache;
  MakeTree(app.root());
  const std::string url = "s3://bkt/velin/shop";
  RunOptions env = S3Server::RunEnv(cache);

  auto created = app.Json({"backup", "create", "--destination", url}, 0, env);
  std::string id = created.value("id", "");
  ASSERT_FALSE(id.empty()) << created.dump();
  EXPECT_EQ(created.value("repository", ""), url);

  auto listed = app.Json({"backup", "list", "--destination", url}, 0, env);
  EXPECT_NE(listed.dump().find(id), std::string::npos) << listed.dump();

  RunResult restored =
      app.Run({"backup", "restore", id, "--target", app.path("out"), "--destination", url}, env);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(DescribeTree(app.path("out")), DescribeTree(app.root()));

  RunResult verified = app.Run({"backup", "verify", id, "--destination", url}, env);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;

  // Wrong secret against the signature-checking server: one clear line, exit 2.
  RunOptions wrong = env;
  wrong.env["AWS_SECRET_ACCESS_KEY"] = "wrong-secret";
  RunResult denied = app.Run({"backup", "list", "--destination", url}, wrong);
  EXPECT_EQ(denied.exit_code, 2) << denied.err;
  EXPECT_NE(denied.err.find("access denied (HTTP 403 SignatureDoesNotMatch)"), std::string::npos)
      << denied.err;
  EXPECT_EQ(denied.err.find("wrong-secret"), std::string::npos);
}

// MinIO at http://10.0.0.5:9000 (here s3rver at http://127.0.0.1:PORT) with no path_style in the
// config: velin asked for bkt.127.0.0.1 ("Could not resolve host", exit 1). A bucket subdomain
// of an IP address cannot exist, so the bucket goes in the path as AWS SDKs and MinIO clients do.
TEST(RemoteS3Backup, AnIpEndpointWithoutPathStyleIsAddressedPathStyle) {
  S3Server server(/*check_signatures=*/true);
  BackupApp app({"storage"}, "\n[storage.s3]\nendpoint = \"" + server.endpoint() +
                                 "\"\nregion = \"us-east-1\"\n");
  TempDir cache;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  const std::string url = "s3://bkt/velin/ip";
  RunOptions env = S3Server::RunEnv(cache);

  RunResult created = app.Run({"backup", "create", "--destination", url}, env);
  ASSERT_EQ(created.exit_code, 0) << created.out << created.err;
  EXPECT_EQ(created.err.find("Could not resolve host"), std::string::npos) << created.err;
  RunResult restored = app.Run(
      {"backup", "restore", "latest", "--target", app.path("out"), "--destination", url}, env);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(ReadFileOrDie(app.path("out") + "/storage/a.txt"), "alpha\n");
}

// Two servers holding the same s3://bucket/prefix (staging's and production's MinIO) with a
// backup of the same id each: one local cache for both served one server's snapshot for the
// other's (a false "blob … is missing from the index", exit 4).
TEST(RemoteS3Backup, TwoServersWithOneBucketAndPrefixShareNoCache) {
  S3Server production, staging;
  BackupApp app({"storage"}, S3Config(production));
  TempDir cache;
  const std::string url = "s3://bkt/velin/shop";
  RunOptions at_production = S3Server::RunEnv(cache);
  at_production.env["VELIN_NOW"] = "2026-12-01T10:00:00Z";
  RunOptions at_staging = at_production;
  at_staging.env["VELIN_STORAGE_S3_ENDPOINT"] = staging.endpoint();
  WriteFile(app.root() + "/storage/a.txt", "PRODUCTION-DATA-1\n");
  ASSERT_EQ(app.Run({"backup", "create", "--destination", url}, at_production).exit_code, 0);
  WriteFile(app.root() + "/storage/a.txt", "STAGINGXX-DATA-2\n\n");  // the same size
  RunResult r = app.Run({"backup", "create", "--destination", url}, at_staging);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& [options, want] :
       {std::pair{at_production, "PRODUCTION-DATA-1\n"}, {at_staging, "STAGINGXX-DATA-2\n\n"}}) {
    r = app.Run({"backup", "dump", "latest", "storage/a.txt", "--destination", url}, options);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, want);
  }
}

TEST(RemoteS3Backup, ServerStoppedMidUploadCommitsNothingAndARerunSucceeds) {
  S3Server server;
  BackupApp app({"storage"}, S3Config(server) + "\n");
  TempDir cache;
  // Enough incompressible data that the upload is still running when the server stops (80 MB:
  // with 40 one loaded run failed, the likeliest cause an upload done before the stop).
  for (int i = 0; i < 8; ++i) {
    WriteFile(app.root() + "/storage/big" + std::to_string(i), RandomData(10 << 20, i));
  }
  const std::string url = "s3://bkt/repo";
  RunOptions env = S3Server::RunEnv(cache);
  std::thread killer([&] {
    // Stop once the first pack has reached the server.
    for (int i = 0; i < 600; ++i) {
      if (std::filesystem::exists(server.data_dir() + "/data/bkt/repo/data")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    server.Stop();
  });
  RunResult failed = app.Run({"backup", "create", "--destination", url}, env);
  killer.join();
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_NE(failed.err.find("s3://bkt/repo"), std::string::npos) << failed.err;
  EXPECT_EQ(failed.err.find('\n'), failed.err.size() - 1) << "one line: " << failed.err;

  server.Start();
  EXPECT_FALSE(std::filesystem::exists(server.data_dir() + "/data/bkt/repo/snapshots"))
      << "no snapshot may be committed by the failed run";
  auto listed = app.Json({"backup", "list", "--destination", url}, 0, env);
  EXPECT_EQ(listed.dump().find("-full"), std::string::npos) << listed.dump();
  auto rerun = app.Json({"backup", "create", "--destination", url}, 0, env);
  ASSERT_FALSE(rerun.value("id", "").empty()) << rerun.dump();
  RunResult verified = app.Run({"backup", "verify", "latest", "--destination", url}, env);
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
}

TEST(RemoteS3Backup, ServerStoppedMidRestoreNamesNoHalfFileAndARerunRestoresAll) {
  S3Server server;
  BackupApp app({"storage"}, S3Config(server) + "\n");
  TempDir cache;
  // One large file (its blobs read several at a time by the idle workers) and small ones.
  WriteFile(app.root() + "/storage/large.bin", RandomData(96 << 20, 41));
  for (int i = 0; i < 20; ++i) {
    WriteFile(app.root() + "/storage/small/f" + std::to_string(i), RandomData(3000 + i, i));
  }
  const std::string url = "s3://bkt/repo";
  RunOptions env = S3Server::RunEnv(cache);
  auto created = app.Json({"backup", "create", "--destination", url}, 0, env);
  ASSERT_FALSE(created.value("id", "").empty()) << created.dump();

  const std::string out = app.path("out");
  std::thread killer([&] {
    // Stop once the restore has begun making the tree.
    for (int i = 0; i < 6000; ++i) {
      if (std::filesystem::exists(out + "/storage")) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server.Stop();
  });
  RunResult failed =
      app.Run({"backup", "restore", "latest", "--target", out, "--destination", url}, env);
  killer.join();
  EXPECT_EQ(failed.exit_code, 1) << failed.out << failed.err;
  EXPECT_NE(failed.err.find("s3://bkt/repo"), std::string::npos) << failed.err;
  EXPECT_EQ(failed.err.find('\n'), failed.err.size() - 1) << "one line: " << failed.err;
  EXPECT_FALSE(std::filesystem::exists(out + "/storage/large.bin"))
      << "a file whose blobs did not all arrive must not be named";

  server.Start();
  RunResult rerun =
      app.Run({"backup", "restore", "latest", "--target", out, "--destination", url}, env);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(DescribeTree(out), DescribeTree(app.root()));
}

// 3,000 directories of one file each (upload folders) restored from S3 under the usual limit of
// 1,024 open files, one velin cannot raise: a batch of files spans many directories from a
// remote repository, and each waiting file kept its directory open ("Too many open files").
// Their 3,000 trees are read ahead in runs (before: beyond 2,048, one request each).
TEST(RemoteS3Backup, RestoresThousandsOfOneFileDirectoriesUnderTheUsualOpenFileLimit) {
  S3Server server;
  BackupApp app({"storage"}, S3Config(server));
  TempDir cache;
  for (int i = 0; i < 3000; ++i) {
    WriteFile(app.root() + "/storage/u" + std::to_string(i) + "/f", "upload " + std::to_string(i));
  }
  const std::string url = "s3://bkt/velin/wide";
  RunOptions env = S3Server::RunEnv(cache);
  ASSERT_EQ(app.Run({"backup", "create", "--destination", url}, env).exit_code, 0);
  env.open_files_soft = env.open_files_hard = 1024;
  RunResult restored = app.Run(
      {"backup", "restore", "latest", "--target", app.path("out"), "--destination", url}, env);
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(DescribeTree(app.path("out")), DescribeTree(app.root()));
}

// One S3 prefix spelled with a percent-escape ("%70r" is "pr", "my%20repo" is "my repo") is
// one repository: `copy --to` it said "0 backups copied, 1 already there" and an offsite there
// "Copied offsite to …", both exit 0, with no second copy anywhere.
TEST(RemoteS3Backup, APercentEscapedSpellingOfTheSourceIsNoSecondCopy) {
  S3Server server;
  BackupApp app({"storage"}, S3Config(server));
  TempDir cache;
  WriteFile(app.root() + "/storage/a.txt", "alpha\n");
  RunOptions env = S3Server::RunEnv(cache);
  env.env["VELIN_BACKUP_DESTINATION"] = "s3://bkt/my repo";
  ASSERT_EQ(app.Run({"-q", "backup", "create"}, env).exit_code, 0);
  for (const char* to : {"s3://bkt/my%20repo", "s3://bkt/my%20rep%6F/", "s3://bkt//my repo"}) {
    SCOPED_TRACE(to);
    RunResult copy = app.Run({"backup", "copy", "--all", "--to", to}, env);
    EXPECT_EQ(copy.exit_code, 2) << copy.out << copy.err;
    EXPECT_NE(copy.err.find(std::string(to) + " is the repository the backups are copied from"),
              std::string::npos)
        << copy.err;
  }
  RunOptions offsite = env;
  offsite.env["VELIN_BACKUP_OFFSITE"] = "s3://bkt/my%20repo";
  RunResult create = app.Run({"backup", "create"}, offsite);
  EXPECT_EQ(create.exit_code, 2) << create.out << create.err;
  EXPECT_NE(create.err.find("is the repository of backup.destination"), std::string::npos)
      << create.err;
  EXPECT_EQ(create.out.find("Copied offsite"), std::string::npos) << create.out;
  // Another prefix is another repository.
  RunResult elsewhere =
      app.Run({"-q", "backup", "copy", "--all", "--to", "s3://bkt/my%20copy"}, env);
  EXPECT_EQ(elsewhere.exit_code, 0) << elsewhere.out << elsewhere.err;
}

// storage.s3.endpoint naming a web server that is no S3: its redirect was "wrong region … set
// storage.s3.region", its 404 "no such object". Both name the endpoint as what to check.
TEST(RemoteS3Backup, AnEndpointThatIsNoS3IsNamed) {
  BackupApp app({"storage"});
  TempDir cache;
  RunOptions env = S3Server::RunEnv(cache);
  for (const auto& [reply, said] : std::vector<std::pair<std::string, std::string>>{
           {"HTTP/1.1 301 Moved Permanently\r\nLocation: https://www.example.com/\r\n"
            "Content-Length: 0\r\nConnection: close\r\n\r\n",
            "(HTTP 301 redirect to https://www.example.com/)"},
           {"HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n"
            "Connection: close\r\n\r\nnot found",
            "(HTTP 404)"}}) {
    FaultProxy web(0, reply, 100);
    const std::string endpoint = "http://127.0.0.1:" + std::to_string(web.port());
    env.env["VELIN_STORAGE_S3_ENDPOINT"] = endpoint;
    env.env["VELIN_STORAGE_S3_PATH_STYLE"] = "true";
    RunResult r = app.Run({"backup", "list", "--destination", "s3://bkt/repo"}, env);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("the endpoint " + endpoint + " did not answer as S3 " + said +
                         ": check storage.s3.endpoint"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("region"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace velin::testing
