// Private to the db module: what the three database drivers share, written once. A driver
// implements DriverSteps, the database's own work, and OpenDriver hands it out wrapped by
// WrapDriver, which is the only Driver there is: every error of every step is prefixed with
// Describe() and has the password redacted, temporary databases are tracked and dropped by
// Cleanup() and the destructor. A new driver cannot forget either: it never sees a Driver.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "velin/db/driver.hpp"

namespace velin::db::internal {

// The steps of Driver (driver.hpp), with errors as the database gave them: no Describe()
// prefix, the password possibly in them. DoDrop is never asked to drop the configured database.
class DriverSteps {
 public:
  virtual ~DriverSteps() = default;
  virtual std::string Describe() const = 0;
  // The configured database's name (SQLite: its path), which DropDatabase refuses.
  virtual std::string ConfiguredDatabase() const = 0;
  virtual Result<DatabaseInfo> DoPreflight() = 0;
  virtual Result<DatabaseInfo> DoDump(const ByteSink& sink) = 0;
  virtual Result<std::vector<std::string>> DoRestore(const ByteProducer& produce,
                                                     const std::string& target) = 0;
  virtual Result<std::vector<std::string>> DoPrepareRestore(const DatabaseInfo& recorded) {
    (void)recorded;
    return std::vector<std::string>();
  }
  virtual Result<std::vector<TableRows>> DoCountRows(const std::string& target) = 0;
  virtual Result<bool> DoDatabaseExists(const std::string& target) = 0;
  virtual Status DoCheck(const std::string& target) = 0;
  virtual Result<std::string> DoCreateTemporaryDatabase() = 0;
  // The databases whose names start with "velin_restore_test_" (UniqueTemporaryName), each
  // one that DoDrop takes: the server's (SQLite: the copies in its temp dir).
  virtual Result<std::vector<std::string>> DoListTemporaries() = 0;
  virtual Status DoDrop(const std::string& target) = 0;

  // Driver::SetReporter's: never null.
  Reporter& reporter() { return reporter_ != nullptr ? *reporter_ : null_reporter_; }
  void set_reporter(Reporter* reporter) { reporter_ = reporter; }

 private:
  Reporter* reporter_ = nullptr;
  NullReporter null_reporter_;
};

// `failed`, the error of a restore into `db`, a database the restore had created, given what
// became of `db` then (`dropped`: DoDrop's status). Dropped again, the error stays as it is (`db`
// is not there, as before). Where the drop failed too (the server died or went away
// mid-restore, a privilege taken meanwhile), `db` is left as the restore stopped (empty, or half
// restored for MariaDB): the error says so, and how to be rid of it, instead of nothing.
Error RestoreIntoCreatedFailed(Error failed, const std::string& db, const Status& dropped);

// `password`: redacted from every error message ("" = nothing to redact).
std::unique_ptr<Driver> WrapDriver(std::unique_ptr<DriverSteps> steps, std::string password);

}  // namespace velin::db::internal
