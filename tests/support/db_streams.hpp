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

inline db::ByteProducer StringSource(const std::string& data) {
  return [&data](const db::ByteSink& sink) -> Status {
    for (size_t pos = 0; pos < data.size(); pos += 100'000) {
      VELIN_TRY(sink(std::string_view(data).substr(pos, 100'000)));
    }
    return Ok();
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
