// A local cache in front of a remote backend for the objects every command reads whole: index
// objects and snapshots ("index/…", "snapshots/…"). The remote listing is the authority: a
// cached object is served only after a List() in this process has seen it remotely as the one
// cached, and a List() removes cached objects the remote no longer has (forgotten, pruned, or a
// repository re-created at the same URL). An index object is named by the hash of its content,
// so the same name and size are the same object. A snapshot is not: its name is its backup id, a
// minute, which another backup takes again once the first is forgotten (or another host in
// another time zone) — so a snapshot is cached by the version the listing gives it (S3's ETag,
// which changes with its content), or where it gives none (a file server) by its modification
// time, once a later object in the listing shows that the minute it is given in was over: a
// write after that has a later time. Everything else passes straight through. The cache lives in
// its own 0700 directory; a cache that cannot be written is skipped, never an error.
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "velin/io/env.hpp"
#include "velin/storage/backend.hpp"

namespace velin::storage {

class CachingBackend : public Backend {
 public:
  CachingBackend(std::unique_ptr<Backend> remote, io::Env& env, std::string cache_dir);

  // The cache directory for a remote location: $VELIN_CACHE_DIR, else
  // $XDG_CACHE_HOME/velin/<hash of location>, else ~/.cache/velin/<hash>; "" when none.
  static std::string DefaultCacheDir(const std::string& location);

  const std::string& cache_dir() const { return cache_dir_; }
  std::string Location() const override { return remote_->Location(); }
  std::optional<std::string> LocalFileOf(const std::string& name) const override {
    return remote_->LocalFileOf(name);
  }
  Status Put(const std::string& name, std::string_view data) override;
  Result<std::string> Get(const std::string& name) override;
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status Delete(const std::string& name) override;
  Status SyncDeletes() override { return remote_->SyncDeletes(); }
  Result<std::optional<ObjectInfo>> Stat(const std::string& name) override;
  // The remote's sweep is told when the last complete one from this cache ran (the file "swept"
  // here; `last_sweep` when the caller knows none), so that a file server lists only the pack
  // directories changed since.
  Result<StaleTempSweep> RemoveStaleTemps(int64_t last_sweep, const TempLayout& layout) override;
  // The remote's (packs, never cached).
  Result<std::unique_ptr<ObjectWriter>> NewObjectWriter(const std::string& dir) override {
    return remote_->NewObjectWriter(dir);
  }

 private:
  // What a remote listing said of an object: its size and what tells its writes apart ("": not
  // cached, a snapshot whose time does not yet).
  struct Listed {
    uint64_t size = 0;
    std::string version;
  };
  static bool Cacheable(const std::string& name);
  // The cache file of `name` as `listed` (relative to cache_dir_), "" when not cached: an index
  // object under its name, a snapshot under its name and a hash of its version.
  static std::string CachePath(const std::string& name, const Listed& listed);
  void Store(const std::string& path, std::string_view data);
  void Forget(const std::string& name);
  // Removes cached objects under `dir` ("index" or "snapshots") that `listed` lacks.
  void Reconcile(const std::string& dir, const std::map<std::string, Listed>& listed);

  std::unique_ptr<Backend> remote_;
  io::Env& env_;
  std::string cache_dir_;
  std::mutex mu_;
  std::map<std::string, Listed> confirmed_;  // seen in a remote listing
};

}  // namespace velin::storage
