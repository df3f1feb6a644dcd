// velin backup upgrade: raises a repository written by an older velin to the current format
// version (docs/repository-format.md), so that new backups may store delta blobs (3) and
// extended attributes, fifos and device nodes (4) in it, and gives a config without a checksum
// one (docs/repository-format.md, "config"). One atomic write of the config object under the
// exclusive lock; nothing else changes, and older velins refuse a raised version from then on
// (which the message says before it is done); the checksum alone they ignore.
#include "backup_common.hpp"
#include "velin/core/i18n.hpp"
#include "velin/output/console.hpp"

namespace velin::cli {
namespace {

struct UpgradeFlags {
  RepoFlags repo;
};

Status RunUpgrade(Context& ctx, const UpgradeFlags& flags) {
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kExclusive, false));
  const int to = repo::kFormatVersion;
  const int had = r.repo->config().format_version;
  const bool had_checksum = !r.repo->config().checksum.empty();
  output::Console& out = ctx.out();
  if (had < to && !out.json()) {
    out.Info(
        TrFormat("Upgrading {} from format version {} to {}: velin versions that read only "
                 "up to version {} will refuse it afterwards",
                 r.backend->Location(), had, to, had));
  }
  VELIN_ASSIGN(int from, r.repo->UpgradeFormat());
  if (out.json()) {
    out.Json({{"repository", r.backend->Location()},
              {"from", from},
              {"to", to},
              {"checksum_added", !had_checksum}});
  } else if (from == to && !had_checksum) {
    out.Done(TrFormat("{} is at format version {}; its config now has a checksum",
                      r.backend->Location(), to));
  } else if (from == to) {
    out.Done(TrFormat("{} is already at format version {}", r.backend->Location(), to));
  } else {
    out.Done(TrFormat(
        "Repository upgraded to format version {} (delta blobs, extended attributes, fifos and "
        "device nodes)",
        to));
  }
  return Ok();
}

}  // namespace

void RegisterBackupUpgrade(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<UpgradeFlags>();
  CLI::App* cmd = AddCommand(group, "upgrade",
                             "Raise a repository written by an older velin to the current format");
  AddRepoFlags(cmd, flags->repo);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunUpgrade(ctx, *flags); }); });
}

}  // namespace velin::cli
