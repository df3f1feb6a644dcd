#include "velin/io/mem_env.hpp"

#include <algorithm>
#include <cerrno>
#include <functional>

#include "velin/core/i18n.hpp"

namespace velin::io {

using NodePtr = std::shared_ptr<MemEnv::Node>;

struct MemEnv::Node {
  FileType type = FileType::kRegular;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t nlink = 1;
  std::string data;  // a file's bytes, a symlink's target
  std::map<std::string, NodePtr> children;
  std::map<std::string, std::string> xattrs;
  uint32_t format = 0;  // S_IFMT bits of a fifo or device node (type kOther)
  uint64_t rdev = 0;
};

struct MemEnv::State {
  std::mutex mu;
  NodePtr root;
  uint64_t next_inode = 2;
  std::chrono::system_clock::time_point wall;
  std::chrono::steady_clock::time_point steady{std::chrono::hours(1)};
  std::chrono::nanoseconds slept{0};
  ProcessIdentity self;
  std::map<int64_t, int64_t> processes;  // pid -> start ticks
  std::map<std::string, std::string> environment;
  uint64_t syncs = 0;
  std::map<int, NodePtr> handles;  // Dir descriptors (negative) -> directory
  int next_handle = -2;
  uint64_t temp_dirs = 0;
  std::function<void()> on_sleep;
  bool unnamed_files = true;  // WriteOptions::unnamed honoured (SetUnnamedFiles)

  int64_t NowNs() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch()).count();
  }
  NodePtr NewNode(FileType type, uint32_t mode) {
    auto n = std::make_shared<Node>();
    n->type = type;
    n->mode = mode & 07777;
    n->inode = next_inode++;
    n->mtime_ns = n->ctime_ns = NowNs();
    return n;
  }
  void Touch(Node& n) { n.mtime_ns = n.ctime_ns = NowNs(); }
};

namespace {

using State = MemEnv::State;
using Node = MemEnv::Node;

std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (part == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!part.empty() && part != ".") {
      out.push_back(std::move(part));
    }
    i = j + 1;
  }
  return out;
}

std::string Joined(const std::vector<std::string>& parts, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) out += "/" + parts[i];
  return out;
}

// The node at `path` (symlinks in between followed; the last one only when `follow`), or an
// errno value.
int Lookup(State& s, const std::string& path, bool follow, NodePtr* out) {
  std::vector<std::string> parts = Components(path);
  // "dir/" and "dir/." name the directory a symlink "dir" points to, as in POSIX.
  if (!path.empty() && (path.back() == '/' || path.ends_with("/."))) follow = true;
  int hops = 0;
  for (;;) {
    NodePtr cur = s.root;
    bool restarted = false;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (cur->type != FileType::kDirectory) return ENOTDIR;
      auto it = cur->children.find(parts[i]);
      if (it == cur->children.end()) return ENOENT;
      const NodePtr& next = it->second;
      const bool last = i + 1 == parts.size();
      if (next->type == FileType::kSymlink && (!last || follow)) {
        if (++hops > 40) return ELOOP;
        const std::string base = next->data.rfind('/', 0) == 0 ? "" : Joined(parts, 0, i);
        parts = Components(base + "/" + next->data + Joined(parts, i + 1, parts.size()));
        restarted = true;
        break;
      }
      cur = next;
    }
    if (!restarted) {
      *out = cur;
      return 0;
    }
  }
}

// The directory holding `path` and the last name in it.
int ParentOf(State& s, const std::string& path, NodePtr* dir, std::string* name) {
  std::vector<std::string> parts = Components(path);
  if (parts.empty()) return EEXIST;  // the root itself
  *name = parts.back();
  int err = Lookup(s, Joined(parts, 0, parts.size() - 1), true, dir);
  if (err != 0) return err;
  return (*dir)->type == FileType::kDirectory ? 0 : ENOTDIR;
}

int HandleOf(State& s, const Dir& d, NodePtr* out) {
  auto it = s.handles.find(d.fd());
  if (it == s.handles.end()) return EBADF;
  *out = it->second;
  return 0;
}

NodePtr Child(const NodePtr& dir, const std::string& name) {
  auto it = dir->children.find(name);
  return it == dir->children.end() ? nullptr : it->second;
}

bool Contains(const NodePtr& tree, const Node* node) {
  if (tree.get() == node) return true;
  for (const auto& [name, child] : tree->children) {
    if (child->type == FileType::kDirectory && Contains(child, node)) return true;
  }
  return false;
}

