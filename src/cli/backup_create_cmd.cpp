// velin backup create [--strategy full|incremental] [--dry-run] [--destination DIR]: one backup
// of every backup.include path and the database into the repository. What to do comes from
// PlanCreate (velin/cli/create_plan.hpp); the archiver makes the snapshot and the steps after
// it (offsite copy, forget + prune) are backup/after_create.hpp's. This file calls them in
// order, runs the hooks, and prints.
#include "backup_common.hpp"
#include "backup_copy.hpp"
#include "backup_db.hpp"
#include "hook_settings.hpp"
#include "stale_temps.hpp"
#include "velin/backup/after_create.hpp"
#include "velin/backup/archiver.hpp"
#include "velin/backup/dir_lister.hpp"
#include "velin/cli/create_plan.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/core/threads.hpp"
#include "velin/storage/remote_url.hpp"

namespace velin::cli {

namespace {

struct CreateFlags {
  RepoFlags repo;
  std::string strategy;
  bool continue_on_error = false;
  bool dry_run = false;  // --dry-run
};

// What the hooks around a backup have done so far (docs/operations.md#hooks).
struct HookState {
  HookSettings settings;
  bool started = false;    // before_backup passed: a failure from here on runs on_backup_failure
  bool ended = false;      // after_backup or on_backup_failure ran
  bool committed = false;  // the snapshot is written
};

// on_backup_failure after `failure`; its own failure is only a warning.
void RunFailureHook(output::Console& out, HookState& hooks, const std::string& backup_id,
                    const Status& failure) {
  hooks.ended = true;
  HookVars vars;
  vars.backup_id = backup_id;
  vars.error = failure.error().message;
  if (Status hook = RunHook(hooks.settings, HookEvent::kOnBackupFailure, vars); !hook) {
    out.Warn(hook.error().message);
  }
}

// The snapshot's stats both create documents (--dry-run and the real one) hold.
nlohmann::json StatsJson(const repo::SnapshotStats& st) {
  return {{"files", st.files},
          {"bytes", st.bytes},
          {"files_read", st.files_read},
          {"bytes_read", st.bytes_read},
          {"bytes_added", st.bytes_added},
          {"files_changed", st.files_changed},
          {"files_vanished", st.files_vanished}};
}

// --dry-run: the walk and the chunking of a backup against the repository's index, without a
// lock, a hook, a database dump, or a write (docs/cli.md#velin-backup-create).
Status DryRun(Context& ctx, const CreateFlags& flags, CreatePlan& plan) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  output::Console& out = ctx.out();
  VELIN_ASSIGN(OpenRepo r, OpenRepositoryUnlocked(ctx, flags.repo, false));
  VELIN_TRY(r.repo->LoadIndex());
  if (!config::IsRemoteDestination(r.backend->Location())) {
    plan.options.skip_paths.push_back(r.backend->Location());
  }
  VELIN_ASSIGN(repo::Snapshot s, backup::CreateBackup(*r.repo, ctx.env(), out, plan.options));
  // "sqlite /srv/app/var/app.db", "postgresql shop": each database a backup dumps.
  std::vector<std::string> databases;
  for (const config::DatabaseRef& ref : config::IncludedDatabaseRefs(*cfg)) {
    const config::DatabaseSection* d = ref.section;
    if (d == nullptr) continue;  // the loader refuses it; create names it
    databases.push_back(d->driver + " " + (d->driver == "sqlite" ? d->path : d->name));
  }
  std::string database;
  for (const std::string& d : databases) database += (database.empty() ? "" : ", ") + d;
  if (out.json()) {
    nlohmann::json j = StatsJson(s.stats);
    j.update({{"dry_run", true},
              {"strategy", std::string(repo::StrategyName(plan.options.strategy))},
              {"blobs_added", s.stats.blobs_added},
              {"databases", databases},
              {"repository", r.backend->Location()}});
    out.Json(j);
    return Ok();
  }
  // One template per number: "1 files" is no English, and German has the same two forms.
  out.Info(TrFormat(s.stats.files_read == 1
                        ? "Dry run: {} file ({}) would be read; about {} would be added (before "
                          "compression); nothing was written to {}"
                        : "Dry run: {} files ({}) would be read; about {} would be added (before "
                          "compression); nothing was written to {}",
                    s.stats.files_read, output::FormatBytes(s.stats.bytes_read),
                    output::FormatBytes(s.stats.bytes_added), r.backend->Location()));
  if (databases.size() == 1) {
    out.Info(TrFormat("The database ({}) would be dumped; a dry run does not dump it", database));
  } else if (databases.size() > 1) {
    out.Info(
        TrFormat("The databases ({}) would be dumped; a dry run does not dump them", database));
  }
  return Ok();
}

// velin_repository_size_bytes from the prune that prune_after_create ran, if one did.
void NoteRepositorySize(Context& ctx, const backup::AfterCreateResult& after) {
  if (after.maintenance && after.maintenance->prune) {
    ctx.stats().repository_size = after.maintenance->prune->bytes_after;
  }
}

// The hooks run once the snapshot is committed and before anything is printed: after_backup
// when the backup is complete (its failure is exit 1; the snapshot stays), otherwise
// on_backup_failure. Returns the create's result.
Status RunCompletionHook(output::Console& out, HookState& hooks, const std::string& id,
                         const Status& outcome) {
  if (!outcome) {
    RunFailureHook(out, hooks, id, outcome);
    return outcome;
  }
  hooks.ended = true;
  HookVars vars;
  vars.backup_id = id;
  if (Status hook = RunHook(hooks.settings, HookEvent::kAfterBackup, vars); !hook) {
    return Failure(TrFormat("{}; backup {} stands", hook.error().message, id));
  }
  return Ok();
}

nlohmann::json CreatedJson(const repo::Snapshot& s, const std::string& repository,
                           const backup::AfterCreateResult& after) {
  nlohmann::json j = StatsJson(s.stats);
  j.update({{"id", s.id},
            {"strategy", std::string(repo::StrategyName(s.strategy))},
            {"parent", s.parent},
            {"duration_ms", s.stats.duration_ms},
            {"repository", repository},
            {"offsite", OffsiteJson(after.offsite)},
            {"maintenance", MaintenanceJson(after.maintenance)}});
  return j;
}

// `failed`: the names of the database streams whose dump failed (--continue-on-error).
void PrintCreated(output::Console& out, const repo::Snapshot& s,
                  const std::vector<std::string>& failed, const backup::CreateOptions& options,
                  const backup::AfterCreateResult& after) {
  for (const auto& src : s.sources) {
    if (std::find(failed.begin(), failed.end(), src.name) != failed.end()) continue;
    if (src.name == kDatabaseStream) {
      out.Done(Tr("Database backup created"));
    } else if (src.kind == repo::SourceKind::kStream && config::IsDatabaseSource(src.name)) {
      out.Done(TrFormat("Database '{}' backup created", src.name));
    } else if (src.kind == repo::SourceKind::kStream) {
      out.Done(TrFormat("Stream {} backed up", src.name));
    }
  }
  if (!options.include.empty()) out.Done(Tr("File backup created"));
  out.Done(TrFormat("Backup compressed ({})", s.compression));
  out.Info(
      TrFormat(s.stats.files == 1 ? "{} file, {} read, {} added" : "{} files, {} read, {} added",
               s.stats.files, output::FormatBytes(s.stats.bytes_read),
               output::FormatBytes(s.stats.bytes_added)));
  out.Done(TrFormat("Backup ID: {}", s.id));
  if (after.offsite.copied) {
    ReportRenamed(out, *after.offsite.copied, after.offsite.to);
    out.Done(TrFormat("Copied offsite to {}", after.offsite.to));
  }
  if (!after.offsite.caught_up.empty()) {
    std::string ids;
    for (const auto& id : after.offsite.caught_up) ids += (ids.empty() ? "" : ", ") + id;
    out.Done(TrFormat("Also copied offsite: {} (their own offsite copy had failed)", ids));
  }
}

Status CreateAndReport(Context& ctx, const CreateFlags& flags, HookState& hooks) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  output::Console& out = ctx.out();
  VELIN_ASSIGN(CreatePlan plan, PlanCreate(*cfg, flags.strategy, flags.dry_run));
  if (flags.dry_run) return DryRun(ctx, flags, plan);
  // The config refuses an offsite that is its destination; --destination may name it too.
  // Refused before anything runs: every create would say "Copied offsite" with no second copy.
  if (const auto at = ResolveDestination(*cfg, flags.repo);
      at && !plan.after.offsite.empty() &&
      backup::SameRepositoryLocation(ctx.env(), *at, plan.after.offsite)) {
    return UsageError(
        TrFormat("backup.offsite {} is the repository backed up to: an offsite copy "
                 "there would be no second copy",
                 storage::WithoutPassword(plan.after.offsite)));
  }
  backup::CreateOptions& options = plan.options;
  VELIN_ASSIGN(options.commit_lock_wait, LockWaitOf(flags.repo));  // at least a minute
  VELIN_ASSIGN(auto db_sources, MakeDatabaseSources(*cfg, flags.continue_on_error));
  for (const auto& source : db_sources) options.streams.push_back(source.get());

