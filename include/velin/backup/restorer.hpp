// The restorer: writes a snapshot's paths back under a target directory (app.root for an
// in-place restore). Every blob's hash is checked before its bytes are written; each file is
// written unnamed (O_TMPFILE) in its directory and linked under its name once complete (where
// the name is taken, or the file system has no unnamed files: under a temporary name renamed
// over the old one); modes, owners
// (when running as root), mtimes, symlinks, hardlink groups, fifos, device nodes (as root),
// extended attributes (POSIX ACLs among them) and the holes of sparse files are restored. It never
// writes outside the target: tree names are validated ('..', '/', absolute names are refused) and
// the target is walked by directory descriptors (openat/mkdirat with O_NOFOLLOW, metadata set on
// open descriptors, renameat/symlinkat/linkat), so no symlink in the target is followed —
// except, on an in-place restore, one on an include path that the backup itself followed
// (RestoreOptions::in_place). Existing non-directories where a directory of the backup belongs
// are replaced; a symlink above the restored path is refused. Files not in the backup are left
// alone.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/repository.hpp"
#include "velin/repo/snapshot.hpp"

namespace velin::backup {

struct RestoreOptions {
  std::string target;  // absolute directory
  std::string only;    // "" for everything, else a path relative to app.root inside the backup
  // Globs on paths relative to app.root, matched as backup.exclude is (fnmatch without flags:
  // `*` crosses `/`; a pattern without `/` also matches the last component). Within --only:
  // `include` (none: everything) selects a path and everything below it, the directories
  // leading to it are created, nothing else; `exclude` then removes a path and everything below
  // it. An include that matches nothing is a usage error, found before anything is written.
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  // The restore runs as root: it gives files their owners, and writes into directories whatever
  // their mode. Without root, an existing directory that its owner may not write (0555) is given
  // u+wx while the restore writes there, and its mode at the end (the backup's, or for one above
  // the backed-up path the one it had).
  bool restore_owner = false;
  // An in-place restore (target = app.root): a symlink on a source's include path that the
  // backup followed (the snapshot's `links`) is followed again while it has the recorded text,
  // so the files go behind it (e.g. to the NAS) instead of replacing it with a directory.
  bool in_place = false;
  // Paths relative to app.root of the configured SQLite databases' own files (the file, its
  // -wal, -shm, -journal): a copy of them in the backup (one made before 2026-12-07, or whose
  // dump failed) was read while the application wrote and may be torn. Those the restore meets
  // are named in RestoreStats::database_files; with `leave_out_database_files` (the backup holds
  // a usable dump of the database) they are not written.
  std::set<std::string> database_files;
  bool leave_out_database_files = false;
  // Of database_files, those written (and named) all the same with leave_out_database_files:
  // the files of another database whose dump failed, or that --only/--include names.
  std::set<std::string> kept_database_files;
};

struct RestoreStats {
  uint64_t files = 0;
  uint64_t dirs = 0;
  uint64_t symlinks = 0;
  uint64_t hardlinks = 0;
  uint64_t specials = 0;          // fifos and device nodes
  uint64_t specials_skipped = 0;  // device nodes without root (warned)
  // Files restored without root whose setuid/setgid bit was left out, their owner or group not
  // the restoring user's (warned; the restore goes on: docs/cli.md, "What a backup keeps").
  uint64_t setid_left_out = 0;
  // Entries restored as root with a uid or gid this machine has no user or group for (a new
  // machine: the backup keeps numeric owners; warned, the restore goes on).
  uint64_t owners_unknown = 0;
  uint64_t xattrs = 0;          // extended attributes set or removed
  uint64_t xattrs_refused = 0;  // that the target refused (warned; the restore goes on)
  // Hardlinks the target refused (a file system without them, e.g. exFAT; a file at its link
  // limit): their files are written as separate copies, with a warning.
  uint64_t hardlinks_copied = 0;
  // Symlinks and fifos the target cannot hold (EPERM, ENOSYS, EOPNOTSUPP: FAT, exFAT, some
  // FUSE file systems): not restored, everything else is. The caller fails the restore with
  // RefusedEntriesError once the rest (a database too) is done.
  uint64_t symlinks_refused = 0;
  uint64_t specials_refused = 0;
  // Entries whose name the target does not take (FAT, exFAT, NTFS: `:`, `?`, `*`, …; names
  // that are not UTF-8): left out, a directory with everything in it, as above.
  uint64_t names_refused = 0;
  // Files larger than the target holds (FAT32: 4 GiB; a file-size limit): EFBIG, left out.
  uint64_t files_too_large = 0;
  std::string first_refused;  // the first of them: its path and why
  // The RestoreOptions::database_files met, left out or written as the options say.
  std::vector<std::string> database_files;
  uint64_t bytes = 0;
};

// When `stats` has refused entries: "the target refused 2 symlinks and 1 name (e.g. …);
// everything else is restored" (exit 1). Ok otherwise.
Status RefusedEntriesError(const RestoreStats& stats);

Result<RestoreStats> RestoreSnapshot(repo::Repository& repo, const repo::Snapshot& snapshot,
                                     io::Env& env, Reporter& reporter,
                                     const RestoreOptions& options);

}  // namespace velin::backup
