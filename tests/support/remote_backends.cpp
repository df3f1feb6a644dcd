#include "support/remote_backends.hpp"

#include <stdexcept>

#include "support/remote_servers.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/file_server_backend.hpp"
#include "velin/storage/s3_backend.hpp"

namespace velin::testing {
namespace {

template <typename T>
T Check(Result<T> r, const std::string& what) {
  if (!r) throw std::runtime_error(what + ": " + r.error().message);
  return std::move(*r);
}

struct LocalHarness : BackendHarness {
  TempDir dir;
  LocalHarness() {
    backend = Check(storage::OpenBackend(dir / "repo", {}, io::Env::Default(), true), "local");
  }
};

struct S3Harness : BackendHarness {
  S3Server server;
  explicit S3Harness(bool signed_checks) : server(signed_checks) {
    storage::S3Options o;
    o.bucket = S3Server::kBucket;
    o.prefix = "repo";
    o.endpoint = server.endpoint();
    o.path_style = true;
    o.credentials = {S3Server::kAccessKey, S3Server::kSecretKey, ""};
    storage::RetryPolicy retry = FastRetries();
    backend = Check(storage::S3Backend::Create(o, &retry), "s3");
  }
  ~S3Harness() override { backend.reset(); }
};

struct SftpHarness : BackendHarness {
  SshServer server;
  explicit SftpHarness(const std::string& time_zone = "") : server(time_zone) {
    storage::RetryPolicy retry = FastRetries();
    backend = Check(storage::FileServerBackend::Create(SftpRepoOptions(server), &retry), "sftp");
  }
  ~SftpHarness() override { backend.reset(); }
};

struct FtpHarness : BackendHarness {
  FtpServer server;
  FtpHarness() {
    storage::FileServerOptions o;
    o.protocol = storage::FileProtocol::kFtp;
    o.host = "127.0.0.1";
    o.port = server.port();
    o.user = FtpServer::kUser;
    o.password = FtpServer::kPassword;
    o.root = "repo";
    storage::RetryPolicy retry = FastRetries();
    backend = Check(storage::FileServerBackend::Create(o, &retry), "ftp");
  }
  ~FtpHarness() override { backend.reset(); }
};

}  // namespace

storage::RetryPolicy FastRetries(int attempts) {
  storage::RetryPolicy p;
  p.max_attempts = attempts;
  p.base_delay = std::chrono::milliseconds(10);
  p.max_delay = std::chrono::milliseconds(100);
  p.connect_timeout = std::chrono::seconds(5);
  p.stall_timeout = std::chrono::seconds(10);
  return p;
}

storage::FileServerOptions SftpRepoOptions(const SshServer& server) {
  storage::FileServerOptions o;
  o.protocol = storage::FileProtocol::kSftp;
  o.host = "127.0.0.1";
  o.port = server.port();
  o.user = server.user();
  o.root = server.files_dir().substr(1) + "/repo";
  o.key_file = server.key_file();
  o.public_key_file = server.key_file() + ".pub";
  o.known_hosts = server.known_hosts();
  return o;
}

std::unique_ptr<BackendHarness> StartBackend(const std::string& kind) {
  if (kind == "local") return std::make_unique<LocalHarness>();
  if (kind == "s3") return std::make_unique<S3Harness>(false);
  if (kind == "s3-signed") return std::make_unique<S3Harness>(true);
  if (kind == "sftp") return std::make_unique<SftpHarness>();
  if (kind == "sftp-new-york") return std::make_unique<SftpHarness>("America/New_York");
  if (kind == "ftp") return std::make_unique<FtpHarness>();
  throw std::invalid_argument("unknown backend kind " + kind);
}

}  // namespace velin::testing
