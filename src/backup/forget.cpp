#include "velin/backup/forget.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"

namespace velin::backup {
namespace {

std::string StreamTag(const repo::Snapshot& snapshot, const char* key) {
  for (const auto& src : snapshot.sources) {
    if (src.kind != repo::SourceKind::kStream || !src.metadata.is_object()) continue;
    auto it = src.metadata.find(key);
    if (it != src.metadata.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

// False when a stream of `snapshot` is not usable: its dump failed under
// `backup create --continue-on-error` (metadata status "missing", docs/databases.md).
bool Complete(const repo::Snapshot& snapshot) {
  for (const auto& src : snapshot.sources) {
    if (src.kind != repo::SourceKind::kStream || !src.metadata.is_object()) continue;
    auto it = src.metadata.find("status");
    if (it != src.metadata.end() && !(it->is_string() && it->get<std::string>() == "ok")) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string TransactionOf(const repo::Snapshot& snapshot) {
  return StreamTag(snapshot, "transaction");
}

std::string TransactionVersionOf(const repo::Snapshot& snapshot) {
  return TransactionOf(snapshot).empty() ? "" : StreamTag(snapshot, "version");
}

Result<ForgetResult> ForgetSnapshots(repo::Repository& repository, const RetentionRules& rules,
                                     std::chrono::system_clock::time_point now, bool dry_run,
                                     const repo::SnapshotFilter& filter, Reporter& reporter,
                                     const std::string& spare) {
  ForgetResult result;
  VELIN_ASSIGN(auto snapshots, repository.LoadAllSnapshots(&result.unreadable));
  for (const auto& d : result.unreadable) {
    reporter.Warn(TrFormat("{} (left alone)", d.message));  // "snapshot ID: why (left alone)"
  }
  // A deploy transaction's backups (TransactionOf) form groups of their own, kept by
  // keep_transaction_backups; the normal rules never count or forget them.
  using Key = std::tuple<std::string, std::string, std::vector<std::string>, bool>;
  std::map<Key, std::vector<SnapshotTime>> groups;
  for (const auto& s : snapshots) {
    if (!filter.Matches(s)) continue;
    std::vector<std::string> sources;
    for (const auto& src : s.sources) sources.push_back(src.name);
    std::sort(sources.begin(), sources.end());
    const bool transaction = rules.keep_transaction_backups > 0 && !TransactionOf(s).empty();
    groups[Key{s.host, s.app, std::move(sources), transaction}].push_back(
        {s.id, repo::SnapshotStart(s), Complete(s)});
  }
  for (auto& [key, times] : groups) {
    ForgetGroup g;
    std::tie(g.host, g.app, g.sources, g.transactions) = key;
    g.decisions = g.transactions
                      ? KeepLastTransactions(std::move(times), rules.keep_transaction_backups, now)
                      : ApplyRetention(std::move(times), rules, now);
    for (RetentionDecision& d : g.decisions) {
      if (d.keep || spare.empty() || d.id != spare) continue;
      d.keep = true;
      d.reasons.push_back(KeepReason::kJustCreated);
    }
    result.groups.push_back(std::move(g));
  }
  if (dry_run) return result;
  // The removals are forget's commit: one whose lock was removed meanwhile (as stale, or by
  // `backup unlock`) stops before them, as every command does (docs/cli.md, "Backup").
  VELIN_TRY(repository.CheckCommitGuard());
  // Oldest first: an interrupted forget has removed the least valuable snapshots.
  for (const ForgetGroup& g : result.groups) {
    for (auto it = g.decisions.rbegin(); it != g.decisions.rend(); ++it) {
      if (it->keep) continue;
      VELIN_TRY(CheckInterrupted());  // asked to stop (core/termination.hpp): between two
      auto deleted = repository.backend().Delete(repo::SnapshotObjectName(it->id));
      if (!deleted) {
        return tl::unexpected(deleted.error().Wrap(TrFormat("forgetting backup {}", it->id)));
      }
      ++result.forgotten;
    }
  }
  // Durable before forget reports them gone: a prune after it (in this command or the next)
  // removes their data, which a backup brought back by a crash would then miss.
  VELIN_TRY(repository.backend().SyncDeletes());
  return result;
}

}  // namespace velin::backup
