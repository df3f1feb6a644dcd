#include "velin/core/error.hpp"

#include <cstring>

namespace velin {

tl::unexpected<Error> ErrnoError(std::string_view what, int err) {
  Error e;
  e.code = ExitCode::kFailed;
  e.message = std::string(what) + ": " + std::strerror(err);
  e.sys_errno = err;
  return tl::unexpected(std::move(e));
}

}  // namespace velin
