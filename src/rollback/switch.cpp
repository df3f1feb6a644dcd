// The switch: save the live config (when a snapshot's replaces it), stop, point `current` at the
// target (new link + rename(2) + fsync dir), restore a snapshot's config, migrate down, start,
// health check; on failure the same steps back to the recorded `from` with the saved config.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "service.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/rollback/command_record.hpp"
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
  e.user = CurrentUser(env);
  e.host = env.HostName();
  e.action = action;
  e.from = from;
  e.to = to;
  e.reason = reason;
  e.outcome = "switched";
  e.transaction = txn_id;
  return e;
}

// What velin says when a signal arrives during the switch to `target`.
std::string SwitchHoldNotice(const std::string& target) {
  return TrFormat(
      "the switch to {} finishes first, then velin stops (kill -9 stops it at once; 'velin "
      "rollback recover' then finishes the switch)",
      target);
}

// A switch that failed before it changed anything: "(still v1)" names what keeps running, and
// the first switch of an application has nothing live to name (it said "(still )").
std::string SwitchChangedNothing(const std::string& to, const std::string& why,
                                 const std::string& from) {
  return from.empty() ? TrFormat("switch to {}: {}; nothing was changed", to, why)
                      : TrFormat("switch to {}: {}; nothing was changed (still {})", to, why, from);
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
      return UsageError(
          TrFormat("{} is not a symlink (plain files): run 'velin rollback adopt' first", link));
    }
  }
  std::string tmp = io::JoinPath(dir, prefix + std::to_string(env_.ThisProcess().pid));
  VELIN_TRY(env_.Symlink(layout_.Release(name), tmp));
  CrashPoint("switch-temp-link");
  VELIN_TRY(env_.Rename(tmp, link));
  CrashPoint("switch-renamed");
  VELIN_TRY(env_.SyncDir(dir));
  CrashPoint("switch-synced");
  return Ok();
}

// Where one direction of a switch takes the configuration from: a snapshot's stored config
// (paths it does not hold stay as they are), or the live config saved before the switch (put
// back exactly: a path the saved copy lacks is removed). Empty `root`: config is left alone.
struct ConfigSource {
  std::string root;
  bool exact = false;
};

// Puts the configured paths stored under `saved_root` back below `app_root` byte-identical;
// paths the saved copy does not hold are removed (they did not exist before the switch).
static Status RestoreSavedConfig(io::Env& env, const std::string& saved_root,
                                 const std::vector<std::string>& paths,
                                 const std::string& app_root) {
  VELIN_TRY(RestoreTree(env, saved_root, paths, app_root));
  for (std::string rel : paths) {
    while (!rel.empty() && rel.back() == '/') rel.pop_back();
    VELIN_ASSIGN(bool saved, env.Exists(io::JoinPath(saved_root, rel)));
    if (!saved) VELIN_TRY(RemoveConfigPath(env, app_root, rel));
  }
  return Ok();
}

// How far one direction of a switch got: what the service is left doing when it failed.
struct StepProgress {
  bool stopped = false;      // `stop` passed (or, going back, was run and failed: stop_failure)
  bool changed = false;      // the link or the config was touched
  bool started = false;      // `start` passed (a failure after it is the health check)
  bool migrated = false;     // migrate_down was run (it may have changed the schema)
  std::string stop_failure;  // going back: why `stop` failed, the switch back went on
};

// One direction of a switch, from `from` (may be empty) to `to`. `from_level` is the schema
// level before the switch. `*progress` says how far it got.
// `restore_data` (may be empty): restores the database before `start`, instead of migrate_down
// (the backup brings back the schema of its time).
// `undo`: this undoes a failed switch (kSwitchingBack) or a deploy (a transaction's rollback,
// kRollingBack), and a failing `stop` does not end it. What `stop` stops then is the version
// that failed, which has often ended by itself (it crashed at its start or later, or its `start`
// was killed at start_timeout), and a `stop` that kills a pid file's process or runs `pkill`
// fails on a process that is gone: stopping there left the service down on the failed version.
// The undo goes on, and when the failed version still runs, the other one's `start` or health
// check fails and says so.
enum class Undo { kNo, kSwitchingBack, kRollingBack };
static Status ApplySteps(io::Env& env, const Settings& settings, Reporter& reporter,
                         const VersionRecord& to, const VersionRecord* from,
                         const std::string& from_level, const ConfigSource& config,
                         const std::function<Status(const std::string&)>& point,
                         StepProgress* progress, const std::function<Status()>& restore_data,
                         Undo undo, const CommandStarted& started) {
  // What stop, start, health and migrate_down are told: the version this direction goes to, so
  // that a health check can confirm that it is the one answering (a `stop` that did not stop
  // the old version leaves it bound to the port, and a check that does not look passes on it).
  ServiceVars vars;
  vars.version = to.name;
  vars.release_dir = StateLayout{settings.state_dir}.Release(to.name);
  if (from != nullptr) {
    vars.from_version = from->name;
    vars.from_release_dir = StateLayout{settings.state_dir}.Release(from->name);
  }
  if (Status stopped =
          RunServiceCommand(settings, "stop", settings.stop, settings.stop_timeout, vars, started);
      !stopped) {
    if (undo == Undo::kNo) return stopped;
    progress->stop_failure = stopped.error().message;
    if (undo == Undo::kSwitchingBack) {
      reporter.Warn(
          TrFormat("{}; switching back to {} all the same (the version being left may "
                   "have ended already)",
                   stopped.error().message, to.name));
    } else {
      reporter.Warn(
          TrFormat("{}; rolling back to {} all the same (the version being left may "
                   "have ended already)",
                   stopped.error().message, to.name));
    }
  } else if (!settings.stop.empty()) {
    reporter.Done(Tr("Service stopped"));
  }
  CrashPoint("switch-stopped");
  progress->stopped = true;
  progress->changed = true;
  VELIN_TRY(point(to.name));
  reporter.Done(TrFormat("current {} {}", ArrowOf(reporter), to.name));
  if (!config.root.empty()) {
    if (config.exact) {
      VELIN_TRY(RestoreSavedConfig(env, config.root, settings.config, settings.app_root));
      reporter.Done(Tr("Configuration from before the switch put back"));
    } else {
      VELIN_TRY(RestoreTree(env, config.root, settings.config, settings.app_root));
      reporter.Done(Tr("Configuration restored from the snapshot"));
    }
  }
  CrashPoint("switch-config");
  bool older = from != nullptr && to.seq < from->seq;
  if (restore_data) {
    VELIN_TRY(restore_data());
  } else if (!to.schema_level.empty() && !from_level.empty() &&
             LevelBelow(to.schema_level, from_level, older)) {
    if (settings.migrate_down.empty()) {
      reporter.Warn(
          TrFormat("schema level {} is below the live level {} and no "
                   "rollback.migrate_down is configured; the database stays as it is",
                   to.schema_level, from_level));
    } else {
      ServiceVars down = vars;
      down.level = to.schema_level;
      progress->migrated = true;
      VELIN_TRY(RunServiceCommand(settings, "migrate_down", settings.migrate_down, kCommandTimeout,
                                  down, started));
      // What migration_status says now, not migrate_down's exit status, tells whether the old
      // code will find its schema (a command that ran the old release's tool, which has not
      // the newer down migrations, or a wrong level argument, exits 0 having done nothing).
      // Before 2026-12-07 the old code was started on the newer schema, exit 0.
      VELIN_ASSIGN(std::string reached, SchemaLevel(settings, started));
      if (!reached.empty() && reached != to.schema_level) {
        return Failure(TrFormat(
            "rollback.migrate_down ended with exit status 0, but rollback.migration_status "
            "now says {}, not {}",
            reached, to.schema_level));
      }
      reporter.Done(TrFormat("Database migrated down to level {}", to.schema_level));
    }
  } else if (older && settings.migrate_down.empty() && settings.database_configured &&
             to.schema_level.empty()) {
    reporter.Warn(
        Tr("going back to an older version while a [database] is configured, but "
           "rollback.migrate_down is not set: the schema is not migrated down"));
  }
  CrashPoint("switch-migrated");
  VELIN_TRY(
      RunServiceCommand(settings, "start", settings.start, settings.start_timeout, vars, started));
  if (!settings.start.empty()) reporter.Done(Tr("Service started"));
  progress->started = true;
  CrashPoint("switch-started");
  VELIN_TRY(WaitHealthy(env, settings, vars, started));
  if (settings.health.empty()) {
    reporter.Info(Tr("No rollback.health check is configured: the switch is not verified"));
  } else {
    reporter.Done(Tr("Health check passed"));
  }
  return Ok();
}

