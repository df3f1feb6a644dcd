#include "velin/storage/local_backend.hpp"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <optional>

#include "velin/core/i18n.hpp"
#include "velin/core/process.hpp"
#include "velin/io/process_space.hpp"
#include "velin/storage/temp_names.hpp"

namespace velin::storage {

namespace {
constexpr uint64_t kDirectReadMin = 256 * 1024;

// A directory where an object belongs (made by hand, or by a tool that copied the repository
// badly) is no object: the listing and Stat pass it over, so a read of it says the object is
// missing (ENOENT) too, and verify and prune report it as the damage a missing pack is (exit 4)
// instead of failing on it (exit 1).
Status MissingIfDirectory(Status read) {
  if (read || read.error().sys_errno != EISDIR) return read;
  Error e = read.error();
  e.sys_errno = ENOENT;
  return tl::unexpected(std::move(e));
}

}  // namespace

Result<std::unique_ptr<LocalBackend>> LocalBackend::Open(io::Env& env, const std::string& root,
                                                         bool create) {
  if (root.empty() || root.front() != '/') {
    return UsageError(TrFormat("repository path must be absolute: '{}'", root));
  }
  VELIN_ASSIGN(bool exists, env.Exists(root));
  if (!exists) {
    if (!create) {
      Error e{ExitCode::kFailed, TrFormat("no repository at {}: directory does not exist", root),
              ENOENT};
      return tl::unexpected(e);
    }
    VELIN_TRY(io::CreateDirs(env, root, 0700));
  } else {
    VELIN_ASSIGN(io::FileInfo info, env.Stat(root));
    if (info.type != io::FileType::kDirectory && info.type != io::FileType::kSymlink) {
      return UsageError(TrFormat("repository path {} is not a directory", root));
    }
  }
  return std::unique_ptr<LocalBackend>(new LocalBackend(env, root));
}

Result<std::string> LocalBackend::PathOf(const std::string& name) const {
  // Keys are ours, but a damaged repository or a bug must never reach outside the root.
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) {
    return Failure(TrFormat("invalid object name '{}' in {}", name, root_));
  }
  return io::JoinPath(root_, name);
}

Status LocalBackend::EnsureDir(const std::string& dir) {
  {
    std::lock_guard lock(mu_);
    if (known_dirs_.count(dir)) return Ok();
  }
  VELIN_TRY(CreateDirDurably(dir));
  std::lock_guard lock(mu_);
  known_dirs_.insert(dir);
  return Ok();
}

// Creates `dir` and its missing parents, each fsynced into its parent: a pack put into a new
// directory survives a power loss together with the directory entries that lead to it.
Status LocalBackend::CreateDirDurably(const std::string& dir) {
  VELIN_ASSIGN(bool exists, env_.Exists(dir));
  if (exists) return Ok();
  const std::string parent = io::Dirname(dir);
  if (parent != dir) VELIN_TRY(CreateDirDurably(parent));
  auto made = env_.CreateDir(dir, 0700);
  if (!made && made.error().sys_errno != EEXIST) return made;  // EEXIST: another writer's
  return env_.SyncDir(parent);
}

Status LocalBackend::ClearDirectoryInPlaceOf(const std::string& path) {
  auto info = env_.Stat(path);
  if (!info || info->type != io::FileType::kDirectory) return Ok();
  // A directory where an object belongs counts as no object (Stat, the listing, the reads): the
  // object stored again (a pack's blobs written anew come out with the same bytes, so the same
  // name) takes its place. An empty one is removed; one holding files is not velin's to delete.
  Status removed = env_.RemoveDir(path);
  if (removed || removed.error().sys_errno == ENOENT) return Ok();
  return tl::unexpected(removed.error().Wrap(TrFormat(
      "cannot store {}: a directory is in its place (move it out of the repository)", path)));
}

Status LocalBackend::Put(const std::string& name, std::string_view data) {
  VELIN_ASSIGN(std::string path, PathOf(name));
  VELIN_TRY(EnsureDir(io::Dirname(path)));
  VELIN_TRY(ClearDirectoryInPlaceOf(path));
  Status st = io::WriteFileDurably(env_, path, data, 0600);
  ForgetOpen(name);  // after: a read meanwhile may have opened the old one
  return st;
}

