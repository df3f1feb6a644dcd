// velin backup restore ID [--target DIR] [--only PATH] [--include GLOB]... [--exclude GLOB]...
// [--database-url URL] [--yes]: writes a backup's files back, in place (after a confirmation)
// or under --target; the selection itself is the restorer's (backup::RestoreOptions).
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>

#include "backup_common.hpp"
#include "backup_db.hpp"
#include "velin/backup/restorer.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/output/console.hpp"

namespace velin::cli {

namespace {

struct RestoreFlags {
  RepoFlags repo;
  std::string id;
  std::string target;
  std::string only;
  std::vector<std::string> include;  // --include GLOB (repeatable)
  std::vector<std::string> exclude;  // --exclude GLOB (repeatable)
  std::string database;              // --database: restore the database into this one instead
  SelectFlags select;                // whose `latest`
};

// An SQLite database of a backup that lies inside app.root: [database]'s or a
// [databases.NAME]'s, each treated alike (docs/databases.md#sqlite).
struct SqliteInApp {
  std::string source;               // "db", "db:NAME"
  std::string file;                 // relative to app.root: "var/app.db"
  std::set<std::string> own_files;  // the file and its -wal, -shm, -journal
  bool dump_usable = false;         // the backup's dump of it is whole
  bool named = false;               // --only or an --include names one of its own files exactly
  // Its own files among the backup's files are left out: the dump is the consistent copy.
  bool LeftOut() const { return dump_usable && !named; }
};

std::vector<SqliteInApp> SqliteDatabasesInApp(const config::Config& cfg,
                                              const repo::Snapshot& snapshot,
                                              const std::vector<config::DatabaseRef>& databases,
                                              const RestoreFlags& flags) {
  std::vector<SqliteInApp> out;
  for (const config::DatabaseRef& d : databases) {
    const std::optional<std::string> file = SqliteFileInApp(cfg, d.source);  // resolved paths
    if (!file) continue;
    const nlohmann::json* recorded = backup::StreamSourceMetadata(snapshot, d.source);
    SqliteInApp db{.source = d.source, .file = *file};
    db.dump_usable = recorded != nullptr && recorded->value("driver", std::string()) == "sqlite" &&
                     CheckDumpUsable(snapshot, d.source).has_value();
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      const std::string own = *file + suffix;
      db.own_files.insert(own);
      db.named = db.named || flags.only == own ||
                 std::any_of(flags.include.begin(), flags.include.end(),
                             [&](const std::string& g) { return PathInBackup(cfg, g) == own; });
    }
    out.push_back(std::move(db));
  }
  return out;
}

const SqliteInApp* FindSqliteInApp(const std::vector<SqliteInApp>& dbs, const std::string& source) {
  for (const SqliteInApp& db : dbs) {
    if (db.source == source) return &db;
  }
  return nullptr;
}

// The note for a database a restore under --target does not restore.
std::string AsideNote(const config::DatabaseRef& d) {
  const bool sqlite = d.section != nullptr && d.section->driver == "sqlite";
  if (d.source == kDatabaseStream) {
    return TrFormat(
        "the backup's database is not restored under --target (only files are): restore it with "
        "--only db --database {}",
        sqlite ? "FILE" : "NAME");
  }
  return TrFormat(
      "the backup's database '{}' is not restored under --target (only files are): restore it "
      "with --only {} --database {}",
      d.source, d.source, sqlite ? "FILE" : "NAME");
}

// What became of `db`'s own files the restore met among the backup's files (`met`, of every
// database): written from the copy read while the application wrote (a warning: it may be
// torn), or left out (a note: the dump is the consistent copy; `from_dump` when this restore
// restored it).
void NoteDatabaseFiles(output::Console& out, const SqliteInApp& db,
                       const std::vector<std::string>& met_files, bool from_dump, bool aside) {
  std::string met;
  for (const std::string& file : met_files) {
    if (db.own_files.contains(file)) met += (met.empty() ? "" : ", ") + file;
  }
  if (met.empty()) return;
  const bool main = db.source == kDatabaseStream;
  if (!db.LeftOut() && db.named && db.dump_usable) {
    out.Warn(main ? TrFormat("the database's own files ({}) are restored as named, from the copy "
                             "the backup read while the application wrote: it may be torn; the "
                             "consistent copy is the backup's dump (--only db)",
                             met)
                  : TrFormat("the own files of database '{}' ({}) are restored as named, from "
                             "the copy the backup read while the application wrote: it may be "
                             "torn; the consistent copy is the backup's dump (--only {})",
                             db.source, met, db.source));
  } else if (!db.LeftOut()) {
    out.Warn(main ? TrFormat("the database's own files ({}) are restored from the copy the "
                             "backup read while the application wrote, and the backup holds no "
                             "usable dump of the database: the copy may be torn (check it with "
                             "sqlite3 FILE 'PRAGMA integrity_check')",
                             met)
                  : TrFormat("the own files of database '{}' ({}) are restored from the copy the "
                             "backup read while the application wrote, and the backup holds no "
                             "usable dump of it: the copy may be torn (check it with sqlite3 "
                             "FILE 'PRAGMA integrity_check')",
                             db.source, met));
  } else if (from_dump) {
    out.Info(main ? TrFormat("the backup's copy of the database's own files ({}) is left out: "
                             "the database is restored from its dump, one consistent copy",
                             met)
                  : TrFormat("the backup's copy of the own files of database '{}' ({}) is left "
                             "out: the database is restored from its dump, one consistent copy",
                             db.source, met));
  } else {
    const std::string aside_flag = aside ? " --database FILE" : "";
    out.Info(main ? TrFormat("the backup's copy of the database's own files ({}) is left out: "
                             "read while the application wrote, it may be torn; the backup "
                             "holds the database as 'db', one consistent copy: restore it with "
                             "--only db{}",
                             met, aside_flag)
                  : TrFormat("the backup's copy of the own files of database '{}' ({}) is left "
                             "out: read while the application wrote, it may be torn; the backup "
                             "holds the database as '{}', one consistent copy: restore it with "
                             "--only {}{}",
                             db.source, met, db.source, db.source, aside_flag));
  }
}

Status RunRestore(Context& ctx, const RestoreFlags& given) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  RestoreFlags flags = given;
  flags.only = PathInBackup(*cfg, flags.only);
  output::Console& out = ctx.out();
  VELIN_ASSIGN(repo::SnapshotFilter filter, FilterOf(*cfg, flags.select));
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kShared, false));
  VELIN_ASSIGN(std::string id, r.repo->ResolveSnapshotId(flags.id, filter));
  VELIN_ASSIGN(repo::Snapshot snapshot, r.repo->LoadSnapshot(id));
  if (flags.id == "latest" && repo::DatedInTheFuture(snapshot, ctx.env().Now())) {
    out.Warn(
        TrFormat("latest is backup {}, dated {}, after this machine's clock: a clock was or "
                 "is wrong, and a backup made since may hold newer data (`velin backup "
                 "list` shows them; name one by its ID)",
                 snapshot.id, output::FormatLocalTime(snapshot.unix_time)));
  }
  // The databases (backup_db.hpp): one alone with --only db or --only db:NAME; every one the
  // backup holds with the files on an in-place restore.
  const bool only_db = config::IsDatabaseSource(flags.only);
  const std::vector<config::DatabaseRef> streams = DatabasesOf(*cfg, snapshot);
  if (!flags.database.empty() && !flags.only.empty() && !only_db) {
    return UsageError(std::string(Tr("--database goes with --only db")));
  }
  if (only_db && (!flags.include.empty() || !flags.exclude.empty())) {
    return UsageError(std::string(Tr("--include and --exclude select files, not --only db")));
  }
  // --database and --database-url say where one database goes: with several in the backup,
  // which one is chosen with --only (docs/cli.md#velin-backup-restore).
  if (flags.only.empty() && streams.size() > 1 &&
      (!flags.database.empty() || !ctx.global.database_url.empty())) {
    return UsageError(TrFormat(
        "{} names where one database goes, and backup {} holds {} ({}): choose it with --only "
        "{}; nothing was changed",
        flags.database.empty() ? "--database-url" : "--database", id, streams.size(),
        SourceList(streams), streams.back().source));
  }
  // A repository alone (--repo, no velin.toml) knows no database to restore into but the
  // one --database-url names; with a velin.toml, [databases.NAME] says where "db:NAME" goes.
  const bool alone = cfg->file.empty();
  auto need_database = [&](const config::DatabaseRef& database) -> Status {
    const std::string& source = database.source;
    if (alone && !cfg->database.configured) {
      return UsageError(TrFormat(
          "backup {} holds a database; without a velin.toml say where it goes with "
          "--database-url URL (postgres://USER@HOST/NAME, mysql://USER@HOST/NAME, sqlite:PATH)",
          id));
    }
    if (source != kDatabaseStream && ctx.global.database_url.empty() &&
        database.section == nullptr) {
      return UsageError(TrFormat(
          "backup {} holds database '{}', and {} has no {} section to say where it goes: add it, "
          "or restore it with --only {} --database-url URL; nothing was changed",
          id, source, cfg->file, database.table, source));
    }
    return Ok();
  };
  if (only_db) {
    const std::string source = flags.only;
    const config::DatabaseRef database = config::DatabaseRefOf(*cfg, source);
    VELIN_TRY(need_database(database));
    // --target is where files go: with --only db it took nothing, and the database went in
    // place over the live one (with --yes, unasked) where a restore "aside, to look at it" was
    // meant; the hint for a database-only backup with --target led there.
    if (!flags.target.empty() && flags.database.empty() && ctx.global.database_url.empty()) {
      const config::DatabaseSection* d =
          database.section != nullptr ? database.section : &cfg->database;
      const std::string live =
          d->driver == "sqlite" ? config::ResolveAppPath(*cfg, d->path) : d->name;
      return UsageError(TrFormat(
          "--target {} is where files go, and --only db restores none: the database would be "
          "restored in place, over database '{}'; name where it goes with --database NAME (or "
          "--database-url URL), or leave out --target to restore it in place; nothing was "
          "changed",
          flags.target, live));
    }
    VELIN_TRY(RestoreDatabase(ctx, *r.repo, snapshot, flags.database, false, source));
    if (out.json()) {
      out.Json({{"id", id},
                {"database", flags.database},
                {"databases", nlohmann::json::array({source})}});
    }
    return Ok();
  }
  const bool has_db = !streams.empty();
  const bool has_files =
      std::any_of(snapshot.sources.begin(), snapshot.sources.end(),
                  [](const repo::SnapshotSource& s) { return s.kind == repo::SourceKind::kPath; });
  // A backup of only the database (backup.include = ["db"]): restoring it is restoring that.
  if (!has_files && has_db && flags.only.empty()) {
    if (!flags.target.empty()) {
      return UsageError(
          TrFormat("backup {} holds only a database, no files for --target; restore it with --only "
                   "db [--database NAME]",
                   id));
    }
    for (const config::DatabaseRef& d : streams) VELIN_TRY(need_database(d));
    std::vector<std::string> restored;
    for (const config::DatabaseRef& d : streams) {
      VELIN_TRY(RestoreDatabase(ctx, *r.repo, snapshot, flags.database, false, d.source));
      restored.push_back(d.source);
    }
    if (out.json()) {
      out.Json({{"id", id}, {"database", flags.database}, {"files", 0}, {"databases", restored}});
    }
    return Ok();
  }
  // Refused before anything is written (the directory of an SQLite file below).
  if (flags.target.empty() && alone) {
    return UsageError(std::string(
        Tr("without a velin.toml there is no app.root to restore into: pass --target DIR")));
  }
  // The SQLite databases of the backup inside app.root, [database]'s and each
  // [databases.NAME]'s alike (on resolved paths: a symlinked app.root or directory of a database,
  // docs/databases.md#sqlite).
  const std::vector<SqliteInApp> sqlite_in_app =
      SqliteDatabasesInApp(*cfg, snapshot, streams, flags);
  // --target puts the app aside: each SQLite database inside app.root with a usable dump comes
  // along at its place under the target, from its dump (a backup holds it only as its stream,
  // not among the files). Others (a server's, one outside app.root, one whose dump failed) are
  // named, not restored.
  const bool database_aside = !flags.target.empty() && flags.database.empty() &&
                              ctx.global.database_url.empty() && has_db && !alone;
  std::map<std::string, std::string> aside_into;  // source: its file under the target
  if (database_aside) {
    VELIN_ASSIGN(const std::string target, FromCurrentDirectory(flags.target));
    const bool whole = flags.only.empty() && flags.include.empty() && flags.exclude.empty();
    for (const config::DatabaseRef& d : streams) {
      const SqliteInApp* file = FindSqliteInApp(sqlite_in_app, d.source);
      if (whole && file != nullptr && file->dump_usable) {
        aside_into[d.source] = io::JoinPath(target, file->file);
      } else if (flags.only.empty() ||
                 (file != nullptr && file->file.starts_with(flags.only + "/"))) {
        // Under --only, only when the part asked for held it: it is not among its files.
        out.Info(AsideNote(d));
      }
    }
  }
  const bool with_db =
      !aside_into.empty() || !flags.database.empty() ||
      (flags.only.empty() && has_db && (flags.target.empty() || !ctx.global.database_url.empty()));
  // The databases restored: under --target the SQLite files put aside, or the one
  // --database(-url) names (there is one); in place, every one.
  std::vector<config::DatabaseRef> db_sources;
  if (with_db) {
    for (const config::DatabaseRef& d : streams) {
      if (!database_aside || aside_into.contains(d.source)) db_sources.push_back(d);
    }
  }
  // Where each goes: its file put aside, what --database names, or "" (the configured one).
  auto into = [&](const config::DatabaseRef& d) {
    auto it = aside_into.find(d.source);
    return it != aside_into.end() ? it->second : flags.database;
  };
  for (const config::DatabaseRef& d : db_sources) VELIN_TRY(need_database(d));
  // --database asks for the database: a backup without one, or whose dump failed, is refused
  // before any question about replacing it and before any file is written.
  if (!flags.database.empty()) {
    if (!has_db) return UsageError(TrFormat("backup {} holds no database", id));
    VELIN_TRY(
        CheckDumpUsable(snapshot, db_sources.empty() ? kDatabaseStream : db_sources[0].source));
  }
  // What the restore replaces of each database, for the one question before it starts.
  auto replaced_by_restore = [&]() -> Result<std::optional<std::string>> {
    std::optional<std::string> all;
    for (const config::DatabaseRef& d : db_sources) {
      VELIN_ASSIGN(std::optional<std::string> one, ReplacedByRestore(ctx, into(d), d.source));
      if (one) all = all ? *all + ", " + *one : *one;
    }
    return all;
  };
  bool db_confirmed = false;  // the in-place question named the database too
  backup::RestoreOptions options;
  options.only = flags.only;
  options.include = flags.include;
  options.exclude = flags.exclude;
  options.restore_owner = ::geteuid() == 0;
  // A copy of a database's own files among the backup's files (a backup made before 2026-12-07,
  // or whose dump failed under --continue-on-error) was read while the application wrote: with a
  // usable dump it is left out (in place it would be written over the live database), unless
  // --only or an --include names one of those files exactly; without one it is the only copy,
  // written with a warning (docs/databases.md#sqlite).
  for (const SqliteInApp& db : sqlite_in_app) {
    options.database_files.insert(db.own_files.begin(), db.own_files.end());
    if (db.LeftOut()) {
      options.leave_out_database_files = true;
    } else {
      options.kept_database_files.insert(db.own_files.begin(), db.own_files.end());
    }
  }
  if (flags.target.empty()) {
    options.target = cfg->app.root;
    options.in_place = true;
    // One question for everything the restore overwrites: the files and, when the backup holds
    // one, the database it replaces (the configured one, or what --database names when that
    // holds data).
    std::string question = TrFormat("Restore backup {} in place into {}, overwriting files there?",
                                    id, options.target);
    std::optional<std::string> replaced;
    if (with_db && !ctx.global.yes) {
      VELIN_ASSIGN(replaced, replaced_by_restore());
    }
    if (replaced) {
      question = TrFormat(
          "Restore backup {} in place into {}, overwriting files there, and replace {} with the "
          "one in the backup?",
          id, options.target, *replaced);
    }
    VELIN_ASSIGN(bool yes, ctx.Confirm(question));
    if (!yes) return CancelledError(std::string(Tr("restore cancelled; nothing was changed")));
    db_confirmed = true;
  } else {
    VELIN_ASSIGN(options.target, FromCurrentDirectory(flags.target));
    // The files go somewhere new; the database they come with may replace one that holds data:
    // asked before anything is written.
    if (with_db && !ctx.global.yes) {
      VELIN_ASSIGN(std::optional<std::string> replaced, replaced_by_restore());
      if (replaced) {
        VELIN_ASSIGN(bool yes, ctx.Confirm(TrFormat("Replace {} with the one from backup {}?",
                                                    *replaced, snapshot.id)));
        if (!yes) return CancelledError(std::string(Tr("restore cancelled; nothing was changed")));
      }
    }
    db_confirmed = true;
  }
  // An SQLite file named by --database-url on a new machine, or put aside under --target: its
  // directory may not exist yet (made once the restore is confirmed).
  if (with_db && !ctx.global.database_url.empty() && cfg->database.driver == "sqlite") {
    VELIN_TRY(io::CreateDirs(ctx.env(), io::Dirname(cfg->database.path)));
  }
  for (const auto& [source, file] : aside_into) {
    VELIN_TRY(io::CreateDirs(ctx.env(), io::Dirname(file)));
  }
  // Confirmed: from here a signal stops the restore at its next file (core/termination.hpp).
  TerminationCancel cancel(RestoreStopNotice());
  out.Begin(output::Icon::kRestore, TrFormat("Restoring backup {}...", id));
  VELIN_ASSIGN(backup::RestoreStats st,
               backup::RestoreSnapshot(*r.repo, snapshot, ctx.env(), out, options));
  for (const SqliteInApp& db : sqlite_in_app) {
    const bool from_dump =
        std::any_of(db_sources.begin(), db_sources.end(),
                    [&](const config::DatabaseRef& d) { return d.source == db.source; });
    NoteDatabaseFiles(out, db, st.database_files, from_dump, !flags.target.empty());
  }
  std::vector<std::string> restored_databases;
  for (const config::DatabaseRef& d : db_sources) {
    VELIN_TRY(RestoreDatabase(ctx, *r.repo, snapshot, into(d), db_confirmed, d.source));
    restored_databases.push_back(d.source);
  }
  // Symlinks or fifos the target has no room for: the rest (and the database) is restored, the
  // restore still fails, saying what is missing.
  VELIN_TRY(backup::RefusedEntriesError(st));
  if (out.json()) {
    nlohmann::json doc{{"id", id},
                       {"target", options.target},
                       {"files", st.files},
                       {"dirs", st.dirs},
                       {"symlinks", st.symlinks},
                       {"hardlinks", st.hardlinks},
                       {"specials", st.specials},
                       {"xattrs", st.xattrs},
                       {"xattrs_refused", st.xattrs_refused},
                       {"hardlinks_copied", st.hardlinks_copied},
                       {"bytes", st.bytes}};
    if (aside_into.contains(kDatabaseStream)) {
      doc["database"] = aside_into[kDatabaseStream];  // the file put aside
    }
    doc["databases"] = restored_databases;
    out.Json(doc);
    return Ok();
  }
  const uint64_t restored = st.files + st.hardlinks + st.specials;
  out.Done(TrCount(restored, "Restored {} file ({}) into {}", "Restored {} files ({}) into {}",
                   restored, output::FormatBytes(st.bytes), options.target));
  return Ok();
}

}  // namespace

