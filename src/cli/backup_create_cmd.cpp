// velin backup create [--strategy full|incremental] [--destination DIR]: one backup of every
// backup.include path (and, once wired, the database streams) into the repository.
#include "backup_common.hpp"
#include "velin/backup/archiver.hpp"
#include "velin/core/i18n.hpp"
#include "velin/version.hpp"

namespace velin::cli {

namespace {

struct CreateFlags {
  RepoFlags repo;
  std::string strategy;
};

Status RunCreate(Context& ctx, const CreateFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  output::Console& out = ctx.out();
  std::string strategy = flags.strategy.empty() ? cfg->backup.strategy : flags.strategy;
  if (strategy != "full" && strategy != "incremental") {
    return UsageError("--strategy '" + strategy + "' must be full or incremental");
  }
  VELIN_ASSIGN(repo::Codec codec, repo::ParseCodec(cfg->backup.compression));
  backup::CreateOptions options;
  options.app_root = cfg->app.root;
  for (const auto& inc : cfg->backup.include) {
    if (inc != "db") options.include.push_back(inc);  // "db" is the database stream source
  }
  options.exclude = cfg->backup.exclude;
  options.strategy = strategy;
  options.codec = codec;
  options.level = cfg->backup.compression_level;
  options.velin_version = kVersion;
  if (options.include.empty() && options.streams.empty()) {
    return UsageError("backup.include names nothing to back up");
  }

  out.Begin(output::Icon::kBackup, Tr("Creating backup..."));
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kShared, true));
  if (!config::IsRemoteDestination(r.backend->Location())) {
    options.skip_paths.push_back(r.backend->Location());  // never back up the repository itself
  }
  VELIN_ASSIGN(repo::Snapshot s, backup::CreateBackup(*r.repo, ctx.env(), out, options));
  if (out.json()) {
    out.Json({{"id", s.id},
              {"strategy", s.strategy},
              {"parent", s.parent},
              {"files", s.stats.files},
              {"bytes", s.stats.bytes},
              {"files_read", s.stats.files_read},
              {"bytes_read", s.stats.bytes_read},
              {"bytes_added", s.stats.bytes_added},
              {"duration_ms", s.stats.duration_ms},
              {"repository", r.backend->Location()}});
    return Ok();
  }
  for (const auto& src : s.sources) {
    if (src.kind == "stream") out.Done(TrFormat("Stream {} backed up", src.name));
  }
  out.Done(Tr("File backup created"));
  out.Done(TrFormat("Backup compressed ({})", s.compression));
  out.Info(TrFormat("{} files, {} read, {} added", s.stats.files,
                    output::FormatBytes(s.stats.bytes_read),
                    output::FormatBytes(s.stats.bytes_added)));
  out.Done(TrFormat("Backup ID: {}", s.id));
  return Ok();
}

}  // namespace

void RegisterBackupCreate(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<CreateFlags>();
  CLI::App* cmd = AddCommand(group, "create", "Back up the configured paths (and databases)");
  cmd->add_option("--strategy", flags->strategy,
                  "full (read everything) or incremental (skip unchanged files); "
                  "default backup.strategy");
  AddRepoFlags(cmd, flags->repo);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunCreate(ctx, *flags); }); });
}

}  // namespace velin::cli
