#include "backup_inspect.hpp"

#include <fmt/format.h>

#include <ctime>

#include "velin/core/text_encoding.hpp"
#include "velin/output/console.hpp"

namespace velin::cli {

Result<repo::Snapshot> LoadNamedBackup(repo::Repository& repo, const std::string& id,
                                       const repo::SnapshotFilter& filter) {
  VELIN_ASSIGN(std::string resolved, repo.ResolveSnapshotId(id, filter));
  return repo.LoadSnapshot(resolved);
}

std::vector<std::string> UnreadableBackups(const std::vector<repo::ObjectDamage>& damage) {
  std::vector<std::string> out;
  for (const auto& d : damage) {
    const std::string id = d.object.substr(d.object.rfind('/') + 1);
    std::string why = d.message;  // "snapshot ID: what": the id is said already
    if (const size_t at = why.find(id + ": "); at != std::string::npos && at < 24) {
      why.erase(0, at + id.size() + 2);
    }
    out.push_back(id + ": " + why);
  }
  return out;
}

std::string ShownPath(const std::string& path) {
  bool plain = true;
  for (size_t i = 0; i < path.size() && plain;) {
    const TextChar c = CharAt(path, i);  // C0, DEL and C1 (velin/core/text_encoding.hpp)
    plain = !c.control;
    i += c.size;
  }
  if (plain) return path;
  std::string out = "\"";
  for (size_t i = 0; i < path.size();) {
    const TextChar c = CharAt(path, i);
    const auto first = static_cast<unsigned char>(path[i]);
    if (c.control && first == '\n') {
      out += "\\n";
    } else if (c.control && first == '\t') {
      out += "\\t";
    } else if (c.control && first == '\r') {
      out += "\\r";
    } else if (c.control) {
      for (size_t k = i; k < i + c.size; ++k) {
        out += fmt::format("\\x{:02x}", static_cast<unsigned char>(path[k]));
      }
    } else if (first == '"') {
      out += "\\\"";
    } else if (first == '\\') {
      out += "\\\\";
    } else {
      out.append(path, i, c.size);
    }
    i += c.size;
  }
  return out + "\"";
}

std::string ModeString(const std::string& type_name, uint32_t mode) {
  char type = '?';
  if (type_name == "file") type = '-';
  if (type_name == "dir") type = 'd';
  if (type_name == "symlink") type = 'l';
  if (type_name == "hardlink") type = 'h';
  if (type_name == "fifo") type = 'p';
  if (type_name == "chardev") type = 'c';
  if (type_name == "blockdev") type = 'b';
  std::string out(1, type);
  const char* letters = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) out += (mode & (0400u >> i)) ? letters[i] : '-';
  if (mode & 04000) out[3] = (mode & 0100) ? 's' : 'S';
  if (mode & 02000) out[6] = (mode & 0010) ? 's' : 'S';
  if (mode & 01000) out[9] = (mode & 0001) ? 't' : 'T';
  return out;
}

namespace {
int64_t FloorSeconds(int64_t unix_ns) {
  int64_t t = unix_ns / 1'000'000'000;
  if (unix_ns < 0 && unix_ns % 1'000'000'000 != 0) --t;
  return t;
}
}  // namespace

std::string UtcTime(int64_t unix_ns) { return output::FormatUtcTime(FloorSeconds(unix_ns)); }

std::string LocalTime(int64_t unix_ns) { return output::FormatLocalTime(FloorSeconds(unix_ns)); }

std::string Ratio(uint64_t a, uint64_t b) {
  if (b == 0) return "-";
  return fmt::format("{:.2f}x", static_cast<double>(a) / static_cast<double>(b));
}

}  // namespace velin::cli
