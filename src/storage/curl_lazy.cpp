// The libcurl functions velin calls, each forwarding to libcurl's own, which is opened at the
// first call (velin/core/lazy_library.hpp). velin is not linked with libcurl: a function used
// without a forwarder here is an undefined symbol at link time.
#include <curl/curl.h>

#include <algorithm>
#include <cstdarg>
#include <mutex>

#include "velin/storage/curl_library.hpp"

namespace velin::storage {

LazyLibrary& CurlLibrary() {
  static LazyLibrary library("libcurl.so.4", "libcurl4");
  return library;
}

Status CurlReady() {
  VELIN_TRY(CurlLibrary().Require());
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return Ok();
}

void SetOneShotHttpOptions(CURL* curl, const std::string& url, std::chrono::milliseconds timeout,
                           const std::string& user_agent) {
  const long timeout_ms = std::max<long>(1, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, user_agent.c_str());
}

}  // namespace velin::storage

namespace {

template <typename F>
F Curl(const char* name) {
  return reinterpret_cast<F>(velin::storage::CurlLibrary().Symbol(name));
}

}  // namespace

#define VELIN_FORWARD(ret, name, params, args) \
  VELIN_LAZY_FORWARD(velin::storage::CurlLibrary(), ret, name, params, args)

VELIN_FORWARD(CURLcode, curl_global_init, (long flags), (flags))
VELIN_FORWARD(CURL*, curl_easy_init, (void), ())
VELIN_FORWARD(void, curl_easy_cleanup, (CURL * h), (h))
VELIN_FORWARD(void, curl_easy_reset, (CURL * h), (h))
VELIN_FORWARD(CURLcode, curl_easy_perform, (CURL * h), (h))
VELIN_FORWARD(const char*, curl_easy_strerror, (CURLcode code), (code))
VELIN_FORWARD(curl_slist*, curl_slist_append, (curl_slist * list, const char* s), (list, s))
VELIN_FORWARD(void, curl_slist_free_all, (curl_slist * list), (list))
VELIN_FORWARD(CURLM*, curl_multi_init, (void), ())
VELIN_FORWARD(CURLMcode, curl_multi_cleanup, (CURLM * m), (m))
VELIN_FORWARD(CURLMcode, curl_multi_add_handle, (CURLM * m, CURL* h), (m, h))
VELIN_FORWARD(CURLMcode, curl_multi_remove_handle, (CURLM * m, CURL* h), (m, h))
VELIN_FORWARD(CURLMcode, curl_multi_perform, (CURLM * m, int* running), (m, running))
VELIN_FORWARD(CURLMcode, curl_multi_poll,
              (CURLM * m, struct curl_waitfd* extra, unsigned int extra_count, int timeout_ms,
               int* numfds),
              (m, extra, extra_count, timeout_ms, numfds))
VELIN_FORWARD(CURLMcode, curl_multi_timeout, (CURLM * m, long* timeout_ms), (m, timeout_ms))
VELIN_FORWARD(CURLMsg*, curl_multi_info_read, (CURLM * m, int* left), (m, left))

// The variadic two: their one argument is read with its own type (as libcurl reads it: the
// option's number range says which) and passed on as that type. Their last named parameter is
// an enum, as libcurl's own definitions have it (compiled as C, where the enum and its
// promoted type are compatible); clang warns about va_start on it in C++.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wvarargs"
#endif
extern "C" CURLcode curl_easy_setopt(CURL* h, CURLoption option, ...) {
  static const auto fn = Curl<CURLcode (*)(CURL*, CURLoption, ...)>("curl_easy_setopt");
  va_list ap;
  va_start(ap, option);
  CURLcode rc;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    rc = fn(h, option, va_arg(ap, long));
  } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
    rc = fn(h, option, va_arg(ap, void*));
  } else if (option < CURLOPTTYPE_OFF_T) {
    rc = fn(h, option, va_arg(ap, void (*)()));
  } else if (option < CURLOPTTYPE_BLOB) {
    rc = fn(h, option, va_arg(ap, curl_off_t));
  } else {
    rc = fn(h, option, va_arg(ap, void*));
  }
  va_end(ap);
  return rc;
}

extern "C" CURLcode curl_easy_getinfo(CURL* h, CURLINFO info, ...) {
  static const auto fn = Curl<CURLcode (*)(CURL*, CURLINFO, ...)>("curl_easy_getinfo");
  va_list ap;
  va_start(ap, info);
  void* out = va_arg(ap, void*);  // every kind of information is written through a pointer
  va_end(ap);
  return fn(h, info, out);
}
