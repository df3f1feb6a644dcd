// Private to the archiver: the walk over one backup's sources (archiver.cpp drives it and
// commits the snapshot).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "velin/backup/archiver.hpp"
#include "velin/backup/dir_lister.hpp"
#include "velin/repo/blob_writer.hpp"
#include "velin/repo/chunker.hpp"
#include "velin/repo/tree.hpp"

namespace velin::backup {

// How many paths there were, and the first few of them (for one line of a message).
struct PathSample {
  static constexpr size_t kKept = 3;
  uint64_t count = 0;
  std::vector<std::string> first;
  void Add(const std::string& path) {
    if (count++ < kKept) first.push_back(path);
  }
};

// The directory whose entries the walk reads now, opened by its path when needed and checked to
// be the directory its parent listed (device, inode): every read of an entry (its open, its
// extended attributes, a link's text) goes through it, so none goes through a path made to
// lead elsewhere since (archiver_walk.cpp).
class EntryDir {
 public:
  EntryDir(io::Env& env, const std::string& abs, const io::FileInfo& info)
      : env_(env), abs_(abs), info_(info) {}
  // The directory, open; an error naming it replaced (ENOENT) when its path leads to another.
  Result<const io::Dir*> Get();
  // Closes it (reopened by the next Get): the walk holds one directory's descriptor at a time.
  void Close() { dir_.reset(); }
  const std::string& abs() const { return abs_; }
  // Whether its file system keeps inode numbers (known once it was open).
  bool stable_inodes() const { return stable_inodes_; }

 private:
  io::Env& env_;
  const std::string& abs_;
  const io::FileInfo& info_;
  io::DirPtr dir_;
  bool stable_inodes_ = true;
};

class ArchiveWalk {
 public:
  // `parent`: the newest earlier backup, or null. Its trees and streams give each changed
  // chunk a delta base; an incremental backup also reuses its unchanged files without reading.
  ArchiveWalk(repo::Repository& repo, io::Env& env, Reporter& reporter,
              const CreateOptions& options, repo::BlobWriter& writer, const repo::Snapshot* parent);
  // The chunks a stream had in its newest earlier backup: the delta bases for its chunks now.
  void SetStreamHistory(const std::string& name, std::vector<repo::BlobId> chunks) {
    stream_history_[name] = std::move(chunks);
  }

  // Where ArchivePath takes its directories' listings from, for the includes in order; null
  // (the default): it lists them itself.
  void SetLister(DirLister* lister) { lister_ = lister; }
  // Absolute paths the walk leaves out because a stream of this backup holds them as one
  // consistent copy (StreamSource::LiveFiles: an SQLite database and its side files); those it
  // meets are named in left_out(). Matched by path and by the directory they lie in (its device
  // and inode) with their names, so a path spelt through a symlink (app.root, an include, the
  // database's directory) that the walk reaches by another spelling is left out too.
  void LeaveOut(const std::vector<std::string>& paths);
  // One backup.include path: a source whose tree holds one node, the path's last component.
  Result<repo::SnapshotSource> ArchivePath(const std::string& include);
  Result<repo::SnapshotSource> ArchiveStream(StreamSource& source);
  repo::SnapshotStats& stats() { return stats_; }
  // What a repository before format version 4 could not take: files and directories with
  // extended attributes (not stored), fifos and device nodes (skipped).
  uint64_t unstored_xattr_files() const { return unstored_xattr_files_; }
  // Files that changed during both of their reads (their copy may mix old and new data),
  // entries deleted while the walk read them, and entries replaced by something velin does not
  // read in their place (a symlink, a fifo, a directory; or another file, again at each of
  // kReplacedTakes opens): the last two are left out; paths relative to app.root.
  const PathSample& changed() const { return changed_; }
  const PathSample& vanished() const { return vanished_; }
  const PathSample& replaced() const { return replaced_; }
  const PathSample& left_out() const { return left_out_; }
  // Entries whose mtime lies outside what a backup records (io/time_ns.hpp): stored clamped.
  const PathSample& clamped_mtimes() const { return clamped_mtimes_; }
  uint64_t unstored_specials() const { return unstored_specials_; }