// What the service is left doing after a direction of a switch to `version` failed, in English
// (the history keeps it) and in the user's language: said in the same line as the failure.
static std::pair<std::string, std::string> ServiceLeft(const StepProgress& progress,
                                                       const std::string& version,
                                                       const std::string& before) {
  if (progress.started) {
    return {"the service runs " + version + " but is not healthy",
            TrFormat("the service runs {} but is not healthy", version)};
  }
  if (!progress.stop_failure.empty()) {  // going back, `stop` failed and `start` did too
    return {"the service is not running, unless " + before + " still runs",
            TrFormat("the service is not running, unless {} still runs", before)};
  }
  if (progress.stopped) {
    return {"the service is not running", std::string(Tr("the service is not running"))};
  }
  return {"the service was not stopped (still " + before + ")",
          TrFormat("the service was not stopped (still {})", before)};
}

// Copies the live configuration to state_dir/saved-config/NAME (built under a temporary name,
// fsynced, renamed into place), so a switch back can put it back byte-identical.
Status RollbackEngine::SaveLiveConfig(const std::string& name, const std::string& keep_also) {
  std::string dest = layout_.SavedConfig(name);
  VELIN_ASSIGN(bool done, env_.Exists(dest));
  if (done) return Ok();  // saved before a crash: the live config may be the snapshot's by now
  VELIN_TRY(io::CreateDirs(env_, layout_.SavedConfigs(), 0700));
  std::string tmp = io::JoinPath(layout_.SavedConfigs(), ".tmp-" + name);
  VELIN_TRY(io::RemoveAll(env_, tmp));
  VELIN_ASSIGN(auto entries, ScanTree(env_, settings_.app_root, settings_.config, false));
  VELIN_TRY(Materialise(env_, entries, settings_.app_root, tmp, DedupIndex(), false,
                        /*keep_owner=*/true));
  CrashPoint("switch-config-saving");
  VELIN_TRY(env_.Rename(tmp, dest));
  VELIN_TRY(env_.SyncDir(layout_.SavedConfigs()));
  // Bounded like the releases: the newest keep_versions copies stay.
  VELIN_ASSIGN(auto saved, SavedConfigs());
  const std::string kept = keep_also.empty() ? "" : layout_.SavedConfig(keep_also);
  // A copy that cannot be removed (another user's: a root velin switched in this state dir)
  // only holds its space: a warning, not a reason to fail the switch (before 2026-12-07 every
  // later switch to a snapshot, a transaction's rollback among them, failed on it).
  for (size_t i = 0; i + static_cast<size_t>(settings_.keep_versions) < saved.size(); ++i) {
    if (saved[i] == dest || saved[i] == kept) continue;
    if (Status gone = io::RemoveAll(env_, saved[i]); !gone) {
      reporter_.Warn(TrFormat(
          "an old saved live configuration could not be removed: {}; it holds its space until "
          "removed by a user who may ('rm -rf {}')",
          gone.error().message, saved[i]));
    }
  }
  return Ok();
}

Result<std::vector<std::string>> RollbackEngine::SavedConfigs() {
  std::vector<std::string> out;
  VELIN_ASSIGN(bool exists, env_.Exists(layout_.SavedConfigs()));
  if (!exists) return out;
  VELIN_ASSIGN(auto entries, env_.ListDir(layout_.SavedConfigs()));
  for (const auto& e : entries) {
    if (e.name.rfind(".tmp-", 0) != 0) out.push_back(layout_.SavedConfig(e.name));
  }
  std::sort(out.begin(), out.end());  // names start with the time
  return out;
}

Status RollbackEngine::RestoreDataOfSwitch(SwitchIntent& intent) {
  if (!intent.data.empty()) return Ok();  // ran before a crash: never twice (writes since)
  Status restored = Ok();
  if (settings_.data == nullptr) {
    restored =
        Failure("no database backup is configured (\"db\" or \"db:NAME\" in backup.include)");
  } else {
    restored = settings_.data->Restore(intent.restore_backup);
  }
  CrashPoint("switch-data-restored");
  if (restored) {
    intent.data = "restored";
    reporter_.Done(TrFormat("Database restored from backup {}", intent.restore_backup));
  } else {
    intent.data = "failed: " + restored.error().message;
    reporter_.Warn(
        TrFormat("restoring the database from backup {} failed: {}; starting the "
                 "service all the same",
                 intent.restore_backup, restored.error().message));
  }
  return SaveSwitchIntent(env_, layout_, intent);  // before `start`: a crash never restores again
}

