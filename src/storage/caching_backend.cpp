#include "velin/storage/caching_backend.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>

#include "velin/core/environment.hpp"

namespace velin::storage {
namespace {

constexpr const char* kCachedDirs[] = {"index", "snapshots"};
// Between a cached snapshot's name and the hash of its version ("snapshots/<id>~<16 hex>"): no
// backup id holds it (repo/snapshot.hpp, CouldBeSnapshotId: letters, digits, '-', '_', ':').
constexpr char kVersionMark = '~';

std::string ShortHash(const std::string& text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 8; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

// What tells the writes of a snapshot apart in a listing whose newest modification time is
// `newest` (the storage's clock had reached it when it listed, and so when the object is read
// after): its version (S3's ETag); else its modification time once the step it is given in was
// over by then (a file server's listing: its minute; a later object shows that) — a write after
// that falls in a later step, which changes the time. "" when nothing does yet.
std::string VersionOf(const ObjectInfo& o, int64_t newest) {
  if (!o.version.empty()) return o.version;
  if (o.mtime > 0 && o.mtime_step > 0 && o.mtime + o.mtime_step <= newest) {
    return "mtime " + std::to_string(o.mtime) + " step " + std::to_string(o.mtime_step);
  }
  return "";
}

}  // namespace

CachingBackend::CachingBackend(std::unique_ptr<Backend> remote, io::Env& env, std::string cache_dir)
    : remote_(std::move(remote)), env_(env), cache_dir_(std::move(cache_dir)) {}

std::string CachingBackend::DefaultCacheDir(const std::string& location) {
  std::string key = ShortHash(location);
  const std::string explicit_dir = GetEnvironment("VELIN_CACHE_DIR").value_or("");
  if (!explicit_dir.empty()) return io::JoinPath(explicit_dir, key);
  const std::string xdg = GetEnvironment("XDG_CACHE_HOME").value_or("");
  if (xdg.rfind('/', 0) == 0) return io::JoinPath(io::JoinPath(xdg, "velin"), key);
  const std::string home = GetEnvironment("HOME").value_or("");
  if (home.rfind('/', 0) == 0) return io::JoinPath(io::JoinPath(home, ".cache/velin"), key);
  return "";
}

Result<StaleTempSweep> CachingBackend::RemoveStaleTemps(int64_t last_sweep,
                                                        const TempLayout& layout) {
  if (cache_dir_.empty()) return remote_->RemoveStaleTemps(last_sweep, layout);
  const std::string path = io::JoinPath(cache_dir_, "swept");
  if (last_sweep == 0) {  // the caller knows none: the one kept here, if it reads
    if (auto text = env_.ReadFile(path)) {
      auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), last_sweep);
      if (ec != std::errc() || end != text->data() + text->size() || last_sweep < 0) last_sweep = 0;
    }
  }
  VELIN_ASSIGN(StaleTempSweep swept, remote_->RemoveStaleTemps(last_sweep, layout));
  // Only a sweep that went through every directory it had to leaves its time for the next.
  if (swept.complete_at > 0 && io::CreateDirs(env_, cache_dir_, 0700)) {
    (void)io::WriteFileDurably(env_, path, std::to_string(swept.complete_at), 0600);
  }
  return swept;
}

