// A new machine (an empty cache of remote repositories) reads a remote repository of many
// backups several objects at a time (repo/object_fetch.hpp): on S3 (s3rver), SFTP (sshd) and
// FTP (vsftpd) alike, `backup list` shows every backup in the order a machine with the cache
// shows them, `restore latest` restores the newest byte for byte, and a damaged snapshot among
// them is named in its own warning while the others are listed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "support/backup_fixture.hpp"
#include "support/remote_servers.hpp"

namespace velin::testing {
namespace {

std::vector<std::string> ListedIds(const nlohmann::json& list) {
  std::vector<std::string> ids;
  for (const auto& s : list.value("backups", nlohmann::json::array())) {
    ids.push_back(s.value("id", ""));
  }
  return ids;
}

// Flips one byte in the middle of a file.
void FlipAByte(const std::string& path) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(f) << path;
  f.seekg(0, std::ios::end);
  const std::streamoff size = f.tellg();
  ASSERT_GT(size, 2) << path;
  f.seekg(size / 2);
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x20);
  f.seekp(size / 2);
  f.write(&c, 1);
}

// Makes the backups with one cache, then reads them with fresh ones. `base` carries what the
// server needs (keys, a password); `file_of` maps a snapshot id to its file on the server.
void ReadOnANewMachine(BackupApp& app, const std::string& url, const RunOptions& base,
                       const std::function<std::string(const std::string&)>& file_of,
                       int backups = 10) {
  TempDir old_cache, new_cache, restore_cache, damaged_cache;
  auto with_cache = [&](const TempDir& cache) {
    RunOptions o = base;
    o.env["VELIN_CACHE_DIR"] = cache.path();
    return o;
  };
  for (int i = 0; i < backups; ++i) {
    WriteFile(app.root() + "/storage/f" + std::to_string(i) + ".bin", RandomData(5000, i + 1));
    RunResult made = app.Run({"backup", "create", "--destination", url}, with_cache(old_cache));
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  const std::vector<std::string> ids =
      ListedIds(app.Json({"backup", "list", "--destination", url}, 0, with_cache(old_cache)));
  ASSERT_EQ(ids.size(), static_cast<size_t>(backups));

  EXPECT_EQ(ListedIds(app.Json({"backup", "list", "--destination", url}, 0, with_cache(new_cache))),
            ids);
  RunResult restored =
      app.Run({"backup", "restore", "latest", "--target", app.path("out"), "--destination", url},
              with_cache(restore_cache));
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_EQ(DescribeTree(app.path("out")), DescribeTree(app.root()));

  const std::string damaged = ids[ids.size() / 2];
  FlipAByte(file_of(damaged));
  RunResult listed =
      app.Run({"backup", "list", "--json", "--destination", url}, with_cache(damaged_cache));
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::vector<std::string> rest = ids;
  rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(ids.size() / 2));
  EXPECT_EQ(ListedIds(nlohmann::json::parse(listed.out)), rest);
  EXPECT_NE(listed.err.find(damaged), std::string::npos) << listed.err;
}

TEST(RemoteNewMachine, ReadsAnS3RepositoryOfManyBackups) {
  S3Server server;
  TempDir unused;
  BackupApp app({"storage"},
                "\n[storage.s3]\nendpoint = \"" + server.endpoint() + "\"\npath_style = true\n");
  ReadOnANewMachine(
      app, "s3://bkt/newmachine", S3Server::RunEnv(unused), [&](const std::string& id) {
        return server.data_dir() + "/data/bkt/newmachine/snapshots/" + id + "._S3rver_object";
      });
}

TEST(RemoteNewMachine, ReadsAnSftpRepositoryOfManyBackups) {
  SshServer ssh;
  BackupApp app({"storage"}, ssh.StorageConfig());
  ReadOnANewMachine(
      app, ssh.Url(ssh.files_dir() + "/repo"), RunOptions{},
      [&](const std::string& id) { return ssh.files_dir() + "/repo/snapshots/" + id; });
}

TEST(RemoteNewMachine, ReadsAnFtpRepositoryOfManyBackups) {
  FtpServer ftp;
  BackupApp app({"storage"}, "");
  RunOptions password;
  password.env["VELIN_FTP_PASSWORD"] = FtpServer::kPassword;
  // Five: each backup over FTP is many logins (vsftpd forks and runs PAM for each), slow on a
  // busy machine; five still give the 4 readers more than one object each.
  ReadOnANewMachine(
      app, ftp.Url("repo"), password,
      [&](const std::string& id) { return ftp.root_dir() + "/repo/snapshots/" + id; }, 5);
}

}  // namespace
}  // namespace velin::testing
