#include <cerrno>
#include <cstdio>
#include <random>

#include "velin/core/i18n.hpp"
#include "velin/core/stack.hpp"
#include "velin/io/env.hpp"
#include "velin/io/process_space.hpp"

namespace velin::io {

bool ProcessIdentity::SameProcessSpace(const ProcessIdentity& other) const {
  return !boot_id.empty() && !pid_ns.empty() && host == other.host &&
         machine_id == other.machine_id && boot_id == other.boot_id && pid_ns == other.pid_ns;
}

std::string Dirname(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Basename(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  if (out.back() != '/') out += '/';
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  out += b;
  return out;
}

std::string CleanPath(const std::string& path) {
  std::string out;
  for (size_t start = 0; start <= path.size();) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    const std::string_view part = std::string_view(path).substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (!out.empty()) out += '/';
    out += part;
  }
  return !path.empty() && path[0] == '/' ? "/" + out : out;
}

std::string ProcessSpaceTag(const ProcessIdentity& process) {
  if (process.boot_id.empty() || process.pid_ns.empty()) return "";
  // FNV-1a, 64 bits, of everything that makes a pid mean one process; 32 of them shown.
  uint64_t h = 1469598103934665603ull;
  for (const std::string* part :
       {&process.boot_id, &process.pid_ns, &process.host, &process.machine_id}) {
    for (unsigned char c : *part) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(h ^ (h >> 32)));
  return std::string(hex);
}

std::optional<TempWriter> TempWriterOf(const std::string& file_name) {
  const size_t marker = file_name.rfind(".tmp-");
  if (marker == std::string::npos) return std::nullopt;
  const std::string rest = file_name.substr(marker + 5);
  const size_t a = rest.find('-');
  const size_t b = a == std::string::npos ? a : rest.find('-', a + 1);
  if (a == 0 || a == std::string::npos || b == std::string::npos || a > 10) return std::nullopt;
  TempWriter w;
  for (char c : rest.substr(0, a)) {
    if (c < '0' || c > '9') return std::nullopt;
    w.pid = w.pid * 10 + (c - '0');
  }
  w.tag = rest.substr(a + 1, b - a - 1);
  return w;
}

bool PidAlive(Env& env, const ProcessIdentity& self, int64_t pid) {
  if (pid <= 0) return false;
  if (pid == self.pid) return true;
  return env.ProcessExists(pid);
}

bool IsDeadWritersTemp(Env& env, const std::string& file_name) {
  const std::optional<TempWriter> writer = TempWriterOf(file_name);
  if (!writer) return false;
  const ProcessIdentity self = env.ThisProcess();
  const std::string tag = ProcessSpaceTag(self);
  return !tag.empty() && writer->tag == tag && !PidAlive(env, self, writer->pid);
}

const std::string& ProcessSpaceTag() {
  static const std::string kTag = ProcessSpaceTag(Env::Default().ThisProcess());
  return kTag;
}

std::string TempPathFor(Env& env, const std::string& path) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const ProcessIdentity self = env.ThisProcess();
  const std::string tag = ProcessSpaceTag(self);
  return path + ".tmp-" + std::to_string(self.pid) + "-" + (tag.empty() ? std::string("x") : tag) +
         "-" + std::to_string(rng() % 1000000);
}

Status WriteFileDurably(Env& env, const std::string& path, std::string_view data, uint32_t mode) {
  const std::string temp = TempPathFor(env, path);
  WriteOptions options;
  options.mode = mode;
  options.exclusive = true;
  options.direct = data.size() >= kDirectWriteMin;  // packs: nobody reads them back soon
  VELIN_ASSIGN(auto file, env.NewWritableFile(temp, options));
  if (auto s = file->Append(data); !s) {
    (void)file->Close();
    (void)env.RemoveFile(temp);
    return s;
  }
  return RenameIntoPlaceDurably(env, *file, temp, path);
}

Status RenameIntoPlaceDurably(Env& env, WritableFile& file, const std::string& temp,
                              const std::string& path) {
  if (auto s = file.Sync(); !s) {
    (void)file.Close();
    (void)env.RemoveFile(temp);
    return s;
  }
  if (auto s = file.Close(); !s) {
    (void)env.RemoveFile(temp);
    return s;
  }
  if (auto s = env.Rename(temp, path); !s) {
    (void)env.RemoveFile(temp);
    return s;
  }
  return env.SyncDir(Dirname(path));
}

Status CreateDirs(Env& env, const std::string& path, uint32_t mode) {
  if (path.empty() || path == "/" || path == ".") return Ok();
  VELIN_ASSIGN(bool exists, env.Exists(path));
  if (exists) {
    VELIN_ASSIGN(FileInfo info, env.Stat(path));
    if (info.type == FileType::kDirectory) return Ok();
    if (info.type == FileType::kSymlink) return Ok();  // a link to a directory is accepted
    return Failure(TrFormat("{} exists and is not a directory", path));
  }
  VELIN_TRY(CreateDirs(env, Dirname(path), mode));
  return env.CreateDir(path, mode);
}

Status RemoveAll(Env& env, const std::string& path) {
  VELIN_ASSIGN(bool exists, env.Exists(path));
  if (!exists) return Ok();
  VELIN_ASSIGN(FileInfo info, env.Stat(path));
  if (info.type != FileType::kDirectory) return env.RemoveFile(path);
  VELIN_TRY(StackRoomBelow(path));  // velin/core/stack.hpp
  VELIN_ASSIGN(auto entries, env.ListDir(path));
  for (const DirEntry& e : entries) VELIN_TRY(RemoveAll(env, JoinPath(path, e.name)));
  return env.RemoveDir(path);
}

}  // namespace velin::io