bool CachingBackend::Cacheable(const std::string& name) {
  if (name.find("..") != std::string::npos) return false;
  for (const char* dir : kCachedDirs) {
    std::string prefix = std::string(dir) + "/";
    if (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
        name.find('/', prefix.size()) == std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string CachingBackend::CachePath(const std::string& name, const Listed& listed) {
  if (!name.starts_with("snapshots/")) return name;  // named by its content
  if (listed.version.empty()) return "";             // nothing tells one of its writes from another
  return name + kVersionMark + ShortHash(listed.version);
}

void CachingBackend::Store(const std::string& path, std::string_view data) {
  if (cache_dir_.empty() || path.empty()) return;
  std::string file = io::JoinPath(cache_dir_, path);
  // The cache only saves downloads: when it cannot be written, velin works without it.
  if (!io::CreateDirs(env_, io::Dirname(file), 0700)) return;
  (void)io::WriteFileDurably(env_, file, data, 0600);
}

void CachingBackend::Forget(const std::string& name) {
  if (cache_dir_.empty() || !Cacheable(name)) return;
  std::lock_guard lock(mu_);
  auto it = confirmed_.find(name);
  const std::string path = CachePath(name, it == confirmed_.end() ? Listed{} : it->second);
  if (!path.empty()) (void)env_.RemoveFile(io::JoinPath(cache_dir_, path));
  if (it != confirmed_.end()) confirmed_.erase(it);
}

Status CachingBackend::Put(const std::string& name, std::string_view data) {
  if (!Cacheable(name)) return remote_->Put(name, data);
  // A snapshot written again gets a version only the next listing tells: until then it is read
  // from the remote.
  if (name.starts_with("snapshots/")) Forget(name);
  VELIN_TRY(remote_->Put(name, data));
  if (!name.starts_with("snapshots/")) {
    Store(name, data);
    std::lock_guard lock(mu_);
    confirmed_[name] = Listed{data.size(), ""};
  }
  return Ok();
}

Result<std::string> CachingBackend::Get(const std::string& name) {
  std::string path;  // where the copy goes: as the listing before this read said
  if (!cache_dir_.empty() && Cacheable(name)) {
    std::optional<Listed> listed;
    {
      std::lock_guard lock(mu_);
      auto it = confirmed_.find(name);
      if (it != confirmed_.end()) listed = it->second;
    }
    // Not listed yet: read from the remote, and kept for a later process only as an index
    // object (a snapshot's version is unknown).
    path = CachePath(name, listed.value_or(Listed{}));
    if (listed && !path.empty()) {
      auto cached = env_.ReadFile(io::JoinPath(cache_dir_, path));
      if (cached && cached->size() == listed->size) return cached;
    }
  }
  VELIN_ASSIGN(std::string data, remote_->Get(name));
  // A snapshot replaced since the listing is kept under the version listed, which the next
  // listing does not show: it is read again, never served for the new one.
  if (Cacheable(name)) Store(path, data);
  return data;
}

Result<std::string> CachingBackend::GetRange(const std::string& name, uint64_t offset,
                                             uint64_t length) {
  return remote_->GetRange(name, offset, length);
}

void CachingBackend::Reconcile(const std::string& dir,
                               const std::map<std::string, Listed>& listed) {
  std::string path = io::JoinPath(cache_dir_, dir);
  auto entries = env_.ListDir(path);
  if (!entries) return;
  for (const io::DirEntry& e : *entries) {
    const std::string cached = dir + "/" + e.name;
    const size_t mark = dir == "snapshots" ? cached.rfind(kVersionMark) : std::string::npos;
    auto it = listed.find(mark == std::string::npos ? cached : cached.substr(0, mark));
    auto info = env_.Stat(io::JoinPath(path, e.name));
    // A snapshot cached under a version the remote no longer lists (or, by an earlier velin,
    // under its name alone) goes too.
    if (it == listed.end() || !info || info->size != it->second.size ||
        CachePath(it->first, it->second) != cached) {
      (void)env_.RemoveFile(io::JoinPath(path, e.name));
    }
  }
}

Result<std::vector<ObjectInfo>> CachingBackend::List(const std::string& prefix) {
  VELIN_ASSIGN(std::vector<ObjectInfo> objects, remote_->List(prefix));
  if (cache_dir_.empty()) return objects;
  for (const char* dir : kCachedDirs) {
    std::string dir_prefix = std::string(dir) + "/";
    // Only a listing that covers the whole directory can tell what is gone.
    if (dir_prefix.compare(0, prefix.size(), prefix) != 0) continue;
    int64_t newest = 0;
    for (const ObjectInfo& o : objects) newest = std::max(newest, o.mtime);
    std::map<std::string, Listed> listed;
    for (const ObjectInfo& o : objects) {
      if (o.name.compare(0, dir_prefix.size(), dir_prefix) == 0) {
        listed[o.name] = Listed{o.size, VersionOf(o, newest)};
      }
    }
    Reconcile(dir, listed);
    std::lock_guard lock(mu_);
    for (auto it = confirmed_.begin(); it != confirmed_.end();) {
      bool in_dir = it->first.compare(0, dir_prefix.size(), dir_prefix) == 0;
      it = in_dir && !listed.count(it->first) ? confirmed_.erase(it) : std::next(it);
    }
    for (auto& [name, l] : listed) confirmed_[name] = std::move(l);
  }
  return objects;
}

Status CachingBackend::Delete(const std::string& name) {
  VELIN_TRY(remote_->Delete(name));
  Forget(name);
  return Ok();
}

Result<std::optional<ObjectInfo>> CachingBackend::Stat(const std::string& name) {
  return remote_->Stat(name);
}

}  // namespace velin::storage