FileInfo InfoOf(const Node& n) {
  FileInfo i;
  i.type = n.type;
  i.mode = n.mode;
  i.uid = n.uid;
  i.gid = n.gid;
  i.size = n.type == FileType::kDirectory ? 4096 : n.data.size();
  i.mtime_ns = n.mtime_ns;
  i.ctime_ns = n.ctime_ns;
  i.inode = n.inode;
  i.device = 1;
  i.nlink = n.nlink;
  i.format = n.format;
  i.rdev = n.rdev;
  i.blocks = (i.size + 511) / 512;
  return i;
}

// WritableFile::SetXattrs on a node: sets those that differ, removes replaced ones it lacks.
XattrOutcome SetXattrsOf(Node& n, const Xattrs& xattrs) {
  XattrOutcome out;
  std::map<std::string, std::string> wanted(xattrs.begin(), xattrs.end());
  for (auto it = n.xattrs.begin(); it != n.xattrs.end();) {
    if (wanted.count(it->first) == 0 && IsReplacedXattr(it->first)) {
      it = n.xattrs.erase(it);
      ++out.changed;
    } else {
      ++it;
    }
  }
  for (const auto& [name, value] : wanted) {
    auto it = n.xattrs.find(name);
    if (it != n.xattrs.end() && it->second == value) continue;
    n.xattrs[name] = value;
    ++out.changed;
  }
  return out;
}

int CreateDirIn(State& s, const NodePtr& dir, const std::string& name, uint32_t mode) {
  if (dir->type != FileType::kDirectory) return ENOTDIR;
  if (dir->children.count(name) != 0) return 0;  // EEXIST is ok
  dir->children[name] = s.NewNode(FileType::kDirectory, mode);
  s.Touch(*dir);
  return 0;
}

int RenameIn(State& s, const NodePtr& from_dir, const std::string& from, const NodePtr& to_dir,
             const std::string& to) {
  NodePtr src = Child(from_dir, from);
  if (!src) return ENOENT;
  if (to_dir->type != FileType::kDirectory) return ENOTDIR;
  NodePtr dst = Child(to_dir, to);
  if (dst == src) return 0;
  if (src->type == FileType::kDirectory && Contains(src, to_dir.get())) return EINVAL;
  if (dst) {
    if (src->type == FileType::kDirectory) {
      if (dst->type != FileType::kDirectory) return ENOTDIR;
      if (!dst->children.empty()) return ENOTEMPTY;
    } else if (dst->type == FileType::kDirectory) {
      return EISDIR;
    }
    --dst->nlink;
  }
  from_dir->children.erase(from);
  to_dir->children[to] = src;
  src->ctime_ns = s.NowNs();
  s.Touch(*from_dir);
  s.Touch(*to_dir);
  return 0;
}

int RemoveIn(State& s, const NodePtr& dir, const std::string& name, bool is_dir) {
  NodePtr n = Child(dir, name);
  if (!n) return ENOENT;
  if (is_dir) {
    if (n->type != FileType::kDirectory) return ENOTDIR;
    if (!n->children.empty()) return ENOTEMPTY;
  } else if (n->type == FileType::kDirectory) {
    return EISDIR;
  }
  --n->nlink;
  dir->children.erase(name);
  s.Touch(*dir);
  return 0;
}

int SymlinkIn(State& s, const std::string& target, const NodePtr& dir, const std::string& name) {
  if (dir->children.count(name) != 0) return EEXIST;
  NodePtr link = s.NewNode(FileType::kSymlink, 0777);
  link->data = target;
  dir->children[name] = link;
  s.Touch(*dir);
  return 0;
}

int HardLinkIn(State& s, const NodePtr& from_dir, const std::string& from, const NodePtr& to_dir,
               const std::string& to) {
  NodePtr src = Child(from_dir, from);
  if (!src) return ENOENT;
  if (src->type == FileType::kDirectory) return EPERM;
  if (to_dir->children.count(to) != 0) return EEXIST;
  to_dir->children[to] = src;
  ++src->nlink;
  src->ctime_ns = s.NowNs();
  s.Touch(*to_dir);
  return 0;
}

int SetAttributesOf(Node& n, const Attributes& a) {
  if (a.set_mode && n.type == FileType::kSymlink) return EOPNOTSUPP;
  if (a.set_owner) {
    n.uid = a.uid;
    n.gid = a.gid;
  }
  if (a.set_mode) n.mode = a.mode & 07777;
  if (a.set_mtime) n.mtime_ns = a.mtime_ns;
  return 0;
}

class MemWritableFile : public WritableFile {
 public:
  MemWritableFile(std::shared_ptr<State> state, NodePtr node, std::string path,
                  bool unnamed = false)
      : state_(std::move(state)),
        node_(std::move(node)),
        path_(std::move(path)),
        unnamed_(unnamed) {}

