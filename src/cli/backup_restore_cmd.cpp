// velin backup restore ID [--target DIR] [--only PATH] [--yes]: writes a backup's files back,
// in place (after a confirmation) or under --target.
#include <unistd.h>

#include <algorithm>

#include "backup_common.hpp"
#include "backup_db.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/core/i18n.hpp"

namespace velin::cli {

namespace {

struct RestoreFlags {
  RepoFlags repo;
  std::string id;
  std::string target;
  std::string only;
  std::string database;  // --database: restore the database into this one instead
  SelectFlags select;    // whose `latest`
};

Status RunRestore(Context& ctx, const RestoreFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  output::Console& out = ctx.out();
  VELIN_ASSIGN(repo::SnapshotFilter filter, FilterOf(*cfg, flags.select));
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kShared, false));
  VELIN_ASSIGN(std::string id, r.repo->ResolveSnapshotId(flags.id, filter));
  VELIN_ASSIGN(repo::Snapshot snapshot, r.repo->LoadSnapshot(id));
  // The database (backup_db.hpp): alone with --only db; with the files on an in-place restore.
  const bool only_db = flags.only == kDatabaseStream;
  if (!flags.database.empty() && !flags.only.empty() && !only_db) {
    return UsageError(std::string(Tr("--database goes with --only db")));
  }
  if (only_db) {
    VELIN_TRY(RestoreDatabase(ctx, *r.repo, snapshot, flags.database));
    if (out.json()) out.Json({{"id", id}, {"database", flags.database}});
    return Ok();
  }
  const bool has_db = snapshot.FindSource(kDatabaseStream) != nullptr;
  const bool has_files =
      std::any_of(snapshot.sources.begin(), snapshot.sources.end(),
                  [](const repo::SnapshotSource& s) { return s.kind == "path"; });
  // A backup of only the database (backup.include = ["db"]): restoring it is restoring that.
  if (!has_files && has_db && flags.only.empty()) {
    if (!flags.target.empty()) {
      return UsageError(
          TrFormat("backup {} holds only a database, no files for --target; restore it with --only "
                   "db [--database NAME]",
                   id));
    }
    VELIN_TRY(RestoreDatabase(ctx, *r.repo, snapshot, flags.database));
    if (out.json()) out.Json({{"id", id}, {"database", flags.database}, {"files", 0}});
    return Ok();
  }
  const bool with_db =
      !flags.database.empty() || (flags.only.empty() && flags.target.empty() && has_db);
  bool db_confirmed = false;  // the in-place question named the database too
  backup::RestoreOptions options;
  options.only = flags.only;
  options.restore_owner = ::geteuid() == 0;
  if (flags.target.empty()) {
    options.target = cfg->app.root;
    options.in_place = true;
    // One question for everything the restore overwrites: the files and, when the backup holds
    // one and no --database redirects it, the configured database.
    std::string question = TrFormat("Restore backup {} in place into {}, overwriting files there?",
                                    id, options.target);
    if (with_db && flags.database.empty()) {
      VELIN_ASSIGN(db::ConnectionOptions db_options, DatabaseConnectionOptions(*cfg));
      VELIN_ASSIGN(std::unique_ptr<db::Driver> driver, db::OpenDriver(db_options));
      question = TrFormat(
          "Restore backup {} in place into {}, overwriting files there, and replace {} with the "
          "one in the backup?",
          id, options.target, driver->Describe());
    }
    VELIN_ASSIGN(bool yes, ctx.Confirm(question));
    if (!yes) return CancelledError(std::string(Tr("restore cancelled; nothing was changed")));
    db_confirmed = true;
  } else if (flags.target[0] == '/') {
    options.target = flags.target;
  } else {
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd)) return ErrnoError(std::string(Tr("getcwd")), errno);
    options.target = io::JoinPath(cwd, flags.target);
  }
  out.Begin(output::Icon::kRestore, TrFormat("Restoring backup {}...", id));
  VELIN_ASSIGN(backup::RestoreStats st,
               backup::RestoreSnapshot(*r.repo, snapshot, ctx.env(), out, options));
  if (with_db) VELIN_TRY(RestoreDatabase(ctx, *r.repo, snapshot, flags.database, db_confirmed));
  if (out.json()) {
    out.Json({{"id", id},
              {"target", options.target},
              {"files", st.files},
              {"dirs", st.dirs},
              {"symlinks", st.symlinks},
              {"hardlinks", st.hardlinks},
              {"bytes", st.bytes}});
    return Ok();
  }
  out.Done(TrFormat("Restored {} files ({}) into {}", st.files + st.hardlinks,
                    output::FormatBytes(st.bytes), options.target));
  return Ok();
}

}  // namespace

void RegisterBackupRestore(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<RestoreFlags>();
  CLI::App* cmd = AddCommand(group, "restore", "Restore a backup (latest, an ID or a prefix)");
  cmd->add_option("id", flags->id, "Backup ID, unique prefix, or 'latest'")->required();
  cmd->add_option("--target", flags->target, "Restore under this directory instead of in place");
  cmd->add_option("--only", flags->only,
                  "Restore only this path (relative to app.root), or 'db' for the database");
  cmd->add_option("--database", flags->database,
                  "Restore the database into this database (created if missing; SQLite: a file) "
                  "instead of the configured one");
  AddRepoFlags(cmd, flags->repo);
  AddNoLockFlag(cmd, flags->repo);
  AddSelectFlags(cmd, flags->select, true);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunRestore(ctx, *flags); }); });
}

}  // namespace velin::cli
