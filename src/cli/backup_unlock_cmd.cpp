// velin backup unlock [--stale]: with --stale, removes the locks whose owner is gone (it ran in
// this process space — same host, machine, boot, pid namespace — and its process has ended),
// or that have not been refreshed for 30 minutes (by the storage's clock: its modification time
// of the lock against that of a probe object written now, repo::StorageClock; this is how locks of
// other machines, containers or boots, old-format and unreadable lock objects expire); without,
// every lock after a confirmation (--yes) — for a lock left by a crashed velin elsewhere.
#include <set>

#include "backup_common.hpp"
#include "velin/core/i18n.hpp"
#include "velin/output/console.hpp"

namespace velin::cli {
namespace {

struct UnlockFlags {
  RepoFlags repo;
  bool stale_only = false;
};

Status RunUnlock(Context& ctx, const UnlockFlags& flags) {
  VELIN_ASSIGN(OpenRepo r, OpenRepositoryUnlocked(ctx, flags.repo, false));
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(ctx.env().Now().time_since_epoch()).count();
  VELIN_ASSIGN(repo::LockListing listing,
               repo::ListLocks(ctx.env(), *r.backend, std::chrono::seconds(1800), now));
  const std::vector<repo::LockInfo>& locks = listing.locks;
  if (!listing.clock_error.empty()) ctx.out().Warn(repo::StorageClockUnread(listing.clock_error));
  std::vector<repo::LockInfo> doomed;
  for (const auto& l : locks) {
    if (!flags.stale_only || l.stale) doomed.push_back(l);
  }
  output::Console& out = ctx.out();
  if (!flags.stale_only && !doomed.empty()) {
    VELIN_ASSIGN(bool yes, ctx.Confirm(TrFormat("Remove all {} lock(s) of {}, including live ones?",
                                                doomed.size(), r.backend->Location())));
    if (!yes) return CancelledError(std::string(Tr("unlock cancelled; no lock removed")));
  }
  nlohmann::json removed = nlohmann::json::array();
  std::set<std::string> gone;           // the objects removed
  std::set<std::string> removed_locks;  // LockOfObject of each
  for (const auto& l : doomed) {
    for (const std::string& object : l.objects) {
      VELIN_TRY(r.backend->Delete(object));
      removed.push_back(object);
      gone.insert(object);
    }
    removed_locks.insert(repo::LockOfObject(l.name));
    if (!out.json() && !l.readable) {
      out.Info(TrFormat("Removed {} (an unreadable lock object)", l.name));
    } else if (!out.json()) {
      out.Info(
          TrFormat("Removed {} ({} lock by host {} pid {})", l.name, Tr(l.kind), l.host, l.pid));
    }
  }
  // A holder that refreshed its lock meanwhile wrote the lock's next object, which the listing
  // above did not show: left, the lock said to be removed stayed held. It goes too (its holder
  // then finds the one before gone, at its next refresh, and stops).
  for (int listing = 0; listing < 5 && !removed_locks.empty(); ++listing) {
    VELIN_ASSIGN(auto objects, r.backend->List("locks/"));
    bool more = false;
    for (const auto& o : objects) {
      if (gone.count(o.name) || !removed_locks.count(repo::LockOfObject(o.name))) continue;
      VELIN_TRY(r.backend->Delete(o.name));
      removed.push_back(o.name);
      gone.insert(o.name);
      more = true;
    }
    if (!more) break;
  }
  if (out.json()) {
    out.Json({{"removed", removed}, {"remaining", locks.size() - doomed.size()}});
  } else {
    out.Done(TrFormat("{} lock(s) removed, {} left", doomed.size(), locks.size() - doomed.size()));
  }
  return Ok();
}

}  // namespace

void RegisterBackupUnlock(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<UnlockFlags>();
  CLI::App* cmd = AddCommand(group, "unlock", "Remove stale (or all) repository locks");
  cmd->add_option("--destination", flags->repo.destination,
                  "Repository directory or URL (default: backup.destination)");
  cmd->add_flag("--stale", flags->stale_only,
                "Only locks whose owner is gone (its process ended on this machine, or not "
                "refreshed for 30 min)");
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunUnlock(ctx, *flags); }); });
}

}  // namespace velin::cli
