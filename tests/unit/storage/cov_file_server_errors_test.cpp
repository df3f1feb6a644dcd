// What an FTP server can refuse, against a real vsftpd: TLS it does not offer (ftps://), a
// directory its user may not enter, an object its user may not delete, a range past the end of
// an object, and a port where nothing listens. Each failure is one line naming the backend
// (ftp[s]://user@host:port/root), the operation and the object, with the exit code and errno
// the callers act on; retries wait on a MemEnv's clock.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <ctime>
#include <string>

#include "support/remote_servers.hpp"
#include "support/test_support.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/file_server_backend.hpp"

namespace velin::storage {
namespace {

using testing::FtpServer;

class CovFileServerErrors : public ::testing::Test {
 protected:
  std::unique_ptr<FileServerBackend> Ftp(int port, FileProtocol protocol = FileProtocol::kFtp,
                                         int attempts = 1) {
    FileServerOptions o;
    o.protocol = protocol;
    o.host = "127.0.0.1";
    o.port = port;
    o.user = FtpServer::kUser;
    o.password = FtpServer::kPassword;
    o.root = "/repo/";
    o.ca_file = ca_file_;
    retry_.max_attempts = attempts;
    retry_.env = &env_;
    auto backend = FileServerBackend::Create(o, &retry_);
    EXPECT_TRUE(backend) << backend.error().message;
    return std::move(*backend);
  }

  // One line starting with the backend, the operation and the object, holding `part`.
  template <typename T>
  void ExpectOneLine(const Result<T>& r, const std::string& where, const std::string& part,
                     ExitCode code, int sys_errno) {
    ASSERT_FALSE(r.has_value()) << where;
    const std::string& m = r.error().message;
    EXPECT_EQ(m.rfind(where + ": ", 0), 0u) << m;
    EXPECT_NE(m.find(part), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.find(FtpServer::kPassword), std::string::npos) << m;
    EXPECT_EQ(r.error().code, code) << m;
    EXPECT_EQ(r.error().sys_errno, sys_errno) << m;
  }