  Status Append(std::string_view data) override {
    std::lock_guard lock(state_->mu);
    if (closed_) return ErrnoError(TrFormat("cannot write {}", path_), EBADF);
    node_->data.append(data);
    state_->Touch(*node_);
    return Ok();
  }
  Status WriteAt(uint64_t offset, std::string_view data) override {
    std::lock_guard lock(state_->mu);
    if (closed_) return ErrnoError(TrFormat("cannot write {}", path_), EBADF);
    if (node_->data.size() < offset + data.size()) node_->data.resize(offset + data.size());
    node_->data.replace(offset, data.size(), data);
    state_->Touch(*node_);
    return Ok();
  }
  Status Sync() override {
    std::lock_guard lock(state_->mu);
    if (closed_) return ErrnoError(TrFormat("cannot fsync {}", path_), EBADF);
    ++state_->syncs;
    return Ok();
  }
  Status SetAttributes(const Attributes& attributes) override {
    std::lock_guard lock(state_->mu);
    if (int err = SetAttributesOf(*node_, attributes); err != 0) {
      return ErrnoError(TrFormat("cannot set mode of {}", path_), err);
    }
    return Ok();
  }
  Status Truncate(uint64_t size) override {
    std::lock_guard lock(state_->mu);
    if (closed_) return ErrnoError(TrFormat("cannot write {}", path_), EBADF);
    node_->data.resize(size);
    state_->Touch(*node_);
    return Ok();
  }
  Result<XattrOutcome> SetXattrs(const Xattrs& xattrs) override {
    std::lock_guard lock(state_->mu);
    if (closed_) return ErrnoError(TrFormat("cannot write {}", path_), EBADF);
    return SetXattrsOf(*node_, xattrs);
  }
  bool unnamed() const override { return unnamed_; }
  Status LinkAt(const Dir& dir, const std::string& name) override {
    if (!unnamed_) return WritableFile::LinkAt(dir, name);
    std::lock_guard lock(state_->mu);
    const std::string to = JoinPath(dir.path(), name);
    if (closed_) return ErrnoError(TrFormat("cannot create {}", to), EBADF);
    NodePtr parent;
    int err = HandleOf(*state_, dir, &parent);
    if (err == 0 && parent->type != FileType::kDirectory) err = ENOTDIR;
    if (err == 0 && parent->children.count(name) != 0) err = EEXIST;
    if (err != 0) return ErrnoError(TrFormat("cannot create {}", to), err);
    parent->children[name] = node_;
    node_->nlink = 1;
    node_->ctime_ns = state_->NowNs();
    state_->Touch(*parent);
    unnamed_ = false;
    path_ = to;
    return Ok();
  }
  Status Close() override {
    std::lock_guard lock(state_->mu);
    if (closed_) return ErrnoError(TrFormat("cannot close {}", path_), EBADF);
    closed_ = true;
    return Ok();
  }

 private:
  std::shared_ptr<State> state_;
  NodePtr node_;
  std::string path_;
  bool unnamed_;  // in no directory yet (WriteOptions::unnamed)
  bool closed_ = false;
};

class MemRandomAccessFile : public RandomAccessFile {
 public:
  MemRandomAccessFile(std::shared_ptr<State> state, NodePtr node)
      : state_(std::move(state)), node_(std::move(node)) {}
  Result<size_t> Read(uint64_t offset, size_t n, char* buf) const override {
    std::lock_guard lock(state_->mu);
    if (offset >= node_->data.size()) return size_t{0};
    const size_t count = std::min<uint64_t>(n, node_->data.size() - offset);
    node_->data.copy(buf, count, offset);
    return count;
  }
  Result<uint64_t> Size() const override {
    std::lock_guard lock(state_->mu);
    return static_cast<uint64_t>(node_->data.size());
  }
  Result<FileInfo> Stat() const override {
    std::lock_guard lock(state_->mu);
    return InfoOf(*node_);
  }

 private:
  std::shared_ptr<State> state_;
  NodePtr node_;
};

// Opens (creating or truncating) `name` in `dir` for writing; an existing symlink there is
// refused with ELOOP (callers that follow one have resolved it already).
int OpenForWrite(State& s, const NodePtr& dir, const std::string& name, const WriteOptions& o,
                 NodePtr* out) {
  if (dir->type != FileType::kDirectory) return ENOTDIR;
  NodePtr n = Child(dir, name);
  if (n) {
    if (o.exclusive) return EEXIST;
    if (n->type == FileType::kSymlink) return ELOOP;
    if (n->type == FileType::kDirectory) return EISDIR;
    if (o.truncate) n->data.clear();
    s.Touch(*n);
  } else {
    n = s.NewNode(FileType::kRegular, o.mode);
    dir->children[name] = n;
    s.Touch(*dir);
  }
  *out = n;
  return 0;
}