 private:
  // A file with several links (`info`, at `rel_app`) whose group an earlier include also holds:
  // it is stored there and here as two files (hardlink nodes cannot name a path in another
  // source), so one warning per group says so. Includes that overlap ("storage" and
  // "storage/uploads") are left out: the file is in both by their choice.
  void WarnLinkAcrossIncludes(const io::FileInfo& info, const std::string& rel_app);
  // Where each of the `links` on `include`'s path leads, with no symlink in the path (the
  // snapshot's links_resolved), from the directory opened behind it: the directory read
  // (`info`, a directory) must be below it by the rest of the include.
  Result<std::map<std::string, std::string>> ResolveLinks(
      const std::string& include, const std::map<std::string, std::string>& links,
      const io::FileInfo& info);
  // A file renamed over an entry (an atomic save: write a temp file, rename it over the old
  // one) between its lstat and its open is archived as the file there then; as often as this
  // when it is replaced again each time (an application saving every few milliseconds).
  static constexpr int kReplacedTakes = 3;
  // What became of an entry whose archiving failed (Vanished()).
  enum class Vanishing { kNo, kDeleted, kReplaced };
  // ArchiveNode for an entry of ArchiveDir's, listed as `info`: when ReadContent opened another
  // regular file in its place, archives the entry again as that file (`info` becomes its
  // fstat), up to kReplacedTakes times.
  Status ArchiveEntry(const std::string& abs, const std::string& rel_app,
                      const std::string& rel_src, io::FileInfo& info, const repo::Node* parent_node,
                      repo::Node& node);
  // Undoes what archiving the entry at `rel_src` counted and remembered (since `counted`), so
  // that it is archived again or left out as if it had never been met.
  void Forget(const repo::SnapshotStats& counted, const std::string& rel_src);
  // Fills `node` (already named) for the entry at `abs`; `rel_app` is relative to app.root,
  // `rel_src` to the source's root (hardlink targets).
  Status ArchiveNode(const std::string& abs, const std::string& rel_app, const std::string& rel_src,
                     const io::FileInfo& info, const repo::Node* parent_node, repo::Node& node);
  // `parent_node`: this directory in the earlier backup (null: none). `info`: its lstat (or
  // stat, for an include followed through a symlink); a listing of another directory (its
  // path made to lead elsewhere since) is refused as the entry replaced.
  Result<repo::BlobId> ArchiveDir(const std::string& abs, const std::string& rel_app,
                                  const std::string& rel_src, const io::FileInfo& info,
                                  const repo::Node* parent_node);
  // Reads the file at `abs`, listed as `info` (through opened_ahead_ when ArchiveDir opened it
  // ahead); `after`: the open file's fstat once it is read. A file opened that is not the one
  // listed (replaced by a symlink, a fifo or another file, or reached through a directory made
  // to lead elsewhere) is refused as the entry replaced, before a byte of it is read; when it is
  // another regular file, opened through its directory's checked descriptor, it is kept open in
  // replacement_ for ArchiveEntry to archive.
  Status ReadContent(const std::string& abs, const io::FileInfo& info, repo::Node& node,
                     io::FileInfo& after);
  // Whether the file's fstat after a read of `bytes_read` bytes differs from the lstat before.
  static bool ChangedWhileRead(const io::FileInfo& before, const io::FileInfo& after,
                               uint64_t bytes_read);
  // Whether `error`, met while archiving the entry at `abs` (listed as `info`), is that entry
  // being deleted or replaced meanwhile.
  Vanishing Vanished(const Error& error, const std::string& abs, const io::FileInfo& info);
  // True when an incremental backup reuses the parent's record of this file without reading it.
  bool Unchanged(const repo::Node* parent_node, const io::FileInfo& info) const;
  Status SaveChunk(std::string_view chunk, std::vector<repo::BlobId>& ids);
  // Fills node.xattrs (file or directory at `abs`).
  Status ReadXattrs(const std::string& abs, const io::FileInfo& info, const repo::Node* parent_node,
                    repo::Node& node);
  Result<repo::BlobId> SaveTree(repo::Tree& tree);
  const repo::Tree* ParentSubtree(const repo::Node* parent_node);
  // Delta bases for the chunks about to be cut: the same file's or stream's chunks in the
  // earlier backup, walked alongside (null: none).
  void StartDeltaBases(const std::vector<repo::BlobId>* earlier);
  // The earlier chunk most like the one [offset_, offset_ + size) now, or null.
  const repo::BlobId* DeltaBase(const repo::BlobId& id, size_t size);

