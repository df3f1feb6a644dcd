// SQLite: the online backup API copies the live file into a private temp file in one read
// transaction (a writing application only waits, never breaks it), integrity_check runs on the
// copy, then the copy is streamed. Restore writes a temp file beside the database, checks it,
// and renames it over the database keeping its mode and owner. docs/databases.md#sqlite.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <string_view>

#include "driver_base.hpp"
#include "drivers.hpp"
#include "sqlite_file.hpp"
#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/io/env.hpp"
#include "velin/io/process_space.hpp"

namespace velin::db::internal {
namespace {

constexpr size_t kCopyBuffer = 1 << 20;
// A backup's copy of the database, in the temp dir: "velin-sqlite-copy.tmp-<pid>-<tag>-<n>".
constexpr const char* kCopyName = "velin-sqlite-copy";

// The files SQLite keeps beside a database: opening a copy of a database in WAL mode (even
// read-only) makes its -wal and -shm, which stay when the connection closes.
constexpr const char* kSideFiles[] = {"-wal", "-shm", "-journal"};

// Removes `path`'s side files (kSideFiles) that exist; `and_path`: the file itself too.
Status RemoveSideFiles(io::Env& env, const std::string& path, bool and_path) {
  Status first = Ok();
  std::vector<std::string> files;
  if (and_path) files.push_back(path);
  for (const char* suffix : kSideFiles) files.push_back(path + suffix);
  for (const std::string& p : files) {
    Status st = Ok();
    if (auto exists = env.Exists(p); !exists) {
      st = tl::unexpected(exists.error());
    } else if (*exists) {
      st = env.RemoveFile(p);
    }
    if (!st && first) first = st;
  }
  return first;
}

// Another process that has the database `path` open, found by the locks SQLite takes (unix
// VFS: fcntl locks): every connection to a database in WAL mode holds a read lock on its -shm
// file for as long as it is open, and one in a transaction (either mode) a lock on the database
// file. F_GETLK names a lock of another process (POSIX or an open file description's) that a
// write lock on every byte would meet: its pid (0 when it has none: an open file description's
// lock), or nothing. An idle connection to a database in rollback mode holds no lock: not found.
std::optional<pid_t> SqliteLockHolder(const std::string& path) {
  for (const std::string& file : {path, path + "-shm"}) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) continue;
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    const int rc = ::fcntl(fd, F_GETLK, &lock);
    ::close(fd);
    if (rc == 0 && lock.l_type != F_UNLCK) return lock.l_pid > 0 ? lock.l_pid : 0;
  }
  return std::nullopt;
}

// Whether `name` in directory `dir_fd` may be replaced by a database: missing, not a regular
// file (a symlink's target was resolved before), empty, or beginning with SQLite's header.
bool LooksLikeSqlite(int dir_fd, const std::string& name) {
  const int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return true;
  struct stat st {};
  constexpr std::string_view kHeader("SQLite format 3\0", 16);
  char head[16] = {};
  ssize_t n = 0;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    n = ::pread(fd, head, sizeof head, 0);
  } else {
    ::close(fd);
    return true;
  }
  ::close(fd);
  return n == static_cast<ssize_t>(sizeof head) && std::string_view(head, sizeof head) == kHeader;
}

// "process 1234 (python3)", or "another process" for `pid` 0.
std::string DescribeLockHolder(pid_t pid) {
  if (pid <= 0) return std::string(Tr("another process"));
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  if (name.empty()) return TrFormat("process {}", pid);
  return TrFormat("process {} ({})", pid, name);
}

// Removes a temporary database and its side files when it goes out of scope; once released,
// only the side files (the database took another name).
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  ~TempFileGuard() { (void)RemoveSideFiles(io::Env::Default(), path_, !released_); }
  void Release() { released_ = true; }

 private:
  std::string path_;
  bool released_ = false;
};

class SqliteDriver final : public DriverSteps {
 public:
  explicit SqliteDriver(ConnectionOptions o) : o_(std::move(o)), env_(io::Env::Default()) {}

  std::string Describe() const override { return TrFormat("database '{}'", o_.path); }

