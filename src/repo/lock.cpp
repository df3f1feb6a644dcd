#include "velin/repo/lock.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "lock_object.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/core/threads.hpp"
#include "velin/repo/blob_id.hpp"

namespace velin::repo {

namespace {

constexpr const char* kVanished = "the lock object vanished (removed by another velin?)";

const char* KindName(LockKind k) {
  switch (k) {
    case LockKind::kShared:
      return "shared";
    case LockKind::kExclusive:
      return "exclusive";
    case LockKind::kCommit:
      return "commit";
  }
  return "shared";
}

int64_t UnixSeconds(io::Env& env) {
  return std::chrono::duration_cast<std::chrono::seconds>(env.Now().time_since_epoch()).count();
}

std::string LockBody(io::Env& env, LockKind kind, const LockHolder& h) {
  return FormatLockRecord(LockRecord{h, KindName(kind), UnixSeconds(env)});
}

bool Conflicts(LockKind mine, const std::string& theirs) {
  if (mine == LockKind::kCommit) return theirs == "commit";
  if (theirs == "commit") return false;
  return mine == LockKind::kExclusive || theirs == "exclusive";
}

// The kind a lock object's name says ("locks/exclusive-…"), "" when it says none.
std::string KindOfName(const std::string& name) {
  for (const char* k : {"shared", "exclusive", "commit"}) {
    if (name.rfind(std::string("locks/") + k + "-", 0) == 0) return k;
  }
  return "";
}

// A lock of unknown kind (an unreadable object whose name says none) conflicts with any.
bool MayConflict(LockKind mine, const std::string& theirs) {
  return theirs.empty() || Conflicts(mine, theirs);
}

// Which of a lock's objects `name` is: 1 for the first ("locks/<kind>-<16 hex>"), n for its
// refresh "…-<n>".
uint64_t GenerationOf(const std::string& name) {
  const std::string lock = LockOfObject(name);
  if (lock == name) return 1;
  uint64_t n = 0;
  for (size_t i = lock.size() + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || n > UINT64_MAX / 20) return 0;
    n = n * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return n;
}

// How long a lock of `kind` goes unrefreshed before it is stale (a holder elsewhere).
std::chrono::seconds StaleAgeOf(const std::string& kind, std::chrono::seconds stale_after) {
  return kind == "commit" ? std::min(stale_after, kCommitLockStaleAge) : stale_after;
}

// True when the holder ran in this process space and that process is gone.
bool HolderGone(io::Env& env, const LockHolder& self, const LockHolder& holder) {
  if (!self.SameProcessSpace(holder) || holder.pid <= 0) return false;
  if (!env.ProcessExists(holder.pid)) return true;
  // Alive: the same process, or a later one that got the pid (start times differ).
  const int64_t ticks = env.ProcessStartTicks(holder.pid);
  return holder.start_ticks != 0 && ticks != 0 && ticks != holder.start_ticks;
}

struct LockAge {
  int64_t seconds = -1;  // -1: unknown
  int64_t ahead = 0;     // LockInfo::ahead
};

// Seconds since the lock object was last written: the storage's modification time against
// `reference` (the storage's time of a fresh object when known); else the holder's own time
// field against the reader's clock. A time further ahead than kLockClockSkew says nothing about
// the age: clamped to 0 it kept a lock `touch`ed a day ahead "0s ago", never stale, for a day.
// Such a modification time gives way to the holder's time, as where a backend has none; when
// that is ahead too (or unreadable), the age is unknown. Up to the skew ahead is a refresh after
// `reference` was taken, or two clocks a little apart: 0.
LockAge AgeOf(const storage::ObjectInfo& object, const std::optional<LockRecord>& parsed,
              int64_t reference, int64_t now) {
  const int64_t skew = kLockClockSkew.count();
  LockAge age;
  if (object.mtime > 0) {
    if (object.mtime - reference <= skew) {
      age.seconds = std::max<int64_t>(0, reference - object.mtime);
      return age;
    }
    age.ahead = object.mtime - reference;
  }
  if (parsed) {
    if (parsed->time - now <= skew) {
      age.seconds = std::max<int64_t>(0, now - parsed->time);
      return age;
    }
    if (age.ahead == 0) age.ahead = parsed->time - now;
  }
  return age;
}

// A duration in its largest unit, rounded: a lock `touch`ed a day ahead and read seconds later
// is "1d" ahead, not "23h59m57s" (nor "24h": 95 % of a unit counts as one).
std::string Roughly(int64_t seconds) {
  struct Unit {
    const char* name;
    int64_t seconds;
  };
  static constexpr Unit kUnits[] = {{"d", 86'400}, {"h", 3'600}, {"m", 60}};
  for (const Unit& u : kUnits) {
    if (seconds * 20 >= u.seconds * 19) {
      return std::to_string(std::max<int64_t>(1, (seconds + u.seconds / 2) / u.seconds)) + u.name;
    }
  }
  return std::to_string(seconds) + "s";
}

struct Judged {
  LockInfo info;
  bool gone = false;  // released between the listing and the read
};

Result<Judged> Judge(io::Env& env, storage::Backend& backend, const storage::ObjectInfo& object,
                     const LockHolder& self, std::chrono::seconds stale_after, int64_t reference,
                     int64_t now) {
  Judged out;
  auto text = backend.Get(object.name);
  if (!text) {
    if (storage::IsNotFound(text.error())) {
      out.gone = true;  // a lock that is gone is a lock released
      return out;
    }
    return tl::unexpected(text.error().Wrap(TrFormat("lock {}", object.name)));
  }
  auto parsed = ParseLockRecord(*text);
  LockInfo& info = out.info;
  info.name = object.name;
  const LockAge age = AgeOf(object, parsed, reference, now);
  info.age = age.seconds;
  info.ahead = age.ahead;
  // It counts as the kind its name says when unreadable (any kind when it says none: "").
  info.kind = parsed ? parsed->kind : KindOfName(object.name);
  const bool old = info.age >= 0 && info.age > StaleAgeOf(info.kind, stale_after).count();
  if (!parsed) {
    info.readable = false;
    info.stale = old;
    return out;
  }
  info.host = parsed->holder.host;
  info.pid = parsed->holder.pid;
  info.time = parsed->time;
  if (self.SameProcessSpace(parsed->holder)) {
    info.stale = HolderGone(env, self, parsed->holder);  // a live local holder is never stale
  } else {
    info.stale = old;
  }
  return out;
}

struct Holder {
  std::string name, host, kind;
  int64_t pid = 0, age = -1, ahead = 0;
  bool readable = true;
  bool replaced = false;  // vanished each time it was read: a lock refreshed as fast as that
  std::string Describe() const {
    const std::string future = ahead > 0 ? ", " + LockDatedAhead(ahead) : "";
    if (replaced) return std::string(Tr("a lock that was replaced each time it was read"));
    // In the user's language: it goes into the "is locked by" line (exit 3) a cron mail shows.
    if (!readable) return TrFormat("an unreadable lock object{}", future);
    const std::string_view kind_shown = kind.empty() ? std::string_view() : Tr(kind);
    if (age < 0) {
      return TrFormat("host {} pid {}, {} lock, of unknown age{}", host, pid, kind_shown, future);
    }
    return TrFormat("host {} pid {}, {} lock, {}s ago{}", host, pid, kind_shown, age, future);
  }
};

Holder HolderOf(const LockInfo& info) {
  return Holder{.name = info.name,
                .host = info.host,
                .kind = info.kind,
                .pid = info.pid,
                .age = info.age,
                .ahead = info.ahead,
                .readable = info.readable};
}

// How many listings LiveConflicts makes while locks that may conflict vanish between the listing
// and their read.
constexpr int kListings = 5;

// Locks that conflict with `kind` and are live; stale ones are deleted on the way. An
// unreadable lock conflicts with everything until it is stale by age. A lock that may conflict
// and is gone by the time it is read was released — or refreshed: its holder wrote the next
// object before it deleted the one listed. Listed again, the next object shows; one that
// vanishes listing after listing counts as held.
Result<std::vector<Holder>> LiveConflicts(io::Env& env, storage::Backend& backend, LockKind kind,
                                          const std::string& own, const LockHolder& self,
                                          const LockOptions& options) {
  for (int listing = 1;; ++listing) {
    VELIN_ASSIGN(auto objects, backend.List("locks/"));
    const int64_t now = UnixSeconds(env);
    int64_t reference = now;
    for (const auto& o : objects) {
      if (o.name == own && o.mtime > 0) reference = o.mtime;  // the storage's "now"
    }
    std::vector<Holder> out;
    bool vanished = false;
    for (const auto& o : objects) {
      if (o.name == own) continue;
      VELIN_ASSIGN(Judged j, Judge(env, backend, o, self, options.stale_after, reference, now));
      if (j.gone) {
        if (!MayConflict(kind, KindOfName(o.name))) continue;
        if (listing < kListings) {
          vanished = true;
        } else {
          out.push_back(Holder{.name = o.name, .kind = KindOfName(o.name), .replaced = true});
        }
        continue;
      }
      if (j.info.stale) {
        (void)backend.Delete(o.name);  // stale: its owner is gone
        continue;
      }
      if (MayConflict(kind, j.info.kind)) out.push_back(HolderOf(j.info));
    }
    if (!vanished) return out;
  }
}

// The error of a lock that did not give way within `wait` (exit 3).
tl::unexpected<Error> LockedBy(const storage::Backend& backend, const Holder& first,
                               std::chrono::milliseconds wait) {
  if (first.age < 0 && first.ahead > 0) {
    // Dated in the future and of no known age: it never goes stale, so waiting cannot help.
    return MakeError(
        ExitCode::kLocked,
        TrFormat("repository {} is locked by {} ({}); it never expires by age (a clock "
                 "is wrong): once nothing of velin runs on that host, remove it with "
                 "`velin backup unlock`",
                 backend.Location(), first.Describe(), first.name));
  }
  if (first.kind == "commit" && wait < kCommitLockStaleAge) {
    // A holder that died leaves it for 2 minutes: a longer wait outlasts it.
    return MakeError(
        ExitCode::kLocked,
        TrFormat("repository {} is locked by {} ({}), the lock a backup holds while it writes "
                 "its snapshot; one whose holder died expires 2 minutes after its last refresh: "
                 "pass --lock-wait 3m to wait for that, or, once nothing of velin runs on that "
                 "host, remove it with `velin backup unlock`",
                 backend.Location(), first.Describe(), first.name));
  }
  if (first.kind == "commit") {
    // Waited out its stale age, and it is still there: its holder refreshes it.
    return MakeError(
        ExitCode::kLocked,
        TrFormat("repository {} is locked by {} ({}), the lock a backup holds while it writes "
                 "its snapshot, and its holder keeps refreshing it; retry later, or, once "
                 "nothing of velin runs on that host, remove it with `velin backup unlock`",
                 backend.Location(), first.Describe(), first.name));
  }
  return MakeError(ExitCode::kLocked,
                   TrFormat("repository {} is locked by {} ({}); retry later or pass --lock-wait",
                            backend.Location(), first.Describe(), first.name));
}

}  // namespace

std::string LockDatedAhead(int64_t ahead) {
  return TrFormat("dated {} in the future (clock skew?)", Roughly(ahead));
}

LockOptions CommitLockOptions(std::chrono::milliseconds wait) {
  LockOptions o;
  o.wait = std::max<std::chrono::milliseconds>(wait, kMinCommitLockWait);
  // stale_after stays: it is also the age at which the taker removes others' shared and
  // exclusive locks (its own is stale after kCommitLockStaleAge: StaleAgeOf).
  o.refresh_every = kCommitLockRefresh;
  return o;
}

std::string LockOfObject(const std::string& name) {
  const std::string kind = KindOfName(name);
  const size_t id_end = std::string("locks/").size() + kind.size() + 1 + 16;
  if (kind.empty() || name.size() <= id_end || name[id_end] != '-') return name;
  return name.substr(0, id_end);
}

Result<LockListing> ListLocks(io::Env& env, storage::Backend& backend,
                              std::chrono::seconds stale_after, int64_t now) {
  VELIN_ASSIGN(auto objects, backend.List("locks/"));
  std::sort(objects.begin(), objects.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  LockListing out;
  // The modification times are the storage's: measured against this machine's clock, a clock
  // 31 minutes ahead had `unlock --stale` remove a live lock of another host.
  int64_t reference = now;
  const bool dated = std::any_of(objects.begin(), objects.end(),
                                 [](const storage::ObjectInfo& o) { return o.mtime > 0; });
  if (dated) {
    auto storage_now = StorageClock(backend);
    if (!storage_now) {
      out.clock_error = storage_now.error().message;
    } else if (*storage_now) {
      reference = **storage_now;
    }
  }
  const LockHolder self = env.ThisProcess();
  // The objects of one lock (its first and its refreshes) are one lock, described by its newest:
  // `status` showed a lock refreshed a moment ago, or one whose holder was killed between the
  // write of the next object and the removal of the one before, as two locks.
  std::map<std::string, size_t> by_lock;
  for (const auto& o : objects) {
    VELIN_ASSIGN(Judged j, Judge(env, backend, o, self, stale_after, reference, now));
    if (j.gone) continue;
    const std::string lock = LockOfObject(o.name);
    auto [at, first] = by_lock.emplace(lock, out.locks.size());
    if (first) {
      j.info.objects = {o.name};
      out.locks.push_back(std::move(j.info));
      continue;
    }
    LockInfo& known = out.locks[at->second];
    known.objects.push_back(o.name);
    if (GenerationOf(o.name) > GenerationOf(known.name)) {
      j.info.objects = std::move(known.objects);
      known = std::move(j.info);
    }
  }
  return out;
}

RepoLock::RepoLock(io::Env& env, storage::Backend& backend, std::string name, LockKind kind,
                   LockOptions options)
    : env_(env),
      backend_(backend),
      base_(name),
      name_(std::move(name)),
      kind_(kind),
      options_(options),
      refreshed_(env.SteadyNow()) {}

Result<std::unique_ptr<RepoLock>> RepoLock::Acquire(io::Env& env, storage::Backend& backend,
                                                    LockKind kind, const LockOptions& options) {
  const LockHolder self = env.ThisProcess();
  const auto deadline = env.SteadyNow() + options.wait;
  std::mt19937 rng(static_cast<unsigned>(self.pid));
  std::string name;   // a new one for each attempt after one that backed off
  bool kept = false;  // a keeper's (below) object stands as `name`, not yet due for a rewrite
  auto put_at = env.SteadyNow();
  for (;;) {
    VELIN_TRY(CheckInterrupted());  // a backup asked to stop while it waited (--lock-wait)
    const bool wrote = !kept;
    if (wrote) {
      std::string nonce(8, '\0');
      RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), 8);
      const std::string previous = std::exchange(
          name, std::string("locks/") + KindName(kind) + "-" + Sha256(nonce).Hex().substr(0, 16));
      put_at = env.SteadyNow();
      if (auto put = backend.Put(name, LockBody(env, kind, self)); !put) {
        // A Put can fail after its object is in place (the directory's fsync): the lock object
        // would stay behind, blocking other hosts until it is stale.
        RemoveLockObject(backend, name);
        if (!previous.empty()) RemoveLockObject(backend, previous);
        return tl::unexpected(put.error());
      }
      // A keeper's lock due for a refresh: the new object is in place before the old one goes.
      if (!previous.empty()) RemoveLockObject(backend, previous);
    }
    kept = false;
    auto conflicts = LiveConflicts(env, backend, kind, name, self, options);
    if (!conflicts) {
      RemoveLockObject(backend, name);
      return tl::unexpected(conflicts.error());
    }
    if (conflicts->empty() && !wrote) {
      // A keeper's object, written rounds ago: someone (`backup unlock`) may have removed it
      // meanwhile. Gone, the lock is taken anew, under a new name.
      auto still = backend.Stat(name);
      if (!still) {
        RemoveLockObject(backend, name);
        return tl::unexpected(still.error());
      }
      if (!*still) {
        name.clear();
        continue;
      }
    }
    if (conflicts->empty()) {
      auto lock = std::unique_ptr<RepoLock>(new RepoLock(env, backend, name, kind, options));
      lock->refreshed_ = put_at;
      lock->NoteForTermination();
      // Unrefreshed, the lock would go stale under the run: no thread (ulimit -u) is the
      // command's error, and the lock object goes with `lock`.
      VELIN_ASSIGN(lock->refresher_, StartThread([l = lock.get()] { l->RefreshLoop(); },
                                                 [l = lock.get()](const Error& e) {
                                                   std::lock_guard guard(l->mu_);
                                                   if (!l->lost_)
                                                     l->lost_ =
                                                         "refreshing it failed: " + e.message;
                                                 }));
      return lock;
    }
    // Two commit locks seeing each other: the smaller name keeps its lock and the other backs
    // off, so one always gets through. The keeper still waits until the other lock is gone:
    // the other may have listed before this lock existed, seen nothing, and gone ahead.
    bool keep = kind == LockKind::kCommit;
    for (const auto& h : *conflicts) keep = keep && name < h.name;
    const bool late = env.SteadyNow() >= deadline;
    if (keep && !late) {
      // Listed again, not written again: a Put over the object itself leaves an instant without
      // it on a file server whose rename replaces no file. Only when it is due for a refresh
      // (a long --lock-wait) is a new object written, before this one goes.
      kept = env.SteadyNow() - put_at < options.refresh_every;
      env.SleepFor(std::chrono::milliseconds(10 + rng() % 20));
      continue;
    }
    // Backing off, under a new name next time: a shared holder's Check() tells an exclusive lock
    // that got in from attempts like this one by a name that stays (kExclusiveSettle).
    RemoveLockObject(backend, name);
    name.clear();
    if (late) return LockedBy(backend, conflicts->front(), options.wait);
    env.SleepFor(std::chrono::milliseconds(50 + rng() % 200));
  }
}

