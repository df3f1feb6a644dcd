// velin backup create [--strategy full|incremental] [--destination DIR]: one backup of every
// backup.include path (and, once wired, the database streams) into the repository.
#include "backup_common.hpp"
#include "backup_copy.hpp"
#include "backup_db.hpp"
#include "hook_settings.hpp"
#include "stale_temps.hpp"
#include "velin/backup/archiver.hpp"
#include "velin/core/i18n.hpp"
#include "velin/version.hpp"

namespace velin::cli {

namespace {

struct CreateFlags {
  RepoFlags repo;
  std::string strategy;
  bool continue_on_error = false;
};

// What the hooks around a backup have done so far (docs/operations.md#hooks).
struct HookState {
  HookSettings settings;
  bool started = false;  // before_backup passed: a failure from here on runs on_backup_failure
  bool ended = false;    // after_backup or on_backup_failure ran
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

Status CreateAndReport(Context& ctx, const CreateFlags& flags, HookState& hooks) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  output::Console& out = ctx.out();
  std::string strategy = flags.strategy.empty() ? cfg->backup.strategy : flags.strategy;
  if (strategy != "full" && strategy != "incremental") {
    return UsageError(TrFormat("--strategy '{}' must be full or incremental", strategy));
  }
  VELIN_ASSIGN(repo::Codec codec, repo::ParseCodec(cfg->backup.compression));
  backup::CreateOptions options;
  options.app_root = cfg->app.root;
  for (const auto& inc : cfg->backup.include) {
    if (inc != "db") options.include.push_back(inc);  // "db" is the database stream source
  }
  options.exclude = cfg->backup.exclude;
  options.allow_empty = cfg->backup.allow_empty;
  options.strategy = strategy;
  options.codec = codec;
  options.level = cfg->backup.compression_level;
  options.velin_version = kVersion;
  options.host = cfg->app.host;
  options.app = cfg->app.name;
  VELIN_ASSIGN(auto db_source, MakeDatabaseSource(*cfg, flags.continue_on_error));
  if (db_source) options.streams.push_back(db_source.get());
  if (options.include.empty() && options.streams.empty()) {
    return UsageError(std::string(Tr("backup.include names nothing to back up")));
  }

  // before_backup: when it fails, nothing is written (the repository is not even opened).
  if (Status hook = RunHook(hooks.settings, HookEvent::kBeforeBackup, {}); !hook) {
    return Failure(TrFormat("{}; no backup was made", hook.error().message));
  }
  hooks.started = true;
  out.Begin(output::Icon::kBackup, Tr("Creating backup..."));
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kShared, true));
  if (!config::IsRemoteDestination(r.backend->Location())) {
    options.skip_paths.push_back(r.backend->Location());  // never back up the repository itself
  }
  VELIN_ASSIGN(repo::Snapshot s, backup::CreateBackup(*r.repo, ctx.env(), out, options));
  ctx.stats().bytes_added = s.stats.bytes_added;
  ctx.stats().backup_id = s.id;
  ctx.stats().summary = "backup " + s.id + ": " + std::to_string(s.stats.files) + " files, " +
                        std::to_string(s.stats.bytes_added) + " bytes added";
  RemoveStaleTemps(ctx, *r.backend);  // what killed writers left behind (stale_temps.hpp)
  // The snapshot is committed: whatever happens offsite, the local backup stands.
  auto offsite = CopyOffsite(ctx, flags.repo, s.id);
  // --continue-on-error: the snapshot is committed, records the missing database, exit 1.
  // A missing database outranks an offsite failure in the one error line.
  auto outcome = [&]() -> Status {
    if (db_source && db_source->failure()) {
      return Failure(TrFormat("backup {} was created without the database: {}", s.id,
                              db_source->failure()->message));
    }
    if (!offsite) return tl::unexpected(offsite.error());
    return Ok();
  };
  // The hooks run once the snapshot is committed and before anything is printed: after_backup
  // when the backup is complete (its failure is exit 1; the snapshot stays), otherwise
  // on_backup_failure.
  const Status created = outcome();
  Status result = created;
  if (created) {
    hooks.ended = true;
    HookVars vars;
    vars.backup_id = s.id;
    if (Status hook = RunHook(hooks.settings, HookEvent::kAfterBackup, vars); !hook) {
      result = Failure(TrFormat("{}; backup {} stands", hook.error().message, s.id));
    }
  } else {
    RunFailureHook(out, hooks, s.id, created);
  }
  // backup.prune_after_create: forget + prune under an exclusive lock, so ours goes first.
  const bool maintain = cfg->backup.prune_after_create && created;
  if (maintain) r.lock.reset();
  if (out.json()) {
    const nlohmann::json maintenance =
        maintain ? MaintainAfterCreate(ctx, flags.repo) : nlohmann::json(nullptr);
    nlohmann::json offsite_json = nullptr;
    if (!offsite) {
      offsite_json = {{"to", cfg->backup.offsite}, {"error", offsite.error().message}};
    } else if (*offsite) {
      offsite_json = {{"to", cfg->backup.offsite},
                      {"blobs_copied", (*offsite)->blobs_copied},
                      {"bytes_copied", (*offsite)->bytes_copied}};
    }
    out.Json({{"id", s.id},
              {"strategy", s.strategy},
              {"parent", s.parent},
              {"files", s.stats.files},
              {"bytes", s.stats.bytes},
              {"files_read", s.stats.files_read},
              {"bytes_read", s.stats.bytes_read},
              {"bytes_added", s.stats.bytes_added},
              {"duration_ms", s.stats.duration_ms},
              {"repository", r.backend->Location()},
              {"offsite", offsite_json},
              {"maintenance", maintenance}});
    return result;
  }
  for (const auto& src : s.sources) {
    if (src.name == kDatabaseStream && !(db_source && db_source->failure())) {
      out.Done(Tr("Database backup created"));
    } else if (src.kind == "stream" && src.name != kDatabaseStream) {
      out.Done(TrFormat("Stream {} backed up", src.name));
    }
  }
  if (!options.include.empty()) out.Done(Tr("File backup created"));
  out.Done(TrFormat("Backup compressed ({})", s.compression));
  out.Info(TrFormat("{} files, {} read, {} added", s.stats.files,
                    output::FormatBytes(s.stats.bytes_read),
                    output::FormatBytes(s.stats.bytes_added)));
  out.Done(TrFormat("Backup ID: {}", s.id));
  if (offsite && *offsite) out.Done(TrFormat("Copied offsite to {}", cfg->backup.offsite));
  if (maintain) MaintainAfterCreate(ctx, flags.repo);
  return result;
}

Status RunCreate(Context& ctx, const CreateFlags& flags) {
  HookState hooks;
  if (auto cfg = ctx.Config()) hooks.settings = HookSettingsOf(**cfg);
  Status st = CreateAndReport(ctx, flags, hooks);
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
  AddRepoFlags(cmd, flags->repo);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunCreate(ctx, *flags); }); });
}

}  // namespace velin::cli
