#include "velin/storage/caching_backend.hpp"

#include <openssl/evp.h>

#include <array>
#include <charconv>
#include <cstdlib>

#include "velin/core/environment.hpp"

namespace velin::storage {
namespace {

constexpr const char* kCachedDirs[] = {"index", "snapshots"};

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

Result<StaleTempSweep> CachingBackend::RemoveStaleTemps(int64_t last_sweep) {
  if (cache_dir_.empty()) return remote_->RemoveStaleTemps(last_sweep);
  const std::string path = io::JoinPath(cache_dir_, "swept");
  if (last_sweep == 0) {  // the caller knows none: the one kept here, if it reads
    if (auto text = env_.ReadFile(path)) {
      auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), last_sweep);
      if (ec != std::errc() || end != text->data() + text->size() || last_sweep < 0) last_sweep = 0;
    }
  }
  VELIN_ASSIGN(StaleTempSweep swept, remote_->RemoveStaleTemps(last_sweep));
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

void CachingBackend::Store(const std::string& name, std::string_view data) {
  if (cache_dir_.empty() || !Cacheable(name)) return;
  std::string path = io::JoinPath(cache_dir_, name);
  // The cache only saves downloads: when it cannot be written, velin works without it.
  if (!io::CreateDirs(env_, io::Dirname(path), 0700)) return;
  (void)io::WriteFileDurably(env_, path, data, 0600);
}

void CachingBackend::Forget(const std::string& name) {
  if (cache_dir_.empty() || !Cacheable(name)) return;
  (void)env_.RemoveFile(io::JoinPath(cache_dir_, name));
  std::lock_guard lock(mu_);
  confirmed_.erase(name);
}

Status CachingBackend::Put(const std::string& name, std::string_view data) {
  VELIN_TRY(remote_->Put(name, data));
  Store(name, data);
  if (Cacheable(name)) {
    std::lock_guard lock(mu_);
    confirmed_[name] = data.size();
  }
  return Ok();
}

Result<std::string> CachingBackend::Get(const std::string& name) {
  if (!cache_dir_.empty() && Cacheable(name)) {
    std::optional<uint64_t> size;
    {
      std::lock_guard lock(mu_);
      auto it = confirmed_.find(name);
      if (it != confirmed_.end()) size = it->second;
    }
    if (size) {
      auto cached = env_.ReadFile(io::JoinPath(cache_dir_, name));
      if (cached && cached->size() == *size) return cached;
    }
  }
  VELIN_ASSIGN(std::string data, remote_->Get(name));
  Store(name, data);
  return data;
}

Result<std::string> CachingBackend::GetRange(const std::string& name, uint64_t offset,
                                             uint64_t length) {
  return remote_->GetRange(name, offset, length);
}

void CachingBackend::Reconcile(const std::string& dir,
                               const std::map<std::string, uint64_t>& listed) {
  std::string path = io::JoinPath(cache_dir_, dir);
  auto entries = env_.ListDir(path);
  if (!entries) return;
  for (const io::DirEntry& e : *entries) {
    std::string name = dir + "/" + e.name;
    auto it = listed.find(name);
    auto info = env_.Stat(io::JoinPath(path, e.name));
    if (it == listed.end() || !info || info->size != it->second) {
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
    std::map<std::string, uint64_t> listed;
    for (const ObjectInfo& o : objects) {
      if (o.name.compare(0, dir_prefix.size(), dir_prefix) == 0) listed[o.name] = o.size;
    }
    Reconcile(dir, listed);
    std::lock_guard lock(mu_);
    for (auto it = confirmed_.begin(); it != confirmed_.end();) {
      bool in_dir = it->first.compare(0, dir_prefix.size(), dir_prefix) == 0;
      it = in_dir && !listed.count(it->first) ? confirmed_.erase(it) : std::next(it);
    }
    for (const auto& [name, size] : listed) confirmed_[name] = size;
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
