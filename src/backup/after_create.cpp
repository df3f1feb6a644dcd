#include "velin/backup/after_create.hpp"

#include "velin/backup/forget.hpp"
#include "velin/core/i18n.hpp"
#include "velin/storage/remote_url.hpp"

namespace velin::backup {
namespace {

// The copy of one snapshot, as `backup copy ID --to` makes it: the source opened anew, the id
// resolved there, the destination opened (or created with the source's keys) and checked.
Result<CopyStats> CopyOne(const AfterCreateOptions& options, const std::string& id,
                          AfterCreateRepos& repos, io::Env& env, Reporter& reporter) {
  VELIN_ASSIGN(OpenedRepository from, repos.OpenSource());
  VELIN_ASSIGN(std::string resolved,
               from.repo->ResolveSnapshotId(id, repo::SnapshotFilter{true, "", ""}));
  VELIN_ASSIGN(OpenedRepository to, repos.OpenCopyDestination(options.offsite, *from.backend));
  VELIN_TRY(CheckCopyKeys(*from.repo, *to.repo));
  return CopySnapshots(*from.repo, *to.repo, {resolved}, options.offsite_writer, env, reporter);
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

AfterCreateResult CopyOffsite(const AfterCreateOptions& options, const std::string& id,
                              const Error* database_failure, AfterCreateRepos& repos, io::Env& env,
                              Reporter& reporter) {
  AfterCreateResult result;
  result.created = id;
  result.offsite.to = storage::WithoutPassword(options.offsite);  // as velin may show it
  if (!options.offsite.empty()) {
    auto copied = CopyOne(options, id, repos, env, reporter);
    if (copied) {
      result.offsite.copied = *copied;
    } else {
      Error e = copied.error().Wrap(TrFormat(
          "backup {} was created, but the offsite copy to {} failed", id, result.offsite.to));
      e.code = ExitCode::kFailed;  // whatever stopped the copy: the local backup is complete
      result.offsite.error = std::move(e);
    }
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
