#include "backup_db.hpp"

#include <sys/stat.h>

#include <cstdlib>

#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/db/metadata.hpp"
#include "velin/io/env.hpp"

namespace velin::cli {

Result<db::ConnectionOptions> DatabaseConnectionOptions(const config::Config& cfg,
                                                        const std::string& source) {
  return DatabaseConnectionOptions(cfg, config::DatabaseRefOf(cfg, source));
}

Result<db::ConnectionOptions> DatabaseConnectionOptions(const config::Config& cfg,
                                                        const config::DatabaseRef& database) {
  const std::string& source = database.source;
  const std::string& table = database.table;
  const std::string file = cfg.file.empty() ? std::string(Tr("the configuration")) : cfg.file;
  if (database.section == nullptr && source == kDatabaseStream) {
    return UsageError(
        TrFormat("backup.include names \"db\" but {} has no [database] section", file));
  }
  if (database.section == nullptr) {
    return UsageError(TrFormat("database '{}': {} has no {} section", source, file, table));
  }
  const config::DatabaseSection& d = *database.section;
  // [database]'s keys are "database.KEY", [databases.NAME]'s "databases.NAME.KEY".
  const std::string keys = table.substr(1, table.size() - 2);
  db::ConnectionOptions o;
  o.driver = d.driver;
  o.host = d.host;
  o.port = d.port;
  o.socket = d.socket;
  o.user = d.user;
  o.name = d.name;
  o.path = d.path;
  o.root = cfg.app.root;
  auto password =
      config::ReadSecret(d.password_env, d.password_file,
                         source == kDatabaseStream ? std::string(Tr("database password"))
                                                   : TrFormat("password of {}", table));
  if (!password) {
    // A variable exported by hand made every try in the shell pass, and then each scheduled
    // backup failed: cron and systemd start velin without the login shell's variables.
    if (!d.password_env.empty() && d.password_file.empty() && !GetEnvironment(d.password_env)) {
      return UsageError(TrFormat(
          "{} ({}.password_env); cron and systemd pass none of your shell's variables: for "
          "scheduled runs put the password in a file only velin's user may read (chmod 600) and "
          "name it in {}.password_file instead",
          password.error().message, keys, keys));
    }
    return tl::unexpected(password.error());
  }
  o.password = std::move(*password);
  return o;
}

DatabaseStreamSource::DatabaseStreamSource(std::unique_ptr<db::Driver> driver,
                                           std::string driver_name, bool continue_on_error,
                                           std::string name)
    : driver_(std::move(driver)),
      driver_name_(std::move(driver_name)),
      name_(std::move(name)),
      continue_on_error_(continue_on_error) {}

Status DatabaseStreamSource::Produce(const std::function<Status(std::string_view)>& sink) {
  Result<db::DatabaseInfo> info = driver_->Dump(sink);
  if (info) {
    info_ = std::move(*info);
    return Ok();
  }
  // A sink error is the repository's (disk full): never swallowed.
  if (!continue_on_error_ || info.error().sys_errno != 0) return tl::unexpected(info.error());
  // "backup … was created without the database: [databases.queue]: …" names which one.
  failure_ =
      name_ == kDatabaseStream ? info.error() : info.error().Wrap(config::DatabaseTable(name_));
  return Ok();
}

nlohmann::json DatabaseStreamSource::Metadata() const {
  nlohmann::json m =
      info_ ? db::DatabaseInfoToJson(*info_) : nlohmann::json{{"driver", driver_name_}};
  m["status"] = failure_ ? "missing" : "ok";
  if (failure_) m["error"] = failure_->message;
  for (const auto& [key, value] : tags_.items()) m[key] = value;
  return m;
}

namespace {

// An SQLite database's files as the walk of backup.include names them: `path` and the -wal,
// -shm and -journal SQLite keeps beside it. For a `path` that is a symlink, SQLite keeps them
// beside the file it leads to: those, and not the link (which the walk stores as a link).
std::vector<std::string> SqliteLiveFiles(const std::string& path) {
  std::string file = io::CleanPath(path);
  struct stat st {};
  if (::lstat(file.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    char* real = ::realpath(file.c_str(), nullptr);
    if (real == nullptr) return {};
    file = real;
    std::free(real);
  }
  std::vector<std::string> files{file};
  for (const char* suffix : {"-wal", "-shm", "-journal"}) files.push_back(file + suffix);
  return files;
}

// `path` with its symlinks followed as far as it exists: the resolved path of its longest
// existing ancestor with the rest appended; `path` (cleaned) when none resolves.
std::string ResolvedAsFarAsExists(const std::string& path) {
  std::string head = io::CleanPath(path);
  std::string tail;
  while (true) {
    if (char* real = ::realpath(head.c_str(), nullptr)) {
      std::string resolved = real;
      std::free(real);
      return tail.empty() ? resolved : io::JoinPath(resolved, tail);
    }
    const std::string parent = io::Dirname(head);
    if (parent == head || parent.empty()) return io::CleanPath(path);
    tail = tail.empty() ? io::Basename(head) : io::JoinPath(io::Basename(head), tail);
    head = parent;
  }
}

}  // namespace

std::optional<std::string> SqliteFileInApp(const config::Config& cfg, const std::string& source) {
  const config::DatabaseSection* d = config::DatabaseOfSource(cfg, source);
  if (d == nullptr || d->driver != "sqlite" || d->path.empty() || cfg.app.root.empty()) {
    return std::nullopt;
  }
  const std::string root = ResolvedAsFarAsExists(cfg.app.root);
  const std::string file = ResolvedAsFarAsExists(config::ResolveAppPath(cfg, d->path));
  const std::string prefix = root == "/" ? root : root + "/";
  if (file.size() <= prefix.size() || !file.starts_with(prefix)) return std::nullopt;
  return file.substr(prefix.size());
}

std::vector<config::DatabaseRef> DatabasesOf(const config::Config& cfg,
                                             const repo::Snapshot& snapshot) {
  std::vector<config::DatabaseRef> out;
  for (const repo::SnapshotSource& s : snapshot.sources) {
    if (s.kind == repo::SourceKind::kStream && config::IsDatabaseSource(s.name)) {
      out.push_back(config::DatabaseRefOf(cfg, s.name));
    }
  }
  return out;
}

std::string SourceList(const std::vector<config::DatabaseRef>& databases) {
  std::string out;
  for (const config::DatabaseRef& d : databases) out += (out.empty() ? "" : ", ") + d.source;
  return out;
}

Result<std::vector<std::unique_ptr<DatabaseStreamSource>>> MakeDatabaseSources(
    const config::Config& cfg, bool continue_on_error) {
  std::vector<std::unique_ptr<DatabaseStreamSource>> sources;
  for (const config::DatabaseRef& database : config::IncludedDatabaseRefs(cfg)) {
    auto options = DatabaseConnectionOptions(cfg, database);  // its errors name the table
    if (!options) return tl::unexpected(options.error());
    auto driver = db::OpenDriver(*options);
    // A second database's failure names it: "[databases.queue]: ...". [database]'s messages
    // stay as they were.
    if (!driver) {
      return tl::unexpected(database.source == kDatabaseStream
                                ? driver.error()
                                : driver.error().Wrap(database.table));
    }
    auto source = std::make_unique<DatabaseStreamSource>(std::move(*driver), options->driver,
                                                         continue_on_error, database.source);
    if (options->driver == "sqlite") source->SetLiveFiles(SqliteLiveFiles(options->path));
    sources.push_back(std::move(source));
  }
  return sources;
}

}  // namespace velin::cli