// Before anything changes: the release to switch to must still hold what it recorded
// (CheckVersion, release.hpp). A file edited inside current/ changed every release sharing it;
// what an identical file of another release can mend is mended, and so is a deleted file. An
// edited file that nothing can mend is a warning and the switch goes on: it is what was asked
// for, and a rollback at a deadline must not be vetoed for a changed file. A deleted one is not:
// `current` never points at a partial release (docs/rollback-format.md), and a service started
// on missing files is worse than the one running now (for a transaction's rollback, the deploy:
// it keeps running, and the transaction's outcome says why).
Status RollbackEngine::CheckTargetRelease(const std::string& target, const Registry& reg,
                                          const std::string& from, PartialReleaseUse use) {
  // Looked at first, changed only when it will be switched to: a refused release is left as
  // it was found, not half put back.
  auto check = CheckVersion(env_, layout_, reg, target, false);
  if (check && !check->unreadable_config.empty()) {
    return tl::unexpected(UnreadableConfigError(target, *check, from, use));
  }
  if (check && !check->changed.empty() && check->lost.empty()) {
    check = CheckVersion(env_, layout_, reg, target, true);
  }
  if (!check) {
    VELIN_ASSIGN(bool exists, env_.Exists(layout_.Release(target)));
    if (!exists) {
      return tl::unexpected(PartialReleaseError(target, {layout_.Release(target)}, from, use));
    }
    reporter_.Warn(TrFormat("{}; release {} was not checked", check.error().message, target));
    return Ok();
  }
  if (!check->lost.empty()) {
    return tl::unexpected(PartialReleaseError(target, check->lost, from, use));
  }
  ReportReleaseMended(target, *check);
  return Ok();
}

// The warning of CheckTargetRelease when it put files back (or could not, for edited ones),
// or could not read some (another user's release: its service may still read them).
void RollbackEngine::ReportReleaseMended(const std::string& target, const ReleaseCheck& check) {
  if (!check.unreadable.empty()) {
    reporter_.Warn(TrFormat(
        "release {}: velin (user {}) cannot read {} file(s) of it (first: {}: {}); they were "
        "not checked: switching to it as it is",
        target, ::geteuid(), check.unreadable.size(), check.unreadable.front(),
        check.unreadable_reason));
  }
  if (!check.missing.empty()) {
    reporter_.Warn(
        TrFormat("release {}: {} file(s) were missing (first: {}; deleted?): put back from "
                 "identical files of other releases",
                 target, check.missing.size(), check.missing.front()));
  }
  std::vector<std::string> edited;
  for (const auto& path : check.changed) {
    if (std::find(check.missing.begin(), check.missing.end(), path) == check.missing.end()) {
      edited.push_back(path);
    }
  }
  if (edited.empty()) return;
  const size_t mended = check.mended - check.missing.size();  // every missing one was put back
  const size_t changed = edited.size();
  const std::string& first = edited.front();
  if (mended == changed) {
    reporter_.Warn(
        TrFormat("release {}: {} file(s) no longer held what it recorded (first: "
                 "{}; edited in place?): put back from identical files of other "
                 "releases",
                 target, changed, first));
  } else {
    reporter_.Warn(
        TrFormat("release {}: {} file(s) no longer hold what it recorded (first: {}; "
                 "edited in place? Releases share identical files by hard links, so "
                 "a file edited inside current/ changed every release holding it), "
                 "{} put back from other releases; switching to it as it is",
                 target, changed, first, mended));
  }
}

// The refusal of `use` of version `target` whose release lacks `lost` (paths under state_dir,
// or the release directory itself): nothing was changed; `from` (the live version) keeps
// running.
Error RollbackEngine::PartialReleaseError(const std::string& target,
                                          const std::vector<std::string>& lost,
                                          const std::string& from, PartialReleaseUse use) const {
  const std::string release = layout_.Release(target);
  // The release (or snapshot config) directory itself: gone, or something else in its place.
  const bool root_lost =
      lost.size() == 1 && (lost.front() == release || lost.front() == layout_.Config(target));
  std::string what;
  if (root_lost && env_.Stat(lost.front())) {
    what = TrFormat("{} is not a directory (a file put in its place?)", lost.front());
  } else if (root_lost) {
    what = TrFormat("release directory {} is gone", lost.front());
  } else {
    what =
        TrFormat("{} file(s) of release {} are missing and no other release holds them (first: {})",
                 lost.size(), release, lost.front());
  }
  switch (use) {
    case PartialReleaseUse::kRollback:
      return Error{
          ExitCode::kFailed,
          TrFormat("rollback to {} refused: {}; nothing was changed, the service was "
                   "not stopped (still {}): a switch to a partial release would start it "
                   "on missing files; put the release back from a backup of {}, or deploy "
                   "a fixed version",
                   target, what, from.empty() ? std::string("-") : from, settings_.state_dir)};
    case PartialReleaseUse::kBegin:
      // The base would be taken from it, and a rollback would bring the partial release back.
      return Error{ExitCode::kFailed,
                   TrFormat("transaction not opened: the live version {}: {}; nothing was "
                            "changed: put the release back from a backup of {}, or switch to a "
                            "complete version first",
                            target, what, settings_.state_dir)};
    case PartialReleaseUse::kSwitch:
      break;
  }
  std::string still = from.empty() ? "" : TrFormat(" (still {})", from);
  return Error{ExitCode::kFailed,
               TrFormat("switch to {} refused: {}; nothing was changed{}: make the version again "
                        "from its build ('velin rollback create-version {} --replace') or put the "
                        "release back from a backup of {}",
                        target, what, still, target, settings_.state_dir)};
}

