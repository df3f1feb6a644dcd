// Threads whose start and whose throws are errors; see threads.hpp.
#include "velin/core/threads.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <system_error>

#include "velin/core/i18n.hpp"

namespace velin {
namespace {

constexpr const char* kOutOfMemory =
    "out of memory: an allocation failed (the limit of `ulimit -v`, or the system's memory, is "
    "reached)";
constexpr const char* kStartThread = "cannot start a worker thread";

std::terminate_handler previous_terminate = nullptr;

// Registered paths, read by the terminate handler without a lock.
std::atomic<const char*> removed_at_termination[kMaxRemovedAtTermination] = {};

void WriteStderr(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

[[noreturn]] void OnTerminate() {
  std::exception_ptr thrown = std::current_exception();
  if (!thrown) {
    // Not a throw (a bug: a joinable thread destroyed): the abort and its core say where.
    if (previous_terminate) previous_terminate();
    std::abort();
  }
  RemoveRegisteredAtTermination();
  // Everything here may be short of memory: what cannot be made is written as it is.
  try {
    const Error e = [&] {
      try {
        std::rethrow_exception(thrown);
      } catch (...) {
        return CurrentExceptionError();
      }
    }();
    const std::string line = std::string(Tr("error")) + ": " + e.message + "\n";
    std::fflush(stdout);
    WriteStderr(line);
  } catch (...) {
    std::fflush(stdout);
    WriteStderr("error: ");
    WriteStderr(kOutOfMemory);
    WriteStderr("\n");
  }
  ::_exit(static_cast<int>(ExitCode::kFailed));
}

}  // namespace

Error ThreadStartError(int err) {
  return ErrnoError(Tr(kStartThread), err != 0 ? err : EAGAIN).value();
}

Error CurrentExceptionError() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    return Error{ExitCode::kFailed, std::string(Tr(kOutOfMemory)), ENOMEM};
  } catch (const std::system_error& e) {
    // A thread's start outside StartThread (std::async), a mutex the system refused.
    if (e.code().category() == std::generic_category() ||
        e.code().category() == std::system_category()) {
      return ErrnoError(Tr("a system call failed"), e.code().value()).value();
    }
    return Error{ExitCode::kFailed, e.what(), 0};
  } catch (const std::exception& e) {
    return Error{ExitCode::kFailed, e.what(), 0};
  } catch (...) {
    return Error{ExitCode::kFailed, std::string(Tr("an unknown exception was thrown")), 0};
  }
}

Result<std::thread> StartThread(std::function<void()> body,
                                std::function<void(const Error&)> on_throw) {
  try {
    return std::thread([body = std::move(body), on_throw = std::move(on_throw)] {
      try {
        body();
      } catch (...) {
        if (!on_throw) throw;  // to the terminate handler: one line, exit 1
        on_throw(CurrentExceptionError());
      }
    });
  } catch (const std::system_error& e) {
    return tl::unexpected(ThreadStartError(e.code().value()));
  } catch (const std::bad_alloc&) {
    return tl::unexpected(ThreadStartError(ENOMEM));
  }
}

int RemoveAtTermination(const char* path) {
  for (int i = 0; i < kMaxRemovedAtTermination; ++i) {
    const char* expected = nullptr;
    if (removed_at_termination[i].compare_exchange_strong(expected, path)) return i;
  }
  return -1;
}

void KeepAtTermination(int slot) {
  if (slot >= 0 && slot < kMaxRemovedAtTermination) removed_at_termination[slot].store(nullptr);
}

void RemoveRegisteredAtTermination() {
  for (auto& slot : removed_at_termination) {
    const char* path = slot.exchange(nullptr);
    if (path != nullptr) (void)::unlink(path);
  }
}

void InstallTerminateHandler() { previous_terminate = std::set_terminate(OnTerminate); }

}  // namespace velin
