#include "velin/core/stack.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "velin/core/i18n.hpp"

namespace velin {
namespace {

constexpr size_t kReserve = size_t{1} << 20;

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

}  // namespace velin