Error RollbackEngine::UnreadableConfigError(const std::string& target, const ReleaseCheck& check,
                                            const std::string& from, PartialReleaseUse use) const {
  const std::string what = TrFormat(
      "velin (user {}) cannot read its stored configuration (first: {}: {}), which the switch "
      "puts back",
      ::geteuid(), check.unreadable_config.front(), check.unreadable_reason);
  const std::string still = from.empty() ? std::string("-") : from;
  if (use == PartialReleaseUse::kRollback) {
    return Error{ExitCode::kFailed,
                 TrFormat("rollback to {} refused: {}; nothing was changed, the service was not "
                          "stopped (still {}): run the rollback as the user who made {} (root?), "
                          "or give velin's user read access to {}",
                          target, what, still, target, layout_.Config(target))};
  }
  return Error{ExitCode::kFailed,
               TrFormat("switch to {} refused: {}; nothing was changed (still {}): switch as the "
                        "user who made {} (root?), or give velin's user read access to {}",
                        target, what, still, target, layout_.Config(target))};
}

bool RollbackEngine::StoredConfigReadable(const Registry& reg, const std::string& name) {
  // A manifest that cannot be loaded is not this question's: the switch says what is wrong.
  auto check = CheckVersion(env_, layout_, reg, name, false);
  return !check || check->unreadable_config.empty();
}

// `begin`: the live release must be whole, since the transaction's base is taken from it (a
// base missing the deleted files would be switched to at the rollback without a word). What
// another release holds identically is put back first.
Status RollbackEngine::CheckLiveRelease() {
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  VELIN_ASSIGN(std::string live, LiveCurrent());
  if (reg.Find(live) == nullptr) return Ok();  // ChooseBaseLocked says what is wrong
  auto check = CheckVersion(env_, layout_, reg, live, false);
  if (!check || check->missing.empty()) return Ok();  // edited files: the base is a snapshot
  if (check->lost.empty()) check = CheckVersion(env_, layout_, reg, live, true);
  if (!check) return tl::unexpected(check.error());
  if (!check->lost.empty()) {
    return tl::unexpected(PartialReleaseError(live, check->lost, live, PartialReleaseUse::kBegin));
  }
  reporter_.Warn(
      TrFormat("release {}: {} file(s) were missing (first: {}; deleted?): put back from "
               "identical files of other releases",
               live, check->missing.size(), check->missing.front()));
  return Ok();
}

Status RollbackEngine::SwitchLocked(const std::string& target, const std::string& reason,
                                    const std::string& txn_id, const std::string& action,
                                    const std::string& restore_backup, SwitchConfig config,
                                    const std::string& config_saved) {
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  const VersionRecord* rec = reg.Find(target);
  if (rec == nullptr) {
    return UsageError(TrFormat("no version '{}' (see velin rollback list)", target));
  }
  SwitchIntent intent;
  VELIN_ASSIGN(intent.from, LiveCurrent());
  VELIN_TRY(CheckTargetRelease(
      target, reg, intent.from,
      action == "rollback" ? PartialReleaseUse::kRollback : PartialReleaseUse::kSwitch));
  intent.to = target;
  intent.reason = reason;
  intent.transaction = txn_id;
  intent.started = IsoTime(UnixMs(env_));
  intent.action = action;
  intent.phase = "forward";
  intent.restore_backup = restore_backup;
  intent.config = config;
  intent.config_saved = config_saved;
  VELIN_ASSIGN(auto history, ReadHistoryForUse());
  intent.history_len = static_cast<int64_t>(history.size());
  if (const VersionRecord* f = reg.Find(intent.from)) intent.from_level = f->schema_level;
  // The live level decides whether migrate_down runs. When migration_status fails (the database
  // is down, the tool is broken) the switch ends here, before anything is stopped, as its
  // --dry-run does: before 2026-12-07 it went on with the level recorded for `from`, which may
  // be wrong, and could migrate down (or not) on a guess.
  const std::string context = TrFormat("the switch to {}", target);
  Result<std::string> live_level = SchemaLevel(settings_, CommandRecorder(context));
  if (!live_level) {
    const std::string& why = live_level.error().message;
    return tl::unexpected(
        Error{ExitCode::kFailed,
              action == "rollback"
                  ? TrFormat("rollback to {} refused: {}; nothing was changed, the service was not "
                             "stopped (still {})",
                             target, why, intent.from.empty() ? std::string("-") : intent.from)
                  : SwitchChangedNothing(target, why, intent.from)});
  }
  if (!live_level->empty()) intent.from_level = *live_level;
  // The live config is saved whenever this switch replaces it, so that its switch back can put
  // it back exactly.
  const bool replaces_config =
      config == SwitchConfig::kSaved ||
      (config == SwitchConfig::kTarget && rec->kind == VersionKind::kSnapshot);
  if (replaces_config && !settings_.config.empty()) {
    std::string stamp = intent.started;
    for (char& c : stamp) {
      if (c == ':') c = '-';
    }
    intent.saved_config =
        stamp + "-" + std::to_string(env_.ThisProcess().pid) + "-before-" + target;
  }
  // hooks.before_switch runs once per switch, before switch.json exists: when it fails nothing
  // was changed (the service was not stopped), and `recover` never runs it again.
  HookVars vars;
  vars.version = target;
  vars.from_version = intent.from;
  if (Status hook = RunHook(settings_.hooks, HookEvent::kBeforeSwitch, vars,
                            HookRecorder(HookEvent::kBeforeSwitch, context));
      !hook) {
    // A transaction's rollback (by hand, by recover, by the watchdog at the deadline) is what
    // protects the service from a bad deploy: a hook may not veto it, only be reported.
    if (action == "rollback") {
      reporter_.Warn(TrFormat("{}; rolling back to {} all the same", hook.error().message, target));
    } else {
      return Failure(intent.from.empty()
                         ? TrFormat("switch to {} not started: {}; nothing was changed", target,
                                    hook.error().message)
                         : TrFormat("switch to {} not started: {}; nothing was changed (still {})",
                                    target, hook.error().message, intent.from));
    }
  }
  // From here a signal waits for the switch to end (core/termination.hpp).
  TerminationHold hold(SwitchHoldNotice(target));
  VELIN_TRY(SaveSwitchIntent(env_, layout_, intent));
  CrashPoint("switch-intent");
  return ContinueSwitchLocked(intent);
}

