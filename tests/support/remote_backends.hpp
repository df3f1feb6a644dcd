// Opens a backend of each kind on a real server started for the test: "local" (a temp dir),
// "s3" (s3rver), "s3-signed" (the signature-checking s3rver), "sftp" (sshd), "sftp-new-york" (sshd
// on New York time), "ftp" (vsftpd). The harness owns the server; destroying it closes the backend,
// then stops the server.
#pragma once

#include <memory>
#include <string>

#include "velin/storage/backend.hpp"
#include "velin/storage/file_server_backend.hpp"
#include "velin/storage/retry_policy.hpp"

namespace velin::testing {

class SshServer;

struct BackendHarness {
  virtual ~BackendHarness() = default;
  std::unique_ptr<storage::Backend> backend;
};

// Retries that keep tests quick: `attempts` tries, 10 ms apart at first.
storage::RetryPolicy FastRetries(int attempts = 4);

// How an SFTP backend reaches `server`'s repository directory (<files_dir>/repo) as its user.
storage::FileServerOptions SftpRepoOptions(const SshServer& server);

std::unique_ptr<BackendHarness> StartBackend(const std::string& kind);

}  // namespace velin::testing
