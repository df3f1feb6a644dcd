// Errors are values. Every fallible function returns velin::Result<T>, whose error carries the
// exit code the process should end with (docs/exit-codes.md) and one line a user can act on:
// what failed and where. No exception crosses a module boundary.
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>

namespace velin {

// The process exit codes of docs/exit-codes.md. They are a contract with users' scripts.
enum class ExitCode : int {
  kOk = 0,
  kFailed = 1,        // the operation failed
  kUsage = 2,         // usage or configuration error
  kLocked = 3,        // another velin holds the lock
  kDamage = 4,        // verify found damage or a restore test failed
  kHealthFailed = 5,  // a health check failed and the switch was undone
  kCancelled = 6,     // the user answered no to a confirmation: nothing was changed
};

struct Error {
  ExitCode code = ExitCode::kFailed;
  std::string message;
  int sys_errno = 0;  // the errno behind it, when there is one (ENOSPC, EIO, ...)

  // Prefixes the message with context: Wrap("pack 3f2a") turns "EIO" into "pack 3f2a: EIO".
  Error Wrap(std::string_view context) const& {
    Error e = *this;
    e.message = std::string(context) + ": " + message;
    return e;
  }
  // As Wrap, unless the message names `path` already: an error from inside a directory names
  // the whole path of what failed, which starts with the directory's, so a failure 300
  // directories deep is one path and not 300 ever longer ones.
  Error WrapPath(std::string_view path) const& {
    if (message.find(path) != std::string::npos) return *this;
    return Wrap(path);
  }
};

template <typename T = void>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> MakeError(ExitCode code, std::string message) {
  return tl::unexpected(Error{code, std::move(message), 0});
}
inline tl::unexpected<Error> Failure(std::string message) {
  return MakeError(ExitCode::kFailed, std::move(message));
}
inline tl::unexpected<Error> UsageError(std::string message) {
  return MakeError(ExitCode::kUsage, std::move(message));
}
inline tl::unexpected<Error> DamageError(std::string message) {
  return MakeError(ExitCode::kDamage, std::move(message));
}
// The user declined a confirmation ("n" at the prompt): exit 6, nothing was changed.
inline tl::unexpected<Error> CancelledError(std::string message) {
  return MakeError(ExitCode::kCancelled, std::move(message));
}

// "what: strerror(err)", keeping err so callers can tell ENOSPC from EIO.
tl::unexpected<Error> ErrnoError(std::string_view what, int err);

inline Status Ok() { return {}; }

}  // namespace velin

// Propagates an error: VELIN_TRY(WriteFileDurably(...));
#define VELIN_TRY(expr)                                                       \
  do {                                                                        \
    auto velin_try_result_ = (expr);                                          \
    if (!velin_try_result_) return tl::unexpected(velin_try_result_.error()); \
  } while (0)

// Assigns the value or propagates the error: VELIN_ASSIGN(auto data, env.ReadFile(p));
#define VELIN_CONCAT_INNER(a, b) a##b
#define VELIN_CONCAT(a, b) VELIN_CONCAT_INNER(a, b)
#define VELIN_ASSIGN_IMPL(tmp, lhs, expr)                  \
  auto tmp = (expr);                                       \
  if (!tmp) return tl::unexpected(std::move(tmp).error()); \
  lhs = std::move(*tmp)
#define VELIN_ASSIGN(lhs, expr) VELIN_ASSIGN_IMPL(VELIN_CONCAT(velin_assign_, __LINE__), lhs, expr)
