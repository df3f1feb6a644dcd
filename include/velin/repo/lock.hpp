// Repository locks, as objects ("locks/<id>") so they work on every backend: each carries who
// holds it (host, machine id, boot id, pid namespace, pid and the process's start time), its
// kind and its last refresh. Shared locks (create, restore, verify) coexist; an exclusive lock
// (prune, repair) excludes every other; a commit lock serialises the moment in which a create
// picks its snapshot id and writes the snapshot. A lock is refreshed while held, by writing its
// next object ("<id>-2", "<id>-3", …) before deleting the one before: a lock is never absent
// while it is held, also on a file server whose rename replaces no file. It is stale when its
// holder runs in this very process space (same host, machine, boot and pid namespace) and that
// process is gone (no such pid, or a pid reused by a later process), or — for a holder anywhere
// else, another container, machine or boot — only when it has not been refreshed for the stale
// age (a commit lock's is kCommitLockStaleAge), measured by the storage's own modification times
// (never the reader's clock against the holder's; a modification time more than kLockClockSkew
// ahead is a wrong clock, not an age). Stale locks are removed. A holder whose lock vanished or
// whose refresh failed has lost it, and a shared holder that finds an exclusive lock taken since
// stops too: Check() fails and the engines stop before they commit. A holder that cannot get the
// lock within `wait` gets exit code 3 and a message naming who holds it
// (docs/repository-format.md, "Locks").
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/backend.hpp"

namespace velin::repo {

enum class LockKind { kShared, kExclusive, kCommit };

// Who holds a lock: enough to tell, on any machine, whether it is this process space and, if
// so, whether the process is still the one that wrote the lock (io::Env::ThisProcess).
using LockHolder = io::ProcessIdentity;

// A lock object's content: its holder, kind ("shared", "exclusive", "commit") and the holder's
// clock at its last refresh (Unix seconds). The one reader and writer of the format
// (docs/repository-format.md, "Locks").
struct LockRecord {
  LockHolder holder;
  std::string kind;
  int64_t time = 0;
};
std::string FormatLockRecord(const LockRecord& record);
// nullopt: not a lock this velin can read (a torn write on a non-atomic backend, or garbage).
// Lock objects of the first format carry only host, pid, kind and time: their holder is never
// in this process space, so they expire by age alone.
std::optional<LockRecord> ParseLockRecord(const std::string& text);

// How far ahead of the reader's clock a lock object may be dated before that is a wrong clock
// rather than the few seconds between two machines' clocks (as for backups, kClockSkew).
inline constexpr std::chrono::seconds kLockClockSkew{15 * 60};

// How long a shared holder's Check() watches an exclusive lock before it takes it for one that
// got in: a taker that saw the shared lock deletes its own within one attempt (a write, a
// listing, a read of each lock, a delete), and takes a new name for the next.
inline constexpr std::chrono::seconds kExclusiveSettle{10};

// One lock object as `backup status` and `backup unlock` show it.
struct LockInfo {
  std::string name;  // "locks/exclusive-…": its newest object, which the rest describes
  // Every object of this lock, `name` among them: a refresh writes the next object before it
  // deletes the one before, so for a moment (or, after a kill in between, until removed) a lock
  // has two. `backup unlock` removes them all.
  std::vector<std::string> objects;
  std::string host, kind;
  int64_t pid = 0;
  int64_t time = 0;  // last refresh by the holder's clock, Unix seconds (old lock format)
  int64_t age = -1;  // seconds since the last refresh, by the storage's times; -1 unknown
  // Seconds the object's modification time is ahead of the reader's clock, when more than
  // kLockClockSkew (a wrong clock); 0 otherwise. Its age is then the holder's `time`, if that
  // is not ahead too, else unknown (docs/repository-format.md, "Locks").
  int64_t ahead = 0;
  bool stale = false;    // its holder is gone (see above) or it is older than stale_after
  bool readable = true;  // false: not valid lock JSON (a torn write); stale only by age
};

// "dated 1d in the future (clock skew?)": what `status` and the message of a locked repository
// add for a lock object whose LockInfo::ahead is not 0.
std::string LockDatedAhead(int64_t ahead);

// The storage's clock now, Unix seconds: the modification time the storage gives an object
// written for the purpose, "state/clock-<random>", which is removed at once (with probes of
// earlier runs an hour old by the same clock, left by a kill). nullopt when the backend records
// no modification times; an error when the probe cannot be written (a read-only repository).
Result<std::optional<int64_t>> StorageClock(storage::Backend& backend);

// The lock a lock object belongs to: "locks/<kind>-<16 hex>" of itself and of its refreshes
// "locks/<kind>-<16 hex>-<n>"; any other name is a lock of its own.
std::string LockOfObject(const std::string& object_name);

// What ListLocks found.
struct LockListing {
  std::vector<LockInfo> locks;  // one per lock (not per object), sorted by name
  // Not empty when the storage's clock could not be read (StorageClock failed): ages were then
  // measured by the reader's clock, and this says why (the probe's error).
  std::string clock_error;
};

// The warning of a listing whose clock_error is set: "cannot read the storage's clock (…):
// lock ages are measured by this machine's clock".
std::string StorageClockUnread(const std::string& clock_error);

// Every lock object in `backend`. Ages are the objects' modification times against the
// storage's clock (StorageClock, asked only when there is a lock object), as when locking;
// `now`, Unix seconds by the reader's clock, stands in when that cannot be read, and is what
// the holders' own `time` fields are measured against. `env` tells who this process is and
// whether a local holder still runs.
Result<LockListing> ListLocks(io::Env& env, storage::Backend& backend,
                              std::chrono::seconds stale_after, int64_t now);

struct LockOptions {
  std::chrono::milliseconds wait{0};
  // How long a lock unrefreshed by a holder elsewhere lasts before it is stale (kCommitLockStaleAge
  // for a commit lock, when shorter): for this holder's own lock, and for the others it judges.
  std::chrono::seconds stale_after{1800};
  std::chrono::milliseconds refresh_every{300'000};
};

// A commit lock is held for a snapshot's write — milliseconds, or a minute of a slow PUT with its
// retries — so it is refreshed every 10 s and stale 2 minutes after its last refresh: a host that
// died holding it keeps the others' creates out for 2 minutes, not 30. Its wait is at least
// kMinCommitLockWait, whatever --lock-wait says: another create's commit is over in moments.
inline constexpr std::chrono::seconds kCommitLockRefresh{10};
inline constexpr std::chrono::seconds kCommitLockStaleAge{120};
inline constexpr std::chrono::seconds kMinCommitLockWait{60};
// The options of a commit lock that waits `wait` (--lock-wait) but at least kMinCommitLockWait.
LockOptions CommitLockOptions(std::chrono::milliseconds wait);

class RepoLock {
 public:
  // `env` gives the clocks, the waits between attempts, this process's identity and the
  // liveness of local holders.
  static Result<std::unique_ptr<RepoLock>> Acquire(io::Env& env, storage::Backend& backend,
                                                   LockKind kind, const LockOptions& options);
  // For a reader that cannot write its lock (a read-only repository): waits as Acquire would
  // until no live lock conflicts with `kind` (a prune's exclusive one), without a lock object of
  // its own; the same exit 3 error once options.wait is over.
  static Status WaitUnlocked(io::Env& env, storage::Backend& backend, LockKind kind,
                             const LockOptions& options);
  ~RepoLock();  // stops refreshing and deletes the lock object
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;

