// Where a repository's objects live. The interface is what an object store offers and no more:
// put a whole object, get it whole or a byte range, list by prefix, delete, stat. No rename,
// no append, no partial overwrite, so S3, SFTP and FTP backends implement it as well as a local
// directory does. (A backend may also offer an ObjectWriter, which a writer uses when it is
// there and does without otherwise: a local directory does.) A backend knows objects, nothing of
// packs or snapshots (docs/repository-format.md).
//
// Object names are relative, '/'-separated keys such as "config", "keys/…", "data/3f/3f2a…",
// "index/…", "snapshots/…", "locks/…". Put is atomic: a reader sees the old object, the new
// one, or none — never a torn one. A missing object is an Error with sys_errno == ENOENT.
// REQUIRES: implementations are safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/core/i18n.hpp"
#include "velin/storage/temp_names.hpp"

namespace velin::io {
class Env;
}

namespace velin::storage {

struct ObjectInfo {
  std::string name;
  uint64_t size = 0;
  // Last modification as the storage records it (Unix seconds, the storage's clock); 0 when
  // the backend does not say. Lock ages and prune's age guard for unindexed packs use it.
  int64_t mtime = 0;
  // How finely `mtime` is given, in seconds: 1, or a file server's listing's 60 (it shows
  // minutes), or 86400 (only the day, for an object over half a year old).
  int64_t mtime_step = 1;
  // What a listing says changes whenever the object is written again with other content (S3:
  // its ETag); "" when the backend says nothing such (CachingBackend then goes by `mtime`).
  std::string version;
};

// An object written while it is still being made and named once it is complete: a pack is
// named by the hash of all its bytes, and a local directory can take its first megabytes while
// the rest is compressed (Backend::NewObjectWriter). Nothing is visible under any name before
// Commit(); destroyed without a successful Commit(), what was written is removed.
// REQUIRES: one thread at a time.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status Append(std::string_view data) = 0;
  // Makes the object durable under `name`, as Put would have left it. After a failure the
  // object may or may not be there under `name` (as after a failed Put); never torn.
  virtual Status Commit(const std::string& name) = 0;
};

// What Backend::RemoveStaleTemps did: the temps it removed, and, when it went through every
// directory it had to, the storage's clock at its start (to pass as the next sweep's
// `last_sweep`; 0 when there is nothing to pass on).
struct StaleTempSweep {
  size_t removed = 0;
  int64_t complete_at = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Where this is, for messages: "/srv/backups", "s3://bucket/prefix".
  virtual std::string Location() const = 0;
  // The file that holds object `name` when this storage is a local directory (for what must be
  // removed with no time to ask the backend: repo/lock.cpp's lock at a fatal end); nullopt for
  // any other storage.
  virtual std::optional<std::string> LocalFileOf(const std::string& name) const {
    (void)name;
    return std::nullopt;
  }

  virtual Status Put(const std::string& name, std::string_view data) = 0;
  virtual Result<std::string> Get(const std::string& name) = 0;
  // Get into `out`, reusing its memory where the backend can (verify reads pack after pack).
  virtual Status GetInto(const std::string& name, std::string& out) {
    auto data = Get(name);
    if (!data) return tl::unexpected(data.error());
    out = std::move(*data);
    return Ok();
  }
  virtual Result<std::string> GetRange(const std::string& name, uint64_t offset,
                                       uint64_t length) = 0;
  // GetRange into `out`, reusing its memory where the backend can (restore's hot loop).
  virtual Status GetRangeInto(const std::string& name, uint64_t offset, uint64_t length,
                              std::string& out) {
    auto data = GetRange(name, offset, length);
    if (!data) return tl::unexpected(data.error());
    out = std::move(*data);
    return Ok();
  }
  // Every object whose name starts with `prefix` ("" lists all), in no particular order.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  // Deleting a missing object is not an error.
  virtual Status Delete(const std::string& name) = 0;
  // Makes every Delete before it durable: where one removal must not outlive another across a
  // crash (prune: the old index objects go before the packs they list; forget: the backups go
  // before a prune may remove their data), this stands between them. A local directory fsyncs
  // the directories it removed from (an unlink is otherwise only ordered by the file system's
  // journal, which POSIX does not promise); a backend whose Delete is durable once answered
  // (S3, a file server's remove) has nothing to do.
  virtual Status SyncDeletes() { return Ok(); }
  // nullopt when the object does not exist.
  virtual Result<std::optional<ObjectInfo>> Stat(const std::string& name) = 0;
  // Removes the temp objects of Puts whose writer died (kill -9, power loss) and says how many
  // (docs/storage.md, "Temp files"). Never one a live writer may still rename: on a local
  // directory, a temp of a writer in this process space goes once its pid is gone, any other
  // once it is older than kStaleTempAge; on a file server (no pids), by age alone, measured
  // against the storage's own clock (its newest lock object). Backends whose Put is one atomic
  // request (S3) have none.
  //
  // `last_sweep` is the `complete_at` of an earlier sweep of this repository (0: none known).
  // A backend whose sweep lists directory after directory (a file server) skips those nothing
  // was made or removed in since long enough before it; the others ignore it.
  //
  // `layout` names the repository's directories and root objects (repo::TempFileLayout()): only
  // there are temps looked for.
  virtual Result<StaleTempSweep> RemoveStaleTemps(int64_t last_sweep, const TempLayout& layout) {
    (void)last_sweep;
    (void)layout;
    return StaleTempSweep{};
  }
  // A writer for one object that will be named under `dir` ("data/3f"-style subdirectories of
  // it included), or nullptr: this backend takes whole objects only (Put). Its temp object is
  // one RemoveStaleTemps sweeps.
  virtual Result<std::unique_ptr<ObjectWriter>> NewObjectWriter(const std::string& dir) {
    (void)dir;
    return std::unique_ptr<ObjectWriter>();
  }
};

