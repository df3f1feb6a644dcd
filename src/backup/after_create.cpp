#include "velin/backup/after_create.hpp"

#include <algorithm>
#include <optional>

#include "velin/backup/forget.hpp"
#include "velin/core/i18n.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/remote_url.hpp"

namespace velin::backup {
namespace {

// Backups whose copy to backup.offsite has not gone through: one object each in the source
// repository, "state/offsite-pending/<id>", holding the offsite location it is due at (as velin
// shows it). Written before the copy starts and removed once the copy went through, so a copy
// that fails (or a create killed during it) leaves it for the next create, which copies it too.
// An object per backup, never one list: two creates at once cannot lose each other's.
constexpr std::string_view kPendingPrefix = "state/offsite-pending/";

std::string PendingObject(const std::string& id) { return std::string(kPendingPrefix) + id; }

// `to` as notes compare it: "s3://b/p/", "sftp://h//srv/off" and "/srv/off/" name the same
// repositories as "s3://b/p", "sftp://h/srv/off" and "/srv/off". SameOffsite compares with it.
std::string OffsiteKey(const std::string& to) {
  const size_t scheme = to.find("://");
  if (scheme == std::string::npos) return io::CleanPath(to);
  const size_t path = to.find('/', scheme + 3);
  if (path == std::string::npos) return to;
  const std::string clean = io::CleanPath(to.substr(path));
  return to.substr(0, path) + (clean == "/" ? "" : clean);
}

// Whether the locations `a` and `b` (as velin shows them) are one. URLs velin can open are
// also compared as it opens them, decoded: "s3://b/my%20repo" is the prefix "my repo" of
// "s3://b/my repo" (compared as text, an offsite that was the destination passed as another).
// Only compared, never stored: a note keeps the offsite's text (kPendingPrefix).
bool SameOffsite(const std::string& a, const std::string& b) {
  if (OffsiteKey(a) == OffsiteKey(b)) return true;
  if (a.find("://") == std::string::npos || b.find("://") == std::string::npos) return false;
  auto url_a = storage::ParseRemoteUrl(a);
  auto url_b = storage::ParseRemoteUrl(b);
  return url_a && url_b && storage::SameRemoteLocation(*url_a, *url_b);
}

// `path`'s deepest directory that exists (stat following symlinks) and the names below it.
struct AnchoredPath {
  std::optional<io::FileInfo> dir;
  std::string rest;
};
AnchoredPath Anchor(io::Env& env, std::string path) {
  AnchoredPath out;
  for (;;) {
    if (auto info = env.Stat(path + "/."); info && info->type == io::FileType::kDirectory) {
      out.dir = *info;
      return out;
    }
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos || path == "/") return out;
    out.rest = path.substr(slash + 1) + (out.rest.empty() ? "" : "/" + out.rest);
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
}

// The backups noted as due at record.to other than `resolved`, copied from `from` to `to`
// oldest first (record.caught_up); one forgotten in `from` meanwhile is dropped from the notes.
// The first that fails ends it: its error, naming the backup and the command to copy it.
Status CatchUp(const AfterCreateOptions& options, const std::string& resolved,
               OpenedRepository& from, repo::Repository& to, io::Env& env, Reporter& reporter,
               OffsiteCopy& record) {
  storage::Backend& source = *from.backend;
  VELIN_ASSIGN(std::vector<storage::ObjectInfo> pending, source.List(std::string(kPendingPrefix)));
  if (pending.empty()) return Ok();
  VELIN_ASSIGN(std::vector<std::string> ids, from.repo->ListSnapshotIds());
  std::sort(pending.begin(), pending.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const storage::ObjectInfo& o : pending) {
    const std::string earlier = o.name.substr(kPendingPrefix.size());
    if (earlier == resolved) continue;
    if (!std::binary_search(ids.begin(), ids.end(), earlier)) {
      VELIN_TRY(source.Delete(o.name));  // forgotten before it could be caught up
      continue;
    }
    auto due_at = source.Get(o.name);
    if (!due_at && storage::IsNotFound(due_at.error())) continue;  // another create copied it
    if (!due_at) return tl::unexpected(due_at.error());
    if (!SameOffsite(*due_at, record.to)) {
      // Due at another offsite (backup.offsite changed): said at every create until it is
      // copied there by hand or forgotten, never dropped without a word.
      reporter.Warn(TrFormat(
          "backup {} is still due at the earlier offsite {} (backup.offsite is now {}): copy "
          "it with velin backup copy {} --to {}, or remove {} from {}",
          earlier, *due_at, record.to, earlier, *due_at, o.name, source.Location()));
      continue;
    }
    auto copied = CopySnapshots(*from.repo, to, {earlier}, options.offsite_writer, env, reporter);
    if (!copied) {
      Error e = copied.error();
      e.message = TrFormat("backup {}: {} (copy it by hand: velin backup copy {} --to {})", earlier,
                           e.message, earlier, record.to);
      return tl::unexpected(std::move(e));
    }
    VELIN_TRY(source.Delete(o.name));
    record.caught_up.push_back(earlier);
  }
  return Ok();
}

// The copy of `id`, as `backup copy ID --to …` makes it: the source opened anew, the id
// resolved there, the destination opened (or created with the source's keys) and checked; then
// CatchUp, whose failure is record.error with the new backup's copy standing.
Result<CopyStats> CopyOne(const AfterCreateOptions& options, const std::string& id,
                          AfterCreateRepos& repos, io::Env& env, Reporter& reporter,
                          OffsiteCopy& record) {
  VELIN_ASSIGN(OpenedRepository from, repos.OpenSource());
  VELIN_ASSIGN(std::string resolved,
               from.repo->ResolveSnapshotId(id, repo::SnapshotFilter{true, "", ""}));
  storage::Backend& source = *from.backend;
  // Noted already when create committed it (NoteDueOffsite); else (that note failed) now.
  const auto noted_at_commit = source.Stat(PendingObject(resolved));
  if (!noted_at_commit || !noted_at_commit->has_value()) {
    if (Status noted = source.Put(PendingObject(resolved), record.to); !noted) {
      reporter.Warn(TrFormat("cannot note in {} that backup {} is due offsite: {}",
                             source.Location(), resolved, noted.error().message));
    }
  }
  VELIN_ASSIGN(OpenedRepository to, repos.OpenCopyDestination(options.offsite, source));
  VELIN_TRY(CheckCopyKeys(*from.repo, *to.repo));
  VELIN_ASSIGN(CopyStats stats, CopySnapshots(*from.repo, *to.repo, {resolved},
                                              options.offsite_writer, env, reporter));
  // Left behind, the note only makes the next create find the backup offsite already.
  if (Status done = source.Delete(PendingObject(resolved)); !done) {
    reporter.Warn(TrFormat("cannot remove {} from {}: {}", PendingObject(resolved),
                           source.Location(), done.error().message));
  }
  if (Status caught = CatchUp(options, resolved, from, *to.repo, env, reporter, record); !caught) {
    record.error = caught.error().Wrap(
        TrFormat("backup {} was copied offsite to {}, but catching up earlier backups whose "
                 "offsite copy had failed did not work",
                 resolved, record.to));
  }
  return stats;
}

// True when forget would delete nothing in `repository` (read without a lock): every snapshot
// read, and the rules keep them all. Any doubt (a failed read) is false.
bool NothingDue(const AfterCreateOptions& options, const std::string& created,
                repo::Repository& repository, io::Env& env) {
  NullReporter quiet;
  auto due =
      ForgetSnapshots(repository, options.rules, env.Now(), true, options.mine, quiet, created);
  if (!due || !due->unreadable.empty()) return false;
  for (const ForgetGroup& g : due->groups) {
    for (const RetentionDecision& d : g.decisions) {
      if (!d.keep) return false;
    }
  }
  return true;
}

Result<Maintenance> ForgetAndPrune(const AfterCreateOptions& options, const std::string& created,
                                   AfterCreateRepos& repos, io::Env& env, Reporter& reporter) {
  if (repo::Repository* committed = repos.Committed();
      committed != nullptr && NothingDue(options, created, *committed, env)) {
    return Maintenance{};
  }
  VELIN_ASSIGN(OpenedRepository r, repos.OpenExclusive());
  VELIN_ASSIGN(ForgetResult forgot, ForgetSnapshots(*r.repo, options.rules, env.Now(), false,
                                                    options.mine, reporter, created));
  Maintenance m;
  m.forgotten = forgot.forgotten;
  if (m.forgotten == 0) return m;
  VELIN_TRY(r.repo->LoadIndex());
  VELIN_ASSIGN(PruneResult pruned, Prune(*r.repo, env, options.prune, reporter));
  m.prune = pruned;
  return m;
}

}  // namespace

Status NoteDueOffsite(const AfterCreateOptions& options, storage::Backend& source,
                      const std::string& id) {
  return source.Put(PendingObject(id), storage::WithoutPassword(options.offsite));
}

bool SameRepositoryLocation(io::Env& env, const std::string& a, const std::string& b) {
  const bool url_a = a.find("://") != std::string::npos;
  const bool url_b = b.find("://") != std::string::npos;
  if (url_a || url_b) {
    return url_a == url_b && SameOffsite(storage::WithoutPassword(a), storage::WithoutPassword(b));
  }
  const std::string clean_a = io::CleanPath(a);
  const std::string clean_b = io::CleanPath(b);
  if (clean_a == clean_b) return true;
  const AnchoredPath at_a = Anchor(env, clean_a);
  const AnchoredPath at_b = Anchor(env, clean_b);
  return at_a.dir && at_b.dir && io::SameFile(*at_a.dir, *at_b.dir) && at_a.rest == at_b.rest;
}

AfterCreateResult CopyOffsite(const AfterCreateOptions& options, const std::string& id,
                              const Error* database_failure, AfterCreateRepos& repos, io::Env& env,
                              Reporter& reporter) {
  AfterCreateResult result;
  result.created = id;
  result.offsite.to = storage::WithoutPassword(options.offsite);  // as velin may show it
  if (!options.offsite.empty()) {
    auto copied = CopyOne(options, id, repos, env, reporter, result.offsite);
    if (copied) {
      result.offsite.copied = *copied;
    } else {
      Error e = copied.error().Wrap(TrFormat(
          "backup {} was created, but the offsite copy to {} failed", id, result.offsite.to));
      e.message = TrFormat("{} (the next create copies it, or now: velin backup copy {} --to {})",
                           e.message, id, result.offsite.to);
      result.offsite.error = std::move(e);
    }
    // Whatever stopped the copy: the local backup is complete.
    if (result.offsite.error) result.offsite.error->code = ExitCode::kFailed;
  }
  if (database_failure != nullptr) {
    result.outcome = Failure(
        TrFormat("backup {} was created without the database: {}", id, database_failure->message));
  } else if (result.offsite.error) {
    result.outcome = tl::unexpected(*result.offsite.error);
  }
  result.maintain = options.prune_after_create && result.outcome.has_value();
  return result;
}

void MaintainAfterCreate(const AfterCreateOptions& options, AfterCreateRepos& repos, io::Env& env,
                         Reporter& reporter, AfterCreateResult& result) {
  // Deploy transactions' backups beyond keep_transaction_backups go also when no other rule is
  // set (docs/rollback.md, "Retention"); with no rule at all nothing is due.
  if (!result.maintain || (options.rules.Empty() && options.rules.keep_transaction_backups <= 0)) {
    return;
  }
  auto done = ForgetAndPrune(options, result.created, repos, env, reporter);
  if (done) {
    result.maintenance = std::move(*done);
    return;
  }
  reporter.Warn(
      TrFormat("the backup stands, but forget/prune after it failed: {}", done.error().message));
  Maintenance failed;
  failed.error = done.error();
  result.maintenance = std::move(failed);
}

}  // namespace velin::backup
