#include "archiver_walk.hpp"

#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <optional>
#include <vector>

#include "velin/core/i18n.hpp"
#include "velin/core/stack.hpp"
#include "velin/core/termination.hpp"
#include "velin/io/time_ns.hpp"

namespace velin::backup {

using repo::BlobId;
using repo::Node;
using repo::NodeType;
using repo::Tree;

bool IsExcluded(const std::vector<std::string>& patterns, const std::string& rel) {
  std::string base = io::Basename(rel);
  for (const auto& p : patterns) {
    if (fnmatch(p.c_str(), rel.c_str(), 0) == 0) return true;
    if (p.find('/') == std::string::npos && fnmatch(p.c_str(), base.c_str(), 0) == 0) return true;
  }
  return false;
}

ArchiveWalk::ArchiveWalk(repo::Repository& repo, io::Env& env, Reporter& reporter,
                         const CreateOptions& options, repo::BlobWriter& writer,
                         const repo::Snapshot* parent)
    : repo_(repo),
      env_(env),
      reporter_(reporter),
      options_(options),
      writer_(writer),
      parent_(parent),
      chunker_(repo.chunker(),
               [this](std::string_view chunk) { return SaveChunk(chunk, *chunk_ids_); }) {}

void ArchiveWalk::StartDeltaBases(const std::vector<BlobId>* earlier) {
  earlier_ = earlier && !earlier->empty() && repo_.delta_blobs() ? earlier : nullptr;
  earlier_start_.clear();
  earlier_pos_.clear();
  offset_ = 0;
  drift_ = 0;
  if (!earlier_) return;
  uint64_t at = 0;
  for (size_t i = 0; i < earlier_->size(); ++i) {
    const std::optional<repo::IndexEntry> e = repo_.index().Find((*earlier_)[i]);
    if (!e) {  // cannot place its chunks: no bases
      earlier_ = nullptr;
      return;
    }
    earlier_start_.push_back(at);
    at += e->raw_length;
    earlier_pos_.try_emplace((*earlier_)[i], i);
  }
  earlier_start_.push_back(at);
}

// Content-defined cuts mostly survive edits, and the content between two surviving cuts is
// what it was give or take the edits: a chunk now is paired with the earlier chunk that
// overlaps it most once offsets are corrected by the drift (the bytes inserted or deleted
// before it). The drift is exact after an unchanged chunk and is re-anchored whenever a cut
// now lands near a cut then, so it follows edits spread all over a stream (a database dump
// where every chunk changed) and cuts that appeared or vanished.
const BlobId* ArchiveWalk::DeltaBase(const BlobId& id, size_t size) {
  const int64_t start = static_cast<int64_t>(offset_);
  const int64_t end = start + static_cast<int64_t>(size);
  offset_ += size;
  if (!earlier_) return nullptr;
  if (auto it = earlier_pos_.find(id); it != earlier_pos_.end()) {
    drift_ = static_cast<int64_t>(earlier_start_[it->second]) - start;
    return nullptr;
  }
  const auto& cuts = earlier_start_;  // n + 1 offsets: chunk i is [cuts[i], cuts[i + 1])
  const int64_t lo = start + drift_;
  const int64_t hi = end + drift_;
  // The cut then nearest to `at` (an offset then), when within the tolerance.
  constexpr int64_t kTolerance = 64 * 1024;
  auto near_cut = [&](int64_t at) -> std::optional<int64_t> {
    auto it =
        std::lower_bound(cuts.begin(), cuts.end(), static_cast<uint64_t>(std::max<int64_t>(at, 0)));
    int64_t best = INT64_MAX;
    if (it != cuts.end()) best = static_cast<int64_t>(*it);
    if (it != cuts.begin() && at - static_cast<int64_t>(*std::prev(it)) < best - at) {
      best = static_cast<int64_t>(*std::prev(it));
    }
    if (best == INT64_MAX || std::abs(best - at) > kTolerance) return std::nullopt;
    return best;
  };
  if (auto cut = near_cut(lo)) {
    drift_ = *cut - start;
  } else if (auto cut = near_cut(hi)) {
    drift_ = *cut - end;
  }
  const int64_t from = start + drift_;
  const int64_t to = end + drift_;
  size_t i =
      static_cast<size_t>(std::upper_bound(cuts.begin(), cuts.end(),
                                           static_cast<uint64_t>(std::max<int64_t>(from, 0))) -
                          cuts.begin());
  i = i > 0 ? i - 1 : 0;
  const BlobId* best = nullptr;
  int64_t best_overlap = 0;
  for (; i + 1 < cuts.size() && static_cast<int64_t>(cuts[i]) < to; ++i) {
    int64_t overlap = std::min<int64_t>(to, static_cast<int64_t>(cuts[i + 1])) -
                      std::max<int64_t>(from, static_cast<int64_t>(cuts[i]));
    if (overlap > best_overlap) {
      best_overlap = overlap;
      best = &(*earlier_)[i];
    }
  }
  return best;
}

Status ArchiveWalk::SaveChunk(std::string_view chunk, std::vector<BlobId>& ids) {
  VELIN_TRY(CheckInterrupted());  // a backup asked to stop (core/termination.hpp): per chunk
  BlobId id;
  if (chunker_.IsZeroChunk(chunk) && zero_chunk_id_) {
    id = *zero_chunk_id_;  // the same bytes as the first one of a hole, hashed then
  } else {
    VELIN_ASSIGN(id, repo_.HashBlob(chunk));
    if (chunker_.IsZeroChunk(chunk)) zero_chunk_id_ = id;
  }
  ids.push_back(id);
  const BlobId* base = DeltaBase(id, chunk.size());
  if (writer_.Known(id)) return Ok();
  std::string data = writer_.TakeBuffer(chunk.size());
  data.assign(chunk);
  return writer_.Save(repo::BlobType::kData, id, std::move(data), base);
}

Result<BlobId> ArchiveWalk::SaveTree(Tree& tree) {
  // The names DecodeTree refuses: written, they would commit a backup that no ls, restore or
  // verify can read. A directory entry never has such a name; this is the last guard.
  for (const Node& node : tree.nodes) {
    if (!repo::IsValidNodeName(node.name)) {
      return Failure(
          TrFormat("cannot record the name '{}' in a backup (empty, '.', '..', '/' or NUL): no "
                   "restore could read it",
                   node.name));
    }
  }
  tree.format = repo_.extended_trees() ? 2 : 1;
  std::string data = repo::EncodeTree(tree);
  VELIN_ASSIGN(BlobId id, repo_.HashBlob(data));
  VELIN_TRY(writer_.Save(repo::BlobType::kTree, id, std::move(data)));
  return id;
}

const Tree* ArchiveWalk::ParentSubtree(const Node* parent_node) {
  if (!parent_node || parent_node->type != NodeType::kDir) return nullptr;
  auto it = parent_trees_.find(parent_node->subtree);
  if (it != parent_trees_.end()) return &it->second;
  auto tree = repo_.ReadTree(parent_node->subtree);
  if (!tree) return nullptr;  // unreadable parent: read everything below, as a full backup would
  return &parent_trees_.emplace(parent_node->subtree, std::move(*tree)).first->second;
}

// The error of an entry found replaced by another one (ENOENT: ArchiveDir's Vanished() then
// tells whether the entry is really another one now).
static Error Replaced(const std::string& abs) {
  return Error{ExitCode::kFailed,
               TrFormat("{} was replaced by another file while the backup read it", abs), ENOENT};
}

Result<const io::Dir*> EntryDir::Get() {
  if (!dir_) {
    VELIN_ASSIGN(io::DirPtr dir, env_.OpenDir(abs_));
    stable_inodes_ = env_.StableInodes(*dir);
    if (auto self = env_.StatAt(*dir, "."); self && !io::SameFile(*self, info_, stable_inodes_)) {
      return tl::unexpected(Replaced(abs_));
    }
    dir_ = std::move(dir);
  }
  return dir_.get();
}

Status ArchiveWalk::ReadContent(const std::string& abs, const io::FileInfo& info, Node& node,
                                io::FileInfo& after) {
  std::unique_ptr<io::RandomAccessFile> file = std::move(opened_ahead_);
  bool stable = true;  // whether its file system keeps inode numbers: its directory's
  if (!file) {
    // In its directory, not following a symlink there: what is read is the file listed, or
    // nothing (checked below).
    io::DirPtr own;
    const io::Dir* dir = nullptr;
    if (entry_dir_) {
      VELIN_ASSIGN(dir, entry_dir_->Get());
    } else {
      VELIN_ASSIGN(own, env_.OpenDir(io::Dirname(abs)));
      dir = own.get();
      stable = env_.StableInodes(*dir);
    }
    VELIN_ASSIGN(file, env_.NewRandomAccessFileAt(*dir, io::Basename(abs)));
  }
  if (entry_dir_) stable = entry_dir_->stable_inodes();  // opened through it
  // velin reads as root what anyone who may write in the tree may swap: a symlink to
  // /etc/shadow put in place of an upload between its lstat and its open would otherwise be
  // stored as that upload, and restored readable to them.
  VELIN_ASSIGN(io::FileInfo opened, file->Stat());
  if (!io::SameFile(opened, info, stable)) {
    // Another regular file renamed over it (an atomic save, as applications write their state
    // files): ArchiveEntry takes this one, the file open, never what a path leads to now. A
    // symlink (O_NOFOLLOW), a fifo, a device or a directory is not read. Only through the
    // entry's directory, checked to be the one listed: an include's own path may have been
    // reached through a directory made to lead elsewhere.
    if (entry_dir_ && opened.type == io::FileType::kRegular) {
      replacement_ = Replacement{.file = std::move(file), .info = opened};
    }
    return tl::unexpected(Replaced(abs));
  }
  node.content.clear();
  chunk_ids_ = &node.content;
  uint64_t offset = 0;
  // A sparse file's holes are fed as zeros without reading them (FeedZeros: whole chunks of
  // zeros are neither copied nor scanned, and hashed once: SaveChunk). The same chunks as
  // reading them: a file system that tells no holes, or a hole filled meanwhile, is read.
  bool holes = opened.blocks * 512 < opened.size;
  std::optional<io::RandomAccessFile::Hole> hole;
  for (;;) {
    size_t want = 4 << 20;
    if (holes && (!hole || hole->end <= offset)) {
      hole = file->NextHole(offset);
      holes = hole.has_value();
    }
    if (hole && hole->end > offset) {
      if (hole->begin <= offset) {
        const uint64_t zeros = hole->end - offset;
        VELIN_TRY(chunker_.FeedZeros(zeros));
        offset += zeros;
        reporter_.UpdateProgress(stats_.bytes + offset, stats_.files);
        continue;
      }
      want = static_cast<size_t>(std::min<uint64_t>(want, hole->begin - offset));
    }
    size_t room = 0;
    char* space = chunker_.Space(&room);  // read straight into the chunker's buffer
    VELIN_ASSIGN(size_t n, file->Read(offset, std::min<size_t>(room, want), space));
    if (n == 0) break;
    offset += n;
    VELIN_TRY(chunker_.Fill(n));
    reporter_.UpdateProgress(stats_.bytes + offset, stats_.files);
  }
  VELIN_TRY(chunker_.Finish());
  VELIN_ASSIGN(after, file->Stat());
  node.size = offset;
  stats_.files_read++;
  stats_.bytes_read += offset;
  return Ok();
}

static std::optional<NodeType> SpecialType(const io::FileInfo& info) {
  if (info.type != io::FileType::kOther) return std::nullopt;
  if (info.format == S_IFIFO) return NodeType::kFifo;
  if (info.format == S_IFCHR) return NodeType::kCharDevice;
  if (info.format == S_IFBLK) return NodeType::kBlockDevice;
  return std::nullopt;  // a socket
}

// An unchanged file or directory (same inode, same ctime: setting an attribute changes the
// ctime) keeps the extended attributes the incremental parent recorded, without reading them.
Status ArchiveWalk::ReadXattrs(const std::string& abs, const io::FileInfo& info,
                               const Node* parent_node, Node& node) {
  node.xattrs_known = true;
  if (options_.strategy == repo::Strategy::kIncremental && parent_node &&
      parent_node->xattrs_known && parent_node->type == node.type &&
      parent_node->ctime_ns == info.ctime_ns && parent_node->inode == info.inode) {
    node.xattrs = parent_node->xattrs;
  } else {
    if (entry_dir_) {
      // Through its directory's descriptor: a directory above swapped for a symlink (to
      // /usr/bin, whose file capabilities a restore would then give this file) is not followed.
      VELIN_ASSIGN(const io::Dir* dir, entry_dir_->Get());
      VELIN_ASSIGN(node.xattrs, env_.ReadXattrsAt(*dir, io::Basename(abs)));
    } else {
      // An include that is a symlink to a directory: the directory's attributes, not the link's.
      VELIN_ASSIGN(node.xattrs, env_.ReadXattrs(abs == followed_root_ ? abs + "/." : abs));
    }
  }
  for (const auto& [name, value] : node.xattrs) {
    if (name.size() > repo::kMaxXattrName || value.size() > repo::kMaxXattrValue) {
      return Failure(TrFormat("extended attribute {} is larger than Linux allows", name));
    }
  }
  if (!repo_.extended_trees() && !node.xattrs.empty()) unstored_xattr_files_++;
  return Ok();
}

Status ArchiveWalk::ArchiveNode(const std::string& abs, const std::string& rel_app,
                                const std::string& rel_src, const io::FileInfo& info,
                                const Node* parent_node, Node& node) {
  node.mode = info.mode;
  node.uid = info.uid;
  node.gid = info.gid;
  node.mtime_ns = info.mtime_ns;
  node.ctime_ns = info.ctime_ns;
  node.inode = info.inode;
  node.size = info.size;
  if (io::AtTimeLimit(info.mtime_ns)) clamped_mtimes_.Add(rel_app);
  switch (info.type) {
    case io::FileType::kDirectory: {
      node.type = NodeType::kDir;
      node.size = 0;
      stats_.dirs++;
      auto subtree = ArchiveDir(abs, rel_app, rel_src, info, parent_node);
      // Done with the earlier listing of this directory: parent trees in memory stay as many
      // as the directory depth, not the whole earlier backup.
      if (parent_node && parent_node->type == NodeType::kDir) {
        parent_trees_.erase(parent_node->subtree);
      }
      if (!subtree) return tl::unexpected(subtree.error());
      node.subtree = *subtree;
      return ReadXattrs(abs, info, parent_node, node);
    }
    case io::FileType::kSymlink: {
      node.type = NodeType::kSymlink;
      if (entry_dir_) {
        VELIN_ASSIGN(const io::Dir* dir, entry_dir_->Get());
        VELIN_ASSIGN(node.target, env_.ReadLinkAt(*dir, io::Basename(abs)));
      } else {
        VELIN_ASSIGN(node.target, env_.ReadLink(abs));
      }
      return Ok();
    }
    case io::FileType::kRegular:
      break;
    case io::FileType::kOther: {
      auto special = SpecialType(info);
      if (!special || !repo_.extended_trees()) {  // callers skip these before
        return Failure(std::string(Tr("unsupported file type")));
      }
      node.type = *special;
      node.size = 0;
      node.rdev = *special == NodeType::kFifo ? 0 : info.rdev;
      stats_.files++;
      return Ok();
    }
  }
  stats_.files++;
  if (info.nlink > 1) {
    auto [it, first] = hardlinks_.try_emplace({info.device, info.inode}, rel_src);
    if (!first) {
      node.type = NodeType::kHardlink;
      node.target = it->second;
      return Ok();
    }
    WarnLinkAcrossIncludes(info, rel_app);
  }
  node.type = NodeType::kFile;
  node.sparse = info.blocks * 512 < info.size;
  VELIN_TRY(ReadXattrs(abs, info, parent_node, node));
  if (Unchanged(parent_node, info)) {
    node.content = parent_node->content;  // reused without reading
    stats_.bytes += info.size;
    return Ok();
  }
  // A file written while it is read (an upload arriving, a log) may be copied half old, half
  // new. Its fstat after the read tells: then it is read once more, and recorded with the
  // fstat taken before that read, so that the next incremental backup reads it again. A file
  // that changes during both reads keeps the second copy, and is named (changed()).
  io::FileInfo before = info;
  for (int reads = 1;; ++reads) {
    StartDeltaBases(parent_node && parent_node->type == NodeType::kFile ? &parent_node->content
                                                                        : nullptr);
    io::FileInfo after;
    Status read = ReadContent(abs, info, node, after);
    StartDeltaBases(nullptr);
    VELIN_TRY(read);
    if (!ChangedWhileRead(before, after, node.size)) break;
    if (reads == 2) {
      changed_.Add(rel_app);
      break;
    }
    before = after;
    node.mode = before.mode;
    node.uid = before.uid;
    node.gid = before.gid;
    node.mtime_ns = before.mtime_ns;
    node.ctime_ns = before.ctime_ns;
    node.sparse = before.blocks * 512 < before.size;
    stats_.files_read--;  // one file, read twice
  }
  stats_.bytes += node.size;
  return Ok();
}

bool ArchiveWalk::ChangedWhileRead(const io::FileInfo& before, const io::FileInfo& after,
                                   uint64_t bytes_read) {
  return after.type != before.type || after.inode != before.inode || after.size != before.size ||
         after.mtime_ns != before.mtime_ns || after.ctime_ns != before.ctime_ns ||
         bytes_read != after.size;
}

ArchiveWalk::Vanishing ArchiveWalk::Vanished(const Error& error, const std::string& abs,
                                             const io::FileInfo& info) {
  // ELOOP: a symlink in its place (O_NOFOLLOW); ENXIO: a socket; EINVAL from readlink: a
  // symlink listed, something else there now.
  const bool relinked = error.sys_errno == EINVAL && info.type == io::FileType::kSymlink;
  if (error.sys_errno != ENOENT && error.sys_errno != ENOTDIR && error.sys_errno != ELOOP &&
      error.sys_errno != ENXIO && !relinked) {
    return Vanishing::kNo;
  }
  // Only when the entry itself is gone or is another one now: an ENOENT of anything else (the
  // repository's directory removed) stays the error it is.
  auto now = env_.Stat(abs);
  if (!now) {
    return now.error().sys_errno == ENOENT || now.error().sys_errno == ENOTDIR ? Vanishing::kDeleted
                                                                               : Vanishing::kNo;
  }
  return now->inode != info.inode || now->type != info.type ? Vanishing::kReplaced : Vanishing::kNo;
}

void ArchiveWalk::Forget(const repo::SnapshotStats& counted, const std::string& rel_src) {
  stats_.files = counted.files;
  stats_.dirs = counted.dirs;
  stats_.bytes = counted.bytes;
  // No later link of its group names it as the one stored.
  std::erase_if(hardlinks_, [&](const auto& link) {
    return link.second == rel_src || link.second.starts_with(rel_src + "/");
  });
}

Status ArchiveWalk::ArchiveEntry(const std::string& abs, const std::string& rel_app,
                                 const std::string& rel_src, io::FileInfo& info,
                                 const Node* parent_node, Node& node) {
  const repo::SnapshotStats counted = stats_;
  const PathSample clamped = clamped_mtimes_;
  const uint64_t unstored_xattr_files = unstored_xattr_files_;
  const std::string name = node.name;
  for (int takes = 1;; ++takes) {
    Status st = ArchiveNode(abs, rel_app, rel_src, info, parent_node, node);
    opened_ahead_.reset();  // not read after all (a second link to a file read already)
    std::optional<Replacement> replacement = std::move(replacement_);
    replacement_.reset();
    if (st || !replacement || takes == kReplacedTakes) return st;
    // Recorded as the file read: its fstat's inode, size, mtime and mode, and its own place
    // among the hard links (it may be a link to a file met before).
    Forget(counted, rel_src);
    clamped_mtimes_ = clamped;
    unstored_xattr_files_ = unstored_xattr_files;
    node = Node{};
    node.name = name;
    info = replacement->info;
    opened_ahead_ = std::move(replacement->file);
  }
}

bool ArchiveWalk::Unchanged(const Node* parent_node, const io::FileInfo& info) const {
  if (options_.strategy != repo::Strategy::kIncremental || !parent_node ||
      parent_node->type != NodeType::kFile || parent_node->size != info.size ||
      parent_node->mtime_ns != info.mtime_ns || parent_node->ctime_ns != info.ctime_ns ||
      parent_node->inode != info.inode) {
    return false;
  }
  // Reused chunks must be stored: one that no index lists (its index object damaged, a delta
  // whose base is gone) would make the new backup as unrestorable as the parent. Such a file is
  // read and its chunks stored again.
  return std::all_of(parent_node->content.begin(), parent_node->content.end(),
                     [&](const BlobId& id) { return writer_.Known(id); });
}

namespace {

// Reads ahead of the walk in one directory. While one file is read, the next ones the walk will
// read (up to kFiles of them and kBytes of their starts) are already open and the kernel has
// been asked for their first kFileBytes (posix_fadvise WILLNEED), so a tree that is not in the
// page cache is read with many requests in flight instead of one at a time: reading 300,000
// small files cold took 20.2 s one by one and 8.7 s with 32 ahead (bench/README.md). Files
// are opened by name in the directory (openat, O_NOFOLLOW) right after their lstat; one that
// cannot be opened ahead is left to the normal open, which reports what is wrong with it.
class DirReadAhead {
 public:
  DirReadAhead(io::Env& env, EntryDir& dir, const std::vector<io::DirEntry>& entries)
      : env_(env), dir_(dir), entries_(entries) {}