Status RepoLock::WaitUnlocked(io::Env& env, storage::Backend& backend, LockKind kind,
                              const LockOptions& options) {
  const LockHolder self = env.ThisProcess();
  const auto deadline = env.SteadyNow() + options.wait;
  std::mt19937 rng(static_cast<unsigned>(self.pid));
  for (;;) {
    VELIN_TRY(CheckInterrupted());
    VELIN_ASSIGN(auto conflicts, LiveConflicts(env, backend, kind, "", self, options));
    if (conflicts.empty()) return Ok();
    if (env.SteadyNow() >= deadline) return LockedBy(backend, conflicts.front(), options.wait);
    env.SleepFor(std::chrono::milliseconds(50 + rng() % 200));
  }
}

// The next object first, then the one before goes: at no moment is the lock absent, on any
// backend (a Put over the object itself left an instant without it on a file server whose
// rename replaces no file, and a prune listing then got in). The one before is still there
// when the next is written, or the lock was removed by someone who thought it stale: writing
// it again would hide that, and whatever they did next (a prune) may already have deleted our
// packs. The one before is deleted a moment later (RefreshLoop), not at once: a listing reads
// the directory, then each entry's attributes (OpenSSH's SFTP server, a local directory), and
// one that read it before the next object came would miss both when the one before went
// before its attributes were read.
Result<bool> RepoLock::RefreshOnce() {
  std::lock_guard io(io_mu_);
  for (auto it = leftovers_.begin(); it != leftovers_.end();) {
    it = backend_.Delete(*it) ? leftovers_.erase(it) : std::next(it);
  }
  const std::string next = base_ + "-" + std::to_string(generation_ + 1);
  if (auto put = backend_.Put(next, LockBody(env_, kind_, env_.ThisProcess())); !put) {
    Discard(next);  // a Put may fail after its object is in place
    return tl::unexpected(put.error());
  }
  auto present = backend_.Stat(name_);
  if (!present || !*present) {
    Discard(next);
    if (!present) return tl::unexpected(present.error());
    return false;
  }
  ++generation_;
  leftovers_.push_back(std::exchange(name_, next));  // RetirePrevious deletes it
  NoteForTermination();
  return true;
}

