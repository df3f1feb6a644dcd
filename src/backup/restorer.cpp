#include "velin/backup/restorer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "velin/core/i18n.hpp"

namespace velin::backup {

using repo::Node;
using repo::NodeType;
using repo::Tree;

namespace {

// Splits a relative '/'-path into components; empty result when any is invalid ("..", "").
std::vector<std::string> SplitRelative(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(start, slash - start);
    if (!repo::IsValidNodeName(part)) return {};
    parts.push_back(part);
    start = slash + 1;
  }
  return parts;
}

// Writes restored files on worker threads: each job reads its blobs (hash checked), writes a
// temporary file, sets its metadata and renames it into place, so reading packs, decompressing
// and hashing run on every core while the restorer walks the trees. Bounded: at most
// kMaxQueuedJobs files wait. The first error stops the pool; later jobs are dropped.
// REQUIRES: Submit() and Wait() from one thread.
class FileWriterPool {
 public:
  struct Job {
    std::string tmp;   // written first
    std::string path;  // renamed to
    Node node;
  };

  FileWriterPool(repo::Repository& repo, io::Env& env, const RestoreOptions& options)
      : repo_(repo), env_(env), options_(options) {
    // Twice the cores: a worker often waits for a read or a write, another computes meanwhile.
    int n = static_cast<int>(2 * std::clamp(std::thread::hardware_concurrency(), 1u, 8u));
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  }
  ~FileWriterPool() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  Status Submit(Job job) {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return error_ || jobs_.size() < kMaxQueuedJobs; });
    if (error_) return tl::unexpected(*error_);
    jobs_.push_back(std::move(job));
    lock.unlock();
    work_cv_.notify_one();
    return Ok();
  }

  // Until every submitted file is in place; the first error of any of them.
  Status Wait() {
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return error_ || (jobs_.empty() && busy_ == 0); });
    if (error_) return tl::unexpected(*error_);
    return Ok();
  }

  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kMaxQueuedJobs = 256;

  void WorkerLoop() {
    std::unique_lock lock(mu_);
    for (;;) {
      work_cv_.wait(lock, [&] { return stopping_ || (!jobs_.empty() && !error_); });
      if (stopping_) return;
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      ++busy_;
      lock.unlock();
      Status st = Write(job);
      if (!st) (void)env_.RemoveFile(job.tmp);
      lock.lock();
      --busy_;
      if (!st && !error_) {
        error_ = st.error().Wrap(job.path);
        jobs_.clear();
      }
      done_cv_.notify_all();
    }
  }

  Status Write(const Job& job) {
    io::WriteOptions wo;
    wo.mode = 0600;
    wo.exclusive = true;
    wo.direct = job.node.size >= io::kDirectWriteMin;
    VELIN_ASSIGN(auto file, env_.NewWritableFile(job.tmp, wo));
    thread_local std::string data, stored;  // reused: no allocation per blob
    for (const auto& id : job.node.content) {
      VELIN_TRY(repo_.ReadBlobInto(id, data, stored));  // hash checked
      VELIN_TRY(file->Append(data));
      bytes_.fetch_add(data.size(), std::memory_order_relaxed);
    }
    VELIN_TRY(file->Close());
    if (options_.restore_owner) VELIN_TRY(env_.SetOwner(job.tmp, job.node.uid, job.node.gid));
    VELIN_TRY(env_.SetMode(job.tmp, job.node.mode));
    VELIN_TRY(env_.SetMtime(job.tmp, job.node.mtime_ns));
    return env_.Rename(job.tmp, job.path);
  }

  repo::Repository& repo_;
  io::Env& env_;
  const RestoreOptions& options_;
  std::mutex mu_;
  std::condition_variable work_cv_;  // a job is queued, or stopping
  std::condition_variable done_cv_;  // a job finished or failed
  std::deque<Job> jobs_;
  int busy_ = 0;
  bool stopping_ = false;
  std::optional<Error> error_;
  std::atomic<uint64_t> bytes_{0};
  std::vector<std::thread> threads_;
};

