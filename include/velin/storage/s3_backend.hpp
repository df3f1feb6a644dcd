// A repository in an S3-compatible object store (AWS S3, MinIO, Ceph, Backblaze/Wasabi, ...):
// `s3://bucket/prefix`. Requests go through libcurl, signed with AWS Signature V4
// (CURLOPT_AWS_SIGV4); every PUT carries Content-MD5 and the real x-amz-content-sha256, so the
// server rejects a body damaged in transit. S3 PUTs are atomic by nature. Connections are
// reused through a pool of handles; at most `parallel_uploads` PUTs run at once however many
// threads call Put. 5xx, 429, timeouts and dropped connections are retried with exponential
// backoff and jitter; 403, a missing bucket and a wrong region give one clear line each.
// Credentials live only in memory and are never logged. Thread-safe. See docs/storage.md.
#pragma once

#include <memory>
#include <optional>
#include <semaphore>
#include <string>

#include "velin/io/env.hpp"
#include "velin/storage/backend.hpp"
#include "velin/storage/retry_policy.hpp"
#include "velin/storage/s3_xml.hpp"

namespace velin::storage {

class CurlPool;

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (temporary credentials)
};

// Reads credentials: from `credentials_file` (KEY=VALUE lines with AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; must not be readable by group or others) when it
// is set, else from those environment variables. A usage error when none are found.
Result<S3Credentials> LoadS3Credentials(io::Env& env, const std::string& credentials_file);

struct S3Options {
  std::string bucket;
  std::string prefix;    // without leading/trailing '/'; "" = the bucket's root
  std::string endpoint;  // "https://s3.eu-central-1.amazonaws.com"; "" = AWS for `region`
  std::string region = "us-east-1";
  bool path_style = false;
  int parallel_uploads = 4;
  S3Credentials credentials;
};

// storage.s3.endpoint as S3Backend::Create takes it: "" (AWS for the region) or
// http(s)://host[:port][/path]. A usage error naming the endpoint otherwise. The one check of
// Create and of the config loader, so that `config check` passes no endpoint the commands refuse.
Status CheckS3Endpoint(const std::string& endpoint);

// True when the endpoint's host is an IP address (v4, or v6 in brackets) or `localhost`: no
// bucket subdomain can exist there, so S3Backend addresses the bucket in the path whatever
// path_style says, as the AWS SDKs and MinIO clients do.
bool S3EndpointNeedsPathStyle(const std::string& endpoint);

class S3Backend : public Backend {
 public:
  // Checks the options (no request yet). `retry` defaults to RetryPolicy{}.
  static Result<std::unique_ptr<S3Backend>> Create(S3Options options,
                                                   const RetryPolicy* retry = nullptr);
  ~S3Backend() override;

  // One cheap request (list at most one key) that fails with the clear 403/404/region message
  // when the bucket cannot be used; OpenBackend calls it.
  Status CheckAccess();

  std::string Location() const override;
  Status Put(const std::string& name, std::string_view data) override;
  Result<std::string> Get(const std::string& name) override;
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status Delete(const std::string& name) override;
  Result<std::optional<ObjectInfo>> Stat(const std::string& name) override;

 private:
  struct Request;
  struct Response;
  S3Backend(S3Options options, const RetryPolicy& retry);
  std::string KeyOf(const std::string& name) const;
  std::string UrlFor(const std::string& key, const std::string& query) const;
  // One attempt; an HTTP error status is a Response, a transport failure an Error.
  Result<Response> Perform(const Request& request, bool& transient);
  // Retries transport failures and retryable statuses; any other status is returned.
  Result<Response> PerformWithRetries(const Request& request);
  // The one-line error for a failed status; `transient` says whether a retry may help.
  Error HttpError(const Request& request, const Response& response, bool& transient) const;
  Result<ListObjectsPage> ListPage(const std::string& prefix, const std::string& token,
                                   int max_keys);

  S3Options options_;
  std::unique_ptr<RetryPolicy> retry_;
  std::unique_ptr<CurlPool> pool_;
  std::counting_semaphore<64> upload_slots_;
  std::string base_url_;  // scheme://host[:port][/bucket] without trailing '/'
};

}  // namespace velin::storage
