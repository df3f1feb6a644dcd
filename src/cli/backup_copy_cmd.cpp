// velin backup copy ID|--all --to DIR|URL: mirrors snapshots into another repository,
// transferring only the blobs it lacks.
#include "backup_copy.hpp"
#include "stale_temps.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/storage/remote_url.hpp"

namespace velin::cli {

namespace {

struct CopyFlags {
  RepoFlags repo;
  std::vector<std::string> ids;
  bool all = false;
  std::string to;
  SelectFlags select;  // whose `latest`
  bool recompress = false;
};

repo::BlobWriterOptions WriterOptions(const config::Config& cfg) {
  repo::BlobWriterOptions o;
  auto codec = repo::ParseCodec(cfg.backup.compression);
  if (codec) o.codec = *codec;
  o.level = cfg.backup.compression_level;
  return o;
}

// What --all copies: every backup of the repository; --host and --app narrow it, each to what
// it names and nothing else (--all --host web2: every backup of web2, whatever its app).
repo::SnapshotFilter AllOf(const SelectFlags& select) {
  const bool host_set = select.host_option != nullptr && select.host_option->count() > 0;
  const bool app_set = select.app_option != nullptr && select.app_option->count() > 0;
  repo::SnapshotFilter f;
  f.all = !host_set && !app_set;
  f.host = host_set ? select.host : std::string();
  f.app = app_set ? select.app : std::string();
  f.any_host = !host_set;
  f.any_app = !app_set;
  return f;
}

Status RunCopy(Context& ctx, const CopyFlags& flags) {
  if (flags.to.empty()) return UsageError(std::string(Tr("backup copy: --to DIR|URL is required")));
  if (flags.all && !flags.ids.empty()) {
    return UsageError(
        std::string(Tr("backup copy: name the backups to copy (ID …) or --all, not both")));
  }
  if (!flags.all && flags.ids.empty()) {
    return UsageError(
        std::string(Tr("backup copy: name the backups to copy (ID …, e.g. latest) or --all")));
  }
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  repo::SnapshotFilter filter = AllOf(flags.select);
  if (!flags.all) {
    VELIN_ASSIGN(filter, FilterOf(*cfg, flags.select));
  }
  output::Console& out = ctx.out();
  const std::string to = storage::WithoutPassword(flags.to);  // as velin may show it
  out.Begin(output::Icon::kBackup, TrFormat("Copying backups to {}...", to));
  VELIN_ASSIGN(backup::CopyStats s,
               CopyToRepository(ctx, flags.repo, flags.ids, flags.to, filter, flags.recompress));
  if (out.json()) {
    out.Json({{"to", to},
              {"snapshots_copied", s.snapshots_copied},
              {"snapshots_present", s.snapshots_present},
              {"snapshots_repaired", s.snapshots_repaired},
              {"blobs_resent", s.blobs_resent},
              {"renamed", RenamedJson(s)},
              {"blobs_copied", s.blobs_copied},
              {"blobs_present", s.blobs_present},
              {"bytes_copied", s.bytes_copied},
              {"bytes_stored", s.bytes_stored},
              {"packs_written", s.packs_written}});
    return Ok();
  }
  ReportRenamed(out, s, to);
  // Each count in its own number ("1 backup copied", core/i18n.hpp's TrCounted).
  out.Done(TrFormat("{}, {} already there",
                    TrCounted(s.snapshots_copied, "{} backup copied", "{} backups copied"),
                    s.snapshots_present));
  out.Info(TrFormat("{} ({}) copied, {} already there",
                    TrCounted(s.blobs_copied, "{} blob", "{} blobs"),
                    output::FormatBytes(s.bytes_copied), s.blobs_present));
  if (s.snapshots_repaired > 0) {
    out.Info(
        TrFormat("{} of the backups already there lacked data there (in packs gone or damaged): {}",
                 s.snapshots_repaired,
                 TrCounted(s.blobs_resent, "{} blob copied again", "{} blobs copied again")));
  }
  return Ok();
}

}  // namespace

Result<backup::CopyStats> CopyToRepository(Context& ctx, const RepoFlags& source,
                                           const std::vector<std::string>& ids,
                                           const std::string& to,
                                           const repo::SnapshotFilter& latest_of, bool recompress) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(OpenRepo from, OpenRepository(ctx, source, repo::LockKind::kShared, false));
  std::vector<std::string> resolved;
  if (ids.empty() && latest_of.all) {
    VELIN_ASSIGN(resolved, from.repo->ListSnapshotIds());
  } else if (ids.empty()) {
    std::vector<repo::ObjectDamage> damage;
    VELIN_ASSIGN(const std::vector<repo::Snapshot> all, from.repo->LoadAllSnapshots(&damage));
    for (const repo::Snapshot& s : all) {
      if (latest_of.Matches(s)) resolved.push_back(s.id);
    }
    // Whose it is cannot be told: taken, and the copy fails naming it, as --all alone does.
    for (const repo::ObjectDamage& d : damage) {
      resolved.push_back(d.object.substr(d.object.rfind('/') + 1));
    }
    std::sort(resolved.begin(), resolved.end());
  } else {
    for (const std::string& name : ids) {
      VELIN_ASSIGN(std::string id, from.repo->ResolveSnapshotId(name, latest_of));
      resolved.push_back(id);
    }
  }
  VELIN_ASSIGN(OpenRepo dest, OpenCopyDestination(ctx, source, to, *from.backend));
  VELIN_TRY(backup::CheckCopyKeys(*from.repo, *dest.repo));
  VELIN_ASSIGN(const std::chrono::milliseconds commit_wait, LockWaitOf(source));
  VELIN_ASSIGN(backup::CopyStats stats,
               backup::CopySnapshots(*from.repo, *dest.repo, resolved, WriterOptions(*cfg),
                                     ctx.env(), ctx.out(), recompress, commit_wait));
  RemoveStaleTemps(ctx, *dest.backend);  // what killed copies left there (stale_temps.hpp)
  return stats;
}

