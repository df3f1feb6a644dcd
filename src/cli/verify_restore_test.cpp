// verify --restore-test: a backup is proven restorable by restoring it, files into a temporary
// directory and the database into a temporary database (backup_db.hpp), both removed after; a
// killed run's are removed by the next restore test (stale_temps.hpp, db::Driver).
#include <stdlib.h>

#include "backup_db.hpp"
#include "stale_temps.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/core/i18n.hpp"

namespace velin::cli {
namespace {

Status RestoreTestFiles(Context& ctx, repo::Repository& repo, const repo::Snapshot& snapshot,
                        nlohmann::json& report) {
  bool has_paths = false;
  for (const auto& src : snapshot.sources)
    has_paths = has_paths || src.kind == repo::SourceKind::kPath;
  if (!has_paths) return Ok();
  VELIN_ASSIGN(std::string dir, MakeRestoreTestDir(ctx));  // stale_temps.hpp
  backup::RestoreOptions options;
  options.target = dir;
  Result<backup::RestoreStats> st =
      backup::RestoreSnapshot(repo, snapshot, ctx.env(), ctx.out(), options);
  Status removed = io::RemoveAll(ctx.env(), dir);
  VELIN_TRY(st);
  VELIN_TRY(removed);
  VELIN_TRY(backup::RefusedEntriesError(*st));
  report["files"] = st->files + st->hardlinks + st->specials;
  report["xattrs"] = st->xattrs;
  report["xattrs_refused"] = st->xattrs_refused;
  report["bytes"] = st->bytes;
  if (!ctx.out().json()) {
    const uint64_t files = st->files + st->hardlinks + st->specials;
    ctx.out().Done(TrCount(files, "Restore test of the files of backup {} passed ({} file)",
                           "Restore test of the files of backup {} passed ({} files)", snapshot.id,
                           files));
  }
  return Ok();
}

}  // namespace

Status RestoreTestBackups(Context& ctx, repo::Repository& repo, const std::vector<std::string>& ids,
                          const std::string& server, nlohmann::json& report) {
  RemoveDeadRestoreTestDirs(ctx);  // what killed restore tests left in $TMPDIR
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  for (const std::string& id : ids) {
    VELIN_ASSIGN(repo::Snapshot snapshot, repo.LoadSnapshot(id));
    nlohmann::json& entry = report[id];
    entry["files"] = nlohmann::json::object();
    entry["database"] = nlohmann::json::object();
    VELIN_TRY(RestoreTestFiles(ctx, repo, snapshot, entry["files"]));
    // Each database stream ("db", "db:NAME"); every one is tested, the first failure counts.
    entry["databases"] = nlohmann::json::object();
    Status first = Ok();
    for (const config::DatabaseRef& database : DatabasesOf(*cfg, snapshot)) {
      nlohmann::json& one = entry["databases"][database.source];
      one = nlohmann::json::object();
      Status tested = RestoreTestDatabase(ctx, repo, snapshot, server, one, database.source);
      if (database.source == kDatabaseStream) entry["database"] = one;
      if (!tested && first) first = tested;
    }
    VELIN_TRY(first);
  }
  return Ok();
}

}  // namespace velin::cli