  // before_backup: when it fails, nothing is written (the repository is not even opened).
  VELIN_TRY(CheckInterrupted());
  if (Status hook = RunHook(hooks.settings, HookEvent::kBeforeBackup, {}); !hook) {
    return Failure(TrFormat("{}; no backup was made", hook.error().message));
  }
  hooks.started = true;
  VELIN_TRY(CheckInterrupted());  // asked to stop while the hook ran
  out.Begin(output::Icon::kBackup, Tr("Creating backup..."));
  // Without a database to dump first, the walk's directories are listed from now on, beside
  // the repository's unlock (key derivation) and index load (velin/backup/dir_lister.hpp).
  // Never back up the repository itself: its path as configured here, as opened below.
  auto skip_repository = [&options](const std::string& location) {
    if (!config::IsRemoteDestination(location) &&
        std::find(options.skip_paths.begin(), options.skip_paths.end(), location) ==
            options.skip_paths.end()) {
      options.skip_paths.push_back(location);
    }
  };
  const std::string destination = ResolveDestination(*cfg, flags.repo).value_or("");
  if (!destination.empty()) skip_repository(destination);
  std::optional<backup::DirLister> lister;
  if (options.streams.empty() && !options.include.empty() &&
      std::all_of(options.include.begin(), options.include.end(), backup::IsIncludeInsideRoot)) {
    options.lister = &lister.emplace(ctx.env(), options);
  }
  // Packs listed in the index that are gone or truncated (an S3 lifecycle rule, a manual delete,
  // a full disk) would make
  // the new backup point at them: their blobs count as not stored and are written again. Not
  // on SFTP/FTP: listing data/ there is 256 directory listings of four round trips each, one
  // after another (~20 s at 20 ms), on every create; verify finds a missing pack there. The
  // packs a verify found damaged are known without a listing (one small object): not used
  // there either.
  const bool file_server = storage::IsFileServerUrl(destination);
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kShared, true,
                                          file_server ? IndexUse::kLoadDroppingDamaged
                                                      : IndexUse::kLoadListingPacks));
  if (const auto missing = PacksGoneOrShort(*r.repo); !missing.empty()) {
    out.Warn(TrCount(
        missing.size(),
        "{} pack listed in the index is missing from the repository or truncated ({}); "
        "its data is stored again — run 'velin backup verify --all' to see which backups are "
        "damaged",
        "{} packs listed in the index are missing from the repository or truncated (first: {}); "
        "their data is stored again — run 'velin backup verify --all' to see which backups are "
        "damaged",
        missing.size(), missing.front().Short()));
  }
  // Those a verify found damaged (the verify record): the same, so the new backup is whole.
  if (const auto& damaged = r.repo->damaged_packs(); !damaged.empty()) {
    out.Warn(TrCount(
        damaged.size(),
        "{} pack a verify found damaged is not used ({}); its data is stored again — "
        "once no backup needs it, `velin backup prune` removes it",
        "{} packs a verify found damaged are not used (first: {}); their data is stored again — "
        "once no backup needs them, `velin backup prune` removes them",
        damaged.size(), damaged.front().Short()));
  }
  skip_repository(r.backend->Location());
  if (!plan.after.offsite.empty()) {
    // Due offsite from its commit on: a create killed right after the commit leaves the note,
    // and the next create's catching up copies the backup (backup/after_create.hpp).
    options.before_commit = [&](const std::string& id) {
      if (Status noted = backup::NoteDueOffsite(plan.after, *r.backend, id); !noted) {
        out.Warn(TrFormat("cannot note in {} that backup {} is due offsite: {}",
                          r.backend->Location(), id, noted.error().message));
      }
    };
  }
  auto created = backup::CreateBackup(*r.repo, ctx.env(), out, options);
  options.before_commit = nullptr;
  lister.reset();
  options.lister = nullptr;
  VELIN_ASSIGN(repo::Snapshot s, std::move(created));
  hooks.committed = true;
  ctx.stats().bytes_added = s.stats.bytes_added;
  ctx.stats().files_changed = s.stats.files_changed;
  ctx.stats().backup_id = s.id;
  ctx.stats().summary = "backup " + s.id + ": " + std::to_string(s.stats.files) +
                        (s.stats.files == 1 ? " file, " : " files, ") +
                        std::to_string(s.stats.bytes_added) +
                        (s.stats.bytes_added == 1 ? " byte added" : " bytes added");
  RemoveStaleTemps(ctx, *r.backend);  // what killed writers left behind (stale_temps.hpp)
  // The snapshot is committed: the follow-up steps (backup/after_create.hpp) never harm it.
  // The first database whose dump failed (--continue-on-error), and each one's name.
  const Error* without_database = nullptr;
  std::vector<std::string> failed_databases;
  for (const auto& source : db_sources) {
    if (!source->failure()) continue;
    if (without_database == nullptr) without_database = &*source->failure();
    failed_databases.push_back(source->Name());
  }
  CreateFollowUpRepos repos(ctx, flags.repo, r.backend, r.repo.get());
  backup::AfterCreateResult after =
      backup::CopyOffsite(plan.after, s.id, without_database, repos, ctx.env(), out);
  const Status result = RunCompletionHook(out, hooks, s.id, after.outcome);
  if (after.maintain && Interrupted()) {
    // Asked to stop after the commit: the backup stands; forget and prune wait for the next run.
    after.maintain = false;
    out.Warn(TrFormat("forget and prune skipped: interrupted by {}",
                      TerminationSignalName(HeldTerminationSignal())));
  }
  if (after.maintain) r.lock.reset();  // forget + prune take the exclusive lock: ours goes first
  if (out.json()) {
    backup::MaintainAfterCreate(plan.after, repos, ctx.env(), out, after);
    NoteRepositorySize(ctx, after);
    out.Json(CreatedJson(s, r.backend->Location(), after));
    return result;
  }
  PrintCreated(out, s, failed_databases, options, after);
  backup::MaintainAfterCreate(plan.after, repos, ctx.env(), out, after);
  PrintMaintenance(out, after.maintenance);
  NoteRepositorySize(ctx, after);
  return result;
}