  // Entry i will be read, `size` bytes. In entry order.
  void Want(size_t i, uint64_t size) { wanted_.push_back({i, std::min(size, kFileBytes)}); }

  // Before entry i is archived: closes what was opened for earlier entries and not taken, and
  // opens ahead up to the window.
  void Advance(size_t i) {
    while (!open_.empty() && open_.front().index < i) Pop();
    while (next_ < wanted_.size() && wanted_[next_].index < i) ++next_;
    while (next_ < wanted_.size() && open_.size() < kFiles && bytes_ < kBytes) {
      const Wanted w = wanted_[next_++];
      auto dir = dir_.Get();
      if (!dir) return;  // the normal opens report what is wrong
      auto file = env_.NewRandomAccessFileAt(**dir, entries_[w.index].name);
      if (!file) continue;
      (*file)->WillNeed(0, w.bytes);
      open_.push_back({w.index, w.bytes, std::move(*file)});
      bytes_ += w.bytes;
    }
  }

  // The file opened ahead for entry i, or null.
  std::unique_ptr<io::RandomAccessFile> Take(size_t i) {
    if (open_.empty() || open_.front().index != i) return nullptr;
    auto file = std::move(open_.front().file);
    Pop();
    return file;
  }

  // Before descending into a subdirectory: what is open is closed (the kernel's reads go on),
  // so the walk holds descriptors for one directory at a time.
  void Release() {
    open_.clear();
    bytes_ = 0;
    dir_.Close();
  }

