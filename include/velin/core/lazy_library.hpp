// Shared libraries opened at their first use (dlopen), not when velin starts. libcurl (S3, FTP,
// monitoring pings), libpq and the MariaDB client bring 29 libraries with them (GnuTLS,
// Kerberos, LDAP, ...): loading and relocating them was 7 of the 12 ms every velin command took
// to start, also the many that never talk to a server (a local backup, `rollback list`).
//
// The modules that use such a library define its functions themselves (src/storage/
// curl_lazy.cpp, src/db/client_libraries_lazy.cpp): each forwards to the library's
// own, looked up once. The executable does not export them, so the library opened later binds
// its internal calls to its own functions. A module calls Require() before its first use, and
// a library that cannot be opened fails that command with one line naming it and its package.
#pragma once

#include <mutex>
#include <string>

#include "velin/core/error.hpp"

namespace velin {

class LazyLibrary {
 public:
  // `soname` as dlopen takes it ("libcurl.so.4"); `package`, Debian's package that holds it.
  LazyLibrary(const char* soname, const char* package) : soname_(soname), package_(package) {}
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // Opens the library (once; later calls give the first outcome). The error (kUsage): "cannot
  // load libcurl.so.4 (<dlerror>): install the libcurl4 package".
  Status Require();
  // The library's function `name`. Opens the library if no Require() did; a library or a
  // function that is missing then ends velin with one line on stderr (exit 1): the callers
  // (functions with the library's own signatures) have no way to return an error.
  void* Symbol(const char* name);

 private:
  const char* soname_;
  const char* package_;
  std::once_flag once_;
  void* handle_ = nullptr;
  std::string error_;
};

}  // namespace velin

// Defines the library function `name` (its return type, parameter list and the call's argument
// list as the library's header gives them) as a call of the library's own, looked up once.
#define VELIN_LAZY_FORWARD(library, ret, name, params, args)                         \
  extern "C" ret name params {                                                       \
    static const auto fn = reinterpret_cast<ret(*) params>((library).Symbol(#name)); \
    return fn args;                                                                  \
  }