// The switch `intent` records, then its hook: after_switch when it passed (its failure is exit 1;
// the switch stays; in a transaction's rollback a warning), on_switch_failure when it failed (its
// failure is a warning; the switch's error stands). They run after switch.json is removed, so a
// `recover` that finishes an interrupted switch (even one interrupted just before that removal)
// runs them then, once.
Status RollbackEngine::ContinueSwitchLocked(const SwitchIntent& intent) {
  // SIGINT, SIGTERM, SIGHUP are held until the switch (forward or back) and its hook have
  // ended: killed between stop and health check, velin would leave the service stopped, or
  // started and unchecked, until a recover ran. `recover` and the watchdog come here too.
  TerminationHold hold(SwitchHoldNotice(intent.to));
  bool started = false;
  Status outcome = ContinueSwitchStepsLocked(intent, &started);
  if (!started) return outcome;  // switch.json names a version that is gone: left alone
  HookVars vars;
  vars.version = intent.to;
  vars.from_version = intent.from;
  const std::string context = TrFormat("the switch to {}", intent.to);
  if (outcome) {
    if (Status hook = RunHook(settings_.hooks, HookEvent::kAfterSwitch, vars,
                              HookRecorder(HookEvent::kAfterSwitch, context));
        !hook) {
      // A transaction's rollback succeeded: its base runs and is healthy, and a hook may not
      // turn that into "rollback failed" (as before_switch may not veto it).
      if (intent.action == "rollback") {
        reporter_.Warn(TrFormat("{}; the rollback to {} succeeded all the same",
                                hook.error().message, intent.to));
        return outcome;
      }
      return Failure(TrFormat("{}; the switch to {} stands", hook.error().message, intent.to));
    }
    return outcome;
  }
  vars.error = outcome.error().message;
  if (Status hook = RunHook(settings_.hooks, HookEvent::kOnSwitchFailure, vars,
                            HookRecorder(HookEvent::kOnSwitchFailure, context));
      !hook) {
    reporter_.Warn(hook.error().message);
  }
  return outcome;
}

