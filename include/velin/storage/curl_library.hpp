// libcurl, opened at its first use (velin/core/lazy_library.hpp): S3 and FTP repositories and
// the monitoring pings call CurlReady() before their first curl call.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <string>

#include "velin/core/lazy_library.hpp"

namespace velin::storage {

LazyLibrary& CurlLibrary();

// libcurl opened and initialised (curl_global_init, once per process); the error says which
// library is missing and its package.
Status CurlReady();

// What every one-shot HTTP(S) request of velin sets alike (the monitoring pings, the rollback
// health check): `url`, http and https only, no signals, `timeout` (at least 1 ms) for the
// connect and for the whole request, `user_agent`. libcurl copies the strings.
void SetOneShotHttpOptions(CURL* curl, const std::string& url, std::chrono::milliseconds timeout,
                           const std::string& user_agent);

}  // namespace velin::storage
