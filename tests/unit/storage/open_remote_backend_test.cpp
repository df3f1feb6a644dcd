// OpenBackend for remote URLs and the S3 credential sources: what a user's velin.toml and
// environment turn into, checked against real servers.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "support/remote_servers.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/s3_backend.hpp"

namespace velin::storage {
namespace {

using testing::TempDir;
using testing::WriteFile;

// Sets environment variables for one test and restores them after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = getenv(name);
    if (old) old_ = old;
    had_ = old != nullptr;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(S3Credentials, ComeFromAPrivateFileOrTheEnvironment) {
  TempDir dir;
  WriteFile(dir / "s3.env",
            "# velin\nexport AWS_ACCESS_KEY_ID=AKID\nAWS_SECRET_ACCESS_KEY = \"se=cret\"\n"
            "AWS_SESSION_TOKEN=tok\n",
            0600);
  auto creds = LoadS3Credentials(io::Env::Default(), dir / "s3.env");
  ASSERT_TRUE(creds) << creds.error().message;
  EXPECT_EQ(creds->access_key_id, "AKID");
  EXPECT_EQ(creds->secret_access_key, "se=cret");
  EXPECT_EQ(creds->session_token, "tok");

  WriteFile(dir / "open.env", "AWS_ACCESS_KEY_ID=AKID\nAWS_SECRET_ACCESS_KEY=topsecret\n", 0644);
  auto open = LoadS3Credentials(io::Env::Default(), dir / "open.env");
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().code, ExitCode::kUsage);
  EXPECT_NE(open.error().message.find("can be read by other users (mode 0644)"), std::string::npos);
  EXPECT_EQ(open.error().message.find("topsecret"), std::string::npos);

  WriteFile(dir / "bad.env", "AWS_SECRET_ACCESS_KEY=topsecret\nPASSWORD=x\n", 0600);
  auto bad = LoadS3Credentials(io::Env::Default(), dir / "bad.env");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("bad.env:2: unknown key 'PASSWORD'"), std::string::npos);

  ScopedEnv id("AWS_ACCESS_KEY_ID", "ENVID"), secret("AWS_SECRET_ACCESS_KEY", "ENVSECRET"),
      token("AWS_SESSION_TOKEN", nullptr);
  auto env = LoadS3Credentials(io::Env::Default(), "");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->access_key_id, "ENVID");
  ScopedEnv none("AWS_ACCESS_KEY_ID", nullptr);
  auto missing = LoadS3Credentials(io::Env::Default(), "");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no S3 credentials"), std::string::npos);
}

TEST(OpenBackend, OpensS3UrlsWithTheConfiguredEndpoint) {
  testing::S3Server server(/*check_signatures=*/true);
  TempDir cache;
  ScopedEnv cache_dir("VELIN_CACHE_DIR", cache.path().c_str());
  ScopedEnv id("AWS_ACCESS_KEY_ID", testing::S3Server::kAccessKey);
  ScopedEnv secret("AWS_SECRET_ACCESS_KEY", testing::S3Server::kSecretKey);
  BackendOptions options;
  options.s3_endpoint = server.endpoint();
  options.s3_path_style = true;
  auto backend = OpenBackend("s3://bkt/velin/repo", options, io::Env::Default(), true);
  ASSERT_TRUE(backend) << backend.error().message;
  EXPECT_EQ((*backend)->Location(), "s3://bkt/velin/repo");
  ASSERT_TRUE((*backend)->Put("config", "c"));
  auto listed = (*backend)->List("");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "config") << "names are relative to the prefix";

  ScopedEnv wrong("AWS_SECRET_ACCESS_KEY", "wrong");
  auto denied = OpenBackend("s3://bkt/velin/repo", options, io::Env::Default(), true);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().code, ExitCode::kUsage);
  EXPECT_NE(denied.error().message.find("SignatureDoesNotMatch"), std::string::npos);
}