// Runs (or, from `recover`, continues) the switch that `intent` records: forward to `to`; when
// that fails, back to `from` with the live config from before; then one history entry and the
// intent removed. Every step is idempotent, so a crash anywhere is finished by running it again.
Status RollbackEngine::ContinueSwitchStepsLocked(SwitchIntent intent, bool* started) {
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  const VersionRecord* rec = reg.Find(intent.to);
  if (rec == nullptr) {
    return Failure(TrFormat(
        "the interrupted switch goes to '{}', which is no longer registered; {} was left alone",
        intent.to, layout_.SwitchIntent()));
  }
  *started = true;
  AwaitInterruptedCommand(intent);
  VersionRecord to = *rec;
  std::optional<VersionRecord> from;
  if (const VersionRecord* f = reg.Find(intent.from)) from = *f;
  std::string action = intent.action.empty() ? "switch" : intent.action;
  HistoryEntry entry =
      SwitchEntry(env_, action, intent.from, intent.to, intent.reason, intent.transaction);
  entry.time = intent.started;  // identifies the entry: a crash after writing it is not repeated
  entry.schema_level = intent.from_level;  // unless migrate_down (or a restore) changes it
  VELIN_ASSIGN(auto history, ReadHistoryForUse());
  for (size_t i = static_cast<size_t>(std::max<int64_t>(0, intent.history_len)); i < history.size();
       ++i) {
    const HistoryEntry& h = history[i];
    if (h.time == entry.time && h.action == entry.action && h.from == entry.from &&
        h.to == entry.to && h.transaction == entry.transaction) {
      // It ended before the crash: only the intent is left to remove; report how it ended.
      VELIN_TRY(RemoveSwitchIntent(env_, layout_));
      last_data_ = intent.data;
      if (h.outcome == "switched") return Ok();
      bool undone = h.outcome.rfind("health check failed; switched back", 0) == 0;
      return MakeError(undone ? ExitCode::kHealthFailed : ExitCode::kFailed,
                       TrFormat("switch to {}: {}", intent.to, NoTr(h.outcome)));
    }
  }
  auto point = [this](const std::string& name) -> Status {
    VELIN_TRY(PointCurrentAt(name));
    VELIN_ASSIGN(Registry r, LoadRegistry(env_, layout_));
    r.current = name;
    VELIN_TRY(SaveRegistry(env_, layout_, r));
    CrashPoint("switch-registry");
    return Ok();
  };
  // Back to where it came from, the registry's `current` is a record only (the link is what
  // counts): when it cannot be written (a full disk) the service is still started.
  auto point_back = [this](const std::string& name) -> Status {
    VELIN_TRY(PointCurrentAt(name));
    Status recorded = [&]() -> Status {
      VELIN_ASSIGN(Registry r, LoadRegistry(env_, layout_));
      r.current = name;
      return SaveRegistry(env_, layout_, r);
    }();
    if (!recorded) {
      reporter_.Warn(TrFormat("could not record {} as current: {}; switching back all the same",
                              name, recorded.error().message));
    }
    CrashPoint("switch-registry");
    return Ok();
  };
  // The history entry, then switch.json removed. An entry that cannot be written (a full disk)
  // is a warning, and switch.json goes all the same: left behind, it would have a later
  // `recover` carry out a switch the user was told had failed.
  auto record = [this](const HistoryEntry& e) -> Status {
    if (Status appended = AppendHistory(env_, layout_, e); !appended) {
      reporter_.Warn(TrFormat("the switch from {} to {} is not in the history: {}", e.from, e.to,
                              appended.error().message));
    }
    CrashPoint("switch-history");
    return RemoveSwitchIntent(env_, layout_);
  };
  // Each command is in command.json before it runs anything (see CommandRecorder). A record
  // that cannot be written (a full disk) is a warning: the switch, or its switch back, matters
  // more.
  const CommandStarted command_started = CommandRecorder(TrFormat("the switch to {}", intent.to));
  std::string saved_dir =
      intent.saved_config.empty() ? "" : layout_.SavedConfig(intent.saved_config);
  StepProgress forward_progress;
  const bool ran_forward = intent.phase != "back";  // else how far it got is not known here

  if (ran_forward) {
    if (intent.config == SwitchConfig::kSaved) {
      // The copy an undo puts back exactly: without it, every config path would be removed.
      VELIN_ASSIGN(bool there, env_.Exists(layout_.SavedConfig(intent.config_saved)));
      if (!there) {
        const std::string gone =
            TrFormat("the configuration saved before the switch to {} ({}) is gone", intent.from,
                     layout_.SavedConfig(intent.config_saved));
        entry.outcome = "failed; nothing was changed";
        entry.detail = gone;
        VELIN_TRY(record(entry));
        return Failure(SwitchChangedNothing(intent.to, gone, intent.from));
      }
    }
    if (!saved_dir.empty()) {
      // Before the service is stopped: a copy that cannot be made (a full disk, a file swapped
      // while read, a symlink on a config path that is refused) ends the switch with nothing
      // changed, not as an interrupted one that every later command stops at.
      if (Status saved = SaveLiveConfig(intent.saved_config, intent.config_saved); !saved) {
        entry.outcome = "failed; nothing was changed";
        entry.detail = saved.error().message;
        VELIN_TRY(record(entry));
        return tl::unexpected(Error{
            saved.error().code, SwitchChangedNothing(intent.to, saved.error().message, intent.from),
            saved.error().sys_errno});
      }
    }
    entry.saved_config = intent.saved_config;  // made: `to-version FROM --undo` puts it back
    ConfigSource config;
    switch (intent.config) {
      case SwitchConfig::kTarget:
        if (to.kind == VersionKind::kSnapshot) config.root = layout_.Config(to.name);
        break;
      case SwitchConfig::kKeep:
        break;
      case SwitchConfig::kSaved:
        config = {layout_.SavedConfig(intent.config_saved), true};
        break;
    }
    std::function<Status()> restore;
    if (!intent.restore_backup.empty()) restore = [&] { return RestoreDataOfSwitch(intent); };
    // `to-version BEFORE --undo` (a fleet's switch back, the only switch that puts a saved
    // config back or keeps the config: SwitchConfig kSaved, kKeep) undoes a switch as a
    // switch back does, and its failing `stop` does not end it either: what it stops is the
    // version that failed on this host or another, which may have ended by itself. Nor does
    // a transaction's rollback's, unless it restores the database: a deployed version that
    // did not stop may still write to it.
    const Undo undo = intent.action == "rollback"
                          ? (intent.restore_backup.empty() ? Undo::kRollingBack : Undo::kNo)
                      : intent.config != SwitchConfig::kTarget ? Undo::kSwitchingBack
                                                               : Undo::kNo;
    Status forward =
        ApplySteps(env_, settings_, reporter_, to, from ? &*from : nullptr, intent.from_level,
                   config, point, &forward_progress, restore, undo, command_started);
    if (!intent.restore_backup.empty() && !intent.data.empty()) {
      entry.data = intent.data == "restored"
                       ? "restored from backup " + intent.restore_backup
                       : "restore from backup " + intent.restore_backup + " " + intent.data;
    }
    last_data_ = intent.data;
    NoteSwitchOutcome(intent.to, forward);  // the failed mark in registry.json; never stops it
    if (!intent.restore_backup.empty()) {
      entry.schema_level.clear();  // the backup's own: not known here
    } else if (forward_progress.migrated) {
      entry.schema_level = forward ? to.schema_level : std::string();  // confirmed, or not known
    }
    if (forward) {
      if (!forward_progress.stop_failure.empty()) {  // a rollback or an undo went on
        entry.detail = "rollback.stop had failed: " + forward_progress.stop_failure;
      }
      VELIN_TRY(record(entry));
      if (!saved_dir.empty()) {
        reporter_.Info(
            TrFormat("The configuration live before the switch is kept in {}", saved_dir));
      }
      return Ok();
    }
    reporter_.Warn(TrFormat("switch to {} failed: {}", intent.to, forward.error().message));
    intent.failure = forward.error().message;
    intent.health_failed = forward.error().code == ExitCode::kHealthFailed;
    VELIN_ASSIGN(std::string live, LiveCurrent());
    if (!forward_progress.changed && live == intent.from) {
      // The stop command failed: the link and the config were never touched.
      entry.outcome = "failed; nothing was changed";
      entry.detail = intent.failure;
      VELIN_TRY(record(entry));
      return Failure(SwitchChangedNothing(intent.to, intent.failure, intent.from));
    }
    intent.phase = "back";
    if (Status saved = SaveSwitchIntent(env_, layout_, intent); !saved) {
      // The service is stopped or unhealthy: going back matters more than recording it.
      reporter_.Warn(
          TrFormat("could not record the switch back in {}: {}; switching back all "
                   "the same",
                   layout_.SwitchIntent(), saved.error().message));
    }
    CrashPoint("switch-back");
  } else {
    entry.saved_config = intent.saved_config;  // made before the crash that `recover` finishes
  }

  std::string back_result = "nothing to switch back to";  // English: the history keeps it
  std::string back_shown(Tr(back_result));                // the user's language
  bool back_ok = false;
  if (from) {
    reporter_.Begin(TrFormat("Switching back to {}...", from->name));
    ConfigSource config;
    if (!saved_dir.empty()) config = {saved_dir, true};
    StepProgress progress;
    Status back = ApplySteps(env_, settings_, reporter_, *from, &to, to.schema_level, config,
                             point_back, &progress, {}, Undo::kSwitchingBack, command_started);
    back_ok = static_cast<bool>(back);
    if (back_ok) {
      back_result = "switched back to " + from->name + " (healthy)";
      back_shown = TrFormat("switched back to {} (healthy)", from->name);
      if (!progress.stop_failure.empty()) {
        back_result += "; rollback.stop had failed on the way: " + progress.stop_failure;
        back_shown = TrFormat("{}; rollback.stop had failed on the way: {}", back_shown,
                              progress.stop_failure);
      }
    } else {
      auto [left, left_shown] = ServiceLeft(progress, from->name, intent.to);
      back_result =
          "switching back to " + from->name + " failed too: " + back.error().message + "; " + left;
      back_shown = TrFormat("switching back to {} failed too: {}; {}", from->name,
                            back.error().message, left_shown);
    }
  } else {
    if (!saved_dir.empty()) {  // no version to return to, but the live config comes back
      Status restored = RestoreSavedConfig(env_, saved_dir, settings_.config, settings_.app_root);
      if (restored) {
        back_result += "; the configuration from before was put back";
        back_shown = TrFormat("{}; the configuration from before was put back", back_shown);
      } else {
        back_result +=
            "; putting the configuration from before back failed: " + restored.error().message;
        back_shown = TrFormat("{}; putting the configuration from before back failed: {}",
                              back_shown, restored.error().message);
      }
    }
    if (ran_forward) {
      auto [left, left_shown] = ServiceLeft(forward_progress, intent.to, intent.from);
      back_result += "; " + left;
      back_shown += "; " + left_shown;
    }
  }
  // velin migrates down, never up: a switch back after migrate_down ran (and did its work, or
  // part of it) leaves `from` on the older schema. Said, with what to do, instead of
  // "switched back (healthy)" alone (before 2026-12-07).
  if ((forward_progress.migrated || !ran_forward) && from && !intent.from_level.empty()) {
    auto level = SchemaLevel(settings_, command_started);
    if (level && !level->empty()) entry.schema_level = *level;
    if (level && !level->empty() && *level != intent.from_level) {
      back_result += "; the database stays at schema level " + *level + " (" + from->name +
                     " ran on " + intent.from_level +
                     "): velin does not migrate up, run the migrations of " + from->name;
      back_shown = TrFormat(
          "{}; the database stays at schema level {} ({} ran on {}): velin does not migrate "
          "up, run the migrations of {}",
          back_shown, *level, from->name, intent.from_level, from->name);
    }
  }
  entry.outcome = (intent.health_failed ? "health check failed; " : "failed; ") + back_result;
  entry.detail = intent.failure;
  VELIN_TRY(record(entry));
  // 5 only when the switch was undone: back on `from`, running and healthy.
  return MakeError(intent.health_failed && back_ok ? ExitCode::kHealthFailed : ExitCode::kFailed,
                   TrFormat("switch to {}: {}; {}", intent.to, intent.failure, back_shown));
}

