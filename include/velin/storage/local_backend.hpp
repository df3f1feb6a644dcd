// The local-directory backend: each object is a file under the root, named by its key. Put is
// durable: temp file in the same directory, fsync, rename, fsync the directory, so a crash
// leaves the old object or the new one. Temp files ("*.tmp-*") are never listed; those of dead
// writers go with RemoveStaleTemps (only velin's own, in the repository's directories:
// velin/storage/temp_names.hpp).
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include "velin/io/env.hpp"
#include "velin/storage/backend.hpp"

namespace velin::storage {

class LocalBackend : public Backend {
 public:
  // `root` must be an absolute directory; it is created when missing and `create` is set.
  static Result<std::unique_ptr<LocalBackend>> Open(io::Env& env, const std::string& root,
                                                    bool create);

  std::string Location() const override { return root_; }
  std::optional<std::string> LocalFileOf(const std::string& name) const override {
    auto path = PathOf(name);
    if (!path) return std::nullopt;
    return *path;
  }
  Status Put(const std::string& name, std::string_view data) override;
  Result<std::string> Get(const std::string& name) override;
  Status GetInto(const std::string& name, std::string& out) override;
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override;
  Status GetRangeInto(const std::string& name, uint64_t offset, uint64_t length,
                      std::string& out) override;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Status Delete(const std::string& name) override;
  Status SyncDeletes() override;
  Result<std::optional<ObjectInfo>> Stat(const std::string& name) override;
  // Lists every repository directory (layout.dirs).
  Result<StaleTempSweep> RemoveStaleTemps(int64_t last_sweep, const TempLayout& layout) override;
  // A temp file in `dir` ("<dir>/object.tmp-<pid>-<tag>-<n>"), written around the page cache;
  // Commit() fsyncs it, renames it to its name and fsyncs the directory it went to.
  Result<std::unique_ptr<ObjectWriter>> NewObjectWriter(const std::string& dir) override;

 private:
  Status GetIntoImpl(const std::string& name, std::string& out);
  Status GetRangeIntoImpl(const std::string& name, uint64_t offset, uint64_t length,
                          std::string& out);
  friend class LocalObjectWriter;
  LocalBackend(io::Env& env, std::string root);
  Result<std::string> PathOf(const std::string& name) const;
  Status EnsureDir(const std::string& dir);
  // An empty directory at `path`, where an object is to be stored, removed (see the .cpp).
  Status ClearDirectoryInPlaceOf(const std::string& path);
  Status CreateDirDurably(const std::string& dir);
  Status SweepTemps(const TempLayout& layout, const std::string& rel, int64_t now, size_t& removed);
  Status ListInto(const std::string& dir, const std::string& key_prefix, const std::string& prefix,
                  std::vector<ObjectInfo>& out);

  // The object `name` at `path`, open for reading: from open_files_ when it is there.
  Result<std::shared_ptr<const io::RandomAccessFile>> OpenForRead(const std::string& name,
                                                                  const std::string& path);
  void ForgetOpen(const std::string& name);

  io::Env& env_;
  std::string root_;
  // The last few objects GetRangeInto opened, newest last: restore reads blob after blob of
  // the same packs, and opened (and closed) its pack once per blob. Objects never change under
  // one name (they are named by their content, or replaced by Put); Put and Delete drop theirs.
  // At most 32, and an eighth of the open-file limit: under `ulimit -n 64` the 32 alone left
  // a restore, a verify and a prune too few to finish ("Too many open files").
  const size_t max_open_files_;
  std::mutex open_mu_;
  std::deque<std::pair<std::string, std::shared_ptr<const io::RandomAccessFile>>> open_files_;
  std::mutex mu_;
  std::set<std::string> known_dirs_;    // directories already created (saves a stat per put)
  std::set<std::string> deleted_from_;  // directories with removals not yet fsynced (under mu_)
};

}  // namespace velin::storage
