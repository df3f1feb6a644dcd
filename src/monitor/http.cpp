#include "velin/monitor/http.hpp"

#include <curl/curl.h>

#include <memory>

#include "velin/core/i18n.hpp"
#include "velin/storage/curl_library.hpp"
#include "velin/storage/remote_url.hpp"
#include "velin/version.hpp"

namespace velin::monitor {
namespace {

size_t DiscardBody(char*, size_t size, size_t n, void*) { return size * n; }

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::string RedactedUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  const size_t host_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const size_t path = url.find_first_of("/?#", host_start);
  // A password in the userinfo ("http://user:secret@host/…") is a secret like the path's token.
  if (path == std::string_view::npos) return storage::WithoutPassword(std::string(url));
  return storage::WithoutPassword(std::string(url.substr(0, path))) + "/…";
}

PostAnswer HttpPost(const std::string& url, std::string_view content_type, std::string_view body,
                    std::chrono::milliseconds timeout) {
  PostAnswer answer;
  if (Status loaded = storage::CurlReady(); !loaded) {
    answer.reason = loaded.error().message;
    return answer;
  }
  const std::string payload(body);
  const std::string header = "Content-Type: " + std::string(content_type);
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  std::unique_ptr<curl_slist, SlistDeleter> headers(curl_slist_append(nullptr, header.c_str()));
  if (!curl || !headers) {
    answer.reason = Tr("cannot initialise libcurl");
    return answer;
  }
  CURL* c = curl.get();
  storage::SetOneShotHttpOptions(c, url, timeout, std::string("velin/") + kVersion);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, DiscardBody);
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answer.status);
  answer.ok = rc == CURLE_OK && answer.status >= 200 && answer.status < 300;
  if (!answer.ok) {
    answer.reason =
        rc != CURLE_OK ? NoTr(curl_easy_strerror(rc)) : TrFormat("HTTP status {}", answer.status);
  }
  return answer;
}

}  // namespace velin::monitor
