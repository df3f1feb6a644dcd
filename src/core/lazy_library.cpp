#include "velin/core/lazy_library.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include "velin/core/i18n.hpp"

namespace velin {

Status LazyLibrary::Require() {
  std::call_once(once_, [this] {
    // RTLD_LOCAL: its symbols stay out of the global scope (the executable's forwarders of the
    // same names are what velin's code calls).
    handle_ = ::dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* why = ::dlerror();
      error_ = TrFormat("cannot load {} ({}): install the {} package", soname_,
                        why ? why : "not found", package_);
    }
  });
  if (handle_ == nullptr) return UsageError(error_);
  return Ok();
}

void* LazyLibrary::Symbol(const char* name) {
  Status loaded = Require();
  void* fn = loaded ? ::dlsym(handle_, name) : nullptr;
  if (fn == nullptr) {
    const std::string line =
        "velin: " +
        (loaded ? TrFormat("{} has no function {}", soname_, name) : loaded.error().message) + "\n";
    (void)!::write(STDERR_FILENO, line.data(), line.size());
    ::_exit(1);
  }
  return fn;
}

}  // namespace velin