std::function<Status(const std::string&, int64_t, Duration)> RollbackEngine::CommandRecorder(
    const std::string& context) {
  auto warned = std::make_shared<bool>(false);
  return [this, context, warned](const std::string& name, int64_t pid, Duration timeout) -> Status {
    const std::string path = layout_.Command();
    Status saved = SaveCommandRecord(env_, path, RecordOf(env_, name, context, pid, timeout));
    if (!saved && !*warned) {
      *warned = true;
      reporter_.Warn(TrFormat("could not record {} in {}: {}; running it all the same", name, path,
                              saved.error().message));
    }
    return Ok();
  };
}

std::function<Status(pid_t)> RollbackEngine::HookRecorder(HookEvent event,
                                                          const std::string& context) {
  auto record = CommandRecorder(context);
  const std::string name = std::string("hooks.") + HookName(event);
  const Duration timeout = settings_.hooks.timeout;
  return [record, name, timeout](pid_t pid) { return record(name, pid, timeout); };
}

// A switch.json written by the velin of 2026-12-07, which recorded its commands there.
void RollbackEngine::AwaitInterruptedCommand(const SwitchIntent& intent) {
  const int64_t pid = intent.command_pid;
  // Its pid with its start time names that one process: a pid reused since is another one.
  auto running = [&] {
    return pid > 1 && intent.command_start_ticks != 0 &&
           env_.ProcessStartTicks(pid) == intent.command_start_ticks;
  };
  if (!running()) return;
  reporter_.Warn(TrFormat(
      "rollback.{} (process {}), started by the interrupted switch to {}, still runs: waiting "
      "for it to end (until {}, its timeout) before the switch goes on",
      intent.command, pid, intent.to, LocalTime(intent.command_deadline_ms)));
  while (running() && UnixMs(env_) < intent.command_deadline_ms) {
    env_.SleepFor(std::chrono::milliseconds(200));
  }
  if (!running()) return;
  // What the killed velin would have done at the timeout (core/process.cpp): the whole group
  // gets SIGTERM, a second later SIGKILL.
  reporter_.Warn(TrFormat("rollback.{} (process {}) did not end within its timeout: killed",
                          intent.command, pid));
  env_.SignalProcessGroup(pid, SIGTERM);
  for (int i = 0; i < 5 && running(); ++i) env_.SleepFor(std::chrono::milliseconds(200));
  env_.SignalProcessGroup(pid, SIGKILL);
  for (int i = 0; i < 50 && running(); ++i) env_.SleepFor(std::chrono::milliseconds(200));
}

Result<std::vector<HistoryEntry>> RollbackEngine::ReadHistoryForUse() {
  std::vector<std::string> unreadable;
  VELIN_ASSIGN(auto history, ReadHistory(env_, layout_, &unreadable));
  if (!history_warned_) {
    for (const std::string& problem : unreadable) {
      reporter_.Warn(TrFormat("{}: line left out (velin reads the rest of the history)", problem));
    }
    history_warned_ = !unreadable.empty();
  }
  return history;
}

Result<std::string> RollbackEngine::BackupAtVersion(const std::string& version) {
  VELIN_ASSIGN(auto history, ReadHistoryForUse());
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (!it->backup.empty() && it->backup_version == version) return it->backup;
  }
  return UsageError("no database backup was taken while " + version +
                    " was live (a transaction's 'begin --backup' takes one); name a backup id "
                    "instead (velin backup list)");
}

Status RollbackEngine::RefuseInterruptedSwitch() {
  VELIN_ASSIGN(auto intent, LoadSwitchIntent(env_, layout_));
  if (!intent) return Ok();
  return Failure(
      TrFormat("a switch from '{}' to '{}' was interrupted; run 'velin rollback recover' first",
               intent->from, intent->to));
}

Status RollbackEngine::ToVersion(const std::string& name, const std::string& reason,
                                 const std::string& restore_data) {
  VELIN_TRY(EnsureStateDir());
  VELIN_ASSIGN(StateLock lock, LockState(Duration(2000)));
  VELIN_TRY(RefuseInterruptedSwitch());
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  VELIN_ASSIGN(std::string from, LiveCurrent());
  VELIN_ASSIGN(std::string target, ResolveTarget(name, reg, from));  // before saying anything
  const VersionRecord* to = reg.Find(target);
  const VersionRecord* f = reg.Find(from);
  bool back = to != nullptr && f != nullptr && to->seq < f->seq;
  std::string backup = restore_data;
  if (!restore_data.empty()) {  // checked before anything changes
    if (settings_.data == nullptr) {
      return UsageError(
          "--restore-data needs a database in backup.include (\"db\" with [database], "
          "\"db:NAME\" with [databases.NAME])");
    }
    if (restore_data == "at-version") {
      VELIN_ASSIGN(backup, BackupAtVersion(target));
    }
    VELIN_TRY(settings_.data->Check(backup));
  }
  reporter_.Begin(TrFormat("Switching to {}...", target));
  last_data_.clear();
  VELIN_TRY(SwitchLocked(target, reason, "", "switch", backup));
  reporter_.Done(back ? TrFormat("Rolled back to {}", target) : TrFormat("Switched to {}", target));
  if (last_data_.rfind("failed: ", 0) == 0) {
    return Failure(
        TrFormat("the code is on {} and the service started, but restoring the database "
                 "from backup {} failed: {}; retry with: {}",
                 target, backup, last_data_.substr(8), settings_.data->RetryCommand(backup)));
  }
  return Ok();
}

