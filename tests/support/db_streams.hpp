// Small helpers for driver tests: a sink collecting a dump in memory, a source replaying one,
// and a scoped PATH override (to make a dump tool "missing").
#pragma once

#include <cstdlib>
#include <cstring>
#include <string>

#include "velin/db/driver.hpp"

namespace velin::testing {

inline db::ByteSink StringSink(std::string& out) {
  return [&out](std::string_view chunk) -> Status {
    out.append(chunk);
    return Ok();
  };
}

inline db::ByteSource StringSource(const std::string& data) {
  auto pos = std::make_shared<size_t>(0);
  return [&data, pos](char* buf, size_t cap) -> Result<size_t> {
    size_t n = std::min(cap, data.size() - *pos);
    std::memcpy(buf, data.data() + *pos, n);
    *pos += n;
    return n;
  };
}

class ScopedPath {
 public:
  explicit ScopedPath(const std::string& value)
      : old_(std::getenv("PATH") ? std::getenv("PATH") : "") {
    ::setenv("PATH", value.c_str(), 1);
  }
  ~ScopedPath() { ::setenv("PATH", old_.c_str(), 1); }

 private:
  std::string old_;
};

}  // namespace velin::testing
