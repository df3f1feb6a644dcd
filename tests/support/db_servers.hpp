// Throwaway database servers for tests: a PostgreSQL 15 cluster and a MariaDB server, each on a
// free loopback port with everything in a temp dir, started once per test process on first use
// (Shared()) and stopped and removed when the process exits; each test takes a fresh database.
// Data directories are copied from a template made once per machine (initdb / install-db are
// the slow part) under ${TMPDIR:-/tmp}/velin-test-templates, built under a lock.
// Both servers have a superuser reachable without password over the unix socket (the fixture's
// own SQL) and a user 'app' with password kAppPassword over TCP (what the drivers use).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "velin/core/process.hpp"
#include "velin/db/driver.hpp"

namespace velin::testing {

inline constexpr const char* kAppUser = "app";
inline constexpr const char* kAppPassword = "s3cr3t-Pa55w0rd";

class PostgresServer {
 public:
  static PostgresServer& Shared();  // throws std::runtime_error when it cannot start
  ~PostgresServer();

  int port() const { return port_; }
  const std::string& socket_dir() const { return dir_; }
  // A new empty database owned by 'app'.
  std::string CreateDatabase();
  // Runs SQL as superuser in `db` (psql -At, ON_ERROR_STOP); returns stdout; throws on error.
  std::string Sql(const std::string& db, const std::string& sql);
  // Driver options for `db` as user 'app' over TCP with the password.
  db::ConnectionOptions Options(const std::string& db) const;
  // "schema.table" -> md5 of all its rows (sorted); what a restore must reproduce.
  std::map<std::string, std::string> TableDigests(const std::string& db);

 private:
  PostgresServer() = default;
  void Start();
  std::string dir_;  // owned by postgres; data in dir_/pg
  int port_ = 0;
  bool running_ = false;
};

class MariadbServer {
 public:
  static MariadbServer& Shared();  // throws std::runtime_error when it cannot start
  ~MariadbServer();

  int port() const { return port_; }
  std::string socket() const { return dir_ + "/sock"; }
  std::string CreateDatabase();
  // Runs SQL as root (mariadb -N -B); returns stdout; throws on error.
  std::string Sql(const std::string& db, const std::string& sql);
  db::ConnectionOptions Options(const std::string& db) const;
  // table -> all its rows as text, sorted (compared whole: stronger than a checksum).
  std::map<std::string, std::string> TableDigests(const std::string& db);

 private:
  MariadbServer() = default;
  void Start();
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> server_;
};

// The variable the [database] sections below name for the password (kAppPassword), and run
// options that set it.
inline constexpr const char* kDbTestPasswordEnv = "VELIN_TEST_DB_PASSWORD";
RunOptions DbTestPassword();
// A velin.toml [database] section for `db` on the test server at `port`, as 'app' over TCP with
// the password from kDbTestPasswordEnv (`db` quoted for TOML).
std::string DbTestMysqlSection(int port, const std::string& db);
std::string DbTestPostgresSection(int port, const std::string& db);

// A MariaDB identifier in backquotes (inner ones doubled).
std::string MariadbBackquote(const std::string& name);

// Drops the MariaDB databases a test made (Add), also when it fails.
class MariadbDatabasesDropped {
 public:
  explicit MariadbDatabasesDropped(MariadbServer& my) : my_(my) {}
  ~MariadbDatabasesDropped();
  MariadbDatabasesDropped(const MariadbDatabasesDropped&) = delete;
  MariadbDatabasesDropped& operator=(const MariadbDatabasesDropped&) = delete;
  // `name`, to be dropped at the end.
  std::string Add(const std::string& name);

 private:
  MariadbServer& my_;
  std::vector<std::string> names_;
};

// A process's command line from /proc (NULs turned to spaces), "" when it is gone.
std::string ProcCmdline(int pid);
// /proc/PID/NAME with its NUL bytes replaced by `separator`; "" when the process is gone.
std::string ProcFile(int pid, const std::string& name, char separator);
// Pids whose parent is `parent`.
std::vector<int> ChildPids(int parent);
// Whether a child of this process whose command line holds `tool` runs with `variable` (as
// coreutils' stdbuf sets it, e.g. "_STDBUF_O=1048576") and a preloaded library.
bool ChildHasStdbuf(const std::string& tool, const std::string& variable);
// Links in `dir` to each of `tools` (found in /usr/bin, /usr/local/bin or /bin): a PATH of
// that directory has them and nothing else, no stdbuf. False when one was not found or linked.
bool LinkTools(const std::string& dir, const std::vector<std::string>& tools);

}  // namespace velin::testing
