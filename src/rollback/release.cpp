#include "velin/rollback/release.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "velin/core/i18n.hpp"
#include "velin/core/json_int.hpp"
#include "velin/core/stack.hpp"
#include "velin/core/text_encoding.hpp"
#include "velin/repo/blob_id.hpp"
#include "velin/rollback/registry.hpp"

namespace velin::rollback {
namespace {

using nlohmann::json;
constexpr size_t kChunk = 1 << 20;

// The read buffer of this thread, kept: a fresh 1 MiB string per file was a fresh mapping
// (velin's M_MMAP_THRESHOLD) zeroed page by page, which cost more than hashing a small file.
std::string& ChunkBuffer() {
  thread_local std::string buf(kChunk, '\0');
  return buf;
}

Result<std::string> HashOpen(const io::RandomAccessFile& file) {
  repo::Sha256Stream sha;
  std::string& buf = ChunkBuffer();
  uint64_t offset = 0;
  for (;;) {
    VELIN_ASSIGN(size_t n, file.Read(offset, buf.size(), buf.data()));
    if (n == 0) break;
    sha.Update(std::string_view(buf.data(), n));
    offset += n;
  }
  return sha.Final().Hex();
}

Result<std::string> HashFile(io::Env& env, const std::string& path) {
  VELIN_ASSIGN(auto file, env.NewRandomAccessFile(path));
  return HashOpen(*file);
}

// "`path` changed while it was scanned": a file or directory of the tree swapped for another
// (a symlink, a fifo, another file) between its lstat and its open.
Error SwappedWhileScanned(const std::string& path) {
  return Error{ExitCode::kFailed,
               TrFormat("{} was replaced by another file while velin read it; nothing was "
                        "created: run the command again",
                        path),
               0};
}

// The file `name` in `dir` (shown as `path`), which must be the one `listed` says: velin may run
// as root on a tree others may write, and a symlink to /etc/shadow put in place of a file
// after its lstat must not be read as that file (O_NOFOLLOW), nor a fifo hang the open
// (O_NONBLOCK), nor another file put there be taken for it (device, inode, type). Without
// `known` (a file not scanned here), only its type is checked.
Result<std::unique_ptr<io::RandomAccessFile>> OpenListed(io::Env& env, const io::Dir& dir,
                                                         const std::string& name,
                                                         const std::string& path,
                                                         const io::FileInfo& listed,
                                                         bool known = true) {
  auto file = env.NewRandomAccessFileAt(dir, name);
  if (!file && (file.error().sys_errno == ELOOP || file.error().sys_errno == ENXIO)) {
    return tl::unexpected(SwappedWhileScanned(path));
  }
  if (!file) return tl::unexpected(file.error());
  VELIN_ASSIGN(io::FileInfo opened, (*file)->Stat());
  if (!io::SameFile(opened, listed, known && env.StableInodes(dir))) {
    return tl::unexpected(SwappedWhileScanned(path));
  }
  return std::move(*file);
}

// One path of a scan, `rel` below `root`, as `name` in `parent` (its directory, open; for a
// followed symlink, the directory and name it leads to). Every entry is looked up, opened and
// listed through its directory's descriptor, checked to be the one listed.
Status ScanPath(io::Env& env, const std::string& root, const std::string& rel,
                const io::Dir& parent, const std::string& name, std::vector<ManifestEntry>& out) {
  const std::string full = io::JoinPath(root, rel);
  VELIN_ASSIGN(io::FileInfo info, env.StatAt(parent, name));
  ManifestEntry e;
  e.path = rel;
  e.type = info.type;
  e.mode = info.mode;
  e.owner_known = true;
  e.uid = info.uid;
  e.gid = info.gid;
  switch (info.type) {
    case io::FileType::kRegular: {
      VELIN_ASSIGN(auto file, OpenListed(env, parent, name, full, info));
      e.size = info.size;
      e.device = info.device;
      e.inode = info.inode;
      VELIN_ASSIGN(e.sha256, HashOpen(*file));
      out.push_back(std::move(e));
      return Ok();
    }
    case io::FileType::kSymlink: {
      VELIN_ASSIGN(e.target, env.ReadLinkAt(parent, name));
      out.push_back(std::move(e));
      return Ok();
    }
    case io::FileType::kDirectory: {
      out.push_back(e);
      VELIN_TRY(StackRoomBelow(full));  // velin/core/stack.hpp
      auto dir = env.OpenDirAt(parent, name, false);
      if (!dir && (dir.error().sys_errno == ELOOP || dir.error().sys_errno == ENOTDIR)) {
        return tl::unexpected(SwappedWhileScanned(full));
      }
      if (!dir) return tl::unexpected(dir.error());
      if (auto self = env.StatAt(**dir, ".");
          self && !io::SameFile(*self, info, env.StableInodes(**dir))) {
        return tl::unexpected(SwappedWhileScanned(full));
      }
      VELIN_ASSIGN(auto children, env.ListDirAt(**dir));
      for (const auto& child : children) {
        VELIN_TRY(ScanPath(env, root, rel + "/" + child.name, **dir, child.name, out));
      }
      return Ok();
    }
    default:
      return Failure(TrFormat(
          "{}: not a regular file, directory or symlink; cannot keep it in a release", full));
  }
}

// The directory holding the configured path `rel` below `root`, reached through descriptors
// (io::OpenDirBeneath: a symlink on the way that another user made and that leads out of `root`
// is refused); nullptr when it is missing, unless `create` (which makes it, or fails).
Result<io::DirPtr> ParentOf(io::Env& env, const std::string& root, const std::string& rel,
                            bool create) {
  const std::string up = io::Dirname(rel);
  io::BeneathOptions options;
  options.create = create;
  auto dir = io::OpenDirBeneath(env, root, up == "." ? "" : up, options);
  if (!create && !dir && (dir.error().sys_errno == ENOENT || dir.error().sys_errno == ENOTDIR)) {
    return io::DirPtr();
  }
  return dir;
}

const char* TypeName(io::FileType t) {
  switch (t) {
    case io::FileType::kRegular:
      return "file";
    case io::FileType::kDirectory:
      return "dir";
    case io::FileType::kSymlink:
      return "symlink";
    default:
      return "other";
  }
}

io::FileType TypeFromName(const std::string& s) {
  if (s == "file") return io::FileType::kRegular;
  if (s == "dir") return io::FileType::kDirectory;
  if (s == "symlink") return io::FileType::kSymlink;
  return io::FileType::kOther;
}

// `name` as `key` when it is UTF-8, else its exact bytes as `key`_base64 (a manifest that holds
// one is format 2); `*raw` is set then.
void PutName(json& j, const std::string& key, const std::string& name, bool* raw) {
  if (IsUtf8(name)) {
    j[key] = name;
  } else {
    j[key + "_base64"] = Base64Encode(name);
    *raw = true;
  }
}

Result<std::string> GetName(const json& j, const std::string& key, const std::string& where) {
  const std::string raw_key = key + "_base64";
  if (j.contains(raw_key) && j[raw_key].is_string()) {
    auto bytes = Base64Decode(j[raw_key].get<std::string>());
    if (!bytes) return DamageError(TrFormat("{}: {}: {}", where, raw_key, bytes.error().message));
    return *bytes;
  }
  return j.value(key, std::string());
}

json EntriesToJson(const std::vector<ManifestEntry>& entries, bool* raw) {
  json arr = json::array();
  for (const auto& e : entries) {
    json j = {{"type", TypeName(e.type)}, {"mode", e.mode}};
    PutName(j, "path", e.path, raw);
    if (e.type == io::FileType::kRegular) {
      j["size"] = e.size;
      j["sha256"] = e.sha256;
      if (e.mtime_ns != 0) j["mtime_ns"] = e.mtime_ns;
    }
    if (e.type == io::FileType::kSymlink) PutName(j, "target", e.target, raw);
    arr.push_back(std::move(j));
  }
  return arr;
}

Result<std::vector<ManifestEntry>> EntriesFromJson(const json& arr, const std::string& where) {
  std::vector<ManifestEntry> out;
  if (!arr.is_array()) return DamageError(TrFormat("{}: entries are not a list", where));
  for (const json& j : arr) {
    if (!j.is_object() || !((j.contains("path") && j["path"].is_string()) ||
                            (j.contains("path_base64") && j["path_base64"].is_string()))) {
      return DamageError(TrFormat("{}: an entry has no path", where));
    }
    ManifestEntry e;
    VELIN_ASSIGN(e.path, GetName(j, "path", where));
    e.type = TypeFromName(j.value("type", std::string()));
    e.mode = JsonIntOr<uint32_t>(j, "mode", 0u);
    e.size = JsonIntOr<uint64_t>(j, "size", 0);
    e.sha256 = j.value("sha256", std::string());
    e.mtime_ns = JsonIntOr<int64_t>(j, "mtime_ns", 0);
    VELIN_ASSIGN(e.target, GetName(j, "target", where));
    out.push_back(std::move(e));
  }
  return out;
}

// Whether a copy of `e` is to get `e`'s owner and group (Materialise's `keep_owner`): root gives
// any; another user only its own uid, with the group (which the kernel lets it give when it
// belongs to that group).
bool GivesOwner(const ManifestEntry& e, bool keep_owner) {
  if (!keep_owner || !e.owner_known) return false;
  const uid_t self = ::geteuid();
  return self == 0 || e.uid == self;
}

// Attributes that give only the owner and group `uid`:`gid`: no mode (a chown clears the setuid
// and setgid bits, so the mode is set after it; a symlink has no mode of its own), no mtime.
io::Attributes OwnerOnly(uint32_t uid, uint32_t gid) {
  io::Attributes owner;
  owner.set_owner = true;
  owner.uid = uid;
  owner.gid = gid;
  owner.set_mode = false;
  owner.set_mtime = false;
  return owner;
}

// A chown of GivesOwner: refused to a user that is not root (EPERM: a group it does not belong
// to), the copy keeps the group it got; root's failure is an error.
Status OwnerGiven(Status set) {
  if (!set && set.error().sys_errno == EPERM && ::geteuid() != 0) return Ok();
  return set;
}

// Whether the stored file `path` has `e`'s owner and group (a hard link to it shares them).
bool HasOwnerOf(io::Env& env, const std::string& path, const ManifestEntry& e) {
  auto info = env.Stat(path);
  return info && info->uid == e.uid && info->gid == e.gid;
}

// Copies one regular file, as `to_name` in `to_dir` (the release directory is renamed into place
// only later), fsynced unless `sync` is false (the caller then syncs its file system once).
// With `expected` (the scan's entry), what was copied must be what was scanned: a file that a
// build still running rewrote in between fails the copy instead of giving a release whose
// manifest describes other bytes.
Status CopyFileAt(io::Env& env, const std::string& from, const io::Dir& to_dir,
                  const std::string& to_name, uint32_t mode, uint64_t* bytes,
                  const ManifestEntry* expected, const ManifestEntry& scanned, bool keep_owner,
                  bool sync = true) {
  // The file the scan read, when it was scanned here; else at least a regular file there.
  VELIN_ASSIGN(io::DirPtr dir, env.OpenDir(io::Dirname(from)));
  io::FileInfo listed;
  listed.type = io::FileType::kRegular;
  listed.device = scanned.device;
  listed.inode = scanned.inode;
  VELIN_ASSIGN(auto in,
               OpenListed(env, *dir, io::Basename(from), from, listed, scanned.inode != 0));
  io::WriteOptions options;
  options.mode = mode & 0777;
  options.exclusive = true;
  VELIN_ASSIGN(auto out, env.NewWritableFileAt(to_dir, to_name, options));
  std::string& buf = ChunkBuffer();
  repo::Sha256Stream sha;
  uint64_t offset = 0;
  for (;;) {
    VELIN_ASSIGN(size_t n, in->Read(offset, buf.size(), buf.data()));
    if (n == 0) break;
    if (expected != nullptr) sha.Update(std::string_view(buf.data(), n));
    VELIN_TRY(out->Append(std::string_view(buf.data(), n)));
    offset += n;
  }
  if (expected != nullptr && (offset != expected->size || sha.Final().Hex() != expected->sha256)) {
    return Failure(
        TrFormat("{} changed while it was being copied (a build still writing it?); "
                 "nothing was created: run the command again",
                 from));
  }
  if (GivesOwner(scanned, keep_owner)) {
    // Owner first: a chown clears the setuid and setgid bits the mode then sets.
    VELIN_TRY(OwnerGiven(out->SetAttributes(OwnerOnly(scanned.uid, scanned.gid))));
  }
  io::Attributes attributes;
  attributes.mode = mode;
  attributes.set_mtime = false;
  VELIN_TRY(out->SetAttributes(attributes));  // the umask left out of the open's mode
  if (sync) VELIN_TRY(out->Sync());
  VELIN_TRY(out->Close());
  *bytes += offset;
  return Ok();
}

Status CopyFile(io::Env& env, const std::string& from, const std::string& to, uint32_t mode,
                uint64_t* bytes, const ManifestEntry* expected, const ManifestEntry& scanned,
                bool keep_owner, bool sync) {
  VELIN_ASSIGN(io::DirPtr dir, env.OpenDir(io::Dirname(to)));
  return CopyFileAt(env, from, *dir, io::Basename(to), mode, bytes, expected, scanned, keep_owner,
                    sync);
}

// The stored path `rel`'s scanned `entries` (below `stored_root`) made as `name` in `dest`,
// through descriptors only: `dest` is a directory of the live tree that others may write
// (RestoreTree). Directories get their modes once full; everything gets the owner and group of
// what it is made from (as Materialise's `keep_owner`: a service's config keeps its group);
// everything is fsynced.
Status MaterialiseAt(io::Env& env, const std::vector<ManifestEntry>& entries,
                     const std::string& stored_root, const std::string& rel, const io::Dir& dest,
                     const std::string& name) {
  std::map<std::string, io::DirPtr> dirs;                         // made so far, by entry path
  std::vector<std::pair<io::DirPtr, const ManifestEntry*>> made;  // parents first
  uint64_t bytes = 0;
  for (const ManifestEntry& e : entries) {  // sorted: a directory before what it holds
    const io::Dir* in = &dest;
    std::string leaf = name;
    if (e.path != rel) {
      auto it = dirs.find(io::Dirname(e.path));
      if (it == dirs.end()) return Failure(TrFormat("{}: stored without its directory", e.path));
      in = it->second.get();
      leaf = io::Basename(e.path);
    }
    switch (e.type) {
      case io::FileType::kDirectory: {
        VELIN_TRY(env.CreateDirAt(*in, leaf, 0700));
        VELIN_ASSIGN(io::DirPtr dir, env.OpenDirAt(*in, leaf, /*follow=*/false));
        dirs[e.path] = dir;
        made.emplace_back(std::move(dir), &e);
        break;
      }
      case io::FileType::kSymlink:
        VELIN_TRY(env.SymlinkAt(e.target, *in, leaf));
        if (GivesOwner(e, true)) {
          VELIN_TRY(OwnerGiven(env.SetAttributesAt(*in, leaf, OwnerOnly(e.uid, e.gid))));
        }
        break;
      case io::FileType::kRegular:
        VELIN_TRY(CopyFileAt(env, io::JoinPath(stored_root, e.path), *in, leaf, e.mode, &bytes,
                             nullptr, e, /*keep_owner=*/true));
        break;
      default:
        return Failure(TrFormat("{}: not a regular file, directory or symlink", e.path));
    }
  }
  // Deepest first: each directory's entries are complete when it is synced.
  for (auto it = made.rbegin(); it != made.rend(); ++it) {
    const ManifestEntry& e = *it->second;
    if (GivesOwner(e, true)) {  // owner first: a chown may clear the setgid bit
      VELIN_TRY(OwnerGiven(env.SetDirAttributes(*it->first, OwnerOnly(e.uid, e.gid))));
    }
    io::Attributes attributes;
    attributes.mode = e.mode;
    attributes.set_mtime = false;
    VELIN_TRY(env.SetDirAttributes(*it->first, attributes));
    VELIN_TRY(env.SyncDir(it->first->path()));
  }
  return Ok();
}

// Whether the stored file `path` still holds what its release's manifest recorded (`e`'s
// size, mode and content). Releases share files by hard links, so a file edited in place
// (vim keeps a file's links and writes into it) changed every release that shares it; a new
// release must not link to it. A file whose mtime is still the one recorded when it was
// stored (`mtime_ns`, 0 when none was) was not written since; any other is hashed. Any error
// reading it counts as "no".
bool StillAsRecorded(io::Env& env, const std::string& path, const ManifestEntry& e,
                     int64_t mtime_ns) {
  auto info = env.Stat(path);
  if (!info || info->type != io::FileType::kRegular || info->size != e.size ||
      info->mode != e.mode) {
    return false;
  }
  if (mtime_ns != 0 && info->mtime_ns == mtime_ns) return true;
  auto sha = HashFile(env, path);
  return sha && *sha == e.sha256;
}

}  // namespace

Status CheckRollbackPath(const std::string& rel) {
  if (rel.empty() || rel.front() == '/' || rel == ".." || rel.rfind("../", 0) == 0) {
    return UsageError(
        TrFormat("rollback path '{}' must be relative to app.root and inside it", rel));
  }
  return Ok();
}

namespace {

// Where the configured path `rel` below `root` is: its directory (nullptr when that is
// missing) and its name there. With `follow`, a symlink that is `rel` itself is followed by the
// rule of io::OpenEntryBeneath (one that another user made and that leads out of `root` is
// refused), so the place is that of what it leads to.
Result<io::BeneathEntry> LocateConfigured(io::Env& env, const std::string& root,
                                          const std::string& rel, bool follow) {
  if (!follow) {
    VELIN_ASSIGN(io::DirPtr parent, ParentOf(env, root, rel, false));
    return io::BeneathEntry{parent, io::Basename(rel)};
  }
  auto entry = io::OpenEntryBeneath(env, root, rel);
  if (!entry && (entry.error().sys_errno == ENOENT || entry.error().sys_errno == ENOTDIR)) {
    return io::BeneathEntry{nullptr, io::Basename(rel)};
  }
  if (!entry && entry.error().sys_errno == EISDIR) {
    // It leads to app.root itself or to `/` (`vendor -> .`, `public/root -> /`): the whole
    // application with its `current` link, as "." would be, or the whole machine. Before, the
    // create failed with exit 1 and only `…: Is a directory`.
    const std::string link = io::JoinPath(root, rel);
    std::string leads = "app.root";
    if (auto dir = env.OpenDir(link); dir) {
      if (auto real = env.RealPathOf(**dir); real) leads = *real;
    }
    return UsageError(TrFormat(
        "rollback.artifacts: {} is a symbolic link to {}, which holds the whole application "
        "(app.root {}); list the application's own paths instead (e.g. \"bin\", \"public\")",
        link, leads, root));
  }
  return entry;
}

// A followed artifact must not lead to the state directory, nor to a directory holding it
// (`bin -> ..` made by root): the version would store velin's own releases, as "." would
// (CheckPathsLeaveOutTheState refuses those by their spelling). Compared by real paths.
Status CheckLeavesOutState(io::Env& env, const std::string& root, const std::string& rel,
                           const io::BeneathEntry& at, const std::string& state_dir) {
  auto state = env.OpenDir(state_dir);
  if (!state) return Ok();  // no state dir yet: nothing to store by mistake
  VELIN_ASSIGN(std::string state_real, env.RealPathOf(**state));
  VELIN_ASSIGN(std::string parent_real, env.RealPathOf(*at.dir));
  const std::string real = io::JoinPath(parent_real, at.name);
  const auto within = [](const std::string& inner, const std::string& outer) {
    return inner == outer || inner.starts_with(outer == "/" ? outer : outer + "/");
  };
  if (!within(state_real, real) && !within(real, state_real)) return Ok();
  return UsageError(TrFormat(
      "rollback.artifacts: {} is a symbolic link to {}, which holds or lies in rollback.state_dir "
      "({}); list the application's own paths instead",
      io::JoinPath(root, rel), real, state_real));
}

// ScanTree and ScanArtifacts; `state_dir` non-empty: follow a configured path that is a symlink.
Result<std::vector<ManifestEntry>> ScanConfigured(io::Env& env, const std::string& root,
                                                  const std::vector<std::string>& paths,
                                                  bool required, const std::string& state_dir) {
  const bool follow = !state_dir.empty();
  std::vector<ManifestEntry> out;
  for (std::string rel : paths) {
    while (!rel.empty() && rel.back() == '/') rel.pop_back();
    VELIN_TRY(CheckRollbackPath(rel));
    VELIN_ASSIGN(io::BeneathEntry at, LocateConfigured(env, root, rel, follow));
    bool exists = at.dir != nullptr;
    if (exists) {
      auto info = env.StatAt(*at.dir, at.name);
      if (!info && info.error().sys_errno != ENOENT) return tl::unexpected(info.error());
      exists = info.has_value();
    }
    if (!exists) {
      if (required) return UsageError(TrFormat("artifact '{}' not found in {}", rel, root));
      continue;
    }
    if (follow) VELIN_TRY(CheckLeavesOutState(env, root, rel, at, state_dir));
    const size_t top = out.size();
    VELIN_TRY(ScanPath(env, root, rel, *at.dir, at.name, out));
    if (follow && out[top].type == io::FileType::kRegular) {
      // Maybe a link to a file: copied from where the scan read it (the copy opens the last
      // part without following a symlink, and checks it is the file scanned).
      VELIN_ASSIGN(std::string dir_real, env.RealPathOf(*at.dir));
      out[top].source = io::JoinPath(dir_real, at.name);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
  return out;
}

}  // namespace

Result<std::vector<ManifestEntry>> ScanTree(io::Env& env, const std::string& root,
                                            const std::vector<std::string>& paths, bool required) {
  return ScanConfigured(env, root, paths, required, "");
}

Result<std::vector<ManifestEntry>> ScanArtifacts(io::Env& env, const std::string& root,
                                                 const std::vector<std::string>& paths,
                                                 bool required, const std::string& state_dir) {
  return ScanConfigured(env, root, paths, required, state_dir);
}

std::string DigestOf(const std::vector<ManifestEntry>& entries) {
  if (entries.empty()) return "";
  repo::Sha256Stream sha;
  for (const auto& e : entries) {
    sha.Update(e.path);
    sha.Update(std::string(1, '\0') + TypeName(e.type) + " " + std::to_string(e.mode) + " " +
               std::to_string(e.size) + " " + e.sha256 + " ");
    sha.Update(e.target);
    sha.Update(std::string_view("\n", 1));
  }
  return sha.Final().Hex();
}

Status SaveManifest(io::Env& env, const std::string& path, const Manifest& m) {
  bool raw = false;
  json doc = {{"artifacts", EntriesToJson(m.artifacts, &raw)},
              {"config", EntriesToJson(m.config, &raw)}};
  // Format 2 only where a name had to be written as base64: a velin that reads format 1 only
  // refuses such a manifest as newer instead of restoring files under the wrong names.
  doc["format"] = raw ? kManifestFormatRawNames : kRegistryFormat;
  return io::WriteFileDurably(env, path, doc.dump() + "\n");
}

Result<Manifest> LoadManifest(io::Env& env, const std::string& path) {
  VELIN_ASSIGN(std::string text, env.ReadFile(path));
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return DamageError(TrFormat("{}: malformed manifest", path));
  Manifest m;
  try {
    if (JsonIntOr<int64_t>(doc, "format", 0) > kManifestFormatRawNames) {
      return Failure(TrFormat("{}: written by a newer velin; upgrade velin", path));
    }
    VELIN_ASSIGN(m.artifacts, EntriesFromJson(doc.value("artifacts", json::array()), path));
    VELIN_ASSIGN(m.config, EntriesFromJson(doc.value("config", json::array()), path));
  } catch (const json::exception& e) {
    return DamageError(TrFormat("{}: malformed manifest: {}", path, e.what()));
  }
  return m;
}

void DedupIndex::Add(const std::string& stored_root, const std::vector<ManifestEntry>& entries) {
  for (const auto& e : entries) {
    if (e.type != io::FileType::kRegular) continue;
    files_.emplace(std::make_tuple(e.sha256, e.size, e.mode),
                   Stored{io::JoinPath(stored_root, e.path), e.mtime_ns});
  }
}

std::vector<DedupIndex::Stored> DedupIndex::Candidates(const ManifestEntry& e) const {
  std::vector<Stored> out;
  auto [first, last] = files_.equal_range(std::make_tuple(e.sha256, e.size, e.mode));
  for (auto it = first; it != last; ++it) out.push_back(it->second);
  std::reverse(out.begin(), out.end());  // equal keys keep their insertion order
  return out;
}

DedupIndex IndexReleases(io::Env& env, const StateLayout& layout, const Registry& reg,
                         const std::string& except) {
  DedupIndex index;
  for (const auto& v : reg.versions) {
    if (v.name == except) continue;
    auto m = LoadManifest(env, layout.Manifest(v.name));
    if (!m) continue;  // an unreadable manifest only costs dedup
    index.Add(layout.Release(v.name), m->artifacts);
    index.Add(layout.Config(v.name), m->config);
  }
  return index;
}

namespace {

// Puts `e` back at `path` (under `root`) from `source`, an identical stored file that still
// holds what was recorded, or recreates a symlink: made under a temporary name beside it and
// renamed over it, so that the path always names a whole file.
Status Mend(io::Env& env, const std::string& path, const ManifestEntry& e,
            const std::string& source) {
  // A deleted release directory (or a subdirectory) is made again: otherwise the dry run, which
  // finds the identical file, and the switch, which could not link it, would disagree.
  VELIN_TRY(io::CreateDirs(env, io::Dirname(path)));
  const std::string tmp = path + ".velin-mend";
  VELIN_TRY(io::RemoveAll(env, tmp));
  if (e.type == io::FileType::kSymlink) {
    VELIN_TRY(env.Symlink(e.target, tmp));
  } else {
    VELIN_TRY(env.HardLink(source, tmp));
  }
  auto now = env.Stat(path);
  if (now && now->type == io::FileType::kDirectory) VELIN_TRY(io::RemoveAll(env, path));
  VELIN_TRY(env.Rename(tmp, path));
  return env.SyncDir(io::Dirname(path));
}

// Makes the missing directory `path` (and its missing parents) with `mode`.
bool MakeDir(io::Env& env, const std::string& path, uint32_t mode) {
  return io::CreateDirs(env, path) && env.SetMode(path, mode) && env.SyncDir(io::Dirname(path));
}

bool AccessDenied(int err) { return err == EACCES || err == EPERM; }

// CheckVersion for one stored tree: `changed` (and `unreadable`) relative to `root`. With
// `must_read`, each regular file is opened even when its mtime says it is unchanged: the
// switch copies it (a snapshot's config), so one velin's user cannot read would fail the switch
// after `stop`.
ReleaseCheck CheckTree(io::Env& env, const std::string& root,
                       const std::vector<ManifestEntry>& entries, const DedupIndex& others,
                       bool mend, bool must_read) {
  ReleaseCheck check;
  // Directories of the manifest found as something else (a file): "left as it is" below, so
  // nothing under one can be put back either, and a dry run must not count it as mendable.
  std::vector<std::string> blocked;
  const auto under_blocked = [&](const std::string& rel) {
    return std::any_of(blocked.begin(), blocked.end(),
                       [&](const std::string& b) { return rel.starts_with(b + "/"); });
  };
  const auto denied = [&](const std::string& rel, const Error& error) {
    if (!AccessDenied(error.sys_errno)) return false;
    check.unreadable.push_back(rel);
    if (check.unreadable_reason.empty()) check.unreadable_reason = std::strerror(error.sys_errno);
    return true;
  };
  for (const auto& e : entries) {
    const std::string path = io::JoinPath(root, e.path);
    auto info = env.Stat(path);
    // Not to be reached (a directory on the way chmod 000, or another user's 0700): neither
    // changed nor missing, and nothing is put back over it.
    if (!info && denied(e.path, info.error())) continue;
    bool same = false;
    if (e.type == io::FileType::kRegular) {
      same = StillAsRecorded(env, path, e, e.mtime_ns);
      if ((must_read || !same) && info && info->type == io::FileType::kRegular) {
        auto opened = env.NewRandomAccessFile(path);
        if (!opened && denied(e.path, opened.error())) continue;
      }
    } else if (e.type == io::FileType::kSymlink) {
      auto target = env.ReadLink(path);
      same = info && info->type == io::FileType::kSymlink && target && *target == e.target;
    } else {
      same = info && info->type == e.type;
    }
    if (same) continue;
    check.changed.push_back(e.path);
    // Absent, not merely different: (lstat) ENOENT, or a parent that is gone.
    const bool absent =
        !info && (info.error().sys_errno == ENOENT || info.error().sys_errno == ENOTDIR);
    bool put_back = false;
    if (under_blocked(e.path)) {
      // Its directory is a file now: nothing to put it into.
    } else if (e.type == io::FileType::kSymlink) {
      put_back = !mend || static_cast<bool>(Mend(env, path, e, ""));
    } else if (e.type == io::FileType::kDirectory) {
      // A missing directory is made again (its files follow it in the manifest); one replaced by
      // a file is left as it is.
      put_back = absent && (!mend || MakeDir(env, path, e.mode));
      if (!absent) blocked.push_back(e.path);
    } else if (e.type == io::FileType::kRegular) {
      for (const auto& source : others.Candidates(e)) {
        if (!StillAsRecorded(env, source.path, e, source.mtime_ns)) continue;
        put_back = !mend || static_cast<bool>(Mend(env, path, e, source.path));
        break;
      }
    }
    if (put_back) ++check.mended;
    if (absent) {
      check.missing.push_back(e.path);
      if (!put_back) check.lost.push_back(e.path);
    }
  }
  return check;
}

}  // namespace

Result<ReleaseCheck> CheckVersion(io::Env& env, const StateLayout& layout, const Registry& reg,
                                  const std::string& name, bool mend) {
  VELIN_ASSIGN(Manifest manifest, LoadManifest(env, layout.Manifest(name)));
  const DedupIndex others = IndexReleases(env, layout, reg, name);
  ReleaseCheck check;
  for (const auto& [root, entries] : {std::pair(layout.Release(name), &manifest.artifacts),
                                      std::pair(layout.Config(name), &manifest.config)}) {
    // A release (or config) directory replaced by a file, or by a symlink that leads to none:
    // nothing below it can be put back without deleting what is there, so it is lost as a
    // whole, the same for a dry run as for a switch (before, the dry run counted the files as
    // mendable and the switch then failed to make the directory).
    if (auto info = env.Stat(root); info && info->type != io::FileType::kDirectory &&
                                    !(info->type == io::FileType::kSymlink && env.OpenDir(root))) {
      check.changed.push_back(root);
      check.missing.push_back(root);
      check.lost.push_back(root);
      continue;
    }
    const bool config = entries == &manifest.config;
    ReleaseCheck tree = CheckTree(env, root, *entries, others, mend, config);
    for (const auto& rel : tree.unreadable) {
      (config ? check.unreadable_config : check.unreadable).push_back(io::JoinPath(root, rel));
    }
    if (check.unreadable_reason.empty()) check.unreadable_reason = tree.unreadable_reason;
    for (const auto& rel : tree.changed) check.changed.push_back(io::JoinPath(root, rel));
    for (const auto& rel : tree.missing) check.missing.push_back(io::JoinPath(root, rel));
    for (const auto& rel : tree.lost) check.lost.push_back(io::JoinPath(root, rel));
    check.mended += tree.mended;
  }
  return check;
}

Result<MaterialiseStats> Materialise(io::Env& env, const std::vector<ManifestEntry>& entries,
                                     const std::string& source_root, const std::string& dest,
                                     const DedupIndex& index, bool check_copies, bool keep_owner) {
  MaterialiseStats stats;
  VELIN_TRY(io::CreateDirs(env, dest));
  // Opened before anything is written into it: syncfs reports a writeback error that came
  // after the descriptor was opened (Linux >= 5.8), so the one at the end sees every failure.
  VELIN_ASSIGN(io::DirPtr top, env.OpenDir(dest));
  for (const auto& e : entries) {
    std::string to = io::JoinPath(dest, e.path);
    VELIN_TRY(io::CreateDirs(env, io::Dirname(to)));
    if (e.type == io::FileType::kDirectory) {
      VELIN_TRY(io::CreateDirs(env, to));
      if (GivesOwner(e, keep_owner)) VELIN_TRY(OwnerGiven(env.SetOwner(to, e.uid, e.gid)));
      VELIN_TRY(env.SetMode(to, e.mode));
    } else if (e.type == io::FileType::kSymlink) {
      VELIN_TRY(env.Symlink(e.target, to));
      if (GivesOwner(e, keep_owner)) VELIN_TRY(OwnerGiven(env.SetOwner(to, e.uid, e.gid)));
    } else {
      ++stats.files;
      bool linked = false;
      for (const auto& existing : index.Candidates(e)) {
        // A link shares its file's owner: a config file is linked only to one with its owner,
        // and root's artifacts only to root's files (not to a service user's config copy).
        if (keep_owner && e.owner_known) {
          if (!HasOwnerOf(env, existing.path, e)) continue;
        } else if (::geteuid() == 0) {
          auto owner = env.Stat(existing.path);
          if (!owner || owner->uid != 0) continue;
        }
        if (!StillAsRecorded(env, existing.path, e, existing.mtime_ns)) {
          // A deleted one (rm -rf of a release being made again with --replace) was not
          // edited in place: nothing to warn about.
          auto there = env.Exists(existing.path);
          if (!there || *there) stats.changed_in_place.push_back(existing.path);
        } else if (env.HardLink(existing.path, to)) {
          linked = true;
          break;
        }
      }
      if (linked) {
        ++stats.linked;
        continue;
      }
      std::string from = e.source.empty() ? io::JoinPath(source_root, e.path) : e.source;
      VELIN_TRY(CopyFile(env, from, to, e.mode, &stats.bytes_copied, check_copies ? &e : nullptr, e,
                         keep_owner, /*sync=*/false));
      ++stats.copied;
    }
  }
  // Everything at once: the files' data, the directories' entries, links, modes and owners.
  // syncfs commits the file system's journal with all of them (ext4, XFS and btrfs alike), so
  // no directory needs an fsync of its own after it; an fsync per file and per directory made
  // a release of 100,000 small files take minutes (a journal commit and a disk cache flush each).
  VELIN_TRY(env.SyncFileSystem(*top));
  return stats;
}

Status RecordMtimes(io::Env& env, const std::string& root, std::vector<ManifestEntry>& entries) {
  for (auto& e : entries) {
    if (e.type != io::FileType::kRegular) continue;
    VELIN_ASSIGN(io::FileInfo info, env.Stat(io::JoinPath(root, e.path)));
    e.mtime_ns = info.mtime_ns;
  }
  return Ok();
}

Result<DiskUsage> MeasureTree(io::Env& env, const std::string& dir) {
  DiskUsage usage;
  VELIN_ASSIGN(bool exists, env.Exists(dir));
  if (!exists) return usage;
  auto listed = env.ListDir(dir);
  // Another user's directory (a snapshot's config root made, 0700): not counted, so that
  // `list` still shows every version (before 2026-12-07 it failed, exit 1).
  if (!listed && AccessDenied(listed.error().sys_errno)) return usage;
  VELIN_ASSIGN(auto entries, std::move(listed));
  for (const auto& e : entries) {
    std::string full = io::JoinPath(dir, e.name);
    VELIN_ASSIGN(io::FileInfo info, env.Stat(full));
    if (info.type == io::FileType::kDirectory) {
      VELIN_TRY(StackRoomBelow(full));  // velin/core/stack.hpp
      VELIN_ASSIGN(DiskUsage sub, MeasureTree(env, full));
      usage.total += sub.total;
      usage.own += sub.own;
    } else if (info.type == io::FileType::kRegular) {
      usage.total += info.size;
      if (info.nlink <= 1) usage.own += info.size;
    }
  }
  return usage;
}

Status RestoreTree(io::Env& env, const std::string& stored_root,
                   const std::vector<std::string>& paths, const std::string& app_root) {
  for (std::string rel : paths) {
    while (!rel.empty() && rel.back() == '/') rel.pop_back();
    VELIN_ASSIGN(bool has, env.Exists(io::JoinPath(stored_root, rel)));
    if (!has) continue;
    // Through descriptors from app_root down, never through a symlink that another user made
    // and that leads elsewhere: velin may run as root on a tree its deploy user writes.
    VELIN_ASSIGN(io::DirPtr dir, ParentOf(env, app_root, rel, /*create=*/true));
    const std::string name = io::Basename(rel), fresh = name + ".velin-new",
                      old = name + ".velin-old";
    VELIN_TRY(io::RemoveAllAt(env, *dir, fresh));
    VELIN_TRY(io::RemoveAllAt(env, *dir, old));
    VELIN_ASSIGN(auto entries, ScanTree(env, stored_root, {rel}, true));
    // Made beside the live path, then moved into place.
    VELIN_TRY(MaterialiseAt(env, entries, stored_root, rel, *dir, fresh));
    auto live = env.StatAt(*dir, name);
    if (!live && live.error().sys_errno != ENOENT) return tl::unexpected(live.error());
    if (live && entries.front().type == io::FileType::kDirectory) {
      VELIN_TRY(env.RenameAt(*dir, name, *dir, old));
    }
    VELIN_TRY(env.RenameAt(*dir, fresh, *dir, name));  // a file is replaced atomically
    VELIN_TRY(env.SyncDir(dir->path()));
    VELIN_TRY(io::RemoveAllAt(env, *dir, old));
  }
  return Ok();
}

Status RemoveConfigPath(io::Env& env, const std::string& app_root, std::string rel) {
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  VELIN_ASSIGN(io::DirPtr dir, ParentOf(env, app_root, rel, /*create=*/false));
  if (!dir) return Ok();
  auto live = env.StatAt(*dir, io::Basename(rel));
  if (!live && live.error().sys_errno == ENOENT) return Ok();
  if (!live) return tl::unexpected(live.error());
  VELIN_TRY(io::RemoveAllAt(env, *dir, io::Basename(rel)));
  return env.SyncDir(dir->path());
}

}  // namespace velin::rollback