 private:
  static constexpr size_t kFiles = 32;
  static constexpr uint64_t kBytes = 32ULL << 20;
  static constexpr uint64_t kFileBytes = 4ULL << 20;  // then the kernel's own read-ahead
  struct Wanted {
    size_t index;
    uint64_t bytes;
  };
  struct Open {
    size_t index;
    uint64_t bytes;
    std::unique_ptr<io::RandomAccessFile> file;
  };
  void Pop() {
    bytes_ -= open_.front().bytes;
    open_.pop_front();
  }

  io::Env& env_;
  EntryDir& dir_;
  const std::vector<io::DirEntry>& entries_;
  std::vector<Wanted> wanted_;
  size_t next_ = 0;  // wanted_[next_] is the next to open
  std::deque<Open> open_;
  uint64_t bytes_ = 0;
};

}  // namespace

void ArchiveWalk::LeaveOut(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    left_out_paths_.insert(path);
    // The directory it lies in, symlinks on the way followed: the walk compares the
    // directories it lists with it.
    struct stat st {};
    if (::stat(io::Dirname(path).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      left_out_by_dir_[{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)}].insert(
          io::Basename(path));
    }
  }
}

Result<BlobId> ArchiveWalk::ArchiveDir(const std::string& abs, const std::string& rel_app,
                                       const std::string& rel_src, const io::FileInfo& info,
                                       const Node* parent_node) {
  if (!StackHasRoom()) {  // velin/core/stack.hpp
    return Failure(TrFormat(
        "{} is nested deeper than velin's stack reaches: raise it (`ulimit -s`) or leave the "
        "directory out (backup.exclude)",
        abs));
  }
  const Tree* parent_tree = ParentSubtree(parent_node);
  // Listed ahead by the lister (velin/backup/dir_lister.hpp), else here.
  std::optional<DirListing> listed;
  if (lister_) listed = lister_->Take(root_, abs);
  if (!listed) {
    VELIN_ASSIGN(listed, ListDirectory(env_, abs, rel_app, options_.exclude));
  }
  // Another directory than the one listed in its parent (the path made to lead elsewhere
  // since, e.g. by a symlink put in its place): none of it is taken.
  if (listed->self && !io::SameFile(*listed->self, info, listed->stable_inodes)) {
    return tl::unexpected(Replaced(abs));
  }
  std::vector<io::DirEntry>& entries = listed->entries;
  std::vector<std::optional<Result<io::FileInfo>>>& infos = listed->infos;
  // Both lists are sorted by name: the parent's node of each entry, walking them alongside.
  std::vector<const Node*> parent_nodes(entries.size(), nullptr);
  if (parent_tree) {
    const auto& pn = parent_tree->nodes;
    size_t pos = 0;
    for (size_t i = 0; i < entries.size(); ++i) {
      while (pos < pn.size() && pn[pos].name < entries[i].name) ++pos;
      if (pos < pn.size() && pn[pos].name == entries[i].name) parent_nodes[i] = &pn[pos];
    }
  }
  // The names LeaveOut named in this directory, however its path was spelt there.
  const std::set<std::string>* left_out_here = nullptr;
  if (auto it = left_out_by_dir_.find({info.device, info.inode});
      it != left_out_by_dir_.end() && listed->stable_inodes) {
    left_out_here = &it->second;
  }
  auto left_out = [&](const std::string& name) {
    return left_out_paths_.contains(io::JoinPath(abs, name)) ||
           (left_out_here != nullptr && left_out_here->contains(name));
  };
  EntryDir here(env_, abs, info);
  DirReadAhead ahead(env_, here, entries);
  // Its entries are read through `here`; the caller's again after.
  struct Restore {
    EntryDir*& at;
    EntryDir* was;
    ~Restore() { at = was; }
  } restore{entry_dir_, entry_dir_};
  entry_dir_ = &here;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!infos[i] || !*infos[i]) continue;
    const io::FileInfo& info = **infos[i];
    if (info.type == io::FileType::kRegular && info.size > 0 && !left_out(entries[i].name) &&
        !Unchanged(parent_nodes[i], info)) {
      ahead.Want(i, info.size);
    }
  }
  Tree tree;
  for (size_t i = 0; i < entries.size(); ++i) {
    const io::DirEntry& entry = entries[i];
    if (!infos[i]) continue;        // excluded
    VELIN_TRY(CheckInterrupted());  // per entry: unchanged files are never chunked
    std::string child_rel = rel_app + "/" + entry.name;
    std::string child_abs = io::JoinPath(abs, entry.name);
    if (std::find(options_.skip_paths.begin(), options_.skip_paths.end(), child_abs) !=
        options_.skip_paths.end()) {
      continue;
    }
    if (left_out(entry.name)) {
      left_out_.Add(child_rel);
      continue;
    }
    if (!*infos[i] && infos[i]->error().sys_errno == ENOENT) {
      vanished_.Add(child_rel);  // deleted between the listing and its lstat
      continue;
    }
    VELIN_ASSIGN(io::FileInfo info, std::move(*infos[i]));
    if (info.type == io::FileType::kOther) {
      if (!SpecialType(info)) {
        reporter_.Warn(TrFormat("skipped {} (a socket: it belongs to the process listening on it)",
                                child_abs));
        continue;
      }
      if (!repo_.extended_trees()) {
        unstored_specials_++;
        reporter_.Warn(TrFormat(
            "skipped {} (a fifo or device node: repository format version {} cannot store it; "
            "`velin backup upgrade` raises it to {})",
            child_abs, repo_.config().format_version, repo::kExtendedTreeFormatVersion));
        continue;
      }
    }
    if (info.type == io::FileType::kDirectory) {
      ahead.Release();
    } else {
      ahead.Advance(i);
      opened_ahead_ = ahead.Take(i);
    }
    Node node;
    node.name = entry.name;
    const repo::SnapshotStats counted = stats_;
    const std::string child_src = rel_src + "/" + entry.name;
    auto st = ArchiveEntry(child_abs, child_rel, child_src, info, parent_nodes[i], node);
    if (!st) {
      const Vanishing gone = Vanished(st.error(), child_abs, info);
      if (gone == Vanishing::kNo) return tl::unexpected(st.error().WrapPath(NoTr(child_abs)));
      // Deleted while the backup read it (a session or cache file, a directory removed
      // meanwhile), or replaced by what is not read in its place. Left out as if it had been
      // gone before: nothing of it is recorded, and no later hardlink points at it.
      (gone == Vanishing::kDeleted ? vanished_ : replaced_).Add(child_rel);
      Forget(counted, child_src);
      continue;
    }
    tree.nodes.push_back(std::move(node));
  }
  // Every entry as the earlier backup recorded it, in the same tree format: EncodeTree would
  // give the parent's bytes again, so the parent's tree (in the repository: it was just read
  // from it) is this directory's, without encoding and hashing it again (9 % of a no-change
  // backup of many small files).
  if (parent_tree && parent_tree->format == (repo_.extended_trees() ? 2 : 1) &&
      tree.nodes == parent_tree->nodes) {
    return parent_node->subtree;
  }
  return SaveTree(tree);
}