  repo::Repository& repo_;
  io::Env& env_;
  Reporter& reporter_;
  const CreateOptions& options_;
  repo::BlobWriter& writer_;
  const repo::Snapshot* parent_;
  repo::StreamChunker chunker_;
  // The file ArchiveDir opened ahead for the entry ArchiveNode is filling, if any.
  std::unique_ptr<io::RandomAccessFile> opened_ahead_;
  // The regular file ReadContent found open in place of the one listed, and its fstat.
  struct Replacement {
    std::unique_ptr<io::RandomAccessFile> file;
    io::FileInfo info;
  };
  std::optional<Replacement> replacement_;
  // The directory holding the entry ArchiveNode is filling (null: an include's own path).
  EntryDir* entry_dir_ = nullptr;
  std::vector<repo::BlobId>* chunk_ids_ = nullptr;  // where chunker_ emits into
  std::optional<repo::BlobId> zero_chunk_id_;       // of chunker_'s chunk of zeros, once hashed
  // Files with several links met in this include: (dev, inode) -> the first one's rel_src. A
  // hardlink node names its group's first link within its own source (docs/repository-format.md,
  // "Trees"), so the map starts anew with each include.
  std::map<std::pair<uint64_t, uint64_t>, std::string> hardlinks_;
  // The same of the includes archived before this one, for WarnLinkAcrossIncludes: (dev, inode)
  // -> the first link's rel_app and include number; `warned` once its group was named.
  struct EarlierLink {
    std::string rel_app;
    size_t root = 0;
    bool warned = false;
  };
  std::map<std::pair<uint64_t, uint64_t>, EarlierLink> earlier_links_;
  std::vector<std::string> includes_;  // ArchivePath's includes so far, by their numbers
  std::map<repo::BlobId, repo::Tree> parent_trees_;  // the parent trees of the current path
  std::map<std::string, std::vector<repo::BlobId>> stream_history_;
  // The earlier version's chunks, where each starts in it (one more: its end), and where
  // each id first is; the offset of the next chunk cut now, and `drift_`: what to add to an
  // offset now to get the offset of the same content then.
  const std::vector<repo::BlobId>* earlier_ = nullptr;
  std::vector<uint64_t> earlier_start_;
  std::unordered_map<repo::BlobId, size_t, repo::BlobIdHash> earlier_pos_;
  uint64_t offset_ = 0;
  int64_t drift_ = 0;
  repo::SnapshotStats stats_;
  DirLister* lister_ = nullptr;
  size_t next_root_ = 0;       // ArchivePath's calls: backup.include's numbers, for the lister
  size_t root_ = 0;            // the include being archived
  std::string followed_root_;  // the include being archived, when it is a symlink to a directory
  uint64_t unstored_xattr_files_ = 0;
  uint64_t unstored_specials_ = 0;
  PathSample changed_;
  std::set<std::string> left_out_paths_;
  std::map<std::pair<uint64_t, uint64_t>, std::set<std::string>> left_out_by_dir_;
  PathSample left_out_;
  PathSample clamped_mtimes_;
  PathSample vanished_;
  PathSample replaced_;
};

}  // namespace velin::backup
