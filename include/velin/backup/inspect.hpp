// Looking inside backups without restoring them (docs/cli.md, "backup ls" … "backup stats"):
// listing a backup's paths, finding paths across backups by a glob, comparing two backups,
// streaming one file or a database stream out, and what the repository stores for them. Paths
// are relative to app.root, '/'-separated, as backup.include names them; a stream source (the
// database dump) is addressed by its name ("db"). Every function reads through the
// repository's verified reads (ReadBlob, ReadTree): damage is a DamageError, never data taken
// as good. Nothing here prints; the commands print what these return.
// REQUIRES: repo.LoadIndex() done.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/repository.hpp"
#include "velin/repo/snapshot.hpp"
#include "velin/repo/tree.hpp"

namespace velin::backup {

// "file", "dir", "symlink", "hardlink"; a type this velin does not know by name (a newer
// format's node) is "type N", so listings stay readable.
std::string NodeTypeName(repo::NodeType type);

// One path of a backup and its tree node.
struct BackupEntry {
  std::string path;  // relative to app.root
  repo::Node node;   // from ListBackup, a hardlink's `target` is relative to app.root too
};

// The entry at `path` (trailing '/' ignored); nullopt when the backup holds no such path.
Result<std::optional<BackupEntry>> FindEntry(repo::Repository& repo, const repo::Snapshot& snapshot,
                                             const std::string& path);

struct ListOptions {
  std::string path;  // "" : the backup's include roots
  bool recursive = false;
};

// `backup ls`: with no path, the include roots (with `recursive`, everything); a directory:
// what it holds (recursive: everything below it); a file: itself; a directory above include
// roots (e.g. "storage" for "storage/uploads"): the roots under it. A path the backup does
// not hold is a usage error naming it.
Result<std::vector<BackupEntry>> ListBackup(repo::Repository& repo, const repo::Snapshot& snapshot,
                                            const ListOptions& options);

// A stream source as ls, diff and stats show it.
struct BackupStream {
  std::string name;
  uint64_t bytes = 0;
  nlohmann::json metadata;  // what its producer recorded (databases: tables and row counts)
};
std::vector<BackupStream> BackupStreams(const repo::Snapshot& snapshot);

// True when `path` matches the glob: against the whole path when the pattern contains '/',
// else against the last component (restic's rule; the same as backup.exclude). fnmatch(3)
// without flags: '*' and '?' match '/' too.
bool PathMatches(const std::string& pattern, const std::string& path);

struct FindMatch {
  std::string backup;  // the backup's id
  std::string time;
  std::string path;
  std::string type;  // NodeTypeName, or "stream"
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

// `backup find`: the paths (and stream names) of `snapshots` that match `pattern`, in the
// order of `snapshots` (the caller passes newest first), each backup's by path. A directory
// whose tree id was searched before yields its earlier answer without being read again.
Result<std::vector<FindMatch>> FindInBackups(repo::Repository& repo,
                                             const std::vector<repo::Snapshot>& snapshots,
                                             const std::string& pattern);

enum class ChangeKind { kAdded, kRemoved, kChanged, kMetadata };
// "added", "removed", "changed" (content, type or link target), "metadata" (mode, owner or
// mtime only).
std::string_view ChangeKindName(ChangeKind kind);

struct Change {
  ChangeKind kind = ChangeKind::kChanged;
  std::string path;
  std::string type;       // of the newer entry (of the older one when removed); "stream"
  uint64_t old_size = 0;  // 0 when added
  uint64_t new_size = 0;  // 0 when removed
};

// `backup diff`: what changed from `from` to `to`, by path. Directories whose tree ids are
// equal are skipped unread; an added or removed directory lists everything below it.
Result<std::vector<Change>> DiffBackups(repo::Repository& repo, const repo::Snapshot& from,
                                        const repo::Snapshot& to);

// `backup dump`: the bytes of the file at `path` (a hardlink: its group's file), or of the
// stream source named `path`, into `sink` chunk by chunk (never the whole file in memory).
// Before the first byte, every chunk must be listed in the index (a missing pack is a
// DamageError with nothing written); each chunk is checked against its hash before `sink`
// sees it, so a damaged one stops the dump there with a DamageError. A directory, a symlink
// or a path the backup does not hold is a usage error.
Status DumpPath(repo::Repository& repo, const repo::Snapshot& snapshot, const std::string& path,
                const std::function<Status(std::string_view)>& sink);

// What the repository stores for a set of backups, per source name (an include path or a
// stream) and in total. logical: the bytes the backups hold, each backup counted (what
// restoring all of them would write); raw: the distinct data chunks they reference,
// uncompressed; stored: those chunks as the packs hold them (compressed, delta-encoded,
// encrypted); trees_stored: the directory listings (tree blobs) besides. dedup = logical / raw,
// compression = raw / stored.
struct SourceStats {
  std::string name;
  std::string kind;  // "path" | "stream"
  uint64_t backups = 0;
  uint64_t files = 0;  // summed over the backups
  uint64_t logical = 0;
  uint64_t blobs = 0;  // data chunks and trees
  uint64_t raw = 0;
  uint64_t stored = 0;
  uint64_t trees_stored = 0;
};

struct BackupStats {
  uint64_t backups = 0;
  std::vector<SourceStats> sources;  // by name
  SourceStats total;                 // blobs shared by two sources counted once
  // The whole repository (every blob the index lists, referenced or not); 0 unless the stats
  // are of every backup.
  uint64_t repository_blobs = 0;
  uint64_t repository_stored = 0;
  // Of those, the blobs no backup needs: neither referenced nor the delta base of a referenced
  // blob (prune keeps bases: the deltas restore from them).
  uint64_t repository_unreferenced = 0;
};

// A blob a backup references that no index lists is a DamageError.
Result<BackupStats> ComputeStats(repo::Repository& repo,
                                 const std::vector<repo::Snapshot>& snapshots,
                                 bool whole_repository);

}  // namespace velin::backup
