// Releases: immutable, materialised copies of the application's artifacts (and, for a
// snapshot, its configuration files) under state_dir. A release is built in a temporary
// directory, fsynced and renamed into place, so a release directory that exists is complete.
// A file identical (content, size, mode) to one already stored in another release is
// hard-linked instead of copied, so ten releases of a 200 MB app cost little more than one.
// Each release has a manifest (path, type, mode, size, sha256) that dedup and digests use.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/io/env.hpp"

namespace velin::rollback {

struct ManifestEntry {
  std::string path;  // relative to the tree's root, e.g. "bin/app"
  io::FileType type = io::FileType::kRegular;
  uint32_t mode = 0;
  uint64_t size = 0;
  std::string sha256;  // regular files
  std::string target;  // symlinks
  // Regular files of a stored release: the stored file's mtime when it was made (0: not
  // recorded, as by a velin before it). Not part of digests or dedup: it only lets a check skip
  // hashing a file whose mtime is still that one (StillAsRecorded).
  int64_t mtime_ns = 0;
  // The scanned file's device and inode (0: not scanned here; never stored): a copy made from
  // the scan reads that file, not one put in its place since.
  uint64_t device = 0;
  uint64_t inode = 0;
  // The file the scan read when it is not the tree's root + `path`: a configured path that is a
  // symlink to a file, followed (ScanArtifacts). Never stored.
  std::string source;
  // The scanned entry's owner and group (`owner_known`: it was scanned here; never stored in a
  // manifest). Copies of configuration files keep them (Materialise's `keep_owner`).
  bool owner_known = false;
  uint32_t uid = 0;
  uint32_t gid = 0;
};

struct Manifest {
  std::vector<ManifestEntry> artifacts;  // sorted by path
  std::vector<ManifestEntry> config;     // sorted by path; empty for a version
};

// A configured rollback path (an artifact, a config path) names something inside app.root:
// relative, not leading out with "..". The error says so.
Status CheckRollbackPath(const std::string& rel);

// Scans `paths` (relative) below `root`, hashing every regular file. A missing path is an
// error when `required`, skipped otherwise. Special files (sockets, devices) are refused.
Result<std::vector<ManifestEntry>> ScanTree(io::Env& env, const std::string& root,
                                            const std::vector<std::string>& paths, bool required);
// ScanTree for the artifacts of a new version (docs/rollback.md#layout): a configured path that
// is itself a symlink (`bin -> build/bin`) is followed, by the rule the config paths' directories
// are reached by (io::OpenEntryBeneath: one that another user made and that leads out of `root`
// is refused), and stored as what it leads to, so that a version never depends on a link out of
// it; one that leads to `state_dir` or to a directory holding it is refused (a usage error).
// Symlinks below a configured path are stored as symlinks.
Result<std::vector<ManifestEntry>> ScanArtifacts(io::Env& env, const std::string& root,
                                                 const std::vector<std::string>& paths,
                                                 bool required, const std::string& state_dir);

// sha256 over the entries (paths, types, modes, sizes, contents, link targets); "" when empty.
std::string DigestOf(const std::vector<ManifestEntry>& entries);

Status SaveManifest(io::Env& env, const std::string& path, const Manifest& manifest);
Result<Manifest> LoadManifest(io::Env& env, const std::string& path);

// Where identical files are already stored: (sha256, size, mode) -> absolute path.
class DedupIndex {
 public:
  void Add(const std::string& stored_root, const std::vector<ManifestEntry>& entries);
  struct Stored {
    std::string path;
    int64_t mtime_ns = 0;  // as its manifest recorded it
  };
  // Every stored file recorded with `entry`'s content, size and mode, the last added first.
  std::vector<Stored> Candidates(const ManifestEntry& entry) const;

