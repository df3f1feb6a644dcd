// The databases in `velin backup …`: "db" in backup.include becomes a backup::StreamSource that
// dumps the [database] through its db::Driver, and "db:NAME" one that dumps [databases.NAME]
// (a stream of that name); restore and verify --restore-test read those streams back out of the
// repository into the driver. The command files call these; the engines
// (backup, db) stay unaware of each other.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "velin/backup/stream_source.hpp"
#include "velin/cli/context.hpp"
#include "velin/db/driver.hpp"
#include "velin/repo/repository.hpp"
#include "velin/repo/snapshot.hpp"

namespace velin::cli {

// The stream's name in a snapshot of [database]; [databases.NAME]'s is "db:NAME".
inline constexpr const char* kDatabaseStream = "db";

// Driver options from the database `source` names ("db": [database], "db:NAME":
// [databases.NAME]), with the password from its password_env/_file. A usage error naming the
// table when it is not configured.
Result<db::ConnectionOptions> DatabaseConnectionOptions(
    const config::Config& cfg, const std::string& source = kDatabaseStream);
Result<db::ConnectionOptions> DatabaseConnectionOptions(const config::Config& cfg,
                                                        const config::DatabaseRef& database);

// The databases `snapshot` holds (its "db", "db:NAME" streams, in its order), each with its
// table in `cfg` (section nullptr when `cfg` has none): what restore, verify --restore-test,
// status and a deploy transaction's rollback go through, as create goes through
// config::IncludedDatabaseRefs.
std::vector<config::DatabaseRef> DatabasesOf(const config::Config& cfg,
                                             const repo::Snapshot& snapshot);

// Their source names alone: "db, db:queue", as messages list them.
std::string SourceList(const std::vector<config::DatabaseRef>& databases);

// Dumps the database into the backup. With `continue_on_error`, a failed dump does not fail
// the backup: the snapshot's metadata records status "missing" and the error, and failure()
// tells the command to exit 1 after the commit.
class DatabaseStreamSource final : public backup::StreamSource {
 public:
  DatabaseStreamSource(std::unique_ptr<db::Driver> driver, std::string driver_name,
                       bool continue_on_error, std::string name = kDatabaseStream);
  std::string Name() const override { return name_; }
  Status Produce(const std::function<Status(std::string_view)>& sink) override;
  nlohmann::json Metadata() const override;
  std::vector<std::string> Warnings() const override {
    return info_ ? info_->warnings : std::vector<std::string>();
  }
  const std::optional<Error>& failure() const { return failure_; }
  // The database's files (SQLite: the file and its -wal, -shm, -journal), which the walk leaves
  // out once the dump succeeded: a copy of them read while the application writes may mix pages
  // of different moments. After a failed dump (--continue-on-error) the walk takes them.
  std::vector<std::string> LiveFiles() const override {
    return failure_ ? std::vector<std::string>() : live_files_;
  }
  void SetLiveFiles(std::vector<std::string> files) { live_files_ = std::move(files); }
  // Added to the stream's metadata: {"transaction": ID, "version": V} for a deploy
  // transaction's backup (docs/rollback.md#data).
  void SetTags(nlohmann::json tags) { tags_ = std::move(tags); }

 private:
  std::unique_ptr<db::Driver> driver_;
  std::string driver_name_;
  std::string name_;
  bool continue_on_error_;
  std::optional<db::DatabaseInfo> info_;
  std::optional<Error> failure_;
  std::vector<std::string> live_files_;
  nlohmann::json tags_ = nlohmann::json::object();
};

// A source for each database backup.include names ("db", "db:NAME"), in its order; none when
// it names none. An error names the database's table ([databases.NAME]).
Result<std::vector<std::unique_ptr<DatabaseStreamSource>>> MakeDatabaseSources(
    const config::Config& cfg, bool continue_on_error);

// The configured SQLite database (`source`'s) as a path relative to app.root, as a backup's files
// name it, compared on resolved paths (app.root, the database's directories and a symlink at its
// path followed, as far as they exist): "storage/production.sqlite3". nullopt when no SQLite
// database is configured or it lies outside app.root.
std::optional<std::string> SqliteFileInApp(const config::Config& cfg,
                                           const std::string& source = kDatabaseStream);

// Restores the database stream `source` of `snapshot` ("db" or "db:NAME"): into the database
// configured for it or, with `database` set, into that database (SQLite: that file), created
// when missing. With --database-url, into the database it names. Unless `confirmed`, asks first
// when the restore replaces something (ReplacedByRestore). Every chunk is checked before the live
// database is touched.
Status RestoreDatabase(Context& ctx, repo::Repository& repo, const repo::Snapshot& snapshot,
                       const std::string& database, bool confirmed = false,
                       const std::string& source = kDatabaseStream);

// What restoring a backup's database into `database` ("" = the configured one; SQLite: a file,
// relative to app.root) replaces, as a confirmation names it: the configured database (also
// when `database` names it: the same name, or the same file under another path), or another
// existing one that holds data (tables; SQLite: a non-empty file). nullopt for a missing or
// empty database: the restore loses nothing there, and asks nothing.
Result<std::optional<std::string>> ReplacedByRestore(Context& ctx, const std::string& database,
                                                     const std::string& source = kDatabaseStream);

// A DamageError ("backup ID holds no usable database dump: WHY") when the dump of `snapshot`'s
// database failed under --continue-on-error (status "missing"): its stream is empty or cut off
// where the dump tool stopped, and must not be restored or handed out. Ok when the dump is whole
// or there is no database stream `source`.
Status CheckDumpUsable(const repo::Snapshot& snapshot, const std::string& source = kDatabaseStream);

// A usage error unless `snapshot` holds a database and each database it holds ("db",
// "db:NAME") is configured, its dump usable and of the driver configured for it.
Status CheckDatabaseBackup(const config::Config& cfg, const repo::Snapshot& snapshot);

// verify --restore-test: restores the snapshot's database stream `source` into a temporary
// database (on `server` "HOST[:PORT]" when set), runs the engine's check, compares every
// table's row count with the recorded ones, drops the temporary database, reports per table
// (into `report` for --json). DamageError on any mismatch. Ok without doing anything when there
// is no such stream.
Status RestoreTestDatabase(Context& ctx, repo::Repository& repo, const repo::Snapshot& snapshot,
                           const std::string& server, nlohmann::json& report,
                           const std::string& source = kDatabaseStream);

// verify --restore-test of the backups `ids`: each one's files restored into a temp dir (every
// hash checked), then each of its databases through RestoreTestDatabase; report[id] says what
// was done (its "database": [database]'s, "databases": each stream's by name).
Status RestoreTestBackups(Context& ctx, repo::Repository& repo, const std::vector<std::string>& ids,
                          const std::string& server, nlohmann::json& report);

}  // namespace velin::cli