class Restorer {
 public:
  Restorer(repo::Repository& repo, io::Env& env, Reporter& reporter, const RestoreOptions& options)
      : repo_(repo), env_(env), reporter_(reporter), options_(options), pool_(repo, env, options) {}

  // Restores `node` (found at `parts` inside the source tree `top`) to target/`dir_rel`/name.
  // `rel_src` is the node's path from the source's top tree (hardlink targets use it).
  Status RestoreAt(const std::string& dir_rel, const Node& node, const std::string& rel_src,
                   const Tree& top, const std::string& source_dir) {
    source_top_ = &top;
    source_dir_ = source_dir;
    VELIN_ASSIGN(std::string dir, EnsureParents(dir_rel));
    Status st = RestoreNode(dir, node, rel_src);
    Status written = pool_.Wait();  // also after a failure: no worker may still write
    VELIN_TRY(st);
    VELIN_TRY(written);
    stats.bytes = pool_.bytes();
    // Directories last, children before parents: a file renamed into a directory changes its
    // mtime, and a read-only directory must stay writable until its files are in.
    for (const auto& [path, dir_node] : dir_metas_) {
      auto meta = SetMeta(path, dir_node, true);
      if (!meta) return tl::unexpected(meta.error().Wrap(path));
    }
    dir_metas_.clear();
    return Ok();
  }
  RestoreStats stats;

 private:
  // Creates target/rel's directories (missing ones 0755), refusing to pass through a symlink
  // this restore created. Returns the absolute directory.
  Result<std::string> EnsureParents(const std::string& rel) {
    std::string dir = options_.target;
    if (rel.empty()) return dir;
    for (const auto& part : SplitRelative(rel)) {
      dir = io::JoinPath(dir, part);
      if (created_symlinks_.count(dir)) {
        return Failure("refusing to restore through symlink " + dir + " created by this restore");
      }
      VELIN_ASSIGN(bool exists, env_.Exists(dir));
      if (!exists) VELIN_TRY(env_.CreateDir(dir, 0755));
    }
    return dir;
  }

  // Makes `path` a real directory: anything else there (file, symlink) is removed, not followed.
  Status MakeRealDir(const std::string& path) {
    VELIN_ASSIGN(bool exists, env_.Exists(path));
    if (exists) {
      VELIN_ASSIGN(io::FileInfo info, env_.Stat(path));
      if (info.type == io::FileType::kDirectory) return Ok();
      VELIN_TRY(env_.RemoveFile(path));
    }
    return env_.CreateDir(path, 0700);
  }

  Status SetMeta(const std::string& path, const Node& node, bool set_mode) {
    if (options_.restore_owner) VELIN_TRY(env_.SetOwner(path, node.uid, node.gid));
    if (set_mode) VELIN_TRY(env_.SetMode(path, node.mode));
    return env_.SetMtime(path, node.mtime_ns);
  }

  std::string TempName(const std::string& dir, const std::string& name) {
    return io::JoinPath(dir, ".velin-restore-" + std::to_string(::getpid()) + "-" +
                                 std::to_string(temp_counter_++) + "-" + name.substr(0, 100));
  }

  // Hands the file to the pool; it is in place after the next pool_.Wait().
  Status WriteFile(const std::string& path, const Node& node) {
    auto submitted = pool_.Submit({TempName(io::Dirname(path), node.name), path, node});
    if (!submitted) {
      pool_failed_ = true;  // the error names the file it happened to: not to be wrapped again
      return submitted;
    }
    reporter_.UpdateProgress(pool_.bytes(), stats.files);
    return Ok();
  }