// A new Dir handle for the directory `node`.
int NewHandle(State& s, const NodePtr& node) {
  const int handle = s.next_handle--;
  s.handles[handle] = node;
  return handle;
}

// The frame of the methods on a path: under the lock, `op(node)` runs on the node at `path`
// (the last symlink followed when `follow`) and returns an errno value (0: done); a lookup
// errno or the one `op` returns becomes ErrnoError(what(), errno).
template <typename Op, typename What>
Status WithNode(State& s, const std::string& path, bool follow, Op&& op, What&& what) {
  std::lock_guard lock(s.mu);
  NodePtr node;
  int err = Lookup(s, path, follow, &node);
  if (err == 0) err = op(node);
  if (err != 0) return ErrnoError(what(), err);
  return Ok();
}

// The frame of the methods on a Dir handle: as WithNode, on the directory behind `dir` (EBADF
// for a handle this MemEnv did not give out).
template <typename Op, typename What>
Status WithHandle(State& s, const Dir& dir, Op&& op, What&& what) {
  std::lock_guard lock(s.mu);
  NodePtr node;
  int err = HandleOf(s, dir, &node);
  if (err == 0) err = op(node);
  if (err != 0) return ErrnoError(what(), err);
  return Ok();
}

// WithHandle on the entry `name` of the directory behind `dir`: `op(parent, entry)`, ENOENT
// when there is no such entry.
template <typename Op, typename What>
Status WithEntry(State& s, const Dir& dir, const std::string& name, Op&& op, What&& what) {
  return WithHandle(
      s, dir,
      [&](const NodePtr& parent) {
        NodePtr entry = Child(parent, name);
        return entry ? op(parent, entry) : ENOENT;
      },
      what);
}

// WithHandle on two handles: `op(a, b)` with the directories behind `a` and `b`.
template <typename Op, typename What>
Status WithHandles(State& s, const Dir& a, const Dir& b, Op&& op, What&& what) {
  return WithHandle(
      s, a,
      [&](const NodePtr& a_node) {
        NodePtr b_node;
        int err = HandleOf(s, b, &b_node);
        return err != 0 ? err : op(a_node, b_node);
      },
      what);
}

}  // namespace

MemEnv::MemEnv(std::chrono::system_clock::time_point now) : state_(std::make_shared<State>()) {
  state_->wall = now;
  state_->root = state_->NewNode(FileType::kDirectory, 0755);
  state_->self = ProcessIdentity{"mem-host", "mem-machine", "mem-boot", "pid:[1]", 1000, 1};
  state_->processes[1000] = 1;
}

MemEnv::~MemEnv() = default;

void MemEnv::Advance(std::chrono::nanoseconds by) {
  std::lock_guard lock(state_->mu);
  state_->wall += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
  state_->steady += std::chrono::duration_cast<std::chrono::steady_clock::duration>(by);
}

void MemEnv::StepWallClock(std::chrono::nanoseconds by) {
  std::lock_guard lock(state_->mu);
  state_->wall += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
}

std::chrono::nanoseconds MemEnv::Slept() const {
  std::lock_guard lock(state_->mu);
  return state_->slept;
}

void MemEnv::SetThisProcess(const ProcessIdentity& identity) {
  std::lock_guard lock(state_->mu);
  state_->self = identity;
  state_->processes[identity.pid] = identity.start_ticks;
}

void MemEnv::StartProcess(int64_t pid, int64_t start_ticks) {
  std::lock_guard lock(state_->mu);
  state_->processes[pid] = start_ticks;
}

void MemEnv::EndProcess(int64_t pid) {
  std::lock_guard lock(state_->mu);
  state_->processes.erase(pid);
}

void MemEnv::SetEnv(const std::string& name, const std::string& value) {
  std::lock_guard lock(state_->mu);
  state_->environment[name] = value;
}

void MemEnv::UnsetEnv(const std::string& name) {
  std::lock_guard lock(state_->mu);
  state_->environment.erase(name);
}

uint64_t MemEnv::Syncs() const {
  std::lock_guard lock(state_->mu);
  return state_->syncs;
}

void MemEnv::SetUnnamedFiles(bool allowed) {
  std::lock_guard lock(state_->mu);
  state_->unnamed_files = allowed;
}

