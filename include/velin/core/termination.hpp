// SIGINT, SIGTERM and SIGHUP (Ctrl-C, `systemctl stop`, a CI runner cancelling a job, an SSH
// session that drops): outside a TerminationHold they end velin at once, as their default
// action would (every engine is crash-safe: a killed run is finished or undone by the next one).
// Inside one they are held: velin writes one line saying so, finishes the held work, reports
// its outcome and then ends by the held signal (exit status 128 + its number). Two kinds of work
// hold them: a rollback switch, from stopping the service to its health check or the switch
// back (killed there, it would leave the application stopped, or started and unchecked, until
// someone ran `velin rollback recover`), and a MariaDB restore, whose client cannot roll back.
// SIGKILL cannot be held; recover, or a second restore, remains the answer to it.
//
// A signal velin inherited as ignored (nohup's SIGHUP, a background job's SIGINT) stays ignored.
// REQUIRES: InstallTerminationHandlers() once, in main, before any thread starts; holds are
// taken and released on one thread.
#pragma once

#include <string>

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

// The signal a hold held (the first one), or 0.
int HeldTerminationSignal();

// When a hold held a signal: logs it, then ends velin by it (its default action). Returns
// only when nothing was held (or the signal did not end the process).
void EndByHeldSignal();

}  // namespace velin
