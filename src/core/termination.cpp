// Held termination signals; see termination.hpp.
#include "velin/core/termination.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

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

// The line written when a held signal arrives, one per signal. Written by the outermost hold
// before it raises the depth (release), read by the handler after it saw the depth (acquire).
struct Notice {
  char text[1024];
  size_t length;
};
Notice notices[kCount];

std::atomic<int> depth{0};
std::atomic<int> held{0};

extern "C" void OnTerminationSignal(int sig) {
  const int saved_errno = errno;
  const int i = IndexOf(sig);
  if (i >= 0 && depth.load(std::memory_order_acquire) > 0) {
    int none = 0;
    held.compare_exchange_strong(none, sig);
    // Every time: a user pressing Ctrl-C again learns again why velin goes on.
    ssize_t ignored = ::write(STDERR_FILENO, notices[i].text, notices[i].length);
    (void)ignored;
    errno = saved_errno;
    return;
  }
  // Not held: the default action, as if velin had never caught it. The signal is blocked while
  // its handler runs, so it is delivered (and ends velin) as the handler returns.
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
  if (depth.load(std::memory_order_relaxed) == 0) {
    for (size_t i = 0; i < kCount; ++i) {
      std::string line =
          std::string(Tr("warning")) + ": " + TrFormat("{} received: {}", kNames[i], tail) + "\n";
      Notice& n = notices[i];
      n.length = std::min(line.size(), sizeof(n.text));
      std::memcpy(n.text, line.data(), n.length);
    }
  }
  depth.fetch_add(1, std::memory_order_release);
}

TerminationHold::~TerminationHold() { depth.fetch_sub(1, std::memory_order_release); }

int HeldTerminationSignal() { return held.load(); }

void EndByHeldSignal() {
  const int sig = held.load();
  if (sig == 0) return;
  const int i = IndexOf(sig);
  spdlog::info("ending on {}, which arrived while velin held it (work it finishes first)",
               i >= 0 ? kNames[i] : "a signal");
  spdlog::shutdown();  // flushes the log file
  std::fflush(nullptr);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

}  // namespace velin
