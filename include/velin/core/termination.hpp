// SIGINT, SIGTERM and SIGHUP (Ctrl-C, `systemctl stop`, a CI runner cancelling a job, an SSH
// session that drops). Outside the scopes below they end velin at once, as their default action
// would: every engine is crash-safe, a killed run is finished or undone by the next one.
//
// - Inside a TerminationHold they are held: velin writes one line saying so, finishes the held
//   work, reports its outcome and then ends by the held signal (exit status 128 + its number).
//   Two kinds of work hold them: a rollback switch, from stopping the service to its health
//   check or the switch back (killed there, it would leave the application stopped, or started
//   and unchecked, until someone ran `velin rollback recover`), and a MariaDB restore, whose
//   client cannot roll back (except while it waits for another session's lock: that wait is
//   stopped, and the database left partly restored, src/db/mysql_driver.cpp).
// - Inside a TerminationCancel (a backup; a restore once confirmed; a verify, prune, forget or
//   copy) the first one asks the work to stop: velin writes one line, the engines see
//   Interrupted() at their next check (a file, a chunk, a blob, a pack, a tree, a removal, a
//   wait, the dump or restore tool's loop) and fail with CheckInterrupted()'s error; the
//   command's failure path runs as for any failure (on_backup_failure, the monitor's ping and
//   notifications, the lock released: inside a TerminationCleanup, below) and velin then ends by
//   the signal. A second signal ends velin at once.
//
// SIGKILL cannot be caught; recover, the next backup, or a second restore is the answer to it.
// A signal velin inherited as ignored (nohup's SIGHUP, a background job's SIGINT) stays ignored.
// REQUIRES: InstallTerminationHandlers() once, in main, before any thread starts; scopes are
// entered and left on one thread (the engines' checks may run on any).
#pragma once

#include <chrono>
#include <string>

#include "velin/core/error.hpp"

namespace velin {

// Catches SIGINT, SIGTERM and SIGHUP (each one velin did not inherit as ignored).
void InstallTerminationHandlers();

// Holds the three signals while it lives. `tail` completes the line written when one arrives
// ("warning: SIGTERM received: <tail>"); only the outermost of nested holds is shown.
class TerminationHold {
 public:
  explicit TerminationHold(const std::string& tail);
  ~TerminationHold();
  TerminationHold(const TerminationHold&) = delete;
  TerminationHold& operator=(const TerminationHold&) = delete;
};

// Turns the first of the three signals into a request to stop (Interrupted()) while it lives;
// `tail` completes the line written then. A hold inside it still holds.
class TerminationCancel {
 public:
  explicit TerminationCancel(const std::string& tail);
  ~TerminationCancel();
  TerminationCancel(const TerminationCancel&) = delete;
  TerminationCancel& operator=(const TerminationCancel&) = delete;
};

// Cleanup after a stop: releasing the repository lock, removing the packs a stopped run wrote.
// On the thread that enters it, Interrupted() stays false while it lives, for up to
// kTerminationCleanupGrace after the request to stop, so those requests to a remote repository
// go through instead of being aborted like the work's (a lock left on S3 would block other
// hosts until it is stale). A server that does not answer gets that long; then they are aborted
// too and what is left waits for `unlock --stale` and prune. A second signal still ends velin at
// once. Nests; per thread.
inline constexpr std::chrono::seconds kTerminationCleanupGrace{10};
class TerminationCleanup {
 public:
  TerminationCleanup();
  ~TerminationCleanup();
  TerminationCleanup(const TerminationCleanup&) = delete;
  TerminationCleanup& operator=(const TerminationCleanup&) = delete;
};

// Whether a TerminationCancel was asked to stop and no hold lives (cheap: atomic loads; any
// thread), and this thread is not in a TerminationCleanup's grace. The remote backends' requests
// and retries end when it turns true.
bool Interrupted();

// Whether a TerminationCancel was asked to stop, even while a hold or a cleanup hides it.
bool StopRequested();

// Whether a TerminationCancel was asked to stop at least `age` ago and no hold lives (a
// cleanup does not hide it): how long a request the server already has in full is waited for.
bool StopRequestedFor(std::chrono::nanoseconds age);

// Ok, or when Interrupted(): "interrupted by SIGTERM" (kFailed). For the engines' checks.
Status CheckInterrupted();

// The signal a hold held or a cancel turned into a request (the first one), or 0.
int HeldTerminationSignal();

// "SIGINT", "SIGTERM" or "SIGHUP"; "a signal" for any other.
const char* TerminationSignalName(int sig);

// When a signal was held or asked to stop: logs it, then ends velin by it (its default action).
// Returns only when there was none (or the signal did not end the process).
void EndByHeldSignal();

}  // namespace velin