  // Fails once the lock is lost: its object vanished (another velin removed it), a refresh
  // failed, or it has gone unrefreshed so long that others may call it stale; and, for a shared
  // lock, once a live exclusive lock stays in the listing (a prune got in, whatever let it: one
  // that saw this lock and backs off is gone again within kExclusiveSettle). Asks the storage
  // (one Stat; a shared lock one listing of locks/): the refresher looks only every
  // refresh_every, and a prune may start the moment the object is gone. Called before every
  // commit step (index, snapshot, deletions) and after a snapshot is written
  // (repo/snapshot_commit.hpp).
  Status Check();
  // The lock object's current name (it changes with each refresh).
  std::string name() const;

 private:
  RepoLock(io::Env& env, storage::Backend& backend, std::string name, LockKind kind,
           LockOptions options);
  void RefreshLoop();
  Result<bool> RefreshOnce();  // false: the lock object vanished
  // Why the lock is lost by what this process knows (the refresher's findings, the time since
  // the last refresh); nullopt: not lost as far as that goes.
  std::optional<std::string> LostLocally();
  // Why the lock is lost by what the storage shows; nullopt: not lost.
  std::optional<std::string> LostInStorage();
  // A shared lock's look at locks/: the lock is there and no live exclusive lock stays.
  std::optional<std::string> SharedLostInStorage();
  // Records that the lock is lost (the refresher stops); returns `why`.
  std::string MarkLost(std::string why);
  // Deletes `name`, or keeps it for the next refresh and the destructor to delete.
  void Discard(const std::string& name);
  // Deletes the objects before the current one (a moment after a refresh).
  void RetirePrevious();

  io::Env& env_;
  storage::Backend& backend_;
  const std::string base_;  // the first object's name; refreshes write base_-2, base_-3, …
  std::string name_;        // the current object's; guarded by io_mu_
  uint64_t generation_ = 1;
  std::vector<std::string> leftovers_;  // earlier objects, still to delete; io_mu_
  LockKind kind_ = LockKind::kShared;
  LockOptions options_;
  std::mutex mu_;
  // Held by the refresher's requests and by Check()'s: a refresh writes the next object and
  // deletes the one before, and name_ changes in between.
  mutable std::mutex io_mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::optional<std::string> lost_;  // why the lock is lost
  std::chrono::steady_clock::time_point refreshed_;
  std::thread refresher_;
  // A local lock object's file, for the terminate handler to remove (core/threads.hpp): what
  // ends the process from a worker thread (out of memory) unwinds nothing. Two buffers, so that
  // the handler never reads one being rewritten; io_mu_.
  void NoteForTermination();
  std::array<std::array<char, 4096>, 2> termination_paths_{};
  int termination_buffer_ = 0;
  int termination_slot_ = -1;
};

}  // namespace velin::repo