Result<std::map<std::string, std::string>> ArchiveWalk::ResolveLinks(
    const std::string& include, const std::map<std::string, std::string>& links,
    const io::FileInfo& info) {
  std::map<std::string, std::string> resolved;
  for (const auto& [at, text] : links) {
    const std::string at_abs = io::JoinPath(options_.app_root, at);
    auto dir = env_.OpenDir(at_abs);
    // A directory above the include that velin's user may pass but not read (0711, another
    // user's): not recorded, the restore holds the link to the path its text names instead.
    if (!dir && dir.error().sys_errno == EACCES) continue;
    if (!dir) return tl::unexpected(dir.error());
    VELIN_ASSIGN(std::string real, env_.RealPathOf(**dir));
    // The directory read is below it by the rest of the include: this link was not swapped
    // between the walk's stat and this open (the check above, for this link).
    auto there = env_.Stat(real + include.substr(at.size()) + "/.");
    if (!there || !io::SameFile(*there, info)) {
      return Failure(TrFormat(
          "{}: a symlink on its path changed while velin read it (it led to {} when read); "
          "run the backup again",
          at_abs, text));
    }
    resolved[at] = std::move(real);
  }
  return resolved;
}

Result<repo::SnapshotSource> ArchiveWalk::ArchivePath(const std::string& include) {
  std::string abs = io::JoinPath(options_.app_root, include);
  // A symlink on the include path (the root itself, or a directory above it, e.g.
  // storage/uploads -> /mnt/nas/uploads) is followed, and recorded so that an in-place restore
  // can write behind it again (docs/operations.md, "Symlinked data").
  std::map<std::string, std::string> links;
  // Where the recorded texts lead: each part of the include, a link's text in place of the link.
  std::string expected = options_.app_root;
  for (size_t start = 0; start <= include.size();) {
    size_t slash = include.find('/', start);
    if (slash == std::string::npos) slash = include.size();
    const std::string at = include.substr(0, slash);
    const std::string part = include.substr(start, slash - start);
    start = slash + 1;
    std::string at_abs = io::JoinPath(options_.app_root, at);
    VELIN_ASSIGN(io::FileInfo info, env_.Stat(at_abs));
    if (info.type != io::FileType::kSymlink) {
      expected = io::JoinPath(expected, part);
      continue;
    }
    VELIN_ASSIGN(links[at], env_.ReadLink(at_abs));
    const std::string& text = links[at];
    expected = !text.empty() && text[0] == '/' ? text : io::JoinPath(expected, text);
  }
  VELIN_ASSIGN(io::FileInfo info, env_.Stat(abs));
  if (info.type == io::FileType::kSymlink) {
    // The link's own directory (abs/.) when it leads to one; else what its text names.
    auto dir = env_.Stat(abs + "/.");
    if (dir && dir->type == io::FileType::kDirectory) {
      info = *dir;
      followed_root_ = abs;
    } else {
      const std::string& text = links[include];
      std::string resolved =
          !text.empty() && text[0] == '/' ? text : io::JoinPath(io::Dirname(abs), text);
      VELIN_ASSIGN(info, env_.Stat(resolved));
      if (info.type == io::FileType::kSymlink) {
        // The caller names the include ("backup.include '...': ").
        return Failure(
            TrFormat("{} is a symlink to a symlink ({}); name its final target", abs, text));
      }
      abs = resolved;
    }
  }
  if (info.type == io::FileType::kOther) {
    return Failure(TrFormat("{} is not a file or directory", abs));
  }
  std::map<std::string, std::string> resolved;
  if (!links.empty() && info.type == io::FileType::kDirectory) {
    // What the walk reads must be where the recorded links' texts lead: an in-place restore
    // writes there again (as root). A link swapped between its readlink and the walk's stat
    // (by whoever may write the directory holding it) would otherwise record one place and
    // store another's files: a restore would write them into the first (a cron.d).
    auto there = env_.Stat(expected + "/.");
    if (!there || !io::SameFile(*there, info)) {
      return Failure(TrFormat(
          "{}: a symlink on its path changed while velin read it (it led to {} when read); "
          "run the backup again",
          abs, expected));
    }
    VELIN_ASSIGN(resolved, ResolveLinks(include, links, info));
  }
  const Node* parent_root = nullptr;
  const Tree* parent_top = nullptr;
  if (parent_) {
    if (const auto* src = parent_->FindSource(include);
        src && src->kind == repo::SourceKind::kPath) {
      repo::Node holder;
      holder.type = NodeType::kDir;
      holder.subtree = src->tree;
      parent_top = ParentSubtree(&holder);
      if (parent_top && parent_top->nodes.size() == 1) parent_root = &parent_top->nodes[0];
    }
  }
  hardlinks_.clear();
  root_ = next_root_++;
  includes_.push_back(include);
  repo::SnapshotStats before = stats_;
  struct ClearFollowed {
    std::string& root;
    ~ClearFollowed() { root.clear(); }
  } clear_followed{followed_root_};
  Node root;
  root.name = io::Basename(include);
  VELIN_TRY(ArchiveNode(abs, include, root.name, info, parent_root, root));
  Tree top;
  top.nodes.push_back(std::move(root));
  repo::SnapshotSource source;
  source.name = include;
  source.kind = repo::SourceKind::kPath;
  VELIN_ASSIGN(source.tree, SaveTree(top));
  source.files = stats_.files - before.files;
  source.bytes = stats_.bytes - before.bytes;
  source.links = std::move(links);
  source.links_resolved = std::move(resolved);
  parent_trees_.clear();
  // This include's files with several links, for the includes after it.
  const std::string dir = io::Dirname(include);
  for (const auto& [file, rel_src] : hardlinks_) {
    earlier_links_.try_emplace(file,
                               EarlierLink{dir == "." ? rel_src : dir + "/" + rel_src, root_});
  }
  return source;
}

