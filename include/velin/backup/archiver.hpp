// The archiver: turns directories and streams into a snapshot. It walks each included path
// (lstat, never following symlinks), keeps regular files, directories, symlinks, hardlinks,
// modes, owners and mtimes, chunks and hashes file contents on the calling thread and hands
// new blobs to a BlobWriter (compress + pack on all cores). Within a directory the next files
// to be read are opened ahead and the kernel is asked for them (up to 32 files: the disk
// gets many requests at once when the files are not in the page cache). `full` reads every file;
// `incremental` takes the newest snapshot as parent and reuses a file's chunk list without
// reading it when size, mtime, ctime and inode match — a no-change backup is a stat walk whose
// trees hash to the parent's ids. Commit order: packs → index → snapshot; on any error no
// snapshot is written and earlier snapshots stay intact.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "velin/backup/stream_source.hpp"
#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/codec.hpp"
#include "velin/repo/repository.hpp"
#include "velin/repo/snapshot.hpp"

namespace velin::backup {

class DirLister;

struct CreateOptions {
  std::string app_root;              // absolute
  std::vector<std::string> include;  // paths relative to app_root ("db" is a stream source)
  std::vector<std::string> exclude;  // globs relative to app_root (see docs/cli.md)
  // Include paths that may hold no files; any other that does gets a warning.
  std::vector<std::string> allow_empty;
  // Absolute paths never backed up, e.g. the repository itself when it lies inside app.root.
  std::vector<std::string> skip_paths;
  repo::Strategy strategy = repo::Strategy::kFull;
  repo::Codec codec = repo::Codec::kZstd;
  int level = 3;
  std::vector<StreamSource*> streams;
  std::string velin_version;
  // How long to wait for the commit lock (--lock-wait): at least repo::kMinCommitLockWait.
  std::chrono::milliseconds commit_lock_wait{60'000};
  // Recorded in the snapshot ([app] host / name). The parent of an incremental backup and the
  // delta bases come only from earlier backups of the same host and app: another host's files
  // with the same size and time are not this host's. host "": the machine's host name.
  std::string host;
  std::string app;
  // Walk and chunk as a backup would, write nothing: the result's stats say what would be read
  // and, in bytes_added/blobs_added, what the repository lacks (before compression). Streams
  // (databases) are not dumped; the snapshot is not committed (its id stays "").
  bool dry_run = false;
  // Lists the include paths' directories ahead of the walk (dir_lister.hpp), made with these
  // options' app_root, include, exclude and skip_paths; null: the walk lists them itself.
  DirLister* lister = nullptr;
  // Called with the snapshot's id under the commit lock, right before the snapshot is written
  // (repo::CommitSnapshot): `backup create` notes there that the backup is due offsite.
  std::function<void(const std::string& id)> before_commit;
};

// Backs up and commits one snapshot. REQUIRES: repo.LoadIndex() done; the caller holds a shared
// lock. The snapshot's id is chosen at commit (local time, minute, "-full"/"-incr", suffix on
// collision) from env.Now().
Result<repo::Snapshot> CreateBackup(repo::Repository& repo, io::Env& env, Reporter& reporter,
                                    const CreateOptions& options);

// True when `rel` (relative to app.root, '/'-separated) matches one of the exclude globs.
bool IsExcluded(const std::vector<std::string>& patterns, const std::string& rel);

// The rule for a backup.include entry: a path inside app.root, i.e. not empty, relative, not
// "." and without a ".." component. CreateBackup refuses any other (a usage error); the config
// loader applies the same rule so that `config check` says it first.
bool IsIncludeInsideRoot(const std::string& include);

// The spelling a backup records for a backup.include or allow_empty entry: without empty and
// "." components ("storage/uploads/", "./storage//uploads" -> "storage/uploads"). A backup of
// "storage/uploads/" recorded its source under that name and its top node with an empty name,
// which no restore could take; the config loader makes every entry this form first.
std::string NormalizeInclude(const std::string& include);

// An exclude (or restore --include/--exclude) glob without its trailing slashes and leading
// "./": "cache/" means the directory cache and "./storage/cache" the path storage/cache, and
// as written neither matched anything (paths are matched as "storage/cache").
std::string NormalizeGlob(std::string pattern);

}  // namespace velin::backup