  io::MemEnv env_;
  RetryPolicy retry_;
  std::string ca_file_;
};

TEST_F(CovFileServerErrors, FtpsToAServerWithoutTlsIsAUsageError) {
  FtpServer server;
  const std::string at = "127.0.0.1:" + std::to_string(server.port());
  ca_file_ = "/etc/velin/ftps-ca.pem";  // never read: the server offers no TLS to check
  auto backend = Ftp(server.port(), FileProtocol::kFtps);
  EXPECT_EQ(backend->Location(), "ftps://velin-ftp@" + at + "/repo");
  ExpectOneLine(backend->CheckAccess(), "ftps://velin-ftp@" + at + "/repo: list /",
                at + " does not offer TLS (ftps:// requires it)", ExitCode::kUsage, 0);
  ExpectOneLine(backend->Put("config", "c"), "ftps://velin-ftp@" + at + "/repo: put config",
                "does not offer TLS", ExitCode::kUsage, 0);
  struct stat st {};
  EXPECT_NE(::stat((server.root_dir() + "/repo/config").c_str(), &st), 0) << "nothing sent";

  FileServerOptions no_host;
  no_host.protocol = FileProtocol::kFtps;
  no_host.user = "u";
  auto refused = FileServerBackend::Create(no_host);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ExitCode::kUsage);
  EXPECT_EQ(refused.error().message, "remote destination without a host name");
}

TEST_F(CovFileServerErrors, ADirectoryOrObjectTheUserMayNotTouchIsNamed) {
  FtpServer server;
  // Made by root: the FTP user may list /repo and read in it, but not enter "locked" nor
  // change "ro".
  const std::string repo = server.root_dir() + "/repo";
  ASSERT_EQ(::mkdir(repo.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((repo + "/locked").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((repo + "/ro").c_str(), 0755), 0);
  testing::WriteFile(repo + "/ro/obj", "0123456789", 0644);
  const std::string at = "ftp://velin-ftp@127.0.0.1:" + std::to_string(server.port()) + "/repo";
  auto backend = Ftp(server.port());

  ExpectOneLine(backend->Put("locked/sub/obj", "x"), at + ": put locked/sub/obj", "access denied (",
                ExitCode::kFailed, EACCES);
  // The server says 550 as for a missing object; its listing of repo/ names "locked".
  ExpectOneLine(backend->Get("locked/obj"), at + ": get locked/obj",
                "access denied: the server does not let 'velin-ftp' into the directory repo/locked",
                ExitCode::kFailed, EACCES);
  ExpectOneLine(backend->Get("ro/missing"), at + ": get ro/missing", "no such object (",
                ExitCode::kFailed, ENOENT);
  auto del = backend->Delete("ro/obj");
  ExpectOneLine(del, at + ": delete ro/obj", "550", ExitCode::kFailed, 0);
  EXPECT_EQ(testing::ReadFileOrDie(repo + "/ro/obj"), "0123456789") << "still there, as said";
  EXPECT_TRUE(backend->Delete("ro/missing")) << "deleting a missing object is fine";

  // A range past the end of what is there.
  auto range = backend->GetRange("ro/obj", 8, 4);
  ASSERT_FALSE(range);
  EXPECT_EQ(range.error().message,
            at + ": object ro/obj is shorter than expected (wanted 4 bytes at offset 8, got 2)");
  EXPECT_EQ(*backend->GetRange("ro/obj", 2, 3), "234");
  EXPECT_EQ(*backend->GetRange("ro/obj", 2, 0), "");
}

TEST_F(CovFileServerErrors, StaleTempsGoByTheServersClockAndAnOnlyCopyStays) {
  FtpServer server;
  auto backend = Ftp(server.port());
  for (const char* name :
       {"index/i1", "index/i1.tmp-old-0123456789ab", "index/j.tmp-old-ba9876543210",
        "data/ab/p1.tmp-0123456789ab", "data/ab/p2.tmp-fresh00000000"}) {
    ASSERT_TRUE(backend->Put(name, "x")) << name;
  }
  auto none = backend->RemoveStaleTemps(0, repo::TempFileLayout());
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->removed, 0u) << "no lock object: no clock to measure an age by";

  ASSERT_TRUE(backend->Put("locks/l1", "lock"));  // now, by the server's clock
  const std::string repo = server.root_dir() + "/repo/";
  const timespec two_days_ago[2] = {{::time(nullptr) - 2 * 86400, 0},
                                    {::time(nullptr) - 2 * 86400, 0}};
  for (const char* old : {"index/i1.tmp-old-0123456789ab", "index/j.tmp-old-ba9876543210",
                          "data/ab/p1.tmp-0123456789ab"}) {
    ASSERT_EQ(::utimensat(AT_FDCWD, (repo + old).c_str(), two_days_ago, 0), 0) << old;
  }
  auto removed = backend->RemoveStaleTemps(0, repo::TempFileLayout());
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->removed, 2u);
  struct stat st {};
  EXPECT_NE(::stat((repo + "index/i1.tmp-old-0123456789ab").c_str(), &st), 0) << "i1 exists";
  EXPECT_NE(::stat((repo + "data/ab/p1.tmp-0123456789ab").c_str(), &st), 0);
  EXPECT_EQ(::stat((repo + "index/j.tmp-old-ba9876543210").c_str(), &st), 0)
      << "the only copy of j stays";
  EXPECT_EQ(::stat((repo + "data/ab/p2.tmp-fresh00000000").c_str(), &st), 0) << "too young";
  EXPECT_EQ(*backend->Get("index/i1"), "x");
}

TEST_F(CovFileServerErrors, APortWhereNothingListensIsNamedAfterTheRetries) {
  const int port = testing::FreeLoopbackPort();
  auto backend = Ftp(port, FileProtocol::kFtp, 2);
  const std::string at = "ftp://velin-ftp@127.0.0.1:" + std::to_string(port) + "/repo";
  // ECONNREFUSED: the metrics count it as a "network" failure.
  const std::string refused = "127.0.0.1 port " + std::to_string(port);
  ExpectOneLine(backend->Get("config"), at + ": get config", refused, ExitCode::kFailed,
                ECONNREFUSED);
  ExpectOneLine(backend->Put("config", "c"), at + ": put config", "(gave up after 2 attempts)",
                ExitCode::kFailed, ECONNREFUSED);
  ExpectOneLine(backend->Stat("config"), at + ": stat config", refused, ExitCode::kFailed,
                ECONNREFUSED);
  ExpectOneLine(backend->List(""), at + ": list /", refused, ExitCode::kFailed, ECONNREFUSED);
}

}  // namespace
}  // namespace velin::storage
