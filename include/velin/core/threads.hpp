// Threads, and what is thrown, that a system out of threads or memory cannot turn into an
// abort. std::thread throws std::system_error when the kernel gives no thread (`ulimit -u`, or no
// memory for its stack under `ulimit -v`: EAGAIN), and what a thread's body throws (std::bad_alloc
// once `ulimit -v` is reached) ends the process through std::terminate: "terminate called after
// throwing …", SIGABRT and a core, with no failure hook, notification or lock removal. Here
// starting a thread is a Result, and what a body throws becomes an Error its owner fails the
// command with the usual way: exit 1, one line (docs/exit-codes.md).
#pragma once

#include <functional>
#include <thread>
#include <type_traits>
#include <utility>

#include "velin/core/error.hpp"

namespace velin {

// The error of the exception being handled; call it in a catch block. std::bad_alloc: "out of
// memory: …"; one from a thread's start: "cannot start a worker thread: …"; others: their
// what(). Exit 1.
Error CurrentExceptionError();

// "cannot start a worker thread: `why`" (strerror of err; EAGAIN when the system has no thread
// left to give), exit 1.
Error ThreadStartError(int err);

// Starts `body` on a new thread. What `body` throws is handed to `on_throw`, on that thread,
// which records it for the owner (and must not throw itself). Without `on_throw` (a thread
// others would wait for forever once it is gone) a throw ends the process through the
// terminate handler: one line, exit 1.
Result<std::thread> StartThread(std::function<void()> body,
                                std::function<void(const Error&)> on_throw);

// Runs `body` (returning a Result or Status); what it throws becomes its error.
template <typename F>
auto CatchExceptions(F&& body) -> std::invoke_result_t<F> {
  try {
    return std::forward<F>(body)();
  } catch (...) {
    return tl::unexpected(CurrentExceptionError());
  }
}

// The last resort for what nothing caught (a thread whose owner records no error, a throw out
// of a library's callback): one line "error: …" on stderr and exit 1 instead of std::abort's
// "terminate called …", SIGABRT and a core. Installed once, in main.
void InstallTerminateHandler();

// Files the terminate handler removes before the process ends (a local repository's lock
// object: left behind, it made the next command judge a dead holder's lock first, and a test or
// a monitor saw a lock of no one). At most kMaxRemovedAtTermination at once; a path is kept by
// pointer, so it must outlive its registration. Register returns a slot for Unregister, or -1
// when every slot is taken (the file is then left as a kill -9 leaves it).
inline constexpr int kMaxRemovedAtTermination = 16;
int RemoveAtTermination(const char* path);
void KeepAtTermination(int slot);
// What the terminate handler does first: unlinks each registered file (no allocation, no lock).
void RemoveRegisteredAtTermination();

}  // namespace velin