// The adopt in registry.json (`current`) and the history; `outcome` is how its start went.
Status RollbackEngine::RecordAdopt(const std::string& name, const std::string& root,
                                   const Status& outcome) {
  VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
  reg.current = name;
  VELIN_TRY(SaveRegistry(env_, layout_, reg));
  HistoryEntry e{.time = IsoTime(UnixMs(env_)),
                 .user = CurrentUser(env_),
                 .host = env_.HostName(),
                 .action = "adopt",
                 .to = name,
                 .reason = "adopt",
                 .outcome = outcome ? "adopted" : "adopted; " + outcome.error().message,
                 .detail = root};
  return AppendHistory(env_, layout_, e);
}

Result<VersionRecord> RollbackEngine::Adopt(const std::string& label, bool replace) {
  VELIN_TRY(EnsureStateDir());
  VELIN_ASSIGN(StateLock lock, LockState(Duration(2000)));
  VELIN_ASSIGN(std::string live, LiveCurrent());
  if (!live.empty()) {
    // A new machine with the application's files restored but not velin's state (its
    // registry and releases): `current` points at a release that is not there, nothing runs
    // from it, and "velin manages this application" left the user no way on.
    VELIN_ASSIGN(bool release_there, env_.Exists(layout_.Release(live)));
    if (!release_there) {
      return UsageError(
          TrFormat("{} points at release '{}', which does not exist ({} is missing: velin's "
                   "state was lost or not restored): remove the link ('rm {}') and run adopt "
                   "again, or restore {} first; nothing was changed",
                   settings_.current_link, live, layout_.Release(live), settings_.current_link,
                   layout_.dir));
    }
    return UsageError(TrFormat("{} already points at release '{}': velin manages this application",
                               settings_.current_link, live));
  }
  auto [name, description] = ParseLabel(label);
  if (name.empty()) {
    std::string stamp = IsoTime(UnixMs(env_));
    name = "adopted-" + stamp.substr(0, 10);
    description = "Adopted from plain files";
  }
  VELIN_TRY(CheckVersionName(name));
  const std::string& link = settings_.current_link;
  const std::string aside = link + ".pre-velin";
  VELIN_ASSIGN(bool exists, env_.Exists(link));
  io::FileType type = io::FileType::kOther;
  if (exists) {
    VELIN_ASSIGN(io::FileInfo info, env_.Stat(link));
    type = info.type;
  } else {
    // An adopt killed (kill -9) between moving the plain files aside and linking: they are in
    // `aside`, and app.root's own files are not what ran.
    VELIN_ASSIGN(bool moved, env_.Exists(aside));
    if (moved) {
      return UsageError(
          TrFormat("{} does not exist but {} does (an adopt was interrupted after moving the "
                   "files aside?): move them back ('mv {} {}') and run adopt again; nothing was "
                   "changed",
                   link, aside, aside, link));
    }
  }
  std::string root = exists ? link : settings_.app_root;
  {  // adopt's own words: the create-version message would suggest a flag adopt lacks
    VELIN_ASSIGN(Registry reg, LoadRegistry(env_, layout_));
    if (reg.Find(name) != nullptr && !replace) {
      return UsageError(TrFormat(
          "version '{}' exists already (an earlier adopt that was interrupted stores it "
          "first): 'velin rollback adopt {} --replace' stores the live files as {} again, or "
          "adopt under another name; nothing was changed",
          name, name, name));
    }
  }
  reporter_.Begin(TrFormat("Adopting the live application as {}...", name));
  VELIN_ASSIGN(VersionRecord rec,
               CreateLocked(name, description, VersionKind::kSnapshot, replace, root));
  if (type != io::FileType::kDirectory) {
    std::string was = root;  // a link elsewhere: where it pointed, in the history's detail
    if (type == io::FileType::kSymlink) {
      VELIN_ASSIGN(was, env_.ReadLink(link));
    }
    VELIN_TRY(PointCurrentAt(name));
    VELIN_TRY(RecordAdopt(name, was, Ok()));
    return rec;
  }
  // Plain files at the `current` path: stop, move them aside, link, start, check. Nothing is
  // undone when start or the health check fails (the adopted files are the files that ran), so
  // that is exit 1 with what runs, never 5 (docs/exit-codes.md: 5 = the switch was undone).
  // Signals wait, as in a switch: interrupted there, the service would be left stopped, or
  // running from a link that the registry and the history do not know.
  TerminationHold hold(TrFormat(
      "the adopt as {} finishes first, then velin stops (kill -9 stops it at once)", name));
  // The plain files are stopped and the adopted release is started: no version is left.
  const ServiceVars vars{.version = name, .release_dir = layout_.Release(name)};
  const CommandStarted recorder = CommandRecorder(TrFormat("the adopt as {}", name));
  if (Status stopped = RunServiceCommand(settings_, "stop", settings_.stop, settings_.stop_timeout,
                                         vars, recorder);
      !stopped) {
    return Failure(
        TrFormat("adopt: {}; the files were stored as {}, {} is still the plain "
                 "directory and the service was not stopped",
                 stopped.error().message, name, link));
  }
  VELIN_TRY(io::RemoveAll(env_, aside));
  VELIN_TRY(env_.Rename(link, aside));
  VELIN_TRY(PointCurrentAt(name));
  Status up = RunServiceCommand(settings_, "start", settings_.start, settings_.start_timeout, vars,
                                recorder);
  const bool started = static_cast<bool>(up);
  if (up) up = WaitHealthy(env_, settings_, vars, recorder);
  VELIN_TRY(RecordAdopt(name, root, up));
  if (!up) {
    const char* arrow = ArrowOf(reporter_);
    return Failure(started ? TrFormat("adopted {} ({} {} {}; the plain files are in {}), but {}: "
                                      "the service runs {} but is not healthy; nothing was undone",
                                      name, link, arrow, name, aside, up.error().message, name)
                           : TrFormat("adopted {} ({} {} {}; the plain files are in {}), but {}: "
                                      "the service is not running; start it once the cause is "
                                      "fixed (rollback.start)",
                                      name, link, arrow, name, aside, up.error().message));
  }
  reporter_.Info(TrFormat("The plain files were moved to {}", aside));
  return rec;
}

}  // namespace velin::rollback