  Result<std::vector<TableRows>> DoCountRows(const std::string& target) override {
    VELIN_ASSIGN(SqliteFile f, SqliteFile::Open(target.empty() ? o_.path : target, false));
    return f.CountRows();
  }
  Result<bool> DoDatabaseExists(const std::string& target) override {
    const std::string path = target.empty() ? o_.path : target;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return Failure(TrFormat("cannot read {}: {}", path, std::strerror(errno)));
  }
  Status DoCheck(const std::string& target) override {
    VELIN_ASSIGN(SqliteFile f, SqliteFile::Open(target.empty() ? o_.path : target, false));
    return f.IntegrityCheck();
  }
  Result<std::string> DoCreateTemporaryDatabase() override {
    return io::JoinPath(TempDir(), UniqueTemporaryName() + ".db");
  }
  // The copies in the temp dir (their side files go with them: DoDrop).
  Result<std::vector<std::string>> DoListTemporaries() override {
    std::vector<std::string> paths;
    auto entries = env_.ListDir(TempDir());
    if (!entries) return paths;
    for (const io::DirEntry& e : *entries) {
      if (e.type == io::FileType::kRegular && e.name.starts_with("velin_restore_test_") &&
          e.name.ends_with(".db")) {
        paths.push_back(io::JoinPath(TempDir(), e.name));
      }
    }
    return paths;
  }
  std::string ConfiguredDatabase() const override { return o_.path; }
  Status DoDrop(const std::string& target) override { return RemoveSideFiles(env_, target, true); }

 private:
  // Removes the files under `dir` whose names start with `prefix` that a backup or restore
  // killed before its end left (a temp copy of the database, its side files, a journal moved
  // aside): their writer is gone (io::IsDeadWritersTemp). Each kill -9 left a whole copy of
  // the database. Best effort.
  void SweepDeadTemps(const std::string& dir, const std::string& prefix) {
    auto entries = env_.ListDir(dir);
    if (!entries) return;
    for (const io::DirEntry& e : *entries) {
      if (e.type != io::FileType::kRegular || !e.name.starts_with(prefix)) continue;
      if (io::IsDeadWritersTemp(env_, e.name)) (void)env_.RemoveFile(io::JoinPath(dir, e.name));
    }
  }

  std::string TempDir() const {
    if (!o_.temp_dir.empty()) return o_.temp_dir;
    const std::string tmp = GetEnvironment("TMPDIR").value_or("");
    return !tmp.empty() ? tmp : "/tmp";
  }

  Result<DatabaseInfo> MakeInfo(SqliteFile& f) {
    DatabaseInfo info;
    info.driver = "sqlite";
    info.name = io::Basename(o_.path);
    info.server_version = sqlite3_libversion();
    info.dump_tool = "sqlite3_backup";
    info.dump_tool_version = sqlite3_libversion();
    info.dump_format = "sqlite";
    VELIN_ASSIGN(info.size_bytes, f.SizeBytes());
    VELIN_ASSIGN(info.tables, f.CountRows());
    return info;
  }

  Result<DatabaseInfo> DoPreflight() override {
    VELIN_ASSIGN(bool exists, env_.Exists(o_.path));
    if (!exists) return Failure(std::string(Tr("the file does not exist")));
    VELIN_ASSIGN(SqliteFile f, SqliteFile::Open(o_.path, false));
    VELIN_ASSIGN(DatabaseInfo info, MakeInfo(f));
    for (TableRows& t : info.tables) t.rows = 0;  // counted by Dump, in its snapshot
    return info;
  }

  // Copies the live database into `copy` in one step: one read transaction, so the copy is
  // one consistent state even while another process writes (it waits for our lock). False
  // when a read-only connection met a hot journal (a writer died in a transaction), which
  // only a writable one rolls back.
  Result<bool> OnlineCopy(const std::string& copy, bool writable) {
    VELIN_ASSIGN(SqliteFile src, SqliteFile::Open(o_.path, writable));
    return CopyFrom(src, copy, writable);
  }