  // A hardlink to a file of this restore: that file must be in place first.
  Status LinkTo(const std::string& existing, const std::string& dir, const std::string& path,
                const std::string& name) {
    if (auto written = pool_.Wait(); !written) {
      pool_failed_ = true;
      return written;
    }
    std::string tmp = TempName(dir, name);
    VELIN_TRY(env_.HardLink(existing, tmp));
    stats.hardlinks++;
    return env_.Rename(tmp, path);
  }

  // The node at `rel` (relative to the source's top tree), for hardlink targets.
  const Node* FindInSource(const std::string& rel) {
    auto parts = SplitRelative(rel);
    const Tree* tree = source_top_;
    for (size_t i = 0; i < parts.size() && tree; ++i) {
      const Node* found = nullptr;
      for (const auto& n : tree->nodes) {
        if (n.name == parts[i]) found = &n;
      }
      if (!found || i + 1 == parts.size()) return found;
      if (found->type != NodeType::kDir) return nullptr;
      auto sub = repo_.ReadTree(found->subtree);
      if (!sub) return nullptr;
      tree = &trees_.emplace_back(std::move(*sub));
    }
    return nullptr;
  }

  Status RestoreHardlink(const std::string& path, const Node& node) {
    std::string first = io::JoinPath(source_dir_, node.target);
    if (SplitRelative(node.target).empty()) {
      return DamageError("hardlink " + path + " names an invalid path '" + node.target + "'");
    }
    if (restored_files_.count(first)) return LinkTo(first, io::Dirname(path), path, node.name);
    // The first link is not part of this restore (--only): restore the content here.
    const Node* primary = FindInSource(node.target);
    if (!primary || primary->type != NodeType::kFile) {
      return DamageError("hardlink " + path + " points to '" + node.target + "', not a file");
    }
    Node copy = *primary;
    copy.name = node.name;
    VELIN_TRY(WriteFile(path, copy));
    restored_files_.insert(first);  // later links of the group link to this one
    restored_alias_[first] = path;
    stats.files++;
    return Ok();
  }

  Status RestoreNode(const std::string& dir, const Node& node, const std::string& rel_src) {
    std::string path = io::JoinPath(dir, node.name);
    switch (node.type) {
      case NodeType::kFile:
        VELIN_TRY(WriteFile(path, node));
        restored_files_.insert(io::JoinPath(source_dir_, rel_src));
        stats.files++;
        return Ok();
      case NodeType::kHardlink: {
        auto alias = restored_alias_.find(io::JoinPath(source_dir_, node.target));
        if (alias != restored_alias_.end()) return LinkTo(alias->second, dir, path, node.name);
        return RestoreHardlink(path, node);
      }
      case NodeType::kSymlink: {
        std::string tmp = TempName(dir, node.name);
        VELIN_TRY(env_.Symlink(node.target, tmp));
        VELIN_TRY(SetMeta(tmp, node, false));
        VELIN_TRY(env_.Rename(tmp, path));
        created_symlinks_.insert(path);
        stats.symlinks++;
        return Ok();
      }
      case NodeType::kDir:
        break;
    }
    VELIN_TRY(MakeRealDir(path));
    VELIN_ASSIGN(Tree tree, repo_.ReadTree(node.subtree));
    for (const auto& child : tree.nodes) {
      auto st = RestoreNode(path, child, rel_src + "/" + child.name);
      if (!st && pool_failed_) return st;
      if (!st) return tl::unexpected(st.error().Wrap(io::JoinPath(path, child.name)));
    }
    stats.dirs++;
    dir_metas_.emplace_back(path, node);  // after every file is in (RestoreAt)
    return Ok();
  }

  repo::Repository& repo_;
  io::Env& env_;
  Reporter& reporter_;
  const RestoreOptions& options_;
  const Tree* source_top_ = nullptr;
  std::string source_dir_;
  std::set<std::string> created_symlinks_;
  std::set<std::string> restored_files_;
  std::map<std::string, std::string> restored_alias_;
  std::deque<Tree> trees_;
  std::vector<std::pair<std::string, Node>> dir_metas_;  // post-order: children first
  uint64_t temp_counter_ = 0;
  bool pool_failed_ = false;
  FileWriterPool pool_;  // last: its workers stop before the members they use go
};

