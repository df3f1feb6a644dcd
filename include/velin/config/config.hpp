// velin.toml, loaded and validated: the one configuration both engines read. Every key is
// listed in docs/config.md and velin.toml.example; unknown keys, wrong types, bad enum values,
// bad durations, negative counts and missing required keys are errors naming file:line:column
// and the key (exit code 2). Relative paths are resolved here, so engines see absolute paths:
// app.root against the directory holding velin.toml; paths inside the application (backup
// include, rollback artifacts/config/current, database.path) against app.root; paths of velin's
// own files (destination, state_dir, log/metrics files, secret files) against velin.toml's dir.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "velin/core/duration.hpp"
#include "velin/core/error.hpp"
#include "velin/core/hooks.hpp"
#include "velin/io/env.hpp"

namespace velin::config {

struct AppSection {
  std::string root;  // absolute
  // Who makes the backups, recorded in every snapshot; list, restore, forget... work on this
  // host's and this app's backups by default (docs/cli.md, "Hosts and applications").
  std::string name;  // default: the last component of root
  std::string host;  // default: the machine's host name
};

struct BackupSection {
  std::vector<std::string> include;      // as written: "db" or paths relative to app.root
  std::vector<std::string> exclude;      // glob patterns, relative to app.root
  std::vector<std::string> allow_empty;  // include paths that may hold no files (no warning)
  std::string compression = "zstd";      // "zstd" | "gzip" | "none"
  int compression_level = 3;
  std::string strategy = "full";  // "full" | "incremental"
  std::string destination;        // absolute directory, or a URL (s3://, sftp://, ftp://)
  int retention_days = 0;         // 0: no age rule
  int keep_last = 0;
  int keep_daily = 0;
  int keep_weekly = 0;
  int keep_monthly = 0;
  int keep_yearly = 0;
  bool prune_after_create = true;
  std::string encryption = "none";  // "aes-256-gcm" | "chacha20-poly1305" | "none"
  std::string password_env;
  std::string password_file;  // absolute; checked to be 0600-like
  std::string offsite;
  bool allow_insecure = false;    // ftp:// and http:// S3 endpoints beyond loopback
  double repack_threshold = 0.2;  // repack a pack when more than this share of it is unused
};

struct MonitorSection {
  Duration max_age = Duration(26LL * 3600 * 1000);
  Duration max_verify_age = Duration(0);  // 0: not checked
  std::string metrics_file;
  std::string ping_url;
};

// [notify]: events sent to a webhook and/or a command (docs/config.md#notify).
// The event names, stable: what `events` may list and what a notification carries.
inline const std::vector<std::string>& NotifyEventNames() {
  static const std::vector<std::string> kNames = {
      "backup-succeeded",    "backup-failed", "backup-unhealthy", "cleanup-failed",
      "restore-test-failed", "switch-undone", "rollback-timeout"};
  return kNames;
}

struct NotifySection {
  std::string webhook_url;      // http:// or https://; "" for none
  std::string format = "json";  // "json" | "slack"
  std::string command;          // run with sh -c, the event in its environment; "" for none
  // Default: failures and automatic rollbacks (every event but backup-succeeded).
  std::vector<std::string> events = {"backup-failed",       "backup-unhealthy", "cleanup-failed",
                                     "restore-test-failed", "switch-undone",    "rollback-timeout"};
};

struct LogSection {
  std::string file;
  std::string level = "info";  // "trace" | "debug" | "info" | "warn" | "error" | "off"
  int max_size_mb = 10;
  int max_files = 5;
};

struct S3Section {
  std::string endpoint;
  std::string region = "us-east-1";
  bool path_style = false;
  std::string credentials_file;
  int parallel_uploads = 4;
};

struct SftpSection {
  std::string key_file;
  std::string known_hosts;
  // The key's passphrase: the variable's value, or the file's content (only its owner may read
  // it); neither for a key without one.
  std::string key_passphrase_env;
  std::string key_passphrase_file;
};

// [database], and each [databases.NAME] (the same keys: docs/config.md#databases).
struct DatabaseSection {
  bool configured = false;  // a [database] table is present
  std::string driver;       // "postgresql" | "mysql" | "sqlite"
  std::string host = "127.0.0.1";
  int port = 0;  // 0: the driver's default
  std::string socket;
  std::string user;
  std::string name;
  std::string password_env;
  std::string password_file;
  std::string path;  // sqlite: absolute
};

struct RollbackSection {
  std::vector<std::string> artifacts;  // relative to app.root, as written
  std::vector<std::string> config;     // relative to app.root, as written
  std::string state_dir;               // absolute
  std::string current;                 // absolute path of the symlink
  int keep_versions = 10;
  std::string stop;
  std::string start;
  std::string health;
  Duration health_timeout = Duration(30'000);
  Duration transaction_timeout = Duration(600'000);
  Duration start_timeout = Duration(120'000);  // then the start's process group is killed
  Duration stop_timeout = Duration(120'000);
  std::string migration_status;
  std::string migrate_down;
  // Deploy transactions and the database (docs/rollback.md#data).
  bool backup_on_begin = false;
  bool restore_data_on_timeout = false;
  int keep_transaction_backups = 10;  // `backup forget` keeps the last N transaction backups
  // Where each path of `artifacts` and `config` is written, by {"rollback.artifacts", path in
  // the lists' spelling}: "FILE:LINE:COL", or "environment VELIN_ROLLBACK_ARTIFACTS"; a default
  // has none. The refusal of such a path names its place (RollbackEngine's check, config check).
  std::map<std::pair<std::string, std::string>, std::string> path_places;
};

// [fleet]: the hosts `velin rollback --fleet ...` drives over ssh (docs/config.md#fleet).
struct FleetSection {
  // ssh destinations ("web1", "deploy@web2", "ssh://deploy@web3:2222"), each optionally
  // followed by ":/path/velin.toml", the config on that host (default: `config`).
  std::vector<std::string> hosts;
  std::string config;                    // the velin.toml on the hosts ("": this file's path)
  std::string velin = "velin";           // the command that runs velin on the hosts (their shell's)
  std::vector<std::string> ssh_options;  // more arguments for ssh (e.g. "-F", "/etc/ssh_fleet")
  Duration connect_timeout = Duration(10'000);
  Duration command_timeout = Duration(1'800'000);  // then the ssh client is killed
};

// Shell commands run around backups and switches (docs/operations.md#hooks); "" = none.
using HooksSection = HookCommands;

// Where a key's value came from: its line and column in the file (else its section's, else
// 1:1), or the VELIN_* variable(s) of an override.
struct KeyPlace {
  int line = 0;
  int column = 0;
  std::string env;
};

struct Config {
  std::string file;  // absolute path of the velin.toml loaded ("" when defaults only)
  std::string dir;   // its directory
  AppSection app;
  BackupSection backup;
  MonitorSection monitor;
  NotifySection notify;
  LogSection log;
  S3Section s3;
  SftpSection sftp;
  DatabaseSection database;
  // [databases.NAME] tables, by NAME: more databases of the application, each backed up as
  // the stream "db:NAME" when backup.include names it. Each is configured.
  std::map<std::string, DatabaseSection> databases;
  RollbackSection rollback;
  HooksSection hooks;
  FleetSection fleet;
  // What is not wrong enough to refuse but must be said (a VELIN_* variable naming no key).
  std::vector<std::string> warnings;
  // Each key's place, by "section.key" ("backup.encryption"), for errors found after loading:
  // KeyError().
  std::map<std::string, KeyPlace> places;
};

// The database a backup.include entry or a backup's stream name means: "db" is [database],
// "db:NAME" is [databases.NAME]. nullptr when `source` names no configured database.
const DatabaseSection* DatabaseOfSource(const Config& config, const std::string& source);

// Whether `source` is a database's name in backup.include and in a backup: "db" or "db:NAME".
bool IsDatabaseSource(const std::string& source);

// Every database backup.include names, in its order, by source name ("db", "db:queue").
std::vector<std::string> IncludedDatabases(const Config& config);

// The table of the database `source` names, as messages name it: "[database]" or
// "[databases.NAME]".
std::string DatabaseTable(const std::string& source);

// One database of the app as backup.include or a backup's streams name it: the one place that
// pairs a source name with its table, so every command (create, restore, verify, status, deploy
// transactions) skips and names the same ones.
struct DatabaseRef {
  std::string source;                        // "db", "db:NAME": its stream in a backup
  std::string table;                         // "[database]", "[databases.NAME]" (messages)
  const DatabaseSection* section = nullptr;  // nullptr when velin.toml has no such table
};

// `source` ("db", "db:NAME") with its table and section.
DatabaseRef DatabaseRefOf(const Config& config, const std::string& source);

// IncludedDatabases, each with its table and section.
std::vector<DatabaseRef> IncludedDatabaseRefs(const Config& config);

// A NAME of [databases.NAME]: 1 to 32 of a-z, 0-9, '_' and '-'.
bool IsDatabaseName(const std::string& name);

// A usage error about `section.key` found after loading (a log file that cannot be opened, a
// passphrase missing), worded as the loader's: "FILE:LINE:COLUMN: message", or "environment
// VELIN_…: message" for an override; `message` alone without a file.
tl::unexpected<Error> KeyError(const Config& config, const std::string& section,
                               const std::string& key, const std::string& message);

// Finds velin.toml in `start_dir` or the nearest parent. nullopt when there is none.
std::optional<std::string> FindConfigFile(const std::string& start_dir);

// Loads and validates `path`, applying VELIN_<SECTION>_<KEY> environment overrides
// (e.g. VELIN_BACKUP_COMPRESSION=gzip, VELIN_STORAGE_S3_REGION=eu-west-1). Errors have
// exit code kUsage and a message "FILE:LINE:COL: ... 'key' ...". The file, the environment
// and the default host name come from `env`.
Result<Config> LoadConfig(const std::string& path, io::Env& env = io::Env::Default());

// Loads from TOML text (tests); `path` is used for messages and relative paths.
Result<Config> LoadConfigFromString(const std::string& text, const std::string& path,
                                    io::Env& env = io::Env::Default());

// A config with every default, rooted at `dir` (when no velin.toml exists).
Config DefaultConfig(const std::string& dir);

// An absolute path for `p` relative to app.root (p unchanged when absolute).
std::string ResolveAppPath(const Config& config, const std::string& p);

// True when `destination` is a URL rather than a local directory.
bool IsRemoteDestination(const std::string& destination);

// Reads a secret named by `env_var` or `file` (0600 check), for `what` in messages, without
// trailing newlines (a file's, or a variable's set from a file). Never logs it. Returns "" when
// neither is set. `unstripped`, when given, gets the variable's value as it is when that had
// newlines to strip, else "" (for a passphrase an older velin took verbatim).
Result<std::string> ReadSecret(const std::string& env_var, const std::string& file,
                               const std::string& what, std::string* unstripped = nullptr);

}  // namespace velin::config
