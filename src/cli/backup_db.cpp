#include "backup_db.hpp"

#include "velin/core/i18n.hpp"
#include "velin/db/metadata.hpp"

namespace velin::cli {

Result<db::ConnectionOptions> DatabaseConnectionOptions(const config::Config& cfg) {
  const config::DatabaseSection& d = cfg.database;
  if (!d.configured) {
    return UsageError(
        TrFormat("backup.include names \"db\" but {} has no [database] section",
                 (cfg.file.empty() ? std::string(Tr("the configuration")) : cfg.file)));
  }
  db::ConnectionOptions o;
  o.driver = d.driver;
  o.host = d.host;
  o.port = d.port;
  o.socket = d.socket;
  o.user = d.user;
  o.name = d.name;
  o.path = d.path;
  o.root = cfg.app.root;
  VELIN_ASSIGN(o.password,
               config::ReadSecret(d.password_env, d.password_file, "database password"));
  return o;
}

DatabaseStreamSource::DatabaseStreamSource(std::unique_ptr<db::Driver> driver,
                                           std::string driver_name, bool continue_on_error)
    : driver_(std::move(driver)),
      driver_name_(std::move(driver_name)),
      continue_on_error_(continue_on_error) {}

Status DatabaseStreamSource::Produce(const std::function<Status(std::string_view)>& sink) {
  Result<db::DatabaseInfo> info = driver_->Dump(sink);
  if (info) {
    info_ = std::move(*info);
    return Ok();
  }
  // A sink error is the repository's (disk full): never swallowed.
  if (!continue_on_error_ || info.error().sys_errno != 0) return tl::unexpected(info.error());
  failure_ = info.error();
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

Result<std::unique_ptr<DatabaseStreamSource>> MakeDatabaseSource(const config::Config& cfg,
                                                                 bool continue_on_error) {
  bool included = false;
  for (const std::string& inc : cfg.backup.include) included = included || inc == kDatabaseStream;
  if (!included) return std::unique_ptr<DatabaseStreamSource>();
  VELIN_ASSIGN(db::ConnectionOptions options, DatabaseConnectionOptions(cfg));
  VELIN_ASSIGN(std::unique_ptr<db::Driver> driver, db::OpenDriver(options));
  return std::make_unique<DatabaseStreamSource>(std::move(driver), options.driver,
                                                continue_on_error);
}

}  // namespace velin::cli
