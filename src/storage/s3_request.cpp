// S3Backend's transport: one signed request through a pooled libcurl handle, the retry loop,
// and the translation of an error status into one line a user can act on.
#include "s3_request.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <array>
#include <cstring>
#include <optional>

#include "curl_session.hpp"
#include "velin/core/i18n.hpp"

namespace velin::storage {
namespace {

std::string HexDigest(const EVP_MD* md, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &len, md, nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::string Base64Md5(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_md5(), nullptr);
  std::array<unsigned char, 64> out{};
  int n = EVP_EncodeBlock(out.data(), digest.data(), static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(out.data()), static_cast<size_t>(n));
}

// The value of header `name` ("x-amz-bucket-region:") when `line` is that header.
std::optional<std::string> HeaderValue(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || strncasecmp(line.data(), name.data(), name.size()) != 0) {
    return std::nullopt;
  }
  std::string value(line.substr(name.size()));
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.pop_back();
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  return value;
}

// Where CaptureHeaders keeps x-amz-bucket-region and Content-Range of a response.
struct CapturedHeaders {
  std::string* bucket_region;
  std::string* content_range;
};

size_t CaptureHeaders(char* data, size_t size, size_t count, void* user) {
  std::string_view line(data, size * count);
  auto* captured = static_cast<CapturedHeaders*>(user);
  if (auto v = HeaderValue(line, "x-amz-bucket-region:")) *captured->bucket_region = *v;
  if (auto v = HeaderValue(line, "content-range:")) *captured->content_range = *v;
  return size * count;
}

struct HeaderList {
  curl_slist* list = nullptr;
  ~HeaderList() { curl_slist_free_all(list); }
  void Add(const std::string& header) { list = curl_slist_append(list, header.c_str()); }
};

// A PUT body from this size on waits for the server's "100 Continue" before it is sent.
constexpr size_t kExpectContinueBytes = 1 << 20;

bool IsRetryableStatus(long status, const std::string& code) {
  return status >= 500 || status == 429 || status == 408 ||
         (status == 400 && code == "RequestTimeout");
}

}  // namespace

Result<S3Backend::Response> S3Backend::Perform(const Request& request, bool& transient) {
  if (Interrupted()) {  // asked to stop before it went out: it does not (a PUT would land later)
    return Failure(TrFormat("{}: {}: {}", Location(), NoTr(request.what),
                            NoTr(DescribeCurlError(CURLE_ABORTED_BY_CALLBACK, nullptr))));
  }
  VELIN_ASSIGN(CurlLease lease, pool_->Acquire());
  CURL* curl = lease.get();
  char error_buffer[CURL_ERROR_SIZE];
  SetCommonOptions(curl, *retry_, error_buffer);
  std::string url = UrlFor(request.key, request.query);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  std::string sigv4 = "aws:amz:" + options_.region + ":s3";
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, options_.credentials.access_key_id.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.credentials.secret_access_key.c_str());

  HeaderList headers;
  headers.Add("x-amz-content-sha256: " + HexDigest(EVP_sha256(), request.body));
  if (!options_.credentials.session_token.empty()) {
    headers.Add("x-amz-security-token: " + options_.credentials.session_token);
  }
  UploadSource source{request.body, 0};
  if (request.method == "PUT") {
    headers.Add("Content-MD5: " + Base64Md5(request.body));
    // libcurl 7.88 asks every PUT to wait for "100 Continue" before its body: a round trip
    // more for each lock, snapshot, index object and small pack (at 20 ms, ~0.1 s of a small
    // backup), and a whole second each against a server that never sends it. Only a large
    // body is still offered first, so a refused one (403, a wrong region) is not sent in vain.
    // (The header stays: dropping it with "Expect:" left it among the headers SigV4 signs.)
    if (request.body.size() < kExpectContinueBytes) {
      curl_easy_setopt(curl, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
    }
    SetUpload(curl, &source);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  std::string range;
  if (request.range) {
    range = std::to_string(request.range->first) + "-" + std::to_string(request.range->second);
    curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.list);

  Response response;
  SetDownload(curl, &response.body);
  CapturedHeaders captured{&response.bucket_region, &response.content_range};
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CaptureHeaders);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &captured);
  CURLcode rc = curl_easy_perform(curl);
  if (rc != CURLE_OK) {
    transient = IsTransientCurlCode(rc);
    return tl::unexpected(Error{ExitCode::kFailed,
                                TrFormat("{}: {}: {}", Location(), NoTr(request.what),
                                         NoTr(DescribeCurlError(rc, error_buffer))),
                                CurlSystemError(rc)});
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_off_t length = -1;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  response.content_length = length;
  if (response.status / 100 == 3) {
    char* location = nullptr;
    if (curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location) {
      response.redirect_to = location;
    }
  }
  return response;
}