// How old a temp object of a writer velin cannot ask about must be to count as abandoned: an
// hour, twice prune's 30 minutes for an unindexed pack; no single Put takes that long.
inline constexpr int64_t kStaleTempAge = 3600;

// True when `error` says the object does not exist.
inline bool IsNotFound(const Error& error) { return error.sys_errno == 2; /* ENOENT */ }

// A ranged read of an object that ends before the range does (a truncated pack): the error's
// sys_errno is ENODATA, so that readers tell it, like a missing object, from a read that failed
// (a network, a permission, a disk error), which says nothing about the data.
inline constexpr int kShortObjectErrno = 61;  // ENODATA
inline tl::unexpected<Error> ShortObjectError(std::string message) {
  return tl::unexpected(Error{ExitCode::kFailed, std::move(message), kShortObjectErrno});
}
// True when a failed read of a repository's object says the data is damaged (the object is
// missing or shorter than its index says, or a reader below found it damaged), false when the
// read itself failed: exit 4 against exit 1 (docs/exit-codes.md).
inline bool IsDamagedRead(const Error& error) {
  return error.code == ExitCode::kDamage || IsNotFound(error) ||
         error.sys_errno == kShortObjectErrno;
}
// What a damaged read (IsDamagedRead) says about its object, to follow "pack <id>": "is
// missing", or the reader's message (a short object, damage found below).
inline std::string DamagedReadWhy(const Error& error) {
  return IsNotFound(error) ? std::string(Tr("is missing")) : error.message;
}

// How many reads of a repository's small objects (index objects, snapshots, trees) and of its
// packs go at once to the backend at `location` (its Location()): 8 to S3, 4 to an SFTP or FTP
// server (each of those is a connection with its own login, and sshd's MaxStartups, 10 by
// default, and FTP servers' per-address limits count them), 0 for a local directory (read one
// after the other on the caller's thread: it answers at once).
inline int ParallelReadsFor(std::string_view location) {
  if (location.find("://") == std::string_view::npos) return 0;
  return location.starts_with("s3://") ? 8 : 4;
}

// Settings of the remote backends, filled from velin.toml by the CLI.
struct BackendOptions {
  // [storage.s3]
  std::string s3_endpoint;
  std::string s3_region = "us-east-1";
  bool s3_path_style = false;
  std::string s3_credentials_file;
  int s3_parallel_uploads = 4;
  // [storage.sftp]
  std::string sftp_key_file;
  std::string sftp_known_hosts;
  std::string sftp_key_passphrase_env;   // the variable holding the key's passphrase, or
  std::string sftp_key_passphrase_file;  // the file (0600) holding it (ssh_key.hpp)
  // [backup] allow_insecure: ftp:// and http:// S3 endpoints beyond loopback
  bool allow_insecure = false;
  // Not from velin.toml: the objects the repository replaces under their own name, which an
  // SFTP or FTP backend recovers from a replace cut short (FileServerOptions::replaced_in_place).
  std::set<std::string> replaced_in_place;
};

// The environment variables OpenBackend reads a secret from to open `destination`:
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN for s3:// without a
// credentials file, VELIN_FTP_PASSWORD for ftp:// and ftps://, the key passphrase's variable
// for sftp://; none for a local directory. For velin started again to open the same repository
// (the rollback watchdog), which gets them in its environment; no other child does.
std::vector<std::string> CredentialVariables(const std::string& destination,
                                             const BackendOptions& options);

// Opens the backend for a destination: a local directory (absolute path), or a URL
// s3://bucket/prefix, sftp://user@host:port/path, ftp://host/path. A local directory is
// created when `create` is set.
Result<std::unique_ptr<Backend>> OpenBackend(const std::string& destination,
                                             const BackendOptions& options, io::Env& env,
                                             bool create);

}  // namespace velin::storage
