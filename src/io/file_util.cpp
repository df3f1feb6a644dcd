#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <random>
#include <vector>

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

std::optional<TempWriter> TempWriterAfter(std::string_view name, std::string_view prefix,
                                          char separator) {
  if (!name.starts_with(prefix)) return std::nullopt;
  const std::string_view rest = name.substr(prefix.size());
  const size_t a = rest.find(separator);
  const size_t b = a == std::string_view::npos ? a : rest.find(separator, a + 1);
  if (a == 0 || a == std::string_view::npos || b == std::string_view::npos || a > 10 ||
      b == a + 1) {
    return std::nullopt;
  }
  TempWriter w;
  for (char c : rest.substr(0, a)) {
    if (c < '0' || c > '9') return std::nullopt;
    w.pid = w.pid * 10 + (c - '0');
  }
  w.tag = std::string(rest.substr(a + 1, b - a - 1));
  return w;
}

std::string WriterMark(Env& env, char separator) {
  const ProcessIdentity self = env.ThisProcess();
  const std::string tag = ProcessSpaceTag(self);
  return std::to_string(self.pid) + separator + (tag.empty() ? std::string("x") : tag);
}

bool IsDeadWriter(Env& env, const TempWriter& writer) {
  const ProcessIdentity self = env.ThisProcess();
  const std::string tag = ProcessSpaceTag(self);
  return !tag.empty() && writer.tag == tag && !PidAlive(env, self, writer.pid);
}