Result<std::unique_ptr<WritableFile>> MemEnv::NewWritableFile(const std::string& path,
                                                              const WriteOptions& options) {
  std::lock_guard lock(state_->mu);
  State& s = *state_;
  NodePtr dir, node;
  std::string name;
  int err = 0;
  NodePtr existing;
  if (Lookup(s, path, true, &existing) == 0 && !options.exclusive) {
    err = existing->type == FileType::kDirectory ? EISDIR : 0;
    if (err == 0) {
      if (options.truncate) existing->data.clear();
      s.Touch(*existing);
      node = existing;
    }
  } else {
    err = ParentOf(s, path, &dir, &name);
    if (err == 0) err = OpenForWrite(s, dir, name, options, &node);
    if (err == ELOOP) err = EEXIST;  // O_EXCL on a symlink
  }
  if (err != 0) return ErrnoError(TrFormat("cannot create {}", path), err);
  return std::unique_ptr<WritableFile>(std::make_unique<MemWritableFile>(state_, node, path));
}

Result<std::unique_ptr<RandomAccessFile>> MemEnv::NewRandomAccessFile(const std::string& path) {
  NodePtr file;
  VELIN_TRY(WithNode(
      *state_, path, true,
      [&](const NodePtr& node) {
        file = node;
        return node->type == FileType::kDirectory ? EISDIR : 0;
      },
      [&] { return TrFormat("cannot open {}", path); }));
  return std::unique_ptr<RandomAccessFile>(std::make_unique<MemRandomAccessFile>(state_, file));
}

Result<std::string> MemEnv::ReadFile(const std::string& path) {
  std::lock_guard lock(state_->mu);
  NodePtr node;
  int err = Lookup(*state_, path, true, &node);
  if (err != 0) return ErrnoError(TrFormat("cannot open {}", path), err);
  if (node->type == FileType::kDirectory)
    return ErrnoError(TrFormat("cannot read {}", path), EISDIR);
  return node->data;
}

Result<Xattrs> MemEnv::ReadXattrs(const std::string& path) {
  Xattrs out;
  VELIN_TRY(WithNode(
      *state_, path, false,
      [&](const NodePtr& node) {
        for (const auto& [name, value] : node->xattrs) {
          if (IsStoredXattr(name)) out.emplace_back(name, value);
        }
        return 0;
      },
      [&] { return TrFormat("cannot stat {}", path); }));
  return out;
}

Result<FileInfo> MemEnv::Stat(const std::string& path) {
  FileInfo info;
  VELIN_TRY(WithNode(
      *state_, path, false,
      [&](const NodePtr& node) {
        info = InfoOf(*node);
        return 0;
      },
      [&] { return TrFormat("cannot stat {}", path); }));
  return info;
}

Result<bool> MemEnv::Exists(const std::string& path) {
  std::lock_guard lock(state_->mu);
  NodePtr node;
  int err = Lookup(*state_, path, false, &node);
  if (err == 0) return true;
  if (err == ENOENT || err == ENOTDIR) return false;
  return ErrnoError(TrFormat("cannot stat {}", path), err);
}

Result<std::vector<DirEntry>> MemEnv::ListDir(const std::string& path) {
  std::vector<DirEntry> out;
  VELIN_TRY(WithNode(
      *state_, path, true,
      [&](const NodePtr& node) {
        if (node->type != FileType::kDirectory) return ENOTDIR;
        for (const auto& [name, child] : node->children) out.push_back(DirEntry{name, child->type});
        return 0;
      },
      [&] { return TrFormat("cannot list {}", path); }));
  return out;
}

Result<std::string> MemEnv::RealPathOf(const Dir& dir) {
  std::string found;
  VELIN_TRY(WithHandle(
      *state_, dir,
      [&](const NodePtr& node) {
        // Searched from the root through directories only: the path the kernel would give.
        std::function<bool(const NodePtr&, const std::string&)> find = [&](const NodePtr& at,
                                                                           const std::string& p) {
          if (at == node) {
            found = p.empty() ? "/" : p;
            return true;
          }
          for (const auto& [name, child] : at->children) {
            if (child->type == FileType::kDirectory && find(child, p + "/" + name)) return true;
          }
          return false;
        };
        return find(state_->root, "") ? 0 : ENOENT;
      },
      [&] { return TrFormat("cannot tell where directory {} is", dir.path()); }));
  return found;
}

Status MemEnv::CreateDir(const std::string& path, uint32_t mode) {
  std::lock_guard lock(state_->mu);
  NodePtr dir;
  std::string name;
  int err = ParentOf(*state_, path, &dir, &name);
  if (err == EEXIST) return Ok();  // the root
  if (err == 0) err = CreateDirIn(*state_, dir, name, mode);
  if (err != 0) return ErrnoError(TrFormat("cannot create directory {}", path), err);
  return Ok();
}

