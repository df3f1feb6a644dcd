#include <cstdlib>

#include "velin/core/i18n.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/backend.hpp"
#include "velin/storage/bit_flip_backend.hpp"
#include "velin/storage/caching_backend.hpp"
#include "velin/storage/file_server_backend.hpp"
#include "velin/storage/local_backend.hpp"
#include "velin/storage/remote_url.hpp"
#include "velin/storage/s3_backend.hpp"
#include "velin/storage/signal_backend.hpp"
#include "velin/storage/ssh_key.hpp"

namespace velin::storage {
namespace {

// Index objects and snapshots of a remote repository are cached locally (caching_backend.hpp).
// `server`: what tells two servers of one location apart (an S3 endpoint: staging's and
// production's MinIO may both hold s3://backups/shop, whose snapshot ids can match).
std::unique_ptr<Backend> WithCache(std::unique_ptr<Backend> remote, io::Env& env,
                                   const std::string& server = "") {
  std::string dir = CachingBackend::DefaultCacheDir(
      server.empty() ? remote->Location() : remote->Location() + " at " + server);
  if (dir.empty()) return remote;
  return std::make_unique<CachingBackend>(std::move(remote), env, dir);
}

Result<std::unique_ptr<Backend>> OpenS3(const RemoteUrl& url, const BackendOptions& options,
                                        io::Env& env) {
  VELIN_TRY(CheckS3Url(url));
  S3Options s3;
  s3.bucket = url.host;
  s3.prefix = url.path;
  s3.endpoint = options.s3_endpoint;
  s3.region = options.s3_region;
  s3.path_style = options.s3_path_style;
  s3.parallel_uploads = options.s3_parallel_uploads;
  VELIN_ASSIGN(s3.credentials, LoadS3Credentials(env, options.s3_credentials_file));
  VELIN_ASSIGN(auto backend, S3Backend::Create(std::move(s3)));
  VELIN_TRY(backend->CheckAccess());
  return WithCache(std::move(backend), env, options.s3_endpoint);
}

Result<std::unique_ptr<Backend>> OpenFileServer(const RemoteUrl& url, const BackendOptions& options,
                                                io::Env& env) {
  FileServerOptions o;
  o.protocol = url.scheme == "sftp"  ? FileProtocol::kSftp
               : url.scheme == "ftp" ? FileProtocol::kFtp
                                     : FileProtocol::kFtps;
  o.host = url.host;
  o.port = url.port;
  o.user = url.user;
  o.root = url.path;
  if (o.protocol == FileProtocol::kSftp) {
    o.key_file = options.sftp_key_file;
    o.known_hosts = options.sftp_known_hosts;
    if (o.known_hosts.empty()) {
      auto home = env.GetEnv("HOME");
      if (home && !home->empty()) o.known_hosts = *home + "/.ssh/known_hosts";
    }
    for (const std::string* file : {&o.key_file, &o.known_hosts}) {
      if (file->empty()) continue;
      auto exists = env.Exists(*file);
      if (!exists || !*exists) {
        return UsageError(TrFormat(
            "sftp://{}: cannot read {}{}", o.host, *file,
            (file == &o.key_file ? " (storage.sftp.key_file)" : " (storage.sftp.known_hosts)")));
      }
    }
    VELIN_ASSIGN(o.key_passphrase,
                 SftpKeyPassphrase(env, o.key_file, options.sftp_key_passphrase_env,
                                   options.sftp_key_passphrase_file));
    VELIN_ASSIGN(bool has_public, env.Exists(o.key_file + ".pub"));
    if (has_public) o.public_key_file = o.key_file + ".pub";
  } else {
    o.password = env.GetEnv("VELIN_FTP_PASSWORD").value_or("");
    o.ca_file = env.GetEnv("VELIN_FTPS_CA_FILE").value_or("");
    if (o.user.empty()) o.user = "anonymous";
  }
  // Packs wait for their upload in unnamed files there (FileServerBackend::NewObjectWriter).
  o.spill_dir = env.GetEnv("TMPDIR").value_or("");
  if (o.spill_dir.empty()) o.spill_dir = "/var/tmp";
  o.replaced_in_place = options.replaced_in_place;
  VELIN_ASSIGN(auto backend, FileServerBackend::Create(std::move(o)));
  VELIN_TRY(backend->CheckAccess());
  return WithCache(std::move(backend), env);
}

Result<std::unique_ptr<Backend>> OpenUnwrapped(const std::string& destination,
                                               const BackendOptions& options, io::Env& env,
                                               bool create);

}  // namespace

// Tests of the real binary damage what it reads (bit_flip_backend.hpp) or stop it at a request
// (signal_backend.hpp); unset, nothing changes.
Result<std::unique_ptr<Backend>> OpenBackend(const std::string& destination,
                                             const BackendOptions& options, io::Env& env,
                                             bool create) {
  VELIN_ASSIGN(auto backend, OpenUnwrapped(destination, options, env, create));
  if (const std::string stop = env.GetEnv("VELIN_FAULT_SIGNAL").value_or(""); !stop.empty()) {
    auto rule = ParseSignalRule(stop);
    if (!rule) return UsageError(TrFormat("VELIN_FAULT_SIGNAL='{}': expected N:SIGTERM", stop));
    backend = WithSignalAtRequest(std::move(backend), *rule);
  }
  const std::string flip = env.GetEnv("VELIN_FAULT_BITFLIP").value_or("");
  if (flip.empty()) return backend;
  auto rule = ParseBitFlipRule(flip);
  if (!rule) return UsageError(TrFormat("VELIN_FAULT_BITFLIP='{}': expected PERCENT:SEED", flip));
  return std::unique_ptr<Backend>(std::make_unique<BitFlipBackend>(std::move(backend), *rule));
}

std::vector<std::string> CredentialVariables(const std::string& destination,
                                             const BackendOptions& options) {
  const size_t scheme_end = destination.find("://");
  if (scheme_end == std::string::npos) return {};
  const std::string scheme = destination.substr(0, scheme_end);
  if (scheme == "s3") {  // as LoadS3Credentials reads them
    if (!options.s3_credentials_file.empty()) return {};
    return {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"};
  }
  if (scheme == "ftp" || scheme == "ftps") return {"VELIN_FTP_PASSWORD"};  // OpenFileServer
  if (scheme == "sftp" && !options.sftp_key_passphrase_env.empty()) {
    return {options.sftp_key_passphrase_env};  // SftpKeyPassphrase
  }
  return {};
}

namespace {

Result<std::unique_ptr<Backend>> OpenUnwrapped(const std::string& destination,
                                               const BackendOptions& options, io::Env& env,
                                               bool create) {
  size_t scheme_end = destination.find("://");
  if (scheme_end == std::string::npos) {
    VELIN_ASSIGN(auto local, LocalBackend::Open(env, destination, create));
    return std::unique_ptr<Backend>(std::move(local));
  }
  std::string scheme = destination.substr(0, scheme_end);
  if (scheme == "file") {
    VELIN_ASSIGN(auto local, LocalBackend::Open(env, destination.substr(scheme_end + 3), create));
    return std::unique_ptr<Backend>(std::move(local));
  }
  VELIN_TRY(CheckCleartextTransport(destination, options.s3_endpoint, options.allow_insecure));
  // Remote stores have no directories to create: the first put makes the repository.
  if (scheme == "s3") {
    VELIN_ASSIGN(RemoteUrl url, ParseRemoteUrl(destination));
    return OpenS3(url, options, env);
  }
  if (IsFileServerUrl(destination)) {
    VELIN_ASSIGN(RemoteUrl url, ParseRemoteUrl(destination));
    return OpenFileServer(url, options, env);
  }
  return UsageError(
      TrFormat("destination '{}': unsupported scheme '{}' (supported: a local directory, file://, "
               "s3://, sftp://, ftp://, ftps://)",
               WithoutPassword(destination), scheme));
}

}  // namespace

}  // namespace velin::storage
