// Private to the db module: the default privileges (ALTER DEFAULT PRIVILEGES) of the restoring
// user in a database restored in place. pg_restore --clean makes the backup's objects again as
// this user, and the server gives each new object the user's default privileges as they are
// now: a grant added since (GRANT SELECT ON TABLES TO reporting) reached every restored table,
// though the backup's had none, and pg_dump's grants, written against the built-in defaults,
// never take it back. So the restore's transaction begins by setting them to the built-in
// defaults (`off`) and ends, after the archive's own default privileges, by giving back what
// they were (`back`): the restored objects get exactly the backup's grants, and the default
// privileges stay the database's. docs/databases.md#postgresql.
#pragma once

#include <string>

#include "pg_connection.hpp"
#include "velin/core/error.hpp"

namespace velin::db::internal {

struct DefaultPrivilegesAside {
  std::string off;   // ALTER DEFAULT PRIVILEGES statements, one a line; "" when there are none
  std::string back;  // their reverse
};

// For the database `conn` is connected to.
Result<DefaultPrivilegesAside> SetAsideDefaultPrivileges(PgConnection& conn);

}  // namespace velin::db::internal