Status MemEnv::Rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(state_->mu);
  NodePtr from_dir, to_dir;
  std::string from_name, to_name;
  int err = ParentOf(*state_, from, &from_dir, &from_name);
  if (err == 0) err = ParentOf(*state_, to, &to_dir, &to_name);
  if (err == 0) err = RenameIn(*state_, from_dir, from_name, to_dir, to_name);
  if (err != 0) return ErrnoError(TrFormat("cannot rename {} to {}", from, to), err);
  return Ok();
}

Status MemEnv::RemoveFile(const std::string& path) {
  std::lock_guard lock(state_->mu);
  NodePtr dir;
  std::string name;
  int err = ParentOf(*state_, path, &dir, &name);
  if (err == 0) err = RemoveIn(*state_, dir, name, false);
  if (err != 0) return ErrnoError(TrFormat("cannot remove {}", path), err);
  return Ok();
}

Status MemEnv::RemoveDir(const std::string& path) {
  std::lock_guard lock(state_->mu);
  NodePtr dir;
  std::string name;
  int err = ParentOf(*state_, path, &dir, &name);
  if (err == EEXIST) err = EBUSY;  // the root
  if (err == 0) err = RemoveIn(*state_, dir, name, true);
  if (err != 0) return ErrnoError(TrFormat("cannot remove directory {}", path), err);
  return Ok();
}

Status MemEnv::SyncDir(const std::string& path) {
  return WithNode(
      *state_, path, true,
      [&](const NodePtr& node) {
        if (node->type != FileType::kDirectory) return ENOTDIR;
        ++state_->syncs;
        return 0;
      },
      [&] { return TrFormat("cannot open directory {}", path); });
}

Status MemEnv::Symlink(const std::string& target, const std::string& link_path) {
  std::lock_guard lock(state_->mu);
  NodePtr dir;
  std::string name;
  int err = ParentOf(*state_, link_path, &dir, &name);
  if (err == 0) err = SymlinkIn(*state_, target, dir, name);
  if (err != 0) return ErrnoError(TrFormat("cannot create symlink {}", link_path), err);
  return Ok();
}

Result<std::string> MemEnv::ReadLink(const std::string& path) {
  std::string target;
  VELIN_TRY(WithNode(
      *state_, path, false,
      [&](const NodePtr& node) {
        if (node->type != FileType::kSymlink) return EINVAL;
        target = node->data;
        return 0;
      },
      [&] { return TrFormat("cannot read symlink {}", path); }));
  return target;
}

Status MemEnv::HardLink(const std::string& existing, const std::string& new_path) {
  std::lock_guard lock(state_->mu);
  NodePtr from_dir, to_dir;
  std::string from_name, to_name;
  int err = ParentOf(*state_, existing, &from_dir, &from_name);
  if (err == 0) err = ParentOf(*state_, new_path, &to_dir, &to_name);
  if (err == 0) err = HardLinkIn(*state_, from_dir, from_name, to_dir, to_name);
  if (err != 0) return ErrnoError(TrFormat("cannot link {} to {}", new_path, existing), err);
  return Ok();
}

Status MemEnv::SetMode(const std::string& path, uint32_t mode) {
  return WithNode(
      *state_, path, true,
      [&](const NodePtr& node) {
        node->mode = mode & 07777;
        node->ctime_ns = state_->NowNs();
        return 0;
      },
      [&] { return TrFormat("cannot set mode of {}", path); });
}

Status MemEnv::SetOwner(const std::string& path, uint32_t uid, uint32_t gid) {
  return WithNode(
      *state_, path, false,
      [&](const NodePtr& node) {
        node->uid = uid;
        node->gid = gid;
        return 0;
      },
      [&] { return TrFormat("cannot chown {}", path); });
}

Status MemEnv::SetMtime(const std::string& path, int64_t mtime_ns) {
  return WithNode(
      *state_, path, false,
      [&](const NodePtr& node) {
        node->mtime_ns = mtime_ns;
        return 0;
      },
      [&] { return TrFormat("cannot set mtime of {}", path); });
}

Result<DirPtr> MemEnv::OpenDir(const std::string& path) {
  int handle = 0;
  VELIN_TRY(WithNode(
      *state_, path, true,
      [&](const NodePtr& node) {
        if (node->type != FileType::kDirectory) return ENOTDIR;
        handle = NewHandle(*state_, node);
        return 0;
      },
      [&] { return TrFormat("cannot open directory {}", path); }));
  return std::make_shared<const Dir>(handle, path);
}

