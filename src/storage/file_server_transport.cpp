// FileServerBackend's transport: one SFTP/FTP transfer through a pooled libcurl handle, the
// retry loop, and the one-line messages for login, host-key and TLS failures.
#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "curl_session.hpp"
#include "file_server_transfer.hpp"
#include "velin/core/host_port.hpp"
#include "velin/core/i18n.hpp"

namespace velin::storage {
namespace {

constexpr long kSftpReadBuffer = 256L * 1024;
constexpr long kSftpWriteBuffer = 2L * 1024 * 1024;  // libcurl's largest

struct QuoteList {
  curl_slist* list = nullptr;
  explicit QuoteList(const std::vector<std::string>& commands) {
    for (const std::string& c : commands) list = curl_slist_append(list, c.c_str());
  }
  ~QuoteList() { curl_slist_free_all(list); }
};

}  // namespace

Result<FileServerBackend::Reply> FileServerBackend::Perform(const Transfer& transfer,
                                                            bool& transient, int* curl_code) {
  if (Interrupted()) {  // asked to stop before it went out: it does not
    if (curl_code != nullptr) *curl_code = CURLE_ABORTED_BY_CALLBACK;
    return tl::unexpected(CurlError(transfer, CURLE_ABORTED_BY_CALLBACK, nullptr));
  }
  VELIN_ASSIGN(CurlLease lease, pool_->Acquire());
  CURL* curl = lease.get();
  char error_buffer[CURL_ERROR_SIZE];
  SetCommonOptions(curl, *retry_, error_buffer);
  curl_easy_setopt(curl, CURLOPT_URL, transfer.url.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, options_.user.c_str());
  if (IsSftp()) {
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "sftp");
    curl_easy_setopt(curl, CURLOPT_SSH_AUTH_TYPES, static_cast<long>(CURLSSH_AUTH_PUBLICKEY));
    curl_easy_setopt(curl, CURLOPT_SSH_PRIVATE_KEYFILE, options_.key_file.c_str());
    if (!options_.key_passphrase.empty()) {
      curl_easy_setopt(curl, CURLOPT_KEYPASSWD, options_.key_passphrase.c_str());
    }
    if (!options_.public_key_file.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSH_PUBLIC_KEYFILE, options_.public_key_file.c_str());
    }
    // With a known_hosts file and no key callback, libcurl refuses unknown and changed keys.
    curl_easy_setopt(curl, CURLOPT_SSH_KNOWNHOSTS, options_.known_hosts.c_str());
    curl_easy_setopt(curl, CURLOPT_NEW_FILE_PERMS, 0600L);
    curl_easy_setopt(curl, CURLOPT_NEW_DIRECTORY_PERMS, 0700L);
    // libssh2 keeps as many bytes of SFTP requests in flight as libcurl's buffer holds (reads:
    // 4 buffers ahead, writes: one), so with libcurl's defaults (16 KiB, 64 KiB) each transfer
    // waited a round trip per 64 KiB: a 100 MiB backup to a server 20 ms away took 24.6 s, a
    // 400 MiB restore 58 s. Now 7.7 s and 15 s (bench/README.md, twenty-third pass). Reads take
    // 256 KiB, not libcurl's largest (512 KiB): a ranged read asks for up to 4 buffers beyond
    // its end, which a restore from a server on the LAN paid for (6.2-8.0 s against 5.7-6.0 s).
    curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, kSftpReadBuffer);
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, kSftpWriteBuffer);
  } else {
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "ftp");
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password.c_str());
    if (options_.protocol == FileProtocol::kFtps) {
      curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
      if (!options_.ca_file.empty())
        curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
    }
    // Uploads change into each directory (creating missing ones); everything else names the
    // full path in one command, so a missing directory reads as a missing object.
    curl_easy_setopt(curl, CURLOPT_FTP_FILEMETHOD,
                     static_cast<long>(transfer.kind == Transfer::Kind::kUpload || transfer.enter
                                           ? CURLFTPMETHOD_MULTICWD
                                           : CURLFTPMETHOD_NOCWD));
  }
  QuoteList quote(transfer.quote);
  QuoteList postquote(transfer.postquote);
  if (quote.list) curl_easy_setopt(curl, CURLOPT_QUOTE, quote.list);
  if (postquote.list) curl_easy_setopt(curl, CURLOPT_POSTQUOTE, postquote.list);

  UploadSource source{transfer.body, 0, transfer.body_fd, transfer.body_size};
  Reply reply;
  std::string range;
  switch (transfer.kind) {
    case Transfer::Kind::kUpload:
      SetUpload(curl, &source);
      curl_easy_setopt(curl, CURLOPT_FTP_CREATE_MISSING_DIRS,
                       static_cast<long>(CURLFTP_CREATE_DIR_RETRY));
      break;
    case Transfer::Kind::kHead:
    case Transfer::Kind::kCommand:
      // For FTP, libcurl writes what it learned ("Content-Length: …") as the body: keep it
      // out of stdout.
      SetDownload(curl, &reply.body);
      curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
      if (transfer.filetime) curl_easy_setopt(curl, CURLOPT_FILETIME, 1L);
      if (transfer.headers && IsSftp()) {
        // What SFTP's quote commands report (statvfs) is "header" data.
        SetHeaderSink(curl, &reply.body);
      }
      break;
    case Transfer::Kind::kDownload:
      SetDownload(curl, &reply.body);
      if (transfer.range) {
        range =
            std::to_string(transfer.range->first) + "-" +
            (transfer.range->second == Transfer::kToEnd ? std::string()
                                                        : std::to_string(transfer.range->second));
        curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());
      }
      break;
  }
  // FTP through the polled loop (libcurl 7.88's sleeps between an EPSV and its data
  // connection, CurlLease::PerformPolled); SFTP as libcurl runs it.
  requests_.fetch_add(1, std::memory_order_relaxed);
  const auto started = std::chrono::steady_clock::now();
  CURLcode rc = IsSftp() ? curl_easy_perform(curl) : lease.PerformPolled();
  // `velin -v` shows every request and its time: where a slow remote's time goes.
  spdlog::debug("{}: {} ({} ms){}", Location(), transfer.what,
                std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count(),
                rc == CURLE_OK ? "" : " failed");
  if (curl_code != nullptr) *curl_code = rc;
  if (rc != CURLE_OK) {
    // libcurl reports a failed SSH handshake (e.g. a connection closed before the banner) as
    // CURLE_FAILED_INIT.
    transient = IsTransientCurlCode(rc) || (IsSftp() && rc == CURLE_FAILED_INIT);
    // libcurl offers only the key types known_hosts holds for the server: one holding another
    // type (a reinstalled server) fails the key exchange, which no retry mends.
    if (IsKeyExchangeFailure(rc, error_buffer)) transient = false;
    // A command run after the transfer (POSTQUOTE) that the server refused: libcurl names the
    // command, the server's reply code says why ("550": not there, or not allowed).
    long reply_code = 0;
    if (rc == CURLE_QUOTE_ERROR && !IsSftp() &&
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply_code) == CURLE_OK &&
        reply_code > 0 && std::strstr(error_buffer, "failed with") == nullptr) {
      std::string with_code = error_buffer;
      while (!with_code.empty() && (with_code.back() == '\n' || with_code.back() == '\r')) {
        with_code.pop_back();
      }
      with_code += " (reply " + std::to_string(reply_code) + ")";
      return tl::unexpected(CurlError(transfer, rc, with_code.c_str()));
    }
    // An FTP server refusing to store a file (553: "Could not create file"; 550: not allowed)
    // answers a read-only directory or file system: access denied, as for SFTP, so that
    // readers go on without their lock. A full disk (452, 552) is not this.
    if (rc == CURLE_UPLOAD_FAILED && !IsSftp() &&
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply_code) == CURLE_OK &&
        (reply_code == 550 || reply_code == 553)) {
      transient = false;
      return tl::unexpected(CurlError(transfer, CURLE_REMOTE_ACCESS_DENIED, error_buffer));
    }
    return tl::unexpected(CurlError(transfer, rc, error_buffer));
  }
  curl_off_t length = -1;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  reply.content_length = length;
  if (transfer.filetime) {
    curl_off_t filetime = -1;
    if (curl_easy_getinfo(curl, CURLINFO_FILETIME_T, &filetime) == CURLE_OK) {
      reply.filetime = filetime;
    }
  }
  return reply;
}