Status RunCreate(Context& ctx, const CreateFlags& flags) {
  HookState hooks;
  if (auto cfg = ctx.Config(); cfg && !flags.dry_run) hooks.settings = HookSettingsOf(**cfg);
  // SIGINT, SIGTERM, SIGHUP stop a backup at its next file, chunk or wait instead of killing it
  // (core/termination.hpp): nothing is committed, and the failure path runs as for any failure
  // (on_backup_failure takes the application out of maintenance mode, the monitor's ping and
  // the notifications say why, the lock goes), then velin ends by the signal. A dry run writes
  // nothing: there a signal ends velin at once.
  std::optional<TerminationCancel> cancel;
  if (!flags.dry_run) cancel.emplace(BackupStopNotice());
  // Out of memory (ulimit -v) is a failure like any other: on_backup_failure runs for it too.
  Status st = CatchExceptions([&] { return CreateAndReport(ctx, flags, hooks); });
  if (!st && Interrupted() && !hooks.committed) st = BackupInterrupted();
  if (!st && hooks.started && !hooks.ended) RunFailureHook(ctx.out(), hooks, "", st);
  return st;
}

}  // namespace

void RegisterBackupCreate(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<CreateFlags>();
  CLI::App* cmd = AddCommand(group, "create", "Back up the configured paths (and databases)");
  cmd->add_option("--strategy", flags->strategy,
                  "full (read everything) or incremental (skip unchanged files); "
                  "default backup.strategy");
  cmd->add_flag("--continue-on-error", flags->continue_on_error,
                "Back up the files even when the database dump fails (the snapshot records "
                "the missing database; exit code 1)");
  cmd->add_flag("--dry-run", flags->dry_run,
                "Show what would be read and roughly added; write nothing (no lock, no hooks, no "
                "database dump)");
  AddRepoFlags(cmd, flags->repo);
  cmd->callback([&ctx, flags] {
    // A dry run is no backup: no metrics, ping or notification for "backup create".
    if (flags->dry_run) Context::CommandPath() = "backup create --dry-run";
    ctx.Execute([&ctx, flags] { return RunCreate(ctx, *flags); });
  });
}

}  // namespace velin::cli
