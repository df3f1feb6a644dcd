// Private to the db module: the three drivers' constructors, used by OpenDriver.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "velin/db/driver.hpp"
#include "velin/io/env.hpp"

namespace velin::db::internal {

std::unique_ptr<Driver> NewPostgresDriver(const ConnectionOptions& options);
std::unique_ptr<Driver> NewMysqlDriver(const ConnectionOptions& options);
std::unique_ptr<Driver> NewSqliteDriver(const ConnectionOptions& options);

// A name no other restore test uses: "velin_restore_test_20261125_154501_4242_1a2b3c4d_9f3a"
// (UTC time, pid, process space tag: io::WriterMark), for a temporary database, an SQLite copy,
// a pg_restore list file. The pid and tag let a later run tell a killed run's leftover.
std::string UniqueTemporaryName();

// Whether `name` (a database, a file name, anything after it: ".list", "-journal") is a
// UniqueTemporaryName of a run that is provably gone (io::IsDeadWriter): a run killed before
// its end left it. Another host's, a live run's, or a name of an older velin (no tag): false.
bool IsDeadRunsTemporaryName(io::Env& env, std::string_view name);

// Removes the regular files in `dir` whose names are IsDeadRunsTemporaryName: what killed
// restore tests left there (a pg_restore list, an SQLite copy and its side files). Best effort.
void RemoveDeadRunsTemporaryFiles(io::Env& env, const std::string& dir);

}  // namespace velin::db::internal
