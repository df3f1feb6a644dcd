// The libpq and MariaDB client functions velin calls, each forwarding to the library's own,
// which is opened at the first call (velin/core/lazy_library.hpp). velin is not linked with
// either: a function used without a forwarder here is an undefined symbol at link time.
#include <libpq-fe.h>
#include <mysql.h>

#include "client_libraries.hpp"

namespace velin::db {

LazyLibrary& PqLibrary() {
  static LazyLibrary library("libpq.so.5", "libpq5");
  return library;
}

LazyLibrary& MariadbLibrary() {
  static LazyLibrary library("libmariadb.so.3", "libmariadb3");
  return library;
}

}  // namespace velin::db

#define VELIN_PQ(ret, name, params, args) \
  VELIN_LAZY_FORWARD(velin::db::PqLibrary(), ret, name, params, args)

VELIN_PQ(PGconn*, PQconnectdbParams,
         (const char* const* keywords, const char* const* values, int expand_dbname),
         (keywords, values, expand_dbname))
VELIN_PQ(ConnStatusType, PQstatus, (const PGconn* conn), (conn))
VELIN_PQ(char*, PQerrorMessage, (const PGconn* conn), (conn))
VELIN_PQ(int, PQserverVersion, (const PGconn* conn), (conn))
VELIN_PQ(void, PQfinish, (PGconn * conn), (conn))
VELIN_PQ(char*, PQescapeIdentifier, (PGconn * conn, const char* str, size_t len), (conn, str, len))
VELIN_PQ(void, PQfreemem, (void* ptr), (ptr))
VELIN_PQ(PGresult*, PQexecParams,
         (PGconn * conn, const char* command, int n, const Oid* types, const char* const* values,
          const int* lengths, const int* formats, int result_format),
         (conn, command, n, types, values, lengths, formats, result_format))
VELIN_PQ(ExecStatusType, PQresultStatus, (const PGresult* res), (res))
VELIN_PQ(char*, PQresultErrorField, (const PGresult* res, int field), (res, field))
VELIN_PQ(int, PQntuples, (const PGresult* res), (res))
VELIN_PQ(int, PQnfields, (const PGresult* res), (res))
VELIN_PQ(char*, PQgetvalue, (const PGresult* res, int row, int field), (res, row, field))
VELIN_PQ(void, PQclear, (PGresult * res), (res))

#define VELIN_MARIADB(ret, name, params, args) \
  VELIN_LAZY_FORWARD(velin::db::MariadbLibrary(), ret, name, params, args)

VELIN_MARIADB(MYSQL*, mysql_init, (MYSQL * m), (m))
VELIN_MARIADB(int, mysql_options, (MYSQL * m, enum mysql_option option, const void* arg),
              (m, option, arg))
VELIN_MARIADB(MYSQL*, mysql_real_connect,
              (MYSQL * m, const char* host, const char* user, const char* passwd, const char* db,
               unsigned int port, const char* unix_socket, unsigned long flags),
              (m, host, user, passwd, db, port, unix_socket, flags))
VELIN_MARIADB(const char*, mysql_error, (MYSQL * m), (m))
VELIN_MARIADB(unsigned int, mysql_errno, (MYSQL * m), (m))
VELIN_MARIADB(char*, mysql_get_server_info, (MYSQL * m), (m))
VELIN_MARIADB(int, mysql_real_query, (MYSQL * m, const char* q, unsigned long length),
              (m, q, length))
VELIN_MARIADB(MYSQL_RES*, mysql_store_result, (MYSQL * m), (m))
VELIN_MARIADB(unsigned int, mysql_field_count, (MYSQL * m), (m))
VELIN_MARIADB(unsigned int, mysql_num_fields, (MYSQL_RES * res), (res))
VELIN_MARIADB(MYSQL_ROW, mysql_fetch_row, (MYSQL_RES * res), (res))
VELIN_MARIADB(unsigned long*, mysql_fetch_lengths, (MYSQL_RES * res), (res))
VELIN_MARIADB(void, mysql_free_result, (MYSQL_RES * res), (res))
VELIN_MARIADB(void, mysql_close, (MYSQL * m), (m))
