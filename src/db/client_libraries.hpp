// libpq and the MariaDB client library, opened at their first use (velin/core/lazy_library.hpp):
// a connection's Open calls Require() first.
#pragma once

#include "velin/core/lazy_library.hpp"

namespace velin::db {

LazyLibrary& PqLibrary();
LazyLibrary& MariadbLibrary();

}  // namespace velin::db