  Result<bool> CopyFrom(SqliteFile& src, const std::string& copy, bool writable) {
    VELIN_ASSIGN(SqliteFile dst, SqliteFile::Open(copy, true, true));
    sqlite3_backup* b = sqlite3_backup_init(dst.get(), "main", src.get(), "main");
    if (b == nullptr) return Failure(TrFormat("backup: {}", sqlite3_errmsg(dst.get())));
    const auto deadline = env_.SteadyNow() + std::chrono::seconds(60);
    int rc;
    while (true) {
      rc = sqlite3_backup_step(b, -1);
      bool busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
      if (!busy || env_.SteadyNow() > deadline) break;
      env_.SleepFor(std::chrono::milliseconds(20));
    }
    int finish = sqlite3_backup_finish(b);
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
      // "database is locked" alone did not say by whom, nor that velin waited.
      const std::optional<pid_t> holder = SqliteLockHolder(o_.path);
      return Failure(TrFormat(
          "backup: database is locked: {} held a lock on it for the 60 s velin waited (a write "
          "transaction kept open, or locking_mode=EXCLUSIVE); nothing was backed up: run the "
          "backup again once it is released",
          holder ? DescribeLockHolder(*holder) : std::string(Tr("another process"))));
    }
    if (rc == SQLITE_READONLY_ROLLBACK && !writable) return false;
    if ((rc & 0xff) == SQLITE_NOTADB) {
      // "file is not a database" alone left the user to guess: a path naming another file, or
      // a database encrypted by an extension velin does not have.
      return Failure(std::string(
          Tr("backup: the file is not a SQLite database (it does not begin with SQLite's "
             "header): another kind of file, or a database encrypted by SQLCipher or SEE, which "
             "velin cannot read; check database.path")));
    }
    if ((rc & 0xff) == SQLITE_FULL) {
      // "database or disk is full" alone read as the application's own disk or database: it
      // is the scratch copy's, in $TMPDIR (often a small tmpfs), that is full.
      return Failure(TrFormat(
          "backup: no room for the copy of the database in {} ({}): the copy needs as much "
          "room as the database; free some there, or set TMPDIR to a directory with room",
          io::Dirname(copy), sqlite3_errstr(rc)));
    }
    if (rc != SQLITE_DONE) return Failure(TrFormat("backup: {}", sqlite3_errstr(rc)));
    if (finish != SQLITE_OK) return Failure(TrFormat("backup: {}", sqlite3_errmsg(dst.get())));
    return true;
  }

  // What a copy of a database that no connection has open must find unchanged after it.
  struct ClosedWalState {
    io::FileInfo db;
    std::optional<uint64_t> wal_size;  // none: no -wal
  };

  // The state of the database `name` in `dir` when velin's read-only connection would make its
  // -shm and -wal with velin's user as their owner: a database in WAL mode (header bytes 18
  // and 19: 2) that no connection has open (no -shm; no -wal, or an empty one), read by a user
  // that is neither root (SQLite gives root's side files the database's owner) nor its owner.
  // Nothing otherwise.
  std::optional<ClosedWalState> ClosedWalDatabase(const io::Dir& dir, const std::string& name) {
    if (::geteuid() == 0) return std::nullopt;
    auto db = env_.StatAt(dir, name);
    if (!db || db->type != io::FileType::kRegular || db->uid == ::geteuid()) return std::nullopt;
    auto shm = env_.StatAt(dir, name + "-shm");
    if (shm || shm.error().sys_errno != ENOENT) return std::nullopt;
    ClosedWalState state{.db = *db, .wal_size = std::nullopt};
    if (auto wal = env_.StatAt(dir, name + "-wal"); wal) {
      if (wal->size != 0) return std::nullopt;
      state.wal_size = wal->size;
    } else if (wal.error().sys_errno != ENOENT) {
      return std::nullopt;
    }
    const int fd = ::openat(dir.fd(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return std::nullopt;
    unsigned char versions[2] = {};
    const ssize_t n = ::pread(fd, versions, sizeof versions, 18);
    ::close(fd);
    if (n != 2 || versions[0] != 2 || versions[1] != 2) return std::nullopt;
    return state;
  }

  // Copies a database that ClosedWalDatabase found closed without SQLite's locks, -shm or
  // -wal. Opening it as usual made them, owned by velin's user with the database's mode
  // (0644), and left them: the application, started again, could not write its own database
  // ("attempt to write a readonly database") until they were removed; where velin may not
  // write the directory the backup itself failed with those words. Such a file is the whole
  // database as it is: it is copied as an immutable file and kept only when nothing touched it
  // meanwhile (the same file, size and times, still no -shm, the -wal as it was). False when
  // something did (the application started): the caller copies it as usual, through the -shm
  // that the application's connection made.
  Result<bool> CopyClosedWalDatabase(const io::Dir& dir, const std::string& name,
                                     const ClosedWalState& before, const std::string& copy) {
    VELIN_ASSIGN(SqliteFile src, SqliteFile::OpenImmutable(io::JoinPath(Pinned(dir), name)));
    VELIN_ASSIGN(bool copied, CopyFrom(src, copy, false));
    if (!copied) return false;
    const std::optional<ClosedWalState> after = ClosedWalDatabase(dir, name);
    return after && io::SameFile(before.db, after->db) && after->db.size == before.db.size &&
           after->db.mtime_ns == before.db.mtime_ns && after->db.ctime_ns == before.db.ctime_ns &&
           after->wal_size == before.wal_size;
  }

  Result<DatabaseInfo> DoDump(const ByteSink& sink) override {
    VELIN_ASSIGN(bool exists, env_.Exists(o_.path));
    if (!exists) return Failure(std::string(Tr("the file does not exist")));
    // The links on its path by the restore's rule: what a backup reads through a link another
    // user made to elsewhere (a database only root may read), a restore would not write back.
    VELIN_ASSIGN(io::BeneathEntry found, LocateSqliteFile(o_.root, o_.path, false));
    SweepDeadTemps(TempDir(), std::string(kCopyName) + ".tmp-");
    std::string copy = io::TempPathFor(env_, io::JoinPath(TempDir(), kCopyName));
    io::WriteOptions wo;
    wo.mode = 0600;  // the copy holds the application's data
    wo.exclusive = true;
    VELIN_ASSIGN(auto created, env_.NewWritableFile(copy, wo));
    VELIN_TRY(created->Close());
    TempFileGuard guard(copy);
    bool copied = false;
    if (std::optional<ClosedWalState> closed = ClosedWalDatabase(*found.dir, found.name)) {
      VELIN_ASSIGN(copied, CopyClosedWalDatabase(*found.dir, found.name, *closed, copy));
    }
    if (!copied) {
      VELIN_ASSIGN(copied, OnlineCopy(copy, false));
    }
    if (!copied) {
      // A writer died in a transaction (the app was killed, the machine lost power) and left a
      // hot journal. Opened for writing, SQLite rolls it back as any writer's next open would:
      // the database as it was before that transaction, which is what the backup then holds.
      auto again = OnlineCopy(copy, true);
      if (!again || !*again) {
        return Failure(TrFormat(
            "a writer that died in a transaction left a hot journal ({}-journal), which only a "
            "connection that may write rolls back{}: open the database once as its owner (start "
            "the application, or `sqlite3 {} 'PRAGMA quick_check'`), then back up again",
            o_.path, again ? std::string() : " (" + again.error().message + ")", o_.path));
      }
    }
    DatabaseInfo info;
    {
      VELIN_ASSIGN(SqliteFile f, SqliteFile::Open(copy, false));
      Status check = f.IntegrityCheck();
      if (!check)
        return Failure(TrFormat("the live database is damaged: {}", check.error().message));
      VELIN_ASSIGN(info, MakeInfo(f));
    }
    VELIN_ASSIGN(auto file, env_.NewRandomAccessFile(copy));
    std::string buf(kCopyBuffer, '\0');
    for (uint64_t offset = 0;;) {
      VELIN_ASSIGN(size_t n, file->Read(offset, buf.size(), buf.data()));
      if (n == 0) break;
      VELIN_TRY(sink(std::string_view(buf.data(), n)));
      offset += n;
    }
    return info;
  }

  Status WriteTemp(const ByteProducer& produce, const std::string& tmp) {
    io::WriteOptions wo;
    wo.mode = 0600;
    wo.exclusive = true;
    VELIN_ASSIGN(auto out, env_.NewWritableFile(tmp, wo));
    VELIN_TRY(produce([&](std::string_view chunk) { return out->Append(chunk); }));
    VELIN_TRY(out->Sync());
    return out->Close();
  }

  // Gives `tmp` the mode and owner of the file it replaces. A new one (the database was
  // deleted, or lost with its disk) gets 0644 and, restored by root, the owner and group of
  // its directory `dir`, with group write where the directory gives its group write: the
  // application's, which writes there. Before, root's file of mode 0644 was left there, which
  // the application could only read ("attempt to write a readonly database").
  Status CopyAttributes(const std::string& tmp, const std::string& dir, const std::string& path) {
    VELIN_ASSIGN(bool exists, env_.Exists(path));
    if (!exists) {
      if (::geteuid() != 0) return env_.SetMode(tmp, 0644);
      VELIN_ASSIGN(io::FileInfo d, env_.Stat(io::JoinPath(dir, ".")));
      VELIN_TRY(env_.SetMode(tmp, 0644 | (d.mode & 020)));
      if (d.uid != 0 || d.gid != 0) VELIN_TRY(env_.SetOwner(tmp, d.uid, d.gid));
      return Ok();
    }
    VELIN_ASSIGN(io::FileInfo st, env_.Stat(path));
    VELIN_TRY(env_.SetMode(tmp, st.mode));
    if (st.uid != ::geteuid() || st.gid != ::getegid())
      VELIN_TRY(env_.SetOwner(tmp, st.uid, st.gid));
    return Ok();
  }

  // Renames `tmp` over `path`. The old database's rollback journal and write-ahead log go
  // aside first (beside `tmp`, removed after): SQLite would replay either onto the restored
  // file when it is next opened — a hot journal, which a crash in a write leaves, writes the
  // old database's pages into it: a damaged database, reported as restored. The old database
  // is not opened for it (it may be the damaged one being replaced).
  Status ReplaceDatabase(const std::string& tmp, const std::string& path) {
    std::vector<std::pair<std::string, std::string>> moved;  // (from, to)
    auto put_back = [&] {
      for (const auto& [from, to] : moved) (void)env_.Rename(to, from);
    };
    for (const char* suffix : {"-journal", "-wal"}) {
      const std::string from = path + suffix;
      VELIN_ASSIGN(bool exists, env_.Exists(from));
      if (!exists) continue;
      const std::string to = tmp + suffix + "-replaced";
      if (Status st = env_.Rename(from, to); !st) {
        put_back();
        return st;
      }
      moved.emplace_back(from, to);
    }
    if (Status st = env_.Rename(tmp, path); !st) {
      put_back();
      return st;
    }
    for (const auto& [from, to] : moved) VELIN_TRY(env_.RemoveFile(to));
    return Ok();
  }

  // A path naming `dir` itself, whatever its path names by now: /proc/self/fd/N. Where /proc
  // is not mounted, its path.
  std::string Pinned(const io::Dir& dir) {
    const std::string pinned = "/proc/self/fd/" + std::to_string(dir.fd());
    auto info = env_.Stat(pinned + "/.");
    return info && info->type == io::FileType::kDirectory ? pinned : dir.path();
  }

  Result<std::vector<std::string>> DoRestore(const ByteProducer& produce,
                                             const std::string& target) override {
    // The file the path names after its symlinks (var/app.db -> /data/app.db: the database
    // lives on another volume), as its directory, open, and its name there: a restore replaces
    // that file, not the link, and takes its mode. A link to nowhere names where the file is to
    // be made (its missing directories too: a new machine). A link that another user made (the
    // application's user, who may write the database's directory) is followed only where it
    // leads below app.root (else below the database's own directory): velin, restoring as
    // root, would otherwise write the database where that user chose
    // (/root/.ssh/authorized_keys, whose lines a row may hold).
    VELIN_ASSIGN(io::BeneathEntry found,
                 LocateSqliteFile(o_.root, target.empty() ? o_.path : target, true));
    // Every call below names the directory found through its descriptor: a directory on the
    // way swapped for a symlink meanwhile is not followed. Messages name it by its path.
    const std::string dir = Pinned(*found.dir);
    // Another file named (--database FILE) is replaced only when it is a SQLite database, or
    // empty: a path mistyped into a file of the application (config/app.php) was replaced by
    // the database, after a question that called it a database. The configured one is not
    // looked at: it may be the damaged database being replaced.
    if (!target.empty() && !LooksLikeSqlite(found.dir->fd(), found.name)) {
      return UsageError(TrFormat(
          "restoring into '{}': the file there is not a SQLite database (it does not begin with "
          "SQLite's header): a restore replaces a SQLite database or an empty file, nothing "
          "else; name another file, or move this one away first; nothing was changed",
          io::JoinPath(found.dir->path(), found.name)));
    }
    Result<std::vector<std::string>> restored = RestoreInto(produce, dir, found.name);
    const auto shown = [&](std::string& message) {
      for (size_t at; (at = message.find(dir)) != std::string::npos;) {
        message.replace(at, dir.size(), found.dir->path());
      }
    };
    if (dir != found.dir->path()) {
      if (!restored) {
        shown(restored.error().message);
      } else {
        for (std::string& warning : *restored) shown(warning);
      }
    }
    // Into another file (--database FILE, a restore test's): named, as the prefix names the
    // configured database (PostgreSQL's and MariaDB's errors name their target the same way).
    if (!restored && !target.empty()) {
      restored.error().message =
          TrFormat("restoring into '{}': {}", io::JoinPath(found.dir->path(), found.name),
                   restored.error().message);
    }
    return restored;
  }

  Result<std::vector<std::string>> RestoreInto(const ByteProducer& produce, const std::string& dir,
                                               const std::string& name) {
    const std::string path = io::JoinPath(dir, name);
    const std::string hidden = "." + name;
    SweepDeadTemps(dir, hidden + ".tmp-");
    std::string tmp = io::TempPathFor(env_, io::JoinPath(dir, hidden));
    TempFileGuard guard(tmp);
    VELIN_TRY(WriteTemp(produce, tmp));
    {
      VELIN_ASSIGN(SqliteFile f, SqliteFile::Open(tmp, false));
      Status check = f.IntegrityCheck();
      if (!check)
        return DamageError(TrFormat("the dump to restore is damaged: {}", check.error().message));
    }
    VELIN_TRY(CopyAttributes(tmp, dir, path));
    // An application still running on the database keeps the file it has open, replaced now:
    // it does not see what was restored, and what it writes from now on is lost with that file.
    // Said, as it is found at the last moment (docs/databases.md: stop the application first).
    std::vector<std::string> warnings;
    if (std::optional<pid_t> holder = SqliteLockHolder(path)) {
      warnings.push_back(TrFormat(
          "{} is open in {}, which holds a lock on it: that process goes on with the database "
          "file it has open, replaced now, until it opens the database again (it does not see "
          "what was restored, and what it writes meanwhile is lost): restart it now, and stop "
          "the application before a restore",
          path, DescribeLockHolder(*holder)));
    }
    VELIN_TRY(ReplaceDatabase(tmp, path));
    guard.Release();  // the check's side files of `tmp` still go
    VELIN_TRY(env_.SyncDir(dir));
    // The old database's wal-index: it describes a log that is gone.
    VELIN_ASSIGN(bool shm, env_.Exists(path + "-shm"));
    if (shm) VELIN_TRY(env_.RemoveFile(path + "-shm"));
    return warnings;
  }

  ConnectionOptions o_;
  io::Env& env_;
};

}  // namespace

std::unique_ptr<Driver> NewSqliteDriver(const ConnectionOptions& options) {
  return WrapDriver(std::make_unique<SqliteDriver>(options), options.password);
}

}  // namespace velin::db::internal

namespace velin::db {

Result<io::BeneathEntry> LocateSqliteFile(const std::string& root, const std::string& path,
                                          bool create) {
  std::string below = io::Dirname(path);
  const std::string top = root.empty() || root == "/" ? root : root + "/";
  if (!root.empty() && path.starts_with(top)) below = root;
  io::BeneathOptions options;
  options.create = create;
  // A directory the restore makes (a new machine, a deleted var/) is the application's, as the
  // database file made in it is (CopyAttributes): made by root as root's, the application
  // could not write the journal beside its database.
  options.owner_of_parent = create;
  return io::OpenEntryBeneath(io::Env::Default(), below,
                              path.substr(std::min(path.size(), below.size())), options);
}

}  // namespace velin::db