void RepoLock::NoteForTermination() {
  const std::optional<std::string> path = backend_.LocalFileOf(name_);
  if (!path || path->size() >= termination_paths_[0].size()) return;
  termination_buffer_ = 1 - termination_buffer_;
  std::array<char, 4096>& buffer = termination_paths_[static_cast<size_t>(termination_buffer_)];
  std::memcpy(buffer.data(), path->c_str(), path->size() + 1);
  KeepAtTermination(termination_slot_);
  termination_slot_ = RemoveAtTermination(buffer.data());
}

void RepoLock::RetirePrevious() {
  std::lock_guard io(io_mu_);
  std::vector<std::string> previous;
  previous.swap(leftovers_);
  for (const std::string& name : previous) Discard(name);
}

void RepoLock::Discard(const std::string& name) {
  TerminationCleanup cleanup;
  if (!backend_.Delete(name)) leftovers_.push_back(name);
}

std::string RepoLock::name() const {
  std::lock_guard io(io_mu_);
  return name_;
}

void RepoLock::RefreshLoop() {
  std::unique_lock lock(mu_);
  int failures = 0;
  for (;;) {
    // After a failed refresh, try again soon; three failures in a row lose the lock.
    const auto pause = failures == 0 ? options_.refresh_every : options_.refresh_every / 10;
    // Check() may find the object gone first: it is not written again.
    if (cv_.wait_for(lock, pause, [&] { return stop_ || lost_; })) return;
    lock.unlock();
    const auto started = env_.SteadyNow();
    Result<bool> st = RefreshOnce();
    lock.lock();
    if (lost_) return;
    if (st && *st) {
      failures = 0;
      refreshed_ = started;
      // Longer than any listing takes; the destructor deletes the one before if stopped first.
      const auto retire_after =
          std::min<std::chrono::milliseconds>(options_.refresh_every / 2, std::chrono::seconds(1));
      if (cv_.wait_for(lock, retire_after, [&] { return stop_ || lost_; })) return;
      lock.unlock();
      RetirePrevious();
      lock.lock();
      continue;
    }
    if (st || ++failures >= 3) {
      lost_ = st ? std::string(kVanished) : "refreshing it failed: " + st.error().message;
      return;  // a lost lock is not written again
    }
  }
}