nlohmann::json OffsiteJson(const backup::OffsiteCopy& offsite) {
  if (!offsite.error && !offsite.copied) return nullptr;
  nlohmann::json j = {{"to", offsite.to}, {"caught_up", offsite.caught_up}};
  if (offsite.error) j["error"] = offsite.error->message;
  if (!offsite.copied) return j;
  j.update({{"blobs_copied", offsite.copied->blobs_copied},
            {"bytes_copied", offsite.copied->bytes_copied},
            {"bytes_stored", offsite.copied->bytes_stored}});
  if (!offsite.copied->renamed.empty()) j["as"] = offsite.copied->renamed.front().as;
  return j;
}

nlohmann::json RenamedJson(const backup::CopyStats& stats) {
  nlohmann::json renamed = nlohmann::json::array();
  for (const backup::CopyRename& r : stats.renamed)
    renamed.push_back({{"id", r.id}, {"as", r.as}, {"host", r.host}, {"copied", r.copied}});
  return renamed;
}

void ReportRenamed(output::Console& out, const backup::CopyStats& stats, const std::string& to) {
  for (const backup::CopyRename& r : stats.renamed) {
    const std::string holder = r.host.empty() ? std::string(Tr("another backup"))
                                              : TrFormat("a backup of host {}", r.host);
    const std::string line = TrFormat("backup {} is in {} as {}: {} already holds {} there", r.id,
                                      to, r.as, holder, r.id);
    if (r.copied) {
      out.Warn(line);  // new: the user learns the id to restore it by
    } else {
      out.Info(line);  // as every copy since
    }
  }
}

void RegisterBackupCopy(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<CopyFlags>();
  CLI::App* cmd =
      AddCommand(group, "copy", "Copy backups to another repository (only the data it lacks)");
  cmd->add_option("id", flags->ids, "Backups to copy (ID, unique prefix or latest)");
  cmd->add_flag("--all", flags->all,
                "Copy every backup (of every host and application, unless --host or --app "
                "narrow it)");
  cmd->add_option("--to", flags->to, "The repository to copy to: a directory or a URL");
  cmd->add_flag("--recompress", flags->recompress,
                "Compress every blob anew with the configured compression (default: as stored)");
  AddRepoFlags(cmd, flags->repo);
  AddSelectFlags(cmd, flags->select, false);
  cmd->callback([&ctx, flags] {
    ctx.Execute([&ctx, flags]() -> Status {
      // A signal stops the copy at its next blob instead of killing it (core/termination.hpp):
      // the packs it sent and did not index yet go, both locks go (a lock left in a remote
      // repository blocks other hosts until it is stale), and velin ends by the signal.
      TerminationCancel cancel(
          std::string(Tr("stopping the copy (a second signal ends velin at once)")));
      Status st = RunCopy(ctx, *flags);
      if (!st && Interrupted()) {
        return Failure(
            TrFormat("copy interrupted by {}; run it again to copy what is missing in {}",
                     TerminationSignalName(HeldTerminationSignal()), flags->to));
      }
      return st;
    });
  });
}

}  // namespace velin::cli