class LocalObjectWriter : public ObjectWriter {
 public:
  LocalObjectWriter(LocalBackend& backend, std::string temp, std::unique_ptr<io::WritableFile> file)
      : backend_(backend), temp_(std::move(temp)), file_(std::move(file)) {}
  ~LocalObjectWriter() override {
    if (!file_) return;  // committed: renamed into place, or removed by the failed commit
    (void)file_->Close();
    (void)backend_.env_.RemoveFile(temp_);
  }
  Status Append(std::string_view data) override {
    if (!file_) return Failure(TrFormat("{} is closed", temp_));
    return file_->Append(data);
  }
  Status Commit(const std::string& name) override {
    if (!file_) return Failure(TrFormat("{} is closed", temp_));
    VELIN_ASSIGN(std::string path, backend_.PathOf(name));
    VELIN_TRY(backend_.EnsureDir(io::Dirname(path)));
    VELIN_TRY(backend_.ClearDirectoryInPlaceOf(path));
    std::unique_ptr<io::WritableFile> file = std::move(file_);
    Status st = io::RenameIntoPlaceDurably(backend_.env_, *file, temp_, path);
    backend_.ForgetOpen(name);  // after: a read meanwhile may have opened the old one
    return st;
  }

 private:
  LocalBackend& backend_;
  std::string temp_;
  std::unique_ptr<io::WritableFile> file_;  // the temp file, until Commit()
};

Result<std::unique_ptr<ObjectWriter>> LocalBackend::NewObjectWriter(const std::string& dir) {
  VELIN_ASSIGN(std::string path, PathOf(dir));
  VELIN_TRY(EnsureDir(path));
  std::string temp = io::TempPathFor(env_, io::JoinPath(path, "object"));
  io::WriteOptions options;
  options.mode = 0600;
  options.exclusive = true;
  options.direct = true;  // packs: nobody reads them back soon
  VELIN_ASSIGN(auto file, env_.NewWritableFile(temp, options));
  return std::unique_ptr<ObjectWriter>(
      std::make_unique<LocalObjectWriter>(*this, std::move(temp), std::move(file)));
}

Result<std::string> LocalBackend::Get(const std::string& name) {
  std::string data;
  VELIN_TRY(GetInto(name, data));
  return data;
}

Status LocalBackend::GetInto(const std::string& name, std::string& out) {
  return MissingIfDirectory(GetIntoImpl(name, out));
}

Status LocalBackend::GetIntoImpl(const std::string& name, std::string& out) {
  VELIN_ASSIGN(std::string path, PathOf(name));
  if (name.rfind("data/", 0) != 0) {
    VELIN_ASSIGN(out, env_.ReadFile(path));
    return Ok();
  }
  // Packs, read whole by verify, prune and copy: around the page cache, in one allocation (or
  // none, when `out` already has the room: a fresh 16 MiB buffer per pack page-faults 4,096
  // times).
  VELIN_ASSIGN(auto file, env_.NewRandomAccessFile(path));
  VELIN_ASSIGN(uint64_t size, file->Size());
  out.resize(size);
  VELIN_ASSIGN(size_t n, file->ReadDirect(0, size, out.data()));
  out.resize(n);
  return Ok();
}

Result<std::string> LocalBackend::GetRange(const std::string& name, uint64_t offset,
                                           uint64_t length) {
  std::string data;
  VELIN_TRY(GetRangeInto(name, offset, length, data));
  return data;
}

LocalBackend::LocalBackend(io::Env& env, std::string root)
    : env_(env),
      root_(std::move(root)),
      max_open_files_(std::clamp<size_t>(OpenFileLimit() / 8, 2, 32)) {}

Result<std::shared_ptr<const io::RandomAccessFile>> LocalBackend::OpenForRead(
    const std::string& name, const std::string& path) {
  {
    std::lock_guard lock(open_mu_);
    for (const auto& [open_name, file] : open_files_) {
      if (open_name == name) return file;
    }
  }
  VELIN_ASSIGN(auto opened, env_.NewRandomAccessFile(path));
  std::shared_ptr<const io::RandomAccessFile> file(std::move(opened));
  std::lock_guard lock(open_mu_);
  if (open_files_.size() >= max_open_files_) open_files_.pop_front();
  open_files_.emplace_back(name, file);
  return file;
}

