#include "velin/core/error.hpp"

#include <cstring>

#include "velin/core/i18n.hpp"

namespace velin {

tl::unexpected<Error> ErrnoError(std::string_view what, int err) {
  Error e;
  e.code = ExitCode::kFailed;
  NoteErrorText(what);
  e.message = std::string(what) + ": " + std::string(Tr(std::strerror(err)));
  e.sys_errno = err;
  return tl::unexpected(std::move(e));
}

}  // namespace velin