Result<DirPtr> MemEnv::OpenDirAt(const Dir& dir, const std::string& name, bool follow) {
  const std::string path = JoinPath(dir.path(), name);
  int handle = 0;
  VELIN_TRY(WithEntry(
      *state_, dir, name,
      [&](const NodePtr&, NodePtr node) {
        if (node->type == FileType::kSymlink) {
          if (!follow) return ELOOP;
          if (int err = Lookup(*state_, path, true, &node); err != 0) return err;
        }
        if (node->type != FileType::kDirectory) return ENOTDIR;
        handle = NewHandle(*state_, node);
        return 0;
      },
      [&] { return TrFormat("cannot open directory {}", path); }));
  return std::make_shared<const Dir>(handle, path);
}

Status MemEnv::CreateDirAt(const Dir& dir, const std::string& name, uint32_t mode) {
  return WithHandle(
      *state_, dir, [&](const NodePtr& parent) { return CreateDirIn(*state_, parent, name, mode); },
      [&] { return TrFormat("cannot create directory {}", JoinPath(dir.path(), name)); });
}

Result<FileInfo> MemEnv::StatAt(const Dir& dir, const std::string& name) {
  FileInfo info;
  if (name == ".") {  // the directory itself (env.hpp)
    VELIN_TRY(WithHandle(
        *state_, dir,
        [&](const NodePtr& node) {
          info = InfoOf(*node);
          return 0;
        },
        [&] { return TrFormat("cannot stat {}", dir.path()); }));
    return info;
  }
  VELIN_TRY(WithEntry(
      *state_, dir, name,
      [&](const NodePtr&, const NodePtr& node) {
        info = InfoOf(*node);
        return 0;
      },
      [&] { return TrFormat("cannot stat {}", JoinPath(dir.path(), name)); }));
  return info;
}

Result<std::unique_ptr<WritableFile>> MemEnv::NewWritableFileAt(const Dir& dir,
                                                                const std::string& name,
                                                                const WriteOptions& options) {
  const std::string path = JoinPath(dir.path(), name);
  NodePtr node;
  bool unnamed = false;
  VELIN_TRY(WithHandle(
      *state_, dir,
      [&](const NodePtr& parent) {
        if (options.unnamed && state_->unnamed_files) {  // O_TMPFILE: an inode in no directory
          if (parent->type != FileType::kDirectory) return ENOTDIR;
          node = state_->NewNode(FileType::kRegular, options.mode);
          node->nlink = 0;
          unnamed = true;
          return 0;
        }
        // Named instead of unnamed: the owner's bits alone while it is written (PosixEnv).
        WriteOptions named = options;
        if (options.unnamed) named.mode &= 0700;
        return OpenForWrite(*state_, parent, name, named, &node);
      },
      [&] { return TrFormat("cannot create {}", path); }));
  return std::unique_ptr<WritableFile>(
      std::make_unique<MemWritableFile>(state_, node, path, unnamed));
}

Status MemEnv::RenameAt(const Dir& from_dir, const std::string& from, const Dir& to_dir,
                        const std::string& to) {
  return WithHandles(
      *state_, from_dir, to_dir,
      [&](const NodePtr& a, const NodePtr& b) { return RenameIn(*state_, a, from, b, to); },
      [&] {
        return TrFormat("cannot rename {} to {}", JoinPath(from_dir.path(), from),
                        JoinPath(to_dir.path(), to));
      });
}

Status MemEnv::RemoveAt(const Dir& dir, const std::string& name, bool is_dir) {
  return WithHandle(
      *state_, dir, [&](const NodePtr& parent) { return RemoveIn(*state_, parent, name, is_dir); },
      [&] { return TrFormat("cannot remove {}", JoinPath(dir.path(), name)); });
}

Status MemEnv::SymlinkAt(const std::string& target, const Dir& dir, const std::string& name) {
  return WithHandle(
      *state_, dir, [&](const NodePtr& parent) { return SymlinkIn(*state_, target, parent, name); },
      [&] { return TrFormat("cannot create symlink {}", JoinPath(dir.path(), name)); });
}

Result<std::string> MemEnv::ReadLinkAt(const Dir& dir, const std::string& name) {
  std::string target;
  VELIN_TRY(WithEntry(
      *state_, dir, name,
      [&](const NodePtr&, const NodePtr& node) {
        if (node->type != FileType::kSymlink) return EINVAL;
        target = node->data;
        return 0;
      },
      [&] { return TrFormat("cannot read symlink {}", JoinPath(dir.path(), name)); }));
  return target;
}

Status MemEnv::HardLinkAt(const Dir& from_dir, const std::string& from, const Dir& to_dir,
                          const std::string& to) {
  return WithHandles(
      *state_, from_dir, to_dir,
      [&](const NodePtr& a, const NodePtr& b) { return HardLinkIn(*state_, a, from, b, to); },
      [&] {
        return TrFormat("cannot link {} to {}", JoinPath(to_dir.path(), to),
                        JoinPath(from_dir.path(), from));
      });
}