std::optional<std::string> RepoLock::LostLocally() {
  std::lock_guard lock(mu_);
  if (lost_) return lost_;
  // Unrefreshed for most of the stale age: another velin may remove it any moment now.
  const auto unrefreshed = env_.SteadyNow() - refreshed_;
  if (unrefreshed >
          StaleAgeOf(KindName(kind_), options_.stale_after) - options_.refresh_every / 2 &&
      unrefreshed > options_.refresh_every) {
    return "it has not been refreshed for " +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(unrefreshed).count()) +
           "s";
  }
  return std::nullopt;
}

std::optional<std::string> RepoLock::LostInStorage() {
  if (kind_ == LockKind::kShared) return SharedLostInStorage();
  auto present = [&] {
    std::lock_guard io(io_mu_);
    return backend_.Stat(name_);
  }();
  if (!present) return "cannot tell whether it is still there: " + present.error().message;
  if (!*present) return MarkLost(kVanished);
  return std::nullopt;
}

std::string RepoLock::MarkLost(std::string why) {
  std::lock_guard lock(mu_);
  lost_ = why;  // the refresher must not write it again
  cv_.notify_all();
  return why;
}

// Exclusive locks in the listing that stay, listing after listing, for kExclusiveSettle: one
// that goes was a taker that saw this lock and backed off (a new attempt has a new name); one
// that stays got in while this lock was held. A prune that got in may be deleting what this run
// references: the run must not commit.
std::optional<std::string> RepoLock::SharedLostInStorage() {
  const LockHolder self = env_.ThisProcess();
  const auto settle_until = env_.SteadyNow() + kExclusiveSettle;
  std::optional<std::set<std::string>> watched;  // the locks seen in every listing so far
  for (;;) {
    std::string own;
    auto objects = [&] {
      std::lock_guard io(io_mu_);
      own = name_;
      return backend_.List("locks/");
    }();
    if (!objects) return "cannot tell whether it is still there: " + objects.error().message;
    const int64_t now = UnixSeconds(env_);
    int64_t reference = now;
    bool present = false;
    for (const auto& o : *objects) {
      if (o.name != own) continue;
      present = true;
      if (o.mtime > 0) reference = o.mtime;
    }
    if (!present) return MarkLost(kVanished);
    std::set<std::string> seen;
    std::optional<Holder> first;
    for (const auto& o : *objects) {
      const std::string lock = LockOfObject(o.name);
      if (lock == base_ || !MayConflict(LockKind::kShared, KindOfName(o.name))) continue;
      if (watched && !watched->count(lock))
        continue;  // a later attempt: watched from the next Check
      auto j = Judge(env_, backend_, o, self, options_.stale_after, reference, now);
      if (!j) return "cannot tell whether it is still there: " + j.error().message;
      if (j->gone) {  // released, or refreshed: the next listing shows which
        seen.insert(lock);
        if (!first) first = Holder{.name = o.name, .kind = KindOfName(o.name), .replaced = true};
        continue;
      }
      if (j->info.stale || !MayConflict(LockKind::kShared, j->info.kind)) continue;
      seen.insert(lock);
      if (!first || first->replaced) first = HolderOf(j->info);
    }
    if (seen.empty()) return std::nullopt;
    if (env_.SteadyNow() >= settle_until) {
      return MarkLost(
          TrFormat("another velin took an exclusive lock while this run held its shared lock "
                   "({}, {}): a prune may be deleting what this run references",
                   first->Describe(), first->name));
    }
    watched = std::move(seen);
    env_.SleepFor(std::chrono::milliseconds(200));
  }
}

Status RepoLock::Check() {
  // The refresher saw the object up to refresh_every ago; since then `backup unlock`, or a velin
  // that took it for stale, may have removed it, and a prune may be deleting what this run is
  // about to reference. The storage says whether it is there now.
  std::optional<std::string> why = LostLocally();
  if (!why) why = LostInStorage();
  if (!why) return Ok();
  return Failure(
      TrFormat("lost the repository lock {} on {}: {}; stopped before committing (what this run "
               "wrote is unreferenced; `velin backup prune` removes it)",
               name(), backend_.Location(), *why));
}

RepoLock::~RepoLock() {
  KeepAtTermination(termination_slot_);
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  RemoveLockObject(backend_, name_);
  for (const std::string& name : leftovers_) RemoveLockObject(backend_, name);
}

}  // namespace velin::repo