 private:
  std::multimap<std::tuple<std::string, uint64_t, uint32_t>, Stored> files_;
};

struct MaterialiseStats {
  uint64_t files = 0;
  uint64_t linked = 0;
  uint64_t copied = 0;
  uint64_t bytes_copied = 0;
  // Stored files the index offered that no longer hold what their release recorded (edited in
  // place): copied instead of linked.
  std::vector<std::string> changed_in_place;
};

// Copies the scanned `entries` from `source_root` into the new directory `dest`, hard-linking
// files the index knows and that still hold what was recorded of them. Everything written is
// durable when it returns: one syncfs of `dest`'s file system once all is written, instead of an
// fsync per file and directory (a release of 100,000 files is 100,000 journal commits and disk
// cache flushes otherwise: minutes). `check_copies`: each copied file must hash to its entry
// (a source that changed since the scan fails the copy). `keep_owner` (configuration files: a
// service reads its `.env`, 0640 root:www-data, by its group): every copy gets the scanned
// entry's owner and group — as root any; as another user only its own uid, with a group it
// belongs to (a group it may not give is left as the copy got it) — and a file is linked only
// to a stored one with that owner and group.
Result<MaterialiseStats> Materialise(io::Env& env, const std::vector<ManifestEntry>& entries,
                                     const std::string& source_root, const std::string& dest,
                                     const DedupIndex& index, bool check_copies = false,
                                     bool keep_owner = false);

// Sets each regular entry's mtime_ns to that of the file stored under `root`.
Status RecordMtimes(io::Env& env, const std::string& root, std::vector<ManifestEntry>& entries);

struct StateLayout;
struct Registry;

// Where identical files already are: every registered release's manifest (but `except`'s).
DedupIndex IndexReleases(io::Env& env, const StateLayout& layout, const Registry& reg,
                         const std::string& except = "");

// Version `name`'s stored files (its release, and a snapshot's configs) against its manifest:
// the paths (under state_dir) that no longer hold what was recorded (content, size, mode, type,
// link text; missing). Releases share files by hard links, so a file edited inside current/
// changed every release holding it. With `mend`, each such file is put back from an identical
// file of another registered release that still holds what was recorded (linked under a
// temporary name, renamed over it), each changed symlink recreated; the rest stay as they are.
// Without it nothing is changed and `mended` counts what would be (a dry run). A missing
// directory is made again (a deleted release directory too), so that the files below it can be
// put back. An unreadable manifest is the error.
struct ReleaseCheck {
  std::vector<std::string> changed;
  size_t mended = 0;
  std::vector<std::string> missing;  // of `changed`: not there at all (deleted)
  std::vector<std::string> lost;     // of `missing`: not put back (none identical elsewhere)
  // Entries velin's user may not reach or read (EACCES, EPERM: a release or snapshot another
  // user made, a directory chmod 000), not in `changed`: of the release (not checked; a service
  // running as another user may still read them) and of the stored config, which a switch must
  // read to put back. `unreadable_reason`: the first one's error ("Permission denied").
  std::vector<std::string> unreadable;
  std::vector<std::string> unreadable_config;
  std::string unreadable_reason;
};
Result<ReleaseCheck> CheckVersion(io::Env& env, const StateLayout& layout, const Registry& reg,
                                  const std::string& name, bool mend);

struct DiskUsage {
  uint64_t total = 0;  // bytes of all regular files
  uint64_t own = 0;    // bytes of files no other release shares (link count 1)
};
Result<DiskUsage> MeasureTree(io::Env& env, const std::string& dir);

// Puts the configured `paths` stored under `stored_root` back below `app_root`: each path is
// made next to its live counterpart and renamed over it, with the stored files' modes, owners
// and groups (as Materialise's `keep_owner`). Paths the snapshot does not hold are left alone. The
// live tree is reached through directory descriptors from `app_root` down (io::OpenDirBeneath): a
// symlink on the way that another user made and that leads out of `app_root` is refused, not
// written through.
Status RestoreTree(io::Env& env, const std::string& stored_root,
                   const std::vector<std::string>& paths, const std::string& app_root);
// Removes the configured path `rel` below `app_root` (missing is fine), reached as RestoreTree
// reaches it.
Status RemoveConfigPath(io::Env& env, const std::string& app_root, std::string rel);

}  // namespace velin::rollback
