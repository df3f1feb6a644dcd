#include "pg_default_privileges.hpp"

namespace velin::db::internal {
namespace {

// Each privilege of the user's default privileges as they are (`now`) or as the built-in
// defaults have it (`was`: none for a schema's entry, acldefault for a database-wide one), where
// the two differ, with the statement granting and the one revoking it.
constexpr const char* kDefaultPrivilegesSql = R"sql(
WITH d AS (
  SELECT coalesce(n.nspname, '') AS schema, d.defaclobjtype AS kind, d.defaclacl AS acl,
         CASE WHEN d.defaclnamespace = 0
              THEN acldefault(CASE d.defaclobjtype WHEN 'S' THEN 's'::"char"
                                   ELSE d.defaclobjtype END, d.defaclrole)
              END AS base
  FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
  WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)),
now AS (SELECT d.schema, d.kind, x.* FROM d, aclexplode(d.acl) x),
was AS (SELECT d.schema, d.kind, x.* FROM d, aclexplode(d.base) x),
diff AS (
  SELECT coalesce(a.schema, b.schema) AS schema, coalesce(a.kind, b.kind) AS kind,
         coalesce(a.grantee, b.grantee) AS grantee,
         coalesce(a.privilege_type, b.privilege_type) AS privilege,
         coalesce(a.is_grantable, b.is_grantable) AS grantable, a.schema IS NOT NULL AS is_now
  FROM now a FULL JOIN was b ON a.schema = b.schema AND a.kind = b.kind
       AND a.grantee = b.grantee AND a.privilege_type = b.privilege_type
       AND a.is_grantable = b.is_grantable
  WHERE a.schema IS NULL OR b.schema IS NULL),
said AS (
  SELECT is_now,
         format('ALTER DEFAULT PRIVILEGES FOR ROLE %I%s', current_user,
                CASE schema WHEN '' THEN '' ELSE format(' IN SCHEMA %I', schema) END) AS head,
         privilege || ' ON ' || CASE kind WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES'
                                          WHEN 'f' THEN 'FUNCTIONS' WHEN 'T' THEN 'TYPES'
                                          ELSE 'SCHEMAS' END AS what,
         CASE grantee WHEN 0 THEN 'PUBLIC' ELSE format('%I', pg_get_userbyid(grantee)) END AS who,
         grantable
  FROM diff)
SELECT is_now, head || ' REVOKE ' || what || ' FROM ' || who || ';',
       head || ' GRANT ' || what || ' TO ' || who ||
       CASE WHEN grantable THEN ' WITH GRANT OPTION' ELSE '' END || ';'
FROM said ORDER BY 2, 3
)sql";

}  // namespace

Result<DefaultPrivilegesAside> SetAsideDefaultPrivileges(PgConnection& conn) {
  VELIN_ASSIGN(PgRows rows, conn.Query(kDefaultPrivilegesSql));
  // Revokes before grants: a privilege that differs only by its grant option is revoked whole,
  // then granted as it is to be.
  std::string off_revoke, off_grant, back_revoke, back_grant;
  for (const auto& row : rows) {
    const bool is_now = row[0] == "t";
    (is_now ? off_revoke : back_revoke) += row[1] + "\n";
    (is_now ? back_grant : off_grant) += row[2] + "\n";
  }
  return DefaultPrivilegesAside{.off = off_revoke + off_grant, .back = back_revoke + back_grant};
}

}  // namespace velin::db::internal
