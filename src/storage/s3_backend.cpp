#include "velin/storage/s3_backend.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>

#include "curl_session.hpp"
#include "s3_request.hpp"
#include "velin/core/i18n.hpp"

namespace velin::storage {
namespace {

constexpr int kListPageSize = 1000;

std::string TrimSlashes(std::string s) {
  while (!s.empty() && s.front() == '/') s.erase(0, 1);
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

Status CheckS3Endpoint(const std::string& endpoint) {
  if (endpoint.empty()) return Ok();
  const size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string::npos || (endpoint.compare(0, scheme_end, "http") != 0 &&
                                          endpoint.compare(0, scheme_end, "https") != 0)) {
    return UsageError(
        TrFormat("storage.s3.endpoint '{}' must start with https:// or http://", endpoint));
  }
  const size_t host = scheme_end + 3;
  if (host == endpoint.size() || endpoint[host] == '/' || endpoint[host] == ':') {
    return UsageError(
        TrFormat("storage.s3.endpoint '{}' names no server (https://host[:port])", endpoint));
  }
  return Ok();
}

bool S3EndpointNeedsPathStyle(const std::string& endpoint) {
  const size_t scheme_end = endpoint.find("://");
  if (scheme_end == std::string::npos) return false;
  std::string host = endpoint.substr(scheme_end + 3);
  host = host.substr(0, host.find_first_of("/?#"));
  if (size_t at = host.rfind('@'); at != std::string::npos) host.erase(0, at + 1);
  if (!host.empty() && host.front() == '[') return true;  // [::1]:9000
  host = host.substr(0, host.find(':'));
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (host == "localhost" || host == "localhost.") return true;
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1;
}

S3Backend::S3Backend(S3Options options, const RetryPolicy& retry)
    : options_(std::move(options)),
      retry_(std::make_unique<RetryPolicy>(retry)),
      pool_(std::make_unique<CurlPool>()),
      upload_slots_(options_.parallel_uploads) {}

S3Backend::~S3Backend() = default;

Result<std::unique_ptr<S3Backend>> S3Backend::Create(S3Options options, const RetryPolicy* retry) {
  if (options.bucket.empty())
    return UsageError(std::string(Tr("s3:// destination without a bucket name")));
  if (options.region.empty()) options.region = "us-east-1";
  if (options.parallel_uploads < 1 || options.parallel_uploads > 64) {
    return UsageError(std::string(Tr("storage.s3.parallel_uploads must be between 1 and 64")));
  }
  options.prefix = TrimSlashes(options.prefix);
  if (options.endpoint.empty())
    options.endpoint = "https://s3." + options.region + ".amazonaws.com";
  VELIN_TRY(CheckS3Endpoint(options.endpoint));
  while (options.endpoint.back() == '/') options.endpoint.pop_back();
  std::unique_ptr<S3Backend> backend(
      new S3Backend(std::move(options), retry ? *retry : RetryPolicy{}));
  const S3Options& o = backend->options_;
  if (o.path_style || S3EndpointNeedsPathStyle(o.endpoint)) {
    backend->base_url_ = o.endpoint + "/" + UriEncode(o.bucket, false);
  } else {
    size_t host = o.endpoint.find("://") + 3;
    backend->base_url_ = o.endpoint.substr(0, host) + o.bucket + "." + o.endpoint.substr(host);
  }
  return backend;
}

std::string S3Backend::Location() const {
  return "s3://" + options_.bucket + (options_.prefix.empty() ? "" : "/" + options_.prefix);
}

std::string S3Backend::KeyOf(const std::string& name) const {
  return options_.prefix.empty() ? name : options_.prefix + "/" + name;
}

std::string S3Backend::UrlFor(const std::string& key, const std::string& query) const {
  std::string url = base_url_;
  if (!key.empty()) url += "/" + UriEncode(key, true);
  if (!query.empty()) url += "?" + query;
  return url;
}

Status S3Backend::CheckAccess() {
  VELIN_ASSIGN(ListObjectsPage page, ListPage(options_.prefix, "", 1));
  (void)page;
  return Ok();
}

Status S3Backend::Put(const std::string& name, std::string_view data) {
  Request request;
  request.method = "PUT";
  request.key = KeyOf(name);
  request.body = data;
  request.what = "put " + name;
  // At most parallel_uploads bodies on the wire at once, however many threads call Put.
  upload_slots_.acquire();
  auto response = PerformWithRetries(request);
  upload_slots_.release();
  if (!response) return tl::unexpected(response.error());
  if (response->status / 100 != 2) {
    bool transient = false;
    return tl::unexpected(HttpError(request, *response, transient));
  }
  return Ok();
}

Result<std::string> S3Backend::Get(const std::string& name) {
  Request request;
  request.key = KeyOf(name);
  request.what = "get " + name;
  VELIN_ASSIGN(Response response, PerformWithRetries(request));
  if (response.status / 100 != 2) {
    bool transient = false;
    return tl::unexpected(HttpError(request, response, transient));
  }
  if (response.content_length >= 0 &&
      response.body.size() != static_cast<uint64_t>(response.content_length)) {
    return Failure(TrFormat("{}: get {}: short reply ({} of {} bytes)", Location(), name,
                            std::to_string(response.body.size()),
                            std::to_string(response.content_length)));
  }
  return std::move(response.body);
}

Result<std::string> S3Backend::GetRange(const std::string& name, uint64_t offset, uint64_t length) {
  if (length == 0) return std::string();
  Request request;
  request.key = KeyOf(name);
  request.range = std::make_pair(offset, offset + length - 1);
  request.what = "get " + name + " bytes " + std::to_string(offset) + "+" + std::to_string(length);
  VELIN_ASSIGN(Response response, PerformWithRetries(request));
  if (response.status == 200 && response.body.size() >= offset + length) {
    // A server that ignores Range sends the whole object.
    return response.body.substr(offset, length);
  }
  if (response.status == 206 && response.body.size() == length) return std::move(response.body);
  // A 206 with more than was asked (s3rver answers "bytes=0-0" with the whole object):
  // Content-Range says where the body starts.
  if (response.status == 206 && response.body.size() > length) {
    unsigned long long first = 0;
    if (std::sscanf(response.content_range.c_str(), "bytes %llu-", &first) == 1 &&
        first <= offset && response.body.size() - (offset - first) >= length) {
      return response.body.substr(offset - first, length);
    }
  }
  if (response.status / 100 != 2 && response.status != 416) {
    bool transient = false;
    return tl::unexpected(HttpError(request, response, transient));
  }
  return ShortObjectError(
      TrFormat("{}: object {} is shorter than expected (wanted {} bytes at offset {})", Location(),
               name, std::to_string(length), std::to_string(offset)));
}

Result<ListObjectsPage> S3Backend::ListPage(const std::string& prefix, const std::string& token,
                                            int max_keys) {
  Request request;
  // Parameters in sorted order: the query string is then its own canonical form for SigV4.
  if (!token.empty()) request.query = "continuation-token=" + UriEncode(token, false) + "&";
  request.query += "list-type=2&max-keys=" + std::to_string(max_keys);
  request.query += "&prefix=" + UriEncode(prefix, false);
  request.what = "list " + (prefix.empty() ? std::string("/") : prefix);
  VELIN_ASSIGN(Response response, PerformWithRetries(request));
  if (response.status / 100 != 2) {
    bool transient = false;
    return tl::unexpected(HttpError(request, response, transient));
  }
  auto page = ParseListObjectsV2(response.body);
  if (!page) return tl::unexpected(page.error().Wrap(NoTr(Location() + ": " + request.what)));
  return page;
}

Result<std::vector<ObjectInfo>> S3Backend::List(const std::string& prefix) {
  std::string full_prefix = options_.prefix.empty() ? prefix : options_.prefix + "/" + prefix;
  size_t strip = options_.prefix.empty() ? 0 : options_.prefix.size() + 1;
  std::vector<ObjectInfo> out;
  std::string token;
  do {
    VELIN_ASSIGN(ListObjectsPage page, ListPage(full_prefix, token, kListPageSize));
    for (ObjectInfo& object : page.objects) {
      if (object.name.size() <= strip || object.name.compare(0, full_prefix.size(), full_prefix))
        continue;
      object.name.erase(0, strip);
      out.push_back(std::move(object));
    }
    if (page.truncated && page.next_continuation_token == token) {
      return Failure(TrFormat("{}: list: the server repeated a continuation token", Location()));
    }
    token = page.truncated ? page.next_continuation_token : "";
  } while (!token.empty());
  return out;
}

Status S3Backend::Delete(const std::string& name) {
  Request request;
  request.method = "DELETE";
  request.key = KeyOf(name);
  request.what = "delete " + name;
  VELIN_ASSIGN(Response response, PerformWithRetries(request));
  if (response.status / 100 == 2) return Ok();
  bool transient = false;
  Error error = HttpError(request, response, transient);
  if (IsNotFound(error)) return Ok();
  return tl::unexpected(std::move(error));
}

Result<std::optional<ObjectInfo>> S3Backend::Stat(const std::string& name) {
  Request request;
  request.method = "HEAD";
  request.key = KeyOf(name);
  request.what = "stat " + name;
  VELIN_ASSIGN(Response response, PerformWithRetries(request));
  if (response.status == 404) return std::optional<ObjectInfo>();
  if (response.status / 100 != 2) {
    bool transient = false;
    return tl::unexpected(HttpError(request, response, transient));
  }
  uint64_t size = response.content_length < 0 ? 0 : static_cast<uint64_t>(response.content_length);
  return std::optional<ObjectInfo>(ObjectInfo{name, size});
}

}  // namespace velin::storage