void RegisterBackupRestore(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<RestoreFlags>();
  CLI::App* cmd = AddCommand(group, "restore", "Restore a backup (latest, an ID or a prefix)");
  cmd->add_option("id", flags->id, "Backup ID, unique prefix, or 'latest'")->required();
  cmd->add_option("--target", flags->target, "Restore under this directory instead of in place");
  cmd->add_option("--only", flags->only,
                  "Restore only this path (relative to app.root), or 'db' for the database "
                  "('db:NAME' for [databases.NAME])");
  cmd->add_option("--include", flags->include,
                  "Restore only paths matching GLOB (relative to app.root; repeatable) and what "
                  "is below them")
      ->option_text("GLOB");
  cmd->add_option("--exclude", flags->exclude,
                  "Leave out paths matching GLOB and what is below them (repeatable; wins over "
                  "--include)")
      ->option_text("GLOB");
  cmd->add_option("--database-url", ctx.global.database_url,
                  "Restore the database into the one this URL names instead of [database] "
                  "(postgres://USER@HOST[:PORT]/NAME, mysql://…, sqlite:PATH; no password: "
                  "PGPASSWORD, ~/.pgpass, ~/.my.cnf)")
      ->option_text("URL");
  cmd->add_option("--database", flags->database,
                  "Restore the database into this database (created if missing; SQLite: a file) "
                  "instead of the configured one");
  AddRepoFlags(cmd, flags->repo);
  AddNoLockFlag(cmd, flags->repo);
  AddSelectFlags(cmd, flags->select, true);
  cmd->callback([&ctx, flags] {
    ctx.Execute([&ctx, flags]() -> Status {
      Status st = RunRestore(ctx, *flags);
      if (!st && Interrupted()) return RestoreInterrupted();
      return st;
    });
  });
}

}  // namespace velin::cli