Status MemEnv::SetDirAttributes(const Dir& dir, const Attributes& attributes) {
  return WithHandle(
      *state_, dir, [&](const NodePtr& node) { return SetAttributesOf(*node, attributes); },
      [&] { return TrFormat("cannot set mode of {}", dir.path()); });
}

Result<XattrOutcome> MemEnv::SetDirXattrs(const Dir& dir, const Xattrs& xattrs) {
  XattrOutcome outcome;
  VELIN_TRY(WithHandle(
      *state_, dir,
      [&](const NodePtr& node) {
        outcome = SetXattrsOf(*node, xattrs);
        return 0;
      },
      [&] { return TrFormat("cannot set mode of {}", dir.path()); }));
  return outcome;
}

Status MemEnv::MakeNodeAt(const Dir& dir, const std::string& name, SpecialKind kind, uint32_t mode,
                          uint64_t rdev) {
  return WithHandle(
      *state_, dir,
      [&](const NodePtr& parent) {
        if (parent->children.count(name) != 0) return EEXIST;
        NodePtr node = state_->NewNode(FileType::kOther, mode);
        node->format = kind == SpecialKind::kFifo         ? 0010000u
                       : kind == SpecialKind::kCharDevice ? 0020000u
                                                          : 0060000u;
        node->rdev = rdev;
        parent->children[name] = node;
        state_->Touch(*parent);
        return 0;
      },
      [&] { return TrFormat("cannot create {}", JoinPath(dir.path(), name)); });
}

Status MemEnv::SetAttributesAt(const Dir& dir, const std::string& name,
                               const Attributes& attributes) {
  return WithEntry(
      *state_, dir, name,
      [&](const NodePtr&, const NodePtr& node) { return SetAttributesOf(*node, attributes); },
      [&] { return TrFormat("cannot set mode of {}", JoinPath(dir.path(), name)); });
}

Status MemEnv::SyncFileSystem(const Dir& dir) {
  return WithHandle(
      *state_, dir,
      [&](const NodePtr&) {
        ++state_->syncs;
        return 0;
      },
      [&] { return TrFormat("syncfs {}", dir.path()); });
}

std::chrono::system_clock::time_point MemEnv::Now() {
  std::lock_guard lock(state_->mu);
  return state_->wall;
}

std::chrono::steady_clock::time_point MemEnv::SteadyNow() {
  std::lock_guard lock(state_->mu);
  return state_->steady;
}

void MemEnv::SleepFor(std::chrono::nanoseconds duration) {
  if (duration.count() <= 0) return;
  std::function<void()> hook;
  {
    std::lock_guard lock(state_->mu);
    state_->slept += duration;
    hook = state_->on_sleep;
  }
  Advance(duration);
  if (hook) hook();
}

void MemEnv::OnSleep(std::function<void()> hook) {
  std::lock_guard lock(state_->mu);
  state_->on_sleep = std::move(hook);
}

std::string MemEnv::HostName() {
  std::lock_guard lock(state_->mu);
  return state_->self.host;
}

ProcessIdentity MemEnv::ThisProcess() {
  std::lock_guard lock(state_->mu);
  return state_->self;
}

bool MemEnv::ProcessExists(int64_t pid) {
  std::lock_guard lock(state_->mu);
  return state_->processes.count(pid) != 0;
}

int64_t MemEnv::ProcessStartTicks(int64_t pid) {
  std::lock_guard lock(state_->mu);
  auto it = state_->processes.find(pid);
  return it == state_->processes.end() ? 0 : it->second;
}

Result<std::string> MemEnv::MakeTempDir(const std::string& prefix) {
  std::string base;
  {
    std::lock_guard lock(state_->mu);
    auto tmp = state_->environment.find("TMPDIR");
    base = tmp != state_->environment.end() && !tmp->second.empty() ? tmp->second : "/tmp";
  }
  VELIN_TRY(CreateDirs(*this, base, 01777));
  for (;;) {
    std::string path;
    {
      std::lock_guard lock(state_->mu);
      path = base + "/" + prefix + std::to_string(++state_->temp_dirs);
    }
    VELIN_ASSIGN(bool taken, Exists(path));
    if (taken) continue;
    VELIN_TRY(CreateDir(path, 0700));
    return path;
  }
}

std::optional<std::string> MemEnv::GetEnv(const std::string& name) {
  std::lock_guard lock(state_->mu);
  auto it = state_->environment.find(name);
  if (it == state_->environment.end()) return std::nullopt;
  return it->second;
}

}  // namespace velin::io
