// velin backup dump ID PATH: one file of a backup, or a database stream as its dump, to stdout
// (docs/cli.md, "backup dump"). Streams chunk by chunk; each chunk is checked before a byte of
// it is written.
#include <unistd.h>

#include <cerrno>

#include "backup_db.hpp"
#include "backup_inspect.hpp"
#include "velin/backup/inspect.hpp"
#include "velin/core/i18n.hpp"

namespace velin::cli {

namespace {

struct DumpFlags {
  RepoFlags repo;
  SelectFlags select;  // whose `latest`
  std::string id;
  std::string path;
};

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(Tr("writing to stdout"), errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

Status RunDump(Context& ctx, const DumpFlags& flags) {
  if (ctx.global.json) {
    return UsageError(std::string(
        Tr("backup dump writes the file's bytes to stdout; it has no --json document")));
  }
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(repo::SnapshotFilter filter, FilterOf(*cfg, flags.select));
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kShared, false));
  VELIN_ASSIGN(repo::Snapshot snapshot, LoadNamedBackup(*r.repo, flags.id, filter));
  const std::string path = PathInBackup(*cfg, flags.path);
  // A dump that failed under --continue-on-error left an empty or cut-off stream: refused as
  // restore refuses it, before a byte reaches a `| pg_restore` that would take it as whole.
  if (config::IsDatabaseSource(path)) VELIN_TRY(CheckDumpUsable(snapshot, path));
  std::fflush(stdout);
  return backup::DumpPath(*r.repo, snapshot, path,
                          [](std::string_view piece) { return WriteAll(STDOUT_FILENO, piece); });
}

}  // namespace

void RegisterBackupDump(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<DumpFlags>();
  CLI::App* cmd =
      AddCommand(group, "dump", "Write one file of a backup, or its database dump, to stdout");
  cmd->add_option("id", flags->id, "Backup ID, unique prefix, or 'latest'")
      ->required()
      ->type_name("ID");
  cmd->add_option("path", flags->path,
                  "The file's path in the backup (relative to app.root), or 'db' for the "
                  "database dump")
      ->required()
      ->type_name("PATH");
  AddRepoFlags(cmd, flags->repo);
  AddNoLockFlag(cmd, flags->repo);
  AddSelectFlags(cmd, flags->select, true);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunDump(ctx, *flags); }); });
}

}  // namespace velin::cli