// Where --only points inside a source: the node and its directory relative to app.root.
struct Selection {
  Node node;
  std::string dir_rel;  // its directory, relative to the target
  std::string rel_src;  // its path from the source's top tree
};

Result<std::optional<Selection>> Select(repo::Repository& repo, const repo::SnapshotSource& src,
                                        const Tree& top, const std::string& only) {
  const std::string src_dir = io::Dirname(src.name) == "." ? "" : io::Dirname(src.name);
  if (only.empty() || only == src.name || src.name.rfind(only + "/", 0) == 0) {
    return Selection{top.nodes[0], src_dir, top.nodes[0].name};
  }
  if (only.rfind(src.name + "/", 0) != 0) return std::optional<Selection>();
  auto parts = SplitRelative(only.substr(src.name.size() + 1));
  if (parts.empty()) return UsageError("--only '" + only + "' is not a valid path");
  Node current = top.nodes[0];
  for (size_t i = 0; i < parts.size(); ++i) {
    if (current.type != NodeType::kDir) return std::optional<Selection>();
    VELIN_ASSIGN(Tree tree, repo.ReadTree(current.subtree));
    bool found = false;
    for (auto& n : tree.nodes) {
      if (n.name == parts[i]) {
        current = std::move(n);
        found = true;
        break;
      }
    }
    if (!found) return std::optional<Selection>();
  }
  std::string rel_src = src_dir.empty() ? only : only.substr(src_dir.size() + 1);
  return Selection{current, io::Dirname(only) == "." ? "" : io::Dirname(only), rel_src};
}

}  // namespace

Result<RestoreStats> RestoreSnapshot(repo::Repository& repo, const repo::Snapshot& snapshot,
                                     io::Env& env, Reporter& reporter,
                                     const RestoreOptions& options) {
  std::string only = options.only;
  while (only.size() > 1 && only.back() == '/') only.pop_back();
  Restorer restorer(repo, env, reporter, options);
  VELIN_TRY(CreateDirs(env, options.target));
  bool matched = false;
  reporter.StartProgress(Tr("Restoring"), snapshot.stats.bytes);
  for (const auto& src : snapshot.sources) {
    if (src.kind != "path") continue;
    if (SplitRelative(src.name).empty()) {
      return DamageError("backup " + snapshot.id + " names an invalid path '" + src.name + "'");
    }
    VELIN_ASSIGN(Tree top, repo.ReadTree(src.tree));
    if (top.nodes.size() != 1 || top.nodes[0].name != io::Basename(src.name)) {
      return DamageError("backup " + snapshot.id + ": source '" + src.name + "' has a bad root");
    }
    VELIN_ASSIGN(auto selection, Select(repo, src, top, only));
    if (!selection) continue;
    matched = true;
    std::string src_dir = io::Dirname(src.name) == "." ? "" : io::Dirname(src.name);
    auto st = restorer.RestoreAt(
        selection->dir_rel, selection->node, selection->rel_src, top,
        src_dir.empty() ? options.target : io::JoinPath(options.target, src_dir));
    if (!st) {
      reporter.EndProgress();
      return tl::unexpected(st.error());
    }
  }
  reporter.EndProgress();
  if (!matched && only.empty()) {
    return UsageError("backup " + snapshot.id + " holds no files to restore");
  }
  if (!matched) {
    return UsageError("backup " + snapshot.id + " has no path '" + options.only + "'");
  }
  // One flush of the target's file system for the whole restore instead of an fsync per file.
  int fd = ::open(options.target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    int rc = ::syncfs(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoError("syncfs " + options.target, err);
  }
  return restorer.stats;
}

}  // namespace velin::backup
