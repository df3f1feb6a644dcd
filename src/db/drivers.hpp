// Private to the db module: the three drivers' constructors, used by OpenDriver.
#pragma once

#include <memory>

#include "velin/db/driver.hpp"

namespace velin::db::internal {

std::unique_ptr<Driver> NewPostgresDriver(const ConnectionOptions& options);
std::unique_ptr<Driver> NewMysqlDriver(const ConnectionOptions& options);
std::unique_ptr<Driver> NewSqliteDriver(const ConnectionOptions& options);

// A name no other restore test uses: "velin_restore_test_20261125_154501_4242_9f3a".
std::string UniqueTemporaryName();

}  // namespace velin::db::internal
