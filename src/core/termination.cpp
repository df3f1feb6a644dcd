// Held and cancelling termination signals; see termination.hpp.
#include "velin/core/termination.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "velin/core/i18n.hpp"

namespace velin {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr const char* kNames[] = {"SIGINT", "SIGTERM", "SIGHUP"};
constexpr size_t kCount = sizeof(kSignals) / sizeof(kSignals[0]);

int IndexOf(int sig) {
  for (size_t i = 0; i < kCount; ++i) {
    if (kSignals[i] == sig) return static_cast<int>(i);
  }
  return -1;
}

// The lines written when a signal arrives, one per signal. Written by the outermost scope of
// its kind before it raises that kind's depth (release), read by the handler after it saw the
// depth (acquire).
struct Notice {
  char text[1024];
  size_t length;
};
Notice hold_notices[kCount];
Notice cancel_notices[kCount];

void Prepare(Notice (&notices)[kCount], const std::string& tail) {
  for (size_t i = 0; i < kCount; ++i) {
    std::string line =
        std::string(Tr("warning")) + ": " + TrFormat("{} received: {}", kNames[i], tail) + "\n";
    Notice& n = notices[i];
    n.length = std::min(line.size(), sizeof(n.text));
    std::memcpy(n.text, line.data(), n.length);
  }
}

void Write(const Notice& n) {
  ssize_t ignored = ::write(STDERR_FILENO, n.text, n.length);
  (void)ignored;
}

std::atomic<int> hold_depth{0};
std::atomic<int> cancel_depth{0};
std::atomic<int> held{0};                   // the first signal held or turned into a request
std::atomic<bool> interrupted{false};       // a TerminationCancel was asked to stop
std::atomic<int64_t> interrupted_at_ns{0};  // CLOCK_MONOTONIC when it was (0: not yet known)
thread_local int cleanup_depth = 0;

int64_t MonotonicNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);  // async-signal-safe
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

extern "C" void OnTerminationSignal(int sig) {
  const int saved_errno = errno;
  const int i = IndexOf(sig);
  if (i >= 0 && hold_depth.load(std::memory_order_acquire) > 0) {
    int none = 0;
    held.compare_exchange_strong(none, sig);
    // Every time: a user pressing Ctrl-C again learns again why velin goes on.
    Write(hold_notices[i]);
    errno = saved_errno;
    return;
  }
  if (i >= 0 && cancel_depth.load(std::memory_order_acquire) > 0 && !interrupted.exchange(true)) {
    interrupted_at_ns.store(MonotonicNs(), std::memory_order_relaxed);
    int none = 0;
    held.compare_exchange_strong(none, sig);
    Write(cancel_notices[i]);
    errno = saved_errno;
    return;
  }
  // Not held, or asked a second time: the default action, as if velin had never caught it.
  // The signal is blocked while its handler runs, so it is delivered (and ends velin) as the
  // handler returns.
  ::signal(sig, SIG_DFL);
  ::raise(sig);
  errno = saved_errno;
}

}  // namespace

void InstallTerminationHandlers() {
  for (int sig : kSignals) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    if (old.sa_handler == SIG_IGN) continue;  // nohup, a background job: stays ignored
    struct sigaction sa {};
    sa.sa_handler = OnTerminationSignal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // reads and writes on pipes go on; poll and sleeps see EINTR
    ::sigaction(sig, &sa, nullptr);
  }
}

TerminationHold::TerminationHold(const std::string& tail) {
  if (hold_depth.load(std::memory_order_relaxed) == 0) Prepare(hold_notices, tail);
  hold_depth.fetch_add(1, std::memory_order_release);
}

TerminationHold::~TerminationHold() { hold_depth.fetch_sub(1, std::memory_order_release); }

TerminationCancel::TerminationCancel(const std::string& tail) {
  if (cancel_depth.load(std::memory_order_relaxed) == 0) Prepare(cancel_notices, tail);
  cancel_depth.fetch_add(1, std::memory_order_release);
}

TerminationCancel::~TerminationCancel() { cancel_depth.fetch_sub(1, std::memory_order_release); }

TerminationCleanup::TerminationCleanup() { ++cleanup_depth; }

TerminationCleanup::~TerminationCleanup() { --cleanup_depth; }

// False while a hold lives: the held work (a switch, a MariaDB restore) runs to its end even
// when a cancel around it was asked to stop before it began; the checks after it see the request.
// False in a cleanup on this thread until its grace is over.
bool Interrupted() {
  if (cleanup_depth != 0) return StopRequestedFor(kTerminationCleanupGrace);
  return interrupted.load(std::memory_order_relaxed) &&
         hold_depth.load(std::memory_order_acquire) == 0;
}

bool StopRequested() { return interrupted.load(std::memory_order_relaxed); }

bool StopRequestedFor(std::chrono::nanoseconds age) {
  if (!interrupted.load(std::memory_order_relaxed) ||
      hold_depth.load(std::memory_order_acquire) != 0) {
    return false;
  }
  const int64_t at = interrupted_at_ns.load(std::memory_order_relaxed);
  return at != 0 && MonotonicNs() - at >= age.count();
}

Status CheckInterrupted() {
  if (!Interrupted()) return Ok();
  return Failure(TrFormat("interrupted by {}", TerminationSignalName(held.load())));
}

int HeldTerminationSignal() { return held.load(); }

const char* TerminationSignalName(int sig) {
  const int i = IndexOf(sig);
  return i >= 0 ? kNames[i] : "a signal";
}

void EndByHeldSignal() {
  const int sig = held.load();
  if (sig == 0) return;
  spdlog::info("ending on {}, which arrived while velin worked (it finished or stopped that first)",
               TerminationSignalName(sig));
  spdlog::shutdown();  // flushes the log file
  std::fflush(nullptr);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace velin
