// Real remote-storage servers for tests, each on a free loopback port in its own temp dir and
// stopped (process group killed and reaped) by its destructor even when a test fails:
//  - S3Server: s3rver from npm (checks the access key, not the signature), or the
//    @20minutes/s3rver fork (checks SigV4: a wrong secret gets 403 SignatureDoesNotMatch).
//    Both are installed by scripts/deps/remote.sh into /opt/velin-test (VELIN_TEST_NODE_DIR).
//  - SshServer: OpenSSH's sshd with a temp ed25519 host key, an authorized ed25519 user key
//    and a known_hosts file for it.
//  - FtpServer: vsftpd logging in the local user "velin-ftp" (created by remote.sh, or here).
//  - FaultProxy: a TCP proxy in front of any of them that answers HTTP 500/503 or drops the
//    connection for its first N connections, then forwards faithfully; or, for the error
//    answers of a server that misbehaves, sends a canned raw HTTP reply instead.
// A missing server program is a test failure (std::runtime_error), never a silent skip.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"
#include "velin/core/process.hpp"

namespace velin::testing {

// Waits until something accepts connections on 127.0.0.1:port.
bool WaitForPort(int port, int timeout_ms);

// A child process killed with its process group (SIGTERM, then SIGKILL) on Stop/destruction.
class ServerProcess {
 public:
  ServerProcess() = default;
  explicit ServerProcess(Subprocess process) : process_(std::move(process)) {}
  ServerProcess(ServerProcess&&) = default;
  ServerProcess& operator=(ServerProcess&& other) noexcept;
  ~ServerProcess() { Stop(); }
  void Stop();
  bool running() const { return process_.has_value(); }

 private:
  std::optional<Subprocess> process_;
};

class S3Server {
 public:
  static constexpr const char* kAccessKey = "S3RVER";
  static constexpr const char* kSecretKey = "S3RVER";
  static constexpr const char* kBucket = "bkt";

  explicit S3Server(bool check_signatures = false);
  // What a velin run needs to reach the server: its keys in the environment, and the local
  // cache of remote repositories (VELIN_CACHE_DIR) in `cache`.
  static RunOptions RunEnv(const TempDir& cache);
  int port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& data_dir() const { return dir_.path(); }
  // Stops the server; Start() brings it back on the same port with the same data.
  void Stop() { process_.Stop(); }
  void Start();
  // s3rver removes a directory when a delete leaves it empty; a PUT into it at that moment
  // fails inside s3rver with an unhandled ENOENT that kills the server (a real S3 has no
  // directories). For tests with many concurrent writers: puts a file s3rver does not list into
  // every directory of a velin repository under `key_prefix` ("fleet") in the bucket, so none
  // of them ever becomes empty.
  void PinRepositoryDirectories(const std::string& key_prefix) const;

 private:
  bool Launch();  // false when the server did not say it listens on port_ (stopped then)
  bool check_signatures_;
  TempDir dir_;
  int port_ = 0;
  ServerProcess process_;
};

class SshServer {
 public:
  // `time_zone` ("America/New_York"): the TZ sshd runs in, and so the times OpenSSH's SFTP
  // server writes into its `ls -l` listings; "" inherits this process's.
  explicit SshServer(const std::string& time_zone = "");
  int port() const { return port_; }
  const std::string& user() const { return user_; }
  std::string key_file() const { return dir_ / "userkey"; }
  std::string known_hosts() const { return dir_ / "known_hosts"; }
  // A directory the user may write, for repositories: <tmp>/files.
  std::string files_dir() const { return dir_ / "files"; }
  std::string Url(const std::string& path) const;  // sftp://user@127.0.0.1:port/<path>
  // velin.toml's "[storage.sftp]" table that logs in with key_file() and trusts known_hosts().
  std::string StorageConfig() const;
  // Lets another local user (FtpServer::kUser, EnsureFtpUser) log in with key_file(): sshd
  // reads authorized_keys as the user logging in, so it and the temp dir become readable by
  // all (files_dir() too; what is made in it afterwards keeps its own modes).
  void AdmitOtherUsers();
  // Lets the key whose public half is `public_key_file` log in too (sshd reads
  // authorized_keys at each login).
  void AuthorizeKey(const std::string& public_key_file);
  // sftp://<user>@127.0.0.1:port/<path>
  std::string UrlAs(const std::string& user, const std::string& path) const;
  void Stop() { process_.Stop(); }

 private:
  // false when sshd did not say it listens on port_ (stopped then)
  bool Launch(const std::string& key_type_and_blob);
  TempDir dir_;
  int port_ = 0;
  std::string user_;
  std::string time_zone_;
  ServerProcess process_;
};

class FtpServer {
 public:
  static constexpr const char* kUser = "velin-ftp";
  static constexpr const char* kPassword = "velin-ftp-test";

  FtpServer();
  // Creates kUser when it is missing (needs root), as the constructor does.
  static void EnsureUser();
  int port() const { return port_; }
  // The login directory (files appear here).
  std::string root_dir() const { return dir_ / "root"; }
  std::string Url(const std::string& path) const;  // ftp://velin-ftp@127.0.0.1:port/<path>
  void Stop() { process_.Stop(); }

 private:
  TempDir dir_;
  int port_ = 0;
  ServerProcess process_;
};

// A loopback port whose connections the kernel completes (listen backlog) and nobody ever
// reads or answers: a server that stopped answering, as a hung S3 gateway or NAS does.
class SilentServer {
 public:
  SilentServer();
  ~SilentServer();
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

class FaultProxy {
 public:
  // kWrongRegion answers like AWS does when the bucket lives in eu-west-1.
  // kCanned sends the raw reply given to the second constructor.
  enum class Fault { kHttp500, kHttp503, kDrop, kWrongRegion, kCanned };
  // Listens on a free loopback port; the first `failures` connections after the first
  // `pass_first` (which are forwarded untouched) get `fault`.
  FaultProxy(int upstream_port, Fault fault, int failures, int pass_first = 0);
  // The faulty connections get `raw_reply` byte for byte (status line, headers and body as
  // given: it may lie about its Content-Length), then the connection is closed.
  FaultProxy(int upstream_port, std::string raw_reply, int failures, int pass_first = 0);
  ~FaultProxy();
  int port() const { return port_; }
  int injected() const { return injected_.load(); }
  int connections() const { return connections_.load(); }  // accepted so far

 private:
  void Listen();
  void AcceptLoop();
  void Serve(int client);

  int upstream_port_;
  Fault fault_;
  std::string canned_reply_;
  int failures_;
  int pass_first_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<int> connections_{0};
  std::atomic<int> injected_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace velin::testing