void ArchiveWalk::WarnLinkAcrossIncludes(const io::FileInfo& info, const std::string& rel_app) {
  auto earlier = earlier_links_.find({info.device, info.inode});
  if (earlier == earlier_links_.end() || earlier->second.warned) return;
  const std::string& a = includes_[earlier->second.root];
  const std::string& b = includes_[root_];
  const auto inside = [](const std::string& path, const std::string& dir) {
    return path == dir || path.starts_with(dir + "/");
  };
  if (inside(a, b) || inside(b, a)) return;
  earlier->second.warned = true;
  std::string first = earlier->second.rel_app;
  std::string second = rel_app;
  if (second < first) std::swap(first, second);
  reporter_.Warn(TrFormat(
      "{} and {} are hard links to one file, in two include paths: they are backed up as two "
      "files and restored as two",
      first, second));
}

Result<repo::SnapshotSource> ArchiveWalk::ArchiveStream(StreamSource& stream) {
  repo::SnapshotSource source;
  source.name = stream.Name();
  source.kind = repo::SourceKind::kStream;
  chunk_ids_ = &source.chunks;
  uint64_t bytes = 0;
  auto history = stream_history_.find(source.name);
  StartDeltaBases(history != stream_history_.end() ? &history->second : nullptr);
  Status produced = stream.Produce([&](std::string_view data) -> Status {
    bytes += data.size();
    reporter_.UpdateProgress(stats_.bytes + bytes, stats_.files);
    return chunker_.Feed(data);
  });
  if (produced) produced = chunker_.Finish();
  StartDeltaBases(nullptr);
  VELIN_TRY(produced);
  source.bytes = bytes;
  source.files = 1;
  source.metadata = stream.Metadata();
  for (const std::string& warning : stream.Warnings()) reporter_.Warn(warning);
  stats_.bytes += bytes;
  stats_.bytes_read += bytes;
  return source;
}

}  // namespace velin::backup
