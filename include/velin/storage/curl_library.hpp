// libcurl, opened at its first use (velin/core/lazy_library.hpp): S3 and FTP repositories and
// the monitoring pings call CurlReady() before their first curl call.
#pragma once

#include "velin/core/lazy_library.hpp"

namespace velin::storage {

LazyLibrary& CurlLibrary();

// libcurl opened and initialised (curl_global_init, once per process); the error says which
// library is missing and its package.
Status CurlReady();

}  // namespace velin::storage