Result<FileServerBackend::Reply> FileServerBackend::PerformWithRetries(const Transfer& transfer) {
  return WithRetries(*retry_, [&](bool& transient) { return Perform(transfer, transient); });
}

bool FileServerBackend::IsKeyExchangeFailure(int code, const char* error_buffer) const {
  // libcurl says CURLE_FAILED_INIT when the session's handshake fails.
  return IsSftp() && (code == CURLE_SSH || code == CURLE_FAILED_INIT) && error_buffer != nullptr &&
         std::strstr(error_buffer, "Unable to exchange encryption keys") != nullptr;
}

Error FileServerBackend::CurlError(const Transfer& transfer, int code,
                                   const char* error_buffer) const {
  // "ftp://…: get NAME: " (the verb is FTP's word, not English prose).
  std::string where = NoTr(Location() + ": " + transfer.what + ": ");
  std::string detail = DescribeCurlError(static_cast<CURLcode>(code), error_buffer);
  std::string server = HostPort(options_.host, options_.port);
  if (IsKeyExchangeFailure(code, error_buffer)) {
    return Error{ExitCode::kUsage,
                 where + TrFormat("no host key of {} matches {} (storage.sftp.known_hosts): "
                                  "the server offers none of the key types it holds for "
                                  "this server (a reinstalled server?), or no key exchange "
                                  "velin knows ({})",
                                  server, options_.known_hosts, detail),
                 0};
  }
  switch (code) {
    case CURLE_REMOTE_FILE_NOT_FOUND:
      return Error{ExitCode::kFailed, where + TrFormat("no such object ({})", detail), ENOENT};
    case CURLE_LOGIN_DENIED:
      return Error{ExitCode::kUsage,
                   where + (IsSftp() ? TrFormat("login as '{}' refused by {} (check "
                                                "storage.sftp.key_file {})",
                                                options_.user, server, options_.key_file)
                                     : TrFormat("login as '{}' refused by {} (check "
                                                "VELIN_FTP_PASSWORD)",
                                                options_.user, server)),
                   EACCES};
    case CURLE_PEER_FAILED_VERIFICATION:
      return Error{ExitCode::kUsage,
                   where + (IsSftp() ? TrFormat("host key of {} is missing from or does not "
                                                "match {} (storage.sftp.known_hosts)",
                                                server, options_.known_hosts)
                                     : TrFormat("TLS certificate of {} is not trusted ({})", server,
                                                detail)),
                   0};
    case CURLE_USE_SSL_FAILED:
      return Error{ExitCode::kUsage,
                   where + TrFormat("{} does not offer TLS (ftps:// requires it)", server), 0};
    case CURLE_REMOTE_ACCESS_DENIED:
      return Error{ExitCode::kFailed, where + TrFormat("access denied ({})", detail), EACCES};
    default:
      return Error{ExitCode::kFailed, where + detail, CurlSystemError(static_cast<CURLcode>(code))};
  }
}

}  // namespace velin::storage
