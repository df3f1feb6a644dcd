// FileServerBackend's questions after a refusal that libcurl reports as "not found": was it
// missing, or may this login not have it? Asked only on those failure paths (a few requests).
#include <algorithm>
#include <string>
#include <vector>

#include "file_server_transfer.hpp"
#include "velin/storage/file_server_backend.hpp"

namespace velin::storage {
namespace {

// The directory holding `path` ("" = the login directory, "/" for an absolute path at the top).
std::string RemoteParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string QuotedPath(const std::string& path) {
  std::string out = "\"";
  for (char c : path) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

std::optional<std::string> FileServerBackend::SftpDirectoryRefused(const std::string& dir) {
  // The SFTP status of a refused command reaches us only as libcurl's text ("mkdir command
  // failed: Permission denied"; every refusal is CURLE_QUOTE_ERROR). A directory whose parent
  // is missing too is asked of that parent. A mkdir that succeeds made what the upload needs.
  std::string at = dir;
  for (int depth = 0; depth < 64 && !at.empty() && at != "/"; ++depth) {
    bool ignored = false;
    auto made = RunCommands({"mkdir " + QuotedPath(at)}, "mkdir", ignored);
    if (made) return std::nullopt;
    const std::string& said = made.error().message;
    if (said.find("Permission denied") != std::string::npos) return at;
    if (said.find("No such file") == std::string::npos) return std::nullopt;  // there, or else
    at = RemoteParentOf(at);
  }
  return std::nullopt;
}

std::optional<std::string> FileServerBackend::FtpPathRefused(const std::string& remote_path) {
  // vsftpd answers 550 to a RETR or CWD of what is missing and of what it may not read alike,
  // and lists a directory it may not read as that directory alone (as `ls -d` would). A listing
  // of the parent that names the object, or a directory on its way, says it is there; a
  // listing of other entries, that it is not. An empty or failed one says nothing: its parent
  // is asked.
  std::string child = remote_path;
  for (int depth = 0; depth < 64 && !child.empty(); ++depth) {
    const std::string dir = RemoteParentOf(child);
    const std::string base = dir.empty() ? child : child.substr(dir.size() + 1);
    auto listed = ListingAt(dir, "list " + (dir.empty() ? std::string("/") : dir));
    std::vector<ListingEntry> entries;
    if (listed) entries = std::move(*listed);
    const size_t slash = dir.rfind('/');
    const std::string dir_name = slash == std::string::npos ? dir : dir.substr(slash + 1);
    const bool only_itself =
        entries.size() == 1 && entries[0].is_directory && entries[0].name == dir_name;
    auto found = std::find_if(entries.begin(), entries.end(),
                              [&](const ListingEntry& e) { return e.name == base; });
    if (found == entries.end() || only_itself) {
      if ((!entries.empty() && !only_itself) || dir.empty()) return std::nullopt;  // not there
      child = dir;
      continue;
    }
    if (child == remote_path) return child;  // listed, yet not sent
    if (!found->is_directory) return std::nullopt;
    Transfer t;
    t.kind = Transfer::Kind::kCommand;
    t.url = UrlOf(child, true);
    t.enter = true;
    t.what = "enter " + child;
    bool ignored = false;
    auto entered = Perform(t, ignored);
    return entered ? std::nullopt : std::optional<std::string>(child);
  }
  return std::nullopt;
}

}  // namespace velin::storage
