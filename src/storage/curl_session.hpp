// What every libcurl-based backend (S3, SFTP, FTP) shares: one-time global init, a pool of easy
// handles so connections are reused across requests and threads, in-memory upload/download
// callbacks, and the retry loop (exponential backoff with full jitter) with the classification of
// which failures are worth retrying. Handles are never shared between threads at once: a
// CurlLease owns its handle until it is destroyed. Nothing here logs a URL's credentials or a
// header (CURLOPT_VERBOSE is never set).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/storage/retry_policy.hpp"

namespace velin::storage {

class CurlPool;

// An easy handle and, once a transfer was run through PerformPolled, the multi handle that
// holds its connections between transfers.
struct CurlHandle {
  CURL* easy = nullptr;
  CURLM* multi = nullptr;
};

// One easy handle, borrowed from a pool, reset to defaults, returned on destruction.
class CurlLease {
 public:
  CurlLease(CurlPool* pool, CurlHandle handle) : pool_(pool), handle_(handle) {}
  CurlLease(CurlLease&& other) noexcept : pool_(other.pool_), handle_(other.handle_) {
    other.handle_ = CurlHandle{};
  }
  CurlLease(const CurlLease&) = delete;
  CurlLease& operator=(const CurlLease&) = delete;
  CurlLease& operator=(CurlLease&&) = delete;
  ~CurlLease();
  CURL* get() const { return handle_.easy; }

  // curl_easy_perform with its waits for nothing cut short: libcurl 7.88 (Debian 12) sometimes
  // has an FTP transfer wait for no socket at all (an EPSV answered at once on a reused
  // connection, the data connection not yet begun) and then sleeps curl_easy_perform's whole
  // second before it goes on; a backup onto a vsftpd on loopback spent ~1 s of every 1.2 in
  // such sleeps. Here a wait that saw no socket stir starts at 1 ms and doubles up to
  // libcurl's own timeout (at most 1 s), so a long wait for a slow server still wakes rarely.
  // Connections stay in this handle's own multi handle between transfers, as they stay in
  // curl_easy_perform's.
  CURLcode PerformPolled();

 private:
  CurlPool* pool_;
  CurlHandle handle_;
};

// Idle handles keep their connections open, so the next request on the same host skips the
// TCP/TLS/SSH handshake. Thread-safe.
class CurlPool {
 public:
  CurlPool() = default;
  ~CurlPool();
  CurlPool(const CurlPool&) = delete;
  CurlPool& operator=(const CurlPool&) = delete;
  Result<CurlLease> Acquire();
  void Release(CurlHandle handle);

 private:
  std::mutex mu_;
  std::vector<CurlHandle> idle_;
};

// Uploads `data` from memory; rewinds when libcurl needs to resend (redirects, auth).
struct UploadSource {
  std::string_view data;  // the body; or, when fd >= 0, the first `size` bytes of that file
  uint64_t pos = 0;
  int fd = -1;  // read with pread: the file's offset is not used
  uint64_t size = 0;
  uint64_t Size() const { return fd >= 0 ? size : data.size(); }
};
void SetUpload(CURL* curl, UploadSource* source);
// Appends the response body to `sink`.
void SetDownload(CURL* curl, std::string* sink);
// What the request reports as headers (an SFTP quote command's output: statvfs) into `sink`.
void SetHeaderSink(CURL* curl, std::string* sink);
// Timeouts, no signals (threads), protocol restrictions: what every request sets.
void SetCommonOptions(CURL* curl, const RetryPolicy& policy, char* error_buffer);

// True for failures a later attempt may not see: connection refused/reset, timeouts, a server
// that closed the connection or sent a truncated reply.
bool IsTransientCurlCode(CURLcode code);
// The system error a failed transfer amounts to, for the failure kinds of the metrics
// (ECONNREFUSED, EHOSTUNREACH, ETIMEDOUT, ECONNRESET: "network"); 0 for the others.
int CurlSystemError(CURLcode code);
// "Connection refused" etc.: libcurl's error buffer when it has one, else curl_easy_strerror.
std::string DescribeCurlError(CURLcode code, const char* error_buffer);

// AWS-style URI encoding: unreserved characters stay, '/' stays when `keep_slash`, the rest
// becomes %XX (upper-case hex).
std::string UriEncode(std::string_view text, bool keep_slash);

// Sleeps before attempt `attempt + 1` (attempt counts from 1), on policy.env.
void BackoffSleep(const RetryPolicy& policy, int attempt);

// Runs `attempt(bool& transient)` until it succeeds, fails permanently, or `max_attempts` are
// used up; the last error then says how many attempts were made. Work asked to stop
// (Interrupted()) is not retried.
template <typename F>
auto WithRetries(const RetryPolicy& policy, F&& attempt) {
  for (int i = 1;; ++i) {
    bool transient = false;
    auto result = attempt(transient);
    if (result || !transient) return result;
    if (i >= policy.max_attempts) {
      Error e = result.error();
      e.message += " " + TrFormat("(gave up after {} attempts)", i);
      return decltype(result)(tl::unexpected(std::move(e)));
    }
    if (!Interrupted()) BackoffSleep(policy, i);
    if (Interrupted()) {
      Error e = result.error();
      e.message += " " + TrFormat("(not retried: {})", CheckInterrupted().error().message);
      return decltype(result)(tl::unexpected(std::move(e)));
    }
  }
}

// A random lower-case hex string (temp names).
std::string RandomHex(size_t length);

}  // namespace velin::storage
