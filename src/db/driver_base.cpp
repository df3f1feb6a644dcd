#include "driver_base.hpp"

#include <set>

#include "drivers.hpp"
#include "tool.hpp"
#include "velin/core/i18n.hpp"
#include "velin/io/env.hpp"

namespace velin::db::internal {
namespace {

class WrappedDriver final : public Driver {
 public:
  WrappedDriver(std::unique_ptr<DriverSteps> steps, std::string password)
      : steps_(std::move(steps)), password_(std::move(password)) {}
  ~WrappedDriver() override { (void)Cleanup(); }

  std::string Describe() const override { return steps_->Describe(); }
  Result<DatabaseInfo> Preflight() override { return Wrapped(steps_->DoPreflight()); }
  Result<DatabaseInfo> Dump(const ByteSink& sink) override { return Wrapped(steps_->DoDump(sink)); }
  Result<std::vector<std::string>> Restore(const ByteProducer& produce,
                                           const std::string& target) override {
    return Wrapped(steps_->DoRestore(produce, target));
  }
  Result<std::vector<std::string>> PrepareRestore(const DatabaseInfo& recorded) override {
    return Wrapped(steps_->DoPrepareRestore(recorded));
  }
  Result<std::vector<TableRows>> CountRows(const std::string& target) override {
    return Wrapped(steps_->DoCountRows(target));
  }
  Result<bool> DatabaseExists(const std::string& target) override {
    return Wrapped(steps_->DoDatabaseExists(target));
  }
  Status Check(const std::string& target) override { return Wrapped(steps_->DoCheck(target)); }
  Result<std::string> CreateTemporaryDatabase() override {
    DropDeadRunsTemporaries();
    Result<std::string> name = Wrapped(steps_->DoCreateTemporaryDatabase());
    if (name) temporary_.insert(*name);
    return name;
  }
  Status DropDatabase(const std::string& target) override {
    if (target.empty() || target == steps_->ConfiguredDatabase()) {
      return Wrapped(
          Status(UsageError(std::string(Tr("refusing to drop the configured database")))));
    }
    Status s = Wrapped(steps_->DoDrop(target));
    if (s) temporary_.erase(target);
    return s;
  }
  void SetReporter(Reporter* reporter) override { steps_->set_reporter(reporter); }
  Status Cleanup() override {
    Status first = Ok();
    for (const std::string& name : std::set<std::string>(temporary_)) {
      Status s = DropDatabase(name);
      if (!s && first) first = s;
    }
    return first;
  }

 private:
  // Drops the temporary databases that restore tests killed before their end (kill -9, the
  // OOM killer) left: each a whole copy of a backup's database. Only names of this host's
  // runs that are provably gone (IsDeadRunsTemporaryName): another host's run on the same
  // server, or a live one, keeps its own. Best effort: what cannot be dropped is a warning.
  void DropDeadRunsTemporaries() {
    Result<std::vector<std::string>> names = steps_->DoListTemporaries();
    if (!names) return;  // the create that follows says what is wrong with the server
    for (const std::string& name : *names) {
      if (name == steps_->ConfiguredDatabase()) continue;
      if (!IsDeadRunsTemporaryName(io::Env::Default(), io::Basename(name))) continue;
      if (Status s = Wrapped(steps_->DoDrop(name)); !s) {
        steps_->reporter().Warn(TrFormat("could not drop {}, left by a killed restore test: {}",
                                         name, s.error().message));
      } else {
        steps_->reporter().Info(TrFormat("Dropped {}, left by a killed restore test", name));
      }
    }
  }

  template <typename T>
  Result<T> Wrapped(Result<T> r) const {
    if (r) return r;
    Error e = r.error().Wrap(Describe());
    e.message = Redact(e.message, password_);
    return tl::unexpected(e);
  }

  std::unique_ptr<DriverSteps> steps_;
  std::string password_;
  std::set<std::string> temporary_;
};

}  // namespace

Error RestoreIntoCreatedFailed(Error failed, const std::string& db, const Status& dropped) {
  if (dropped) return failed;
  failed.message += TrFormat(
      "; database '{}', which this restore created, is left as the restore stopped, incomplete "
      "(it could not be dropped again: {}): drop it, or restore into it again",
      db, dropped.error().message);
  return failed;
}

std::unique_ptr<Driver> WrapDriver(std::unique_ptr<DriverSteps> steps, std::string password) {
  return std::make_unique<WrappedDriver>(std::move(steps), std::move(password));
}

}  // namespace velin::db::internal
