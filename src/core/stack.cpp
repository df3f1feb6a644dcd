#include "velin/core/stack.hpp"

#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "velin/core/i18n.hpp"

namespace velin {
namespace {

constexpr size_t kReserve = size_t{1} << 20;
// The least stack velin runs with: what the deep-tree walks are measured against (~500 levels
// of a backup), and a limit at or above it is the user's to keep (a deeper tree then says
// "raise it (`ulimit -s`)").
constexpr size_t kRoomyStack = size_t{1} << 20;

struct RunJob {
  int (*run)(int, char**);
  int argc;
  char** argv;
  int code;
};

void* RunJobOnThread(void* arg) {
  auto* job = static_cast<RunJob*>(arg);
  job->code = job->run(job->argc, job->argv);
  return nullptr;
}

struct Stack {
  uintptr_t low = 0;  // stacks grow down here: the lowest address it may reach
  size_t reserve = 0;
};

// Found once a thread: for the main thread glibc reads /proc/self/maps and RLIMIT_STACK.
const Stack& ThisThreadsStack() {
  thread_local const Stack stack = [] {
    Stack s;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return s;
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      s.low = reinterpret_cast<uintptr_t>(addr);
      s.reserve = std::min(kReserve, size / 4);
    }
    pthread_attr_destroy(&attr);
    return s;
  }();
  return stack;
}

}  // namespace

bool StackHasRoom() {
  const Stack& stack = ThisThreadsStack();
  const auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  return stack.low == 0 || here < stack.low || here - stack.low >= stack.reserve;
}

tl::unexpected<Error> StackTooDeep(const std::string& what) {
  return Failure(
      TrFormat("{} is nested deeper than velin's stack reaches: raise it (`ulimit -s`)", what));
}

int RunWithRoomyStack(int (*run)(int, char**), int argc, char** argv) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_STACK, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY ||
      lim.rlim_cur >= kRoomyStack) {
    return run(argc, argv);
  }
  // Threads started later (the backup's workers, the progress line) get as much: glibc sized
  // their default from the same limit.
  pthread_attr_t defaults;
  if (pthread_getattr_default_np(&defaults) == 0) {
    size_t size = 0;
    if (pthread_attr_getstacksize(&defaults, &size) == 0 && size < kRoomyStack &&
        pthread_attr_setstacksize(&defaults, kRoomyStack) == 0) {
      (void)pthread_setattr_default_np(&defaults);
    }
    pthread_attr_destroy(&defaults);
  }
  pthread_attr_t attr;
  pthread_t thread;
  RunJob job{run, argc, argv, 1};
  int err = pthread_attr_init(&attr);
  if (err == 0) {
    err = pthread_attr_setstacksize(&attr, kRoomyStack);
    if (err == 0) err = pthread_create(&thread, &attr, RunJobOnThread, &job);
    pthread_attr_destroy(&attr);
  }
  if (err != 0) {
    std::fprintf(stderr, "%s: %s\n", std::string(Tr("error")).c_str(),
                 TrFormat("the stack limit (ulimit -s) is {} KiB and velin could not make a "
                          "thread with a larger stack (error {}): raise it (ulimit -s 1024)",
                          lim.rlim_cur / 1024, err)
                     .c_str());
    return 1;
  }
  pthread_join(thread, nullptr);
  return job.code;
}

}  // namespace velin