bool IsDeadWritersTemp(Env& env, const std::string& file_name) {
  const std::optional<TempWriter> writer = TempWriterOf(file_name);
  return writer && IsDeadWriter(env, *writer);
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

Status RemoveAllAt(Env& env, const Dir& dir, const std::string& name) {
  auto info = env.StatAt(dir, name);
  if (!info && info.error().sys_errno == ENOENT) return Ok();
  if (!info) return tl::unexpected(info.error());
  if (info->type != FileType::kDirectory) return env.RemoveAt(dir, name, false);
  VELIN_TRY(StackRoomBelow(JoinPath(dir.path(), name)));  // velin/core/stack.hpp
  auto sub = env.OpenDirAt(dir, name, /*follow=*/false);
  if (!sub && (sub.error().sys_errno == ELOOP || sub.error().sys_errno == ENOTDIR)) {
    // Made a symlink or a file since its lstat: that entry goes, not where it leads.
    return env.RemoveAt(dir, name, false);
  }
  if (!sub && sub.error().sys_errno == ENOENT) return Ok();
  if (!sub) return tl::unexpected(sub.error());
  VELIN_ASSIGN(auto entries, env.ListDirAt(**sub));
  for (const DirEntry& e : entries) VELIN_TRY(RemoveAllAt(env, **sub, e.name));
  return env.RemoveAt(dir, name, true);
}

Status RemoveAll(Env& env, std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::string name = Basename(path);
  if (name.empty() || name == "." || name == "..") {
    return Failure(TrFormat("{}: not a path velin removes", path));
  }
  auto dir = env.OpenDir(Dirname(path));
  if (!dir && (dir.error().sys_errno == ENOENT || dir.error().sys_errno == ENOTDIR)) return Ok();
  if (!dir) return tl::unexpected(dir.error());
  return RemoveAllAt(env, **dir, name);
}

namespace {

// The parts of `rel` ("a//b/" -> {"a", "b"}).
std::deque<std::string> Parts(const std::string& rel) {
  std::deque<std::string> parts;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    if (end > start) parts.push_back(rel.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Whether `path` is `root` or below it (both lexical).
bool Below(const std::string& path, const std::string& root) {
  return path == root || root == "/" || (path.starts_with(root) && path[root.size()] == '/');
}

}  // namespace

std::string LexicalPath(const std::string& path) {
  std::vector<std::string> kept;
  for (const std::string& part : Parts(path)) {
    if (part == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (part != ".") {
      kept.push_back(part);
    }
  }
  std::string out;
  for (const std::string& part : kept) out += "/" + part;
  return out.empty() ? "/" : out;
}

namespace {

// OpenDirBeneath and OpenEntryBeneath: `rel`'s directories below `root` and, when `entry`, its
// last part left unopened (followed only when it is a symlink, by the same rule).
Result<BeneathEntry> Beneath(Env& env, const std::string& root, const std::string& rel,
                             const BeneathOptions& options, bool entry) {
  std::string absolute = root;
  if (!root.starts_with("/")) {  // as the kernel would take it: from the working directory
    char cwd[4096];
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) return ErrnoError(root, errno);
    absolute = JoinPath(cwd, root);
  }
  const std::string top = LexicalPath(absolute);
  VELIN_ASSIGN(DirPtr at, env.OpenDir(top));
  // The root's own path after its symlinks (/srv/shop -> /data/shop): a link naming a place
  // inside it by that path stays inside too.
  std::string real_top = top;
  if (char* real = ::realpath(top.c_str(), nullptr)) {
    real_top = LexicalPath(real);
    std::free(real);
  }
  std::string where = top;  // the path of `at`, lexical: every part of it was a directory
  std::deque<std::string> todo = Parts(rel);
  if (entry && todo.empty()) return Failure(TrFormat("{}: no file named below {}", rel, top));
  int links = 0;
  while (!todo.empty()) {
    const std::string part = todo.front();
    todo.pop_front();
    const bool last = entry && todo.empty();
    if (part == "." && !last) continue;
    if (part == ".." || part == ".") {
      return Failure(TrFormat("{}: '{}' in a path below {}", JoinPath(where, rel), part, top));
    }
    const std::string path = JoinPath(where, part);
    auto info = env.StatAt(*at, part);
    if (!info && info.error().sys_errno == ENOENT && last) return BeneathEntry{at, part};
    if (!info && info.error().sys_errno == ENOENT && options.create) {
      VELIN_TRY(env.CreateDirAt(*at, part, options.mode));
      if (options.owner_of_parent && ::geteuid() == 0) {
        VELIN_ASSIGN(FileInfo parent, env.StatAt(*at, "."));
        if (parent.uid != 0 || parent.gid != 0) {
          VELIN_TRY(env.SetAttributesAt(*at, part,
                                        Attributes{.set_owner = true,
                                                   .uid = parent.uid,
                                                   .gid = parent.gid,
                                                   .set_mode = false,
                                                   .set_mtime = false}));
        }
      }
      VELIN_TRY(env.SyncDir(where));
      info = env.StatAt(*at, part);
    }
    if (!info) return tl::unexpected(info.error().WrapPath(path));
    if (info->type == FileType::kSymlink) {
      VELIN_ASSIGN(std::string target, env.ReadLinkAt(*at, part));
      if (++links > 40) return ErrnoError(path, ELOOP);
      std::string rest;
      for (const std::string& p : todo) rest += "/" + p;
      const std::string leads =
          LexicalPath((target.starts_with("/") ? target : where + "/" + target) + rest);
      const bool trusted = info->uid == 0 || info->uid == ::geteuid();
      const std::string* inside_of = Below(leads, top)        ? &top
                                     : Below(leads, real_top) ? &real_top
                                                              : nullptr;
      if (!trusted && inside_of == nullptr) {
        return Failure(TrFormat(
            "{} is a symbolic link to {} that user {} made, which leads out of {}: velin does "
            "not follow it (it would read or write there with its own rights, not that user's); "
            "put what it leads to in its place, or have root make the link",
            path, target, std::to_string(info->uid), top));
      }
      // From the top again, along what it leads to (resolved by its text).
      const bool inside = inside_of != nullptr;
      VELIN_ASSIGN(at, env.OpenDir(inside ? top : "/"));
      where = inside ? top : "/";
      todo = Parts(inside ? leads.substr(std::min(leads.size(), inside_of->size())) : leads);
      if (entry && todo.empty()) return ErrnoError(path, EISDIR);  // it leads to the top
      continue;
    }
    if (last) return BeneathEntry{at, part};
    if (info->type != FileType::kDirectory) return ErrnoError(path, ENOTDIR);
    auto next = env.OpenDirAt(*at, part, /*follow=*/false);
    if (!next && (next.error().sys_errno == ELOOP || next.error().sys_errno == ENOTDIR)) {
      return Failure(
          TrFormat("{} was replaced while velin opened it: run the command again", path));
    }
    if (!next) return tl::unexpected(next.error().WrapPath(path));
    at = std::move(*next);
    where = path;
  }
  return BeneathEntry{at, ""};
}

}  // namespace

Result<DirPtr> OpenDirBeneath(Env& env, const std::string& root, const std::string& rel,
                              const BeneathOptions& options) {
  VELIN_ASSIGN(BeneathEntry found, Beneath(env, root, rel, options, false));
  return found.dir;
}

Result<BeneathEntry> OpenEntryBeneath(Env& env, const std::string& root, const std::string& rel,
                                      const BeneathOptions& options) {
  return Beneath(env, root, rel, options, true);
}

}  // namespace velin::io
