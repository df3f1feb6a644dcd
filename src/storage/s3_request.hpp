// The request/response records of S3Backend, shared by its operation file (s3_backend.cpp) and
// its transport file (s3_request.cpp). Private to src/storage.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "velin/storage/s3_backend.hpp"

namespace velin::storage {

struct S3Backend::Request {
  std::string method = "GET";  // GET, PUT, HEAD, DELETE
  std::string key;             // full object key ("" = the bucket)
  std::string query;           // already encoded, parameters in sorted order
  std::string_view body;       // PUT only
  std::optional<std::pair<uint64_t, uint64_t>> range;  // first, last (inclusive)
  std::string what;                                    // for messages: "put data/3f/3f2a…"
};

struct S3Backend::Response {
  long status = 0;
  std::string body;
  std::string bucket_region;  // x-amz-bucket-region, when sent
  std::string content_range;  // Content-Range ("bytes 0-198/199"), when sent
  std::string redirect_to;    // a 3xx's Location, made absolute, when sent
  int64_t content_length = -1;
};

}  // namespace velin::storage