Result<S3Backend::Response> S3Backend::PerformWithRetries(const Request& request) {
  return WithRetries(*retry_, [&](bool& transient) -> Result<Response> {
    VELIN_ASSIGN(Response response, Perform(request, transient));
    if (response.status >= 300 || response.status < 200) {
      bool retryable = false;
      Error error = HttpError(request, response, retryable);
      if (retryable) {
        transient = true;
        return tl::unexpected(std::move(error));
      }
    }
    return response;
  });
}

Error S3Backend::HttpError(const Request& request, const Response& response,
                           bool& transient) const {
  S3ErrorBody body = ParseS3Error(response.body);
  std::string where = NoTr(Location() + ": " + request.what + ": ");
  std::string status = "HTTP " + std::to_string(response.status);
  if (!body.code.empty()) status += " " + body.code;
  transient = IsRetryableStatus(response.status, body.code);
  std::string region = body.region.empty() ? response.bucket_region : body.region;
  // A web server that is no S3 (a wrong port, a site's host name): its redirect or its 404 for
  // the bucket is no wrong region or missing object, and saying so sent users to the region.
  // S3 sends an <Error> document with both, or, for a HEAD (no body), x-amz-bucket-region.
  if (body.code.empty() && request.method != "HEAD" &&
      ((response.status == 301 && response.bucket_region.empty()) ||
       (response.status == 404 && request.key.empty()))) {
    std::string how = response.status == 301 && !response.redirect_to.empty()
                          ? TrFormat("HTTP 301 redirect to {}", response.redirect_to)
                          : status;
    return Error{ExitCode::kUsage,
                 where + TrFormat("the endpoint {} did not answer as S3 ({}): check "
                                  "storage.s3.endpoint",
                                  options_.endpoint, how),
                 0};
  }
  if (response.status == 301 || body.code == "PermanentRedirect" ||
      body.code == "AuthorizationHeaderMalformed" ||
      body.code == "IllegalLocationConstraintException" ||
      (response.status == 400 && !region.empty() && region != options_.region)) {
    std::string in =
        region.empty() ? std::string(Tr("another region")) : TrFormat("region '{}'", region);
    return Error{ExitCode::kUsage,
                 where + TrFormat("wrong region ({}): bucket '{}' is in {}, not '{}': set "
                                  "storage.s3.region (and storage.s3.endpoint)",
                                  status, options_.bucket, in, options_.region),
                 0};
  }
  if (response.status == 403) {
    if (body.code == "InvalidAccessKeyId" || body.code == "SignatureDoesNotMatch") {
      return Error{ExitCode::kUsage,
                   where + TrFormat("access denied ({}): check the S3 credentials "
                                    "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
                                    "storage.s3.credentials_file)",
                                    status),
                   EACCES};
    }
    if (body.code == "RequestTimeTooSkewed") {
      return Error{ExitCode::kFailed, where + TrFormat("{}: this machine's clock is off", status),
                   0};
    }
    return Error{ExitCode::kFailed,
                 where + TrFormat("access denied ({}): the credentials may not use this bucket "
                                  "or prefix",
                                  body.message.empty() ? status : status + ": " + body.message),
                 EACCES};
  }
  if (response.status == 404 && body.code == "NoSuchBucket") {
    return Error{ExitCode::kUsage,
                 where + TrFormat("bucket '{}' does not exist at {} ({})", options_.bucket,
                                  options_.endpoint, status),
                 0};
  }
  if (response.status == 404) {
    return Error{ExitCode::kFailed, where + TrFormat("no such object ({})", status), ENOENT};
  }
  std::string message = where + NoTr(status);
  if (!body.message.empty()) message += ": " + NoTr(body.message);  // the server's words
  return Error{ExitCode::kFailed, message, 0};
}

}  // namespace velin::storage
