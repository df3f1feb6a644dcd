// libcurl, opened at its first use (velin/core/lazy_library.hpp): S3 and FTP repositories and
// the monitoring pings call CurlLibrary().Require() before their first curl call.
#pragma once

#include "velin/core/lazy_library.hpp"

namespace velin::storage {

LazyLibrary& CurlLibrary();

}  // namespace velin::storage