TEST(OpenBackend, OpensSftpAndFtpUrls) {
  testing::SshServer ssh;
  TempDir cache;
  ScopedEnv cache_dir("VELIN_CACHE_DIR", cache.path().c_str());
  BackendOptions options;
  options.sftp_key_file = ssh.key_file();
  options.sftp_known_hosts = ssh.known_hosts();
  auto sftp = OpenBackend(ssh.Url(ssh.files_dir() + "/r"), options, io::Env::Default(), true);
  ASSERT_TRUE(sftp) << sftp.error().message;
  ASSERT_TRUE((*sftp)->Put("config", "c"));
  EXPECT_EQ(testing::ReadFileOrDie(ssh.files_dir() + "/r/config"), "c");

  testing::FtpServer ftp;
  ScopedEnv password("VELIN_FTP_PASSWORD", testing::FtpServer::kPassword);
  auto backend = OpenBackend(ftp.Url("r"), options, io::Env::Default(), true);
  ASSERT_TRUE(backend) << backend.error().message;
  ASSERT_TRUE((*backend)->Put("config", "f"));
  EXPECT_EQ(testing::ReadFileOrDie(ftp.root_dir() + "/r/config"), "f");

  auto unsupported = OpenBackend("gopher://x/y", options, io::Env::Default(), true);
  ASSERT_FALSE(unsupported);
  EXPECT_EQ(unsupported.error().code, ExitCode::kUsage);
}

// An object a replacing Put moved aside (`<name>.tmp-old-…`, left by a velin killed between the
// replace's renames) is put back by the next read, on FTP as on SFTP (the SFTP case runs the real
// binary: StorageRemoteConfigAside), for the names the opener gives (the repository's config and
// verify record: repo::ObjectsReplacedInPlace) and no other.
TEST(OpenBackend, AnObjectMovedAsideIsPutBackOnlyWhenNamedAsReplacedInPlace) {
  testing::FtpServer ftp;
  TempDir cache;
  ScopedEnv cache_dir("VELIN_CACHE_DIR", cache.path().c_str());
  ScopedEnv password("VELIN_FTP_PASSWORD", testing::FtpServer::kPassword);
  const std::string repo = ftp.root_dir() + "/r/";
  BackendOptions named;
  named.replaced_in_place = {"config", "state/verify"};
  auto backend = OpenBackend(ftp.Url("r"), named, io::Env::Default(), true);
  ASSERT_TRUE(backend) << backend.error().message;
  for (const std::string name : {"config", "state/verify"}) {
    ASSERT_TRUE((*backend)->Put(name, "old " + name));
    std::filesystem::rename(repo + name, repo + name + ".tmp-old-0123456789ab");
    auto got = (*backend)->Get(name);
    ASSERT_TRUE(got) << name << ": " << got.error().message;
    EXPECT_EQ(*got, "old " + name);
    EXPECT_EQ(testing::ReadFileOrDie(repo + name), "old " + name);
    EXPECT_FALSE(std::filesystem::exists(repo + name + ".tmp-old-0123456789ab")) << name;
  }

  auto plain = OpenBackend(ftp.Url("r"), BackendOptions{}, io::Env::Default(), true);
  ASSERT_TRUE(plain) << plain.error().message;
  std::filesystem::rename(repo + "config", repo + "config.tmp-old-0123456789ab");
  auto missing = (*plain)->Get("config");
  ASSERT_FALSE(missing);
  EXPECT_TRUE(IsNotFound(missing.error())) << missing.error().message;
  EXPECT_TRUE(std::filesystem::exists(repo + "config.tmp-old-0123456789ab"));
}

// What the rollback watchdog is given to open the repository at the deadline: the variables
// OpenBackend reads a secret from, for that destination only.
TEST(CredentialVariables, NameWhatOpeningTheDestinationReads) {
  BackendOptions o;
  using Names = std::vector<std::string>;
  EXPECT_EQ(CredentialVariables("/srv/backups", o), Names{});
  EXPECT_EQ(CredentialVariables("file:///srv/backups", o), Names{});
  EXPECT_EQ(CredentialVariables("s3://bkt/shop", o),
            (Names{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}));
  EXPECT_EQ(CredentialVariables("ftp://u@h/x", o), Names{"VELIN_FTP_PASSWORD"});
  EXPECT_EQ(CredentialVariables("ftps://u@h/x", o), Names{"VELIN_FTP_PASSWORD"});
  EXPECT_EQ(CredentialVariables("sftp://u@h/x", o), Names{});  // a key without a passphrase
  o.sftp_key_passphrase_env = "KEY_PASS";
  EXPECT_EQ(CredentialVariables("sftp://u@h/x", o), Names{"KEY_PASS"});
  o.s3_credentials_file = "/etc/velin/s3";  // read from the file, not the environment
  EXPECT_EQ(CredentialVariables("s3://bkt/shop", o), Names{});
}

}  // namespace
}  // namespace velin::storage
