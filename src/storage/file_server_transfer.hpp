// FileServerBackend's request records, shared by its operation and transport files.
// Private to src/storage.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "velin/storage/file_server_backend.hpp"

namespace velin::storage {

struct FileServerBackend::Transfer {
  enum class Kind { kDownload, kUpload, kHead, kCommand };
  Kind kind = Kind::kDownload;
  std::string url;
  std::string_view body;  // kUpload; or, when body_fd >= 0, its first body_size bytes
  int body_fd = -1;
  uint64_t body_size = 0;
  // kDownload: first, last (inclusive); last kToEnd: to the object's end.
  std::optional<std::pair<uint64_t, uint64_t>> range;
  static constexpr uint64_t kToEnd = UINT64_MAX;
  std::vector<std::string> quote;      // before the transfer (kCommand)
  std::vector<std::string> postquote;  // after it (the rename of a put)
  std::string what;                    // for messages: "get config"
  bool headers = false;  // SFTP kCommand: what the commands report (statvfs) into the body
  // FTP kCommand: change into each directory of `url` (CWD), as uploads do, to learn whether
  // the login may enter them; libcurl knows where the connection then is.
  bool enter = false;
  // kHead: ask for the object's modification time (SFTP: its attributes; FTP: MDTM), in UTC.
  bool filetime = false;
};

struct FileServerBackend::Reply {
  std::string body;
  int64_t content_length = -1;
  int64_t filetime = -1;  // Unix seconds, when Transfer::filetime asked and the server said
};

}  // namespace velin::storage
