#include "schema.hpp"

#include <cctype>

namespace velin::config {
namespace {

KeySpec Spec(std::string section, std::string key, KeyKind kind, PathBase base = PathBase::kNone,
             int64_t min = INT64_MIN, int64_t max = INT64_MAX) {
  KeySpec s;
  s.section = std::move(section);
  s.key = std::move(key);
  s.kind = kind;
  s.path_base = base;
  s.min = min;
  s.max = max;
  return s;
}

// Builders keep the table readable: one line a key.
template <typename M>
KeySpec Str(std::string section, std::string key, M Config::*sec, std::string M::*field,
            PathBase base = PathBase::kNone) {
  KeySpec s = Spec(std::move(section), std::move(key), KeyKind::kString, base);
  s.set = [sec, field](Config& c, const Value& v) { (c.*sec).*field = std::get<std::string>(v); };
  s.get = [sec, field](const Config& c) { return Value((c.*sec).*field); };
  return s;
}

template <typename M>
KeySpec Enum(std::string section, std::string key, M Config::*sec, std::string M::*field,
             std::vector<std::string> choices) {
  KeySpec s = Str(std::move(section), std::move(key), sec, field);
  s.kind = KeyKind::kEnum;
  s.choices = std::move(choices);
  return s;
}

template <typename M>
KeySpec Int(std::string section, std::string key, M Config::*sec, int M::*field, int64_t min,
            int64_t max) {
  KeySpec s = Spec(std::move(section), std::move(key), KeyKind::kInt, PathBase::kNone, min, max);
  s.set = [sec, field](Config& c, const Value& v) {
    (c.*sec).*field = static_cast<int>(std::get<int64_t>(v));
  };
  s.get = [sec, field](const Config& c) { return Value(static_cast<int64_t>((c.*sec).*field)); };
  return s;
}

template <typename M>
KeySpec Bool(std::string section, std::string key, M Config::*sec, bool M::*field) {
  KeySpec s = Spec(std::move(section), std::move(key), KeyKind::kBool);
  s.set = [sec, field](Config& c, const Value& v) { (c.*sec).*field = std::get<bool>(v); };
  s.get = [sec, field](const Config& c) { return Value((c.*sec).*field); };
  return s;
}

template <typename M>
KeySpec Real(std::string section, std::string key, M Config::*sec, double M::*field) {
  KeySpec s = Spec(std::move(section), std::move(key), KeyKind::kDouble);
  s.set = [sec, field](Config& c, const Value& v) { (c.*sec).*field = std::get<double>(v); };
  s.get = [sec, field](const Config& c) { return Value((c.*sec).*field); };
  return s;
}

template <typename M>
KeySpec List(std::string section, std::string key, M Config::*sec,
             std::vector<std::string> M::*field) {
  KeySpec s = Spec(std::move(section), std::move(key), KeyKind::kStringArray);
  s.set = [sec, field](Config& c, const Value& v) {
    (c.*sec).*field = std::get<std::vector<std::string>>(v);
  };
  s.get = [sec, field](const Config& c) { return Value((c.*sec).*field); };
  return s;
}

// `positive`: zero is refused (a timeout of 0s would fail or roll back at once).
template <typename M>
KeySpec Dur(std::string section, std::string key, M Config::*sec, Duration M::*field,
            bool positive = false) {
  KeySpec s = Spec(std::move(section), std::move(key), KeyKind::kDuration, PathBase::kNone,
                   positive ? 1 : INT64_MIN);
  s.set = [sec, field](Config& c, const Value& v) { (c.*sec).*field = std::get<Duration>(v); };
  s.get = [sec, field](const Config& c) { return Value((c.*sec).*field); };
  return s;
}

std::vector<KeySpec> BuildSchema() {
  using C = Config;
  const auto kCfg = PathBase::kConfigDir;
  const auto kApp = PathBase::kAppRoot;
  std::vector<KeySpec> s;
  s.push_back(Str("app", "root", &C::app, &AppSection::root, kCfg));
  s.push_back(Str("app", "name", &C::app, &AppSection::name));
  s.push_back(Str("app", "host", &C::app, &AppSection::host));

  s.push_back(List("backup", "include", &C::backup, &BackupSection::include));
  s.push_back(List("backup", "exclude", &C::backup, &BackupSection::exclude));
  s.push_back(List("backup", "allow_empty", &C::backup, &BackupSection::allow_empty));
  s.push_back(Enum("backup", "compression", &C::backup, &BackupSection::compression,
                   {"zstd", "gzip", "none"}));
  s.push_back(
      Int("backup", "compression_level", &C::backup, &BackupSection::compression_level, -7, 22));
  s.push_back(
      Enum("backup", "strategy", &C::backup, &BackupSection::strategy, {"full", "incremental"}));
  s.push_back(Str("backup", "destination", &C::backup, &BackupSection::destination, kCfg));
  s.push_back(
      Int("backup", "retention_days", &C::backup, &BackupSection::retention_days, 0, 1'000'000));
  s.push_back(Int("backup", "keep_last", &C::backup, &BackupSection::keep_last, 0, 1'000'000));
  s.push_back(Int("backup", "keep_daily", &C::backup, &BackupSection::keep_daily, 0, 1'000'000));
  s.push_back(Int("backup", "keep_weekly", &C::backup, &BackupSection::keep_weekly, 0, 1'000'000));
  s.push_back(
      Int("backup", "keep_monthly", &C::backup, &BackupSection::keep_monthly, 0, 1'000'000));
  s.push_back(Int("backup", "keep_yearly", &C::backup, &BackupSection::keep_yearly, 0, 1'000'000));
  s.push_back(Bool("backup", "prune_after_create", &C::backup, &BackupSection::prune_after_create));
  s.push_back(Enum("backup", "encryption", &C::backup, &BackupSection::encryption,
                   {"none", "aes-256-gcm", "chacha20-poly1305"}));
  s.push_back(Str("backup", "password_env", &C::backup, &BackupSection::password_env));
  s.push_back(Str("backup", "password_file", &C::backup, &BackupSection::password_file, kCfg));
  s.push_back(Str("backup", "offsite", &C::backup, &BackupSection::offsite, kCfg));
  s.push_back(Bool("backup", "allow_insecure", &C::backup, &BackupSection::allow_insecure));
  s.push_back(Real("backup", "repack_threshold", &C::backup, &BackupSection::repack_threshold));

  s.push_back(Dur("monitor", "max_age", &C::monitor, &MonitorSection::max_age));
  s.push_back(Dur("monitor", "max_verify_age", &C::monitor, &MonitorSection::max_verify_age));
  s.push_back(Str("monitor", "metrics_file", &C::monitor, &MonitorSection::metrics_file, kCfg));
  s.push_back(Str("monitor", "ping_url", &C::monitor, &MonitorSection::ping_url));
  s.push_back(Str("notify", "webhook_url", &C::notify, &NotifySection::webhook_url));
  s.push_back(Enum("notify", "format", &C::notify, &NotifySection::format, {"json", "slack"}));
  s.push_back(Str("notify", "command", &C::notify, &NotifySection::command));
  s.push_back(List("notify", "events", &C::notify, &NotifySection::events));

  s.push_back(Str("log", "file", &C::log, &LogSection::file, kCfg));
  s.push_back(Enum("log", "level", &C::log, &LogSection::level,
                   {"trace", "debug", "info", "warn", "error", "off"}));
  s.push_back(Int("log", "max_size_mb", &C::log, &LogSection::max_size_mb, 1, 100'000));
  s.push_back(Int("log", "max_files", &C::log, &LogSection::max_files, 1, 1000));

  s.push_back(Str("storage.s3", "endpoint", &C::s3, &S3Section::endpoint));
  s.push_back(Str("storage.s3", "region", &C::s3, &S3Section::region));
  s.push_back(Bool("storage.s3", "path_style", &C::s3, &S3Section::path_style));
  s.push_back(Str("storage.s3", "credentials_file", &C::s3, &S3Section::credentials_file, kCfg));
  s.push_back(Int("storage.s3", "parallel_uploads", &C::s3, &S3Section::parallel_uploads, 1, 64));
  s.push_back(Str("storage.sftp", "key_file", &C::sftp, &SftpSection::key_file, kCfg));
  s.push_back(Str("storage.sftp", "known_hosts", &C::sftp, &SftpSection::known_hosts, kCfg));
  s.push_back(
      Str("storage.sftp", "key_passphrase_env", &C::sftp, &SftpSection::key_passphrase_env));
  s.push_back(Str("storage.sftp", "key_passphrase_file", &C::sftp,
                  &SftpSection::key_passphrase_file, kCfg));

  s.push_back(Enum("database", "driver", &C::database, &DatabaseSection::driver,
                   {"postgresql", "mysql", "sqlite"}));
  s.push_back(Str("database", "host", &C::database, &DatabaseSection::host));
  s.push_back(Int("database", "port", &C::database, &DatabaseSection::port, 0, 65535));
  s.push_back(Str("database", "socket", &C::database, &DatabaseSection::socket, kApp));
  s.push_back(Str("database", "user", &C::database, &DatabaseSection::user));
  s.push_back(Str("database", "name", &C::database, &DatabaseSection::name));
  s.push_back(Str("database", "password_env", &C::database, &DatabaseSection::password_env));
  s.push_back(
      Str("database", "password_file", &C::database, &DatabaseSection::password_file, kCfg));
  s.push_back(Str("database", "path", &C::database, &DatabaseSection::path, kApp));

  s.push_back(List("rollback", "artifacts", &C::rollback, &RollbackSection::artifacts));
  s.push_back(List("rollback", "config", &C::rollback, &RollbackSection::config));
  s.push_back(Str("rollback", "state_dir", &C::rollback, &RollbackSection::state_dir, kCfg));
  s.push_back(Str("rollback", "current", &C::rollback, &RollbackSection::current, kApp));
  s.push_back(
      Int("rollback", "keep_versions", &C::rollback, &RollbackSection::keep_versions, 1, 100'000));
  s.push_back(Str("rollback", "stop", &C::rollback, &RollbackSection::stop));
  s.push_back(Str("rollback", "start", &C::rollback, &RollbackSection::start));
  s.push_back(Str("rollback", "health", &C::rollback, &RollbackSection::health));
  s.push_back(
      Dur("rollback", "health_timeout", &C::rollback, &RollbackSection::health_timeout, true));
  s.push_back(Dur("rollback", "transaction_timeout", &C::rollback,
                  &RollbackSection::transaction_timeout, true));
  s.push_back(
      Dur("rollback", "start_timeout", &C::rollback, &RollbackSection::start_timeout, true));
  s.push_back(Dur("rollback", "stop_timeout", &C::rollback, &RollbackSection::stop_timeout, true));
  s.push_back(
      Str("rollback", "migration_status", &C::rollback, &RollbackSection::migration_status));
  s.push_back(Str("rollback", "migrate_down", &C::rollback, &RollbackSection::migrate_down));
  s.push_back(Bool("rollback", "backup_on_begin", &C::rollback, &RollbackSection::backup_on_begin));
  s.push_back(Bool("rollback", "restore_data_on_timeout", &C::rollback,
                   &RollbackSection::restore_data_on_timeout));
  s.push_back(Int("rollback", "keep_transaction_backups", &C::rollback,
                  &RollbackSection::keep_transaction_backups, 1, 1'000'000));

  s.push_back(Str("hooks", "before_backup", &C::hooks, &HooksSection::before_backup));
  s.push_back(Str("hooks", "after_backup", &C::hooks, &HooksSection::after_backup));
  s.push_back(Str("hooks", "on_backup_failure", &C::hooks, &HooksSection::on_backup_failure));
  s.push_back(Str("hooks", "before_switch", &C::hooks, &HooksSection::before_switch));
  s.push_back(Str("hooks", "after_switch", &C::hooks, &HooksSection::after_switch));
  s.push_back(Str("hooks", "on_switch_failure", &C::hooks, &HooksSection::on_switch_failure));
  s.push_back(Dur("hooks", "timeout", &C::hooks, &HooksSection::timeout, true));

  s.push_back(List("fleet", "hosts", &C::fleet, &FleetSection::hosts));
  s.push_back(Str("fleet", "config", &C::fleet, &FleetSection::config));
  s.push_back(Str("fleet", "velin", &C::fleet, &FleetSection::velin));
  s.push_back(List("fleet", "ssh_options", &C::fleet, &FleetSection::ssh_options));
  s.push_back(Dur("fleet", "connect_timeout", &C::fleet, &FleetSection::connect_timeout, true));
  s.push_back(Dur("fleet", "command_timeout", &C::fleet, &FleetSection::command_timeout, true));
  return s;
}

}  // namespace

const std::vector<KeySpec>& Schema() {
  static const std::vector<KeySpec> kSchema = BuildSchema();
  return kSchema;
}

const std::vector<std::string>& Sections() {
  static const std::vector<std::string> kSections = {
      "app",          "backup",   "monitor",  "notify", "log",  "storage.s3",
      "storage.sftp", "database", "rollback", "hooks",  "fleet"};
  return kSections;
}

std::string EnvName(const KeySpec& spec) {
  std::string out = "VELIN_";
  for (char c : spec.section + "_" + spec.key) {
    out += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace velin::config
