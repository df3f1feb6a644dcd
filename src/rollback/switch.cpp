// The switch: stop, point `current` at the target (new link + rename(2) + fsync dir), restore
// a snapshot's config, migrate down, start, health check; on failure the same steps back.
#include <unistd.h>

#include "service.hpp"
#include "velin/core/i18n.hpp"
#include "velin/rollback/engine.hpp"
#include "velin/rollback/lock.hpp"
#include "velin/rollback/release.hpp"

namespace velin::rollback {
namespace {

constexpr Duration kCommandTimeout{600'000};

HistoryEntry SwitchEntry(io::Env& env, const std::string& action, const std::string& from,
                         const std::string& to, const std::string& reason,
                         const std::string& txn_id) {
  HistoryEntry e;
  e.time = IsoTime(UnixMs(env));
  e.user = CurrentUser();
  e.host = HostName();
  e.action = action;
  e.from = from;
  e.to = to;
  e.reason = reason;
  e.outcome = "switched";
  e.transaction = txn_id;
  return e;
}

}  // namespace

Status RollbackEngine::PointCurrentAt(const std::string& name) {
  const std::string& link = settings_.current_link;
  std::string dir = io::Dirname(link);
  std::string prefix = io::Basename(link) + ".velin-tmp-";
  VELIN_ASSIGN(auto entries, env_.ListDir(dir));
  for (const auto& e : entries) {  // links left by a crash between symlink and rename
    if (e.name.rfind(prefix, 0) == 0) VELIN_TRY(env_.RemoveFile(io::JoinPath(dir, e.name)));
  }
  VELIN_ASSIGN(bool exists, env_.Exists(link));
  if (exists) {
    VELIN_ASSIGN(io::FileInfo info, env_.Stat(link));
    if (info.type != io::FileType::kSymlink) {
      return UsageError(link + " is not a symlink (plain files): run 'velin rollback adopt' first");
    }
  }
  std::string tmp = io::JoinPath(dir, prefix + std::to_string(::getpid()));
  VELIN_TRY(env_.Symlink(layout_.Release(name), tmp));
  CrashPoint("switch-temp-link");
  VELIN_TRY(env_.Rename(tmp, link));
  CrashPoint("switch-renamed");
  VELIN_TRY(env_.SyncDir(dir));
  CrashPoint("switch-synced");
  return Ok();
}

// One direction of a switch, from `from` (may be empty) to `to`. `from_level` is the schema
// level before the switch.
static Status ApplySteps(io::Env& env, const Settings& settings, const StateLayout& layout,
                         Reporter& reporter, const VersionRecord& to, const VersionRecord* from,
                         const std::string& from_level,
                         const std::function<Status(const std::string&)>& point) {
  VELIN_TRY(RunServiceCommand(settings, "stop", settings.stop, kCommandTimeout));
  if (!settings.stop.empty()) reporter.Done(Tr("Service stopped"));
  CrashPoint("switch-stopped");
  VELIN_TRY(point(to.name));
  reporter.Done(TrFormat("current → {}", to.name));
  if (to.kind == VersionKind::kSnapshot) {
    VELIN_TRY(RestoreTree(env, layout.Config(to.name), settings.config, settings.app_root));
    reporter.Done(Tr("Configuration restored from the snapshot"));
  }
  CrashPoint("switch-config");
  bool older = from != nullptr && to.seq < from->seq;
  if (!to.schema_level.empty() && !from_level.empty() && LevelBelow(to.schema_level, from_level)) {
    if (settings.migrate_down.empty()) {
      reporter.Warn(
          TrFormat("schema level {} is below the live level {} and no "
                   "rollback.migrate_down is configured; the database stays as it is",
                   to.schema_level, from_level));
    } else {
      VELIN_TRY(RunServiceCommand(settings, "migrate_down", settings.migrate_down, kCommandTimeout,
                                  to.schema_level));
      reporter.Done(TrFormat("Database migrated down to level {}", to.schema_level));
    }
  } else if (older && settings.migrate_down.empty() && settings.database_configured &&
             to.schema_level.empty()) {
    reporter.Warn(
        Tr("going back to an older version while a [database] is configured, but "
           "rollback.migrate_down is not set: the schema is not migrated down"));
  }
  CrashPoint("switch-migrated");
  VELIN_TRY(RunServiceCommand(settings, "start", settings.start, kCommandTimeout));
  if (!settings.start.empty()) reporter.Done(Tr("Service started"));
  CrashPoint("switch-started");
  VELIN_TRY(WaitHealthy(settings));
  if (settings.health.empty()) {
    reporter.Info(Tr("No rollback.health check is configured: the switch is not verified"));
  } else {
    reporter.Done(Tr("Health check passed"));
  }
  return Ok();
}

Status RollbackEngine::SwitchLocked(const std::string& target, const std::string& reason,
                                    const std::string& txn_id, const std::string& action) {
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  const VersionRecord* rec = reg.Find(target);
  if (rec == nullptr) {
    return UsageError("no version '" + target + "' (see velin rollback list)");
  }
  VersionRecord to = *rec;
  VELIN_ASSIGN(std::string from_name, LiveCurrent());
  std::optional<VersionRecord> from;
  if (const VersionRecord* f = reg.Find(from_name)) from = *f;
  std::string from_level = from ? from->schema_level : "";
  if (auto live_level = SchemaLevel(settings_); live_level && !live_level->empty()) {
    from_level = *live_level;
  }
  VELIN_TRY(
      SaveSwitchIntent(env_, layout_, {from_name, target, reason, txn_id, IsoTime(UnixMs(env_))}));
  CrashPoint("switch-intent");
  auto point = [this](const std::string& name) -> Status {
    VELIN_TRY(PointCurrentAt(name));
    VELIN_ASSIGN(Registry r, LoadRegistry(env_, layout_));
    r.current = name;
    VELIN_TRY(SaveRegistry(env_, layout_, r));
    CrashPoint("switch-registry");
    return Ok();
  };
  HistoryEntry entry = SwitchEntry(env_, action, from_name, target, reason, txn_id);
  Status forward = ApplySteps(env_, settings_, layout_, reporter_, to, from ? &*from : nullptr,
                              from_level, point);
  NoteSwitchOutcome(target, forward);  // the failed mark in registry.json; never stops the switch
  if (forward) {
    VELIN_TRY(AppendHistory(env_, layout_, entry));
    return RemoveSwitchIntent(env_, layout_);
  }
  Error failure = forward.error();
  reporter_.Warn(TrFormat("switch to {} failed: {}", target, failure.message));
  std::string back_result = "nothing to switch back to";
  if (from) {
    reporter_.Begin(TrFormat("Switching back to {}...", from->name));
    Status back =
        ApplySteps(env_, settings_, layout_, reporter_, *from, &to, to.schema_level, point);
    back_result = back ? "switched back to " + from->name + " (healthy)"
                       : "switching back to " + from->name + " failed too: " + back.error().message;
  }
  entry.outcome = (failure.code == ExitCode::kHealthFailed ? "health check failed; " : "failed; ") +
                  back_result;
  entry.detail = failure.message;
  VELIN_TRY(AppendHistory(env_, layout_, entry));
  VELIN_TRY(RemoveSwitchIntent(env_, layout_));
  return MakeError(
      failure.code == ExitCode::kHealthFailed ? ExitCode::kHealthFailed : ExitCode::kFailed,
      "switch to " + target + ": " + failure.message + "; " + back_result);
}

Status RollbackEngine::ToVersion(const std::string& name, const std::string& reason) {
  VELIN_TRY(EnsureStateDir());
  VELIN_ASSIGN(StateLock lock, StateLock::Acquire(layout_.Lock(), Duration(2000)));
  VELIN_ASSIGN(auto intent, LoadSwitchIntent(env_, layout_));
  if (intent) {
    return Failure("a switch from '" + intent->from + "' to '" + intent->to +
                   "' was interrupted; run 'velin rollback recover' first");
  }
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  VELIN_ASSIGN(std::string from, LiveCurrent());
  VELIN_ASSIGN(std::string target, ResolveTarget(name, reg, from));  // before saying anything
  const VersionRecord* to = reg.Find(target);
  const VersionRecord* f = reg.Find(from);
  bool back = to != nullptr && f != nullptr && to->seq < f->seq;
  reporter_.Begin(TrFormat("Switching to {}...", target));
  VELIN_TRY(SwitchLocked(target, reason, "", "switch"));
  reporter_.Done(back ? TrFormat("Rolled back to {}", target) : TrFormat("Switched to {}", target));
  return Ok();
}

Result<VersionRecord> RollbackEngine::Adopt(const std::string& label) {
  VELIN_TRY(EnsureStateDir());
  VELIN_ASSIGN(StateLock lock, StateLock::Acquire(layout_.Lock(), Duration(2000)));
  VELIN_ASSIGN(std::string live, LiveCurrent());
  if (!live.empty()) {
    return UsageError(settings_.current_link + " already points at release '" + live +
                      "': velin manages this application");
  }
  auto [name, description] = ParseLabel(label);
  if (name.empty()) {
    std::string stamp = IsoTime(UnixMs(env_));
    name = "adopted-" + stamp.substr(0, 10);
    description = "Adopted from plain files";
  }
  VELIN_TRY(CheckVersionName(name));
  const std::string& link = settings_.current_link;
  VELIN_ASSIGN(bool exists, env_.Exists(link));
  io::FileType type = io::FileType::kOther;
  if (exists) {
    VELIN_ASSIGN(io::FileInfo info, env_.Stat(link));
    type = info.type;
  }
  std::string root = exists ? link : settings_.app_root;
  reporter_.Begin(TrFormat("Adopting the live application as {}...", name));
  VELIN_ASSIGN(VersionRecord rec,
               CreateLocked(name, description, VersionKind::kSnapshot, false, root));
  if (type == io::FileType::kDirectory) {
    // Plain files at the `current` path: stop, move them aside, link, start, check.
    VELIN_TRY(RunServiceCommand(settings_, "stop", settings_.stop, kCommandTimeout));
    std::string aside = link + ".pre-velin";
    VELIN_TRY(io::RemoveAll(env_, aside));
    VELIN_TRY(env_.Rename(link, aside));
    VELIN_TRY(PointCurrentAt(name));
    VELIN_TRY(RunServiceCommand(settings_, "start", settings_.start, kCommandTimeout));
    VELIN_TRY(WaitHealthy(settings_));
    reporter_.Info(TrFormat("The plain files were moved to {}", aside));
  } else {
    VELIN_TRY(PointCurrentAt(name));
  }
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  reg.current = name;
  VELIN_TRY(SaveRegistry(env_, layout_, reg));
  VELIN_TRY(AppendHistory(env_, layout_,
                          {IsoTime(UnixMs(env_)), CurrentUser(), HostName(), "adopt", "", name,
                           "adopt", "adopted", "", root}));
  return rec;
}

}  // namespace velin::rollback