void LocalBackend::ForgetOpen(const std::string& name) {
  std::lock_guard lock(open_mu_);
  std::erase_if(open_files_, [&](const auto& entry) { return entry.first == name; });
}

Status LocalBackend::GetRangeInto(const std::string& name, uint64_t offset, uint64_t length,
                                  std::string& out) {
  return MissingIfDirectory(GetRangeIntoImpl(name, offset, length, out));
}

Status LocalBackend::GetRangeIntoImpl(const std::string& name, uint64_t offset, uint64_t length,
                                      std::string& out) {
  VELIN_ASSIGN(std::string path, PathOf(name));
  VELIN_ASSIGN(auto file, OpenForRead(name, path));
  out.resize(length);
  // Large blobs (restore, verify) around the page cache; small ones through it, where
  // read-ahead serves their neighbours.
  VELIN_ASSIGN(size_t n, length >= kDirectReadMin ? file->ReadDirect(offset, length, out.data())
                                                  : file->Read(offset, length, out.data()));
  if (n != length) {
    return ShortObjectError(
        TrFormat("object {} in {} is shorter than expected (wanted {} bytes at offset {}, got {})",
                 name, root_, std::to_string(length), std::to_string(offset), std::to_string(n)));
  }
  return Ok();
}

// An object deleted between the directory's read and its stat is gone — but whoever deleted it may
// have written its successor first, after the read (a lock's refresh writes its next object, then
// deletes the one before): the listing would show neither, and a lock held all along would look
// released. So a directory in which an object vanished is read again (a few times at most).
Status LocalBackend::ListInto(const std::string& dir, const std::string& key_prefix,
                              const std::string& prefix, std::vector<ObjectInfo>& out) {
  constexpr int kReadings = 5;
  const size_t first = out.size();
  for (int reading = 1;; ++reading) {
    auto entries = env_.ListDir(dir);
    if (!entries) {
      if (entries.error().sys_errno == ENOENT || entries.error().sys_errno == ENOTDIR) return Ok();
      return tl::unexpected(entries.error());
    }
    bool vanished = false;
    for (const io::DirEntry& e : *entries) {
      std::string key = key_prefix.empty() ? e.name : key_prefix + "/" + e.name;
      if (e.name.find(".tmp-") != std::string::npos) continue;
      // Only descend where the prefix can still match.
      size_t common = std::min(key.size(), prefix.size());
      if (key.compare(0, common, prefix, 0, common) != 0) continue;
      std::string path = io::JoinPath(dir, e.name);
      if (e.type == io::FileType::kDirectory) {
        VELIN_TRY(ListInto(path, key, prefix, out));
      } else if (e.type == io::FileType::kRegular && key.size() >= prefix.size()) {
        auto info = env_.Stat(path);
        if (!info) {
          if (info.error().sys_errno != ENOENT) return tl::unexpected(info.error());
          vanished = true;  // deleted since the read
          continue;
        }
        out.push_back(ObjectInfo{key, info->size, info->mtime_ns / 1'000'000'000});
      }
    }
    if (!vanished || reading == kReadings) return Ok();
    out.resize(first);
  }
}

Result<std::vector<ObjectInfo>> LocalBackend::List(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  VELIN_TRY(ListInto(root_, "", prefix, out));
  return out;
}

Status LocalBackend::Delete(const std::string& name) {
  VELIN_ASSIGN(std::string path, PathOf(name));
  auto s = env_.RemoveFile(path);
  ForgetOpen(name);
  if (!s && s.error().sys_errno != ENOENT) return s;
  if (s) {
    std::lock_guard lock(mu_);
    deleted_from_.insert(io::Dirname(path));
  }
  return Ok();
}

Status LocalBackend::SyncDeletes() {
  std::set<std::string> dirs;
  {
    std::lock_guard lock(mu_);
    dirs.swap(deleted_from_);
  }
  for (auto it = dirs.begin(); it != dirs.end(); ++it) {
    Status s = env_.SyncDir(*it);
    if (!s) {
      std::lock_guard lock(mu_);
      deleted_from_.insert(it, dirs.end());  // still to be made durable
      return s;
    }
  }
  return Ok();
}

// Temp files of dead writers, in the repository's own directories (temp_names.hpp: never a
// user's file beside the repository, nor one in a directory of theirs within it). Ages are
// measured against the storage's clock: the newest lock object (ours, when a command holds one),
// else this machine's (the kernel's, which stamped the files: not Env::Now, which VELIN_NOW
// fixes).
Result<StaleTempSweep> LocalBackend::RemoveStaleTemps(int64_t last_sweep,
                                                      const TempLayout& layout) {
  (void)last_sweep;  // a local directory's listings cost no round trips: every one is listed
  VELIN_ASSIGN(auto locks, List("locks/"));
  int64_t now = 0;
  for (const auto& l : locks) now = std::max(now, l.mtime);
  if (now == 0) now = static_cast<int64_t>(::time(nullptr));
  size_t removed = 0;
  VELIN_TRY(SweepTemps(layout, "", now, removed));
  return StaleTempSweep{removed, 0};
}

// Sweeps `rel` (relative to the root, "" = the root) and the repository directories in it.
Status LocalBackend::SweepTemps(const TempLayout& layout, const std::string& rel, int64_t now,
                                size_t& removed) {
  const std::string dir = rel.empty() ? root_ : io::JoinPath(root_, rel);
  auto entries = env_.ListDir(dir);
  if (!entries) {
    if (entries.error().sys_errno == ENOENT || entries.error().sys_errno == ENOTDIR) return Ok();
    return tl::unexpected(entries.error());
  }
  for (const io::DirEntry& e : *entries) {
    const std::string path = io::JoinPath(dir, e.name);
    if (e.type == io::FileType::kDirectory) {
      const std::string sub = rel.empty() ? e.name : rel + "/" + e.name;
      if (IsRepositoryDir(layout, sub)) VELIN_TRY(SweepTemps(layout, sub, now, removed));
      continue;
    }
    if (e.type != io::FileType::kRegular) continue;
    const TempName temp = RepositoryTempName(layout, rel, e.name);
    if (temp.kind == TempKind::kNone) continue;
    if (temp.kind == TempKind::kMovedAside) {  // an SFTP/FTP writer's: the only copy without <name>
      auto has_final = env_.Exists(io::JoinPath(dir, std::string(temp.final_name)));
      if (!has_final || !*has_final) continue;
    }
    const std::optional<io::TempWriter> writer = io::TempWriterOf(e.name);
    const io::ProcessIdentity self = env_.ThisProcess();
    const std::string tag = io::ProcessSpaceTag(self);
    bool stale = false;
    if (temp.kind == TempKind::kLocalWriter && writer && !tag.empty() && writer->tag == tag) {
      stale = !io::PidAlive(env_, self, writer->pid);  // ours to ask: its writer is gone or not
    } else {
      auto info = env_.Stat(path);
      if (!info) continue;  // gone meanwhile (renamed into place, or swept by another run)
      stale = now - info->mtime_ns / 1'000'000'000 > kStaleTempAge;
    }
    if (!stale) continue;
    auto gone = env_.RemoveFile(path);
    if (!gone && gone.error().sys_errno != ENOENT) return gone;
    if (gone) ++removed;
  }
  return Ok();
}

Result<std::optional<ObjectInfo>> LocalBackend::Stat(const std::string& name) {
  VELIN_ASSIGN(std::string path, PathOf(name));
  auto info = env_.Stat(path);
  if (!info) {
    const int e = info.error().sys_errno;
    if (e == ENOENT || e == ENOTDIR) return std::optional<ObjectInfo>();
    return tl::unexpected(info.error());
  }
  // A directory is no object (List descends into it instead): a pack replaced by one must be
  // absent here too, or readers keep its entries while create stores its blobs again.
  if (info->type == io::FileType::kDirectory) return std::optional<ObjectInfo>();
  return std::optional<ObjectInfo>(ObjectInfo{name, info->size, info->mtime_ns / 1'000'000'000});
}

}  // namespace velin::storage
