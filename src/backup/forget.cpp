#include "velin/backup/forget.hpp"

#include <algorithm>

#include "velin/core/i18n.hpp"

namespace velin::backup {
namespace {

std::string StreamTag(const repo::Snapshot& snapshot, const char* key) {
  for (const auto& src : snapshot.sources) {
    if (src.kind != "stream" || !src.metadata.is_object()) continue;
    auto it = src.metadata.find(key);
    if (it != src.metadata.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

// Deploy transactions' backups: the newest `keep` stay (newest first, like ApplyRetention).
std::vector<RetentionDecision> KeepLastTransactions(std::vector<SnapshotTime> times, int keep) {
  std::sort(times.begin(), times.end(), [](const SnapshotTime& a, const SnapshotTime& b) {
    return a.time != b.time ? a.time > b.time : a.id > b.id;
  });
  std::vector<RetentionDecision> out;
  for (size_t i = 0; i < times.size(); ++i) {
    RetentionDecision d{times[i].id, times[i].time, static_cast<long>(i) < keep, {}};
    if (d.keep) d.reasons.push_back(KeepReason::kTransaction);
    out.push_back(std::move(d));
  }
  return out;
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
                                     Reporter& reporter) {
  ForgetResult result;
  VELIN_ASSIGN(auto snapshots, repository.LoadAllSnapshots(&result.unreadable));
  for (const auto& d : result.unreadable) {
    reporter.Warn(TrFormat("{}: {} (left alone)", d.object, d.message));
  }
  std::vector<SnapshotTime> times;
  std::vector<SnapshotTime> transaction_times;  // their own group (keep_transaction_backups)
  times.reserve(snapshots.size());
  for (const auto& s : snapshots) {
    SnapshotTime t{s.id, std::chrono::system_clock::time_point(std::chrono::seconds(s.unix_time))};
    const bool own_group = rules.keep_transaction_backups > 0 && !TransactionOf(s).empty();
    (own_group ? transaction_times : times).push_back(std::move(t));
  }
  result.decisions = ApplyRetention(std::move(times), rules, now);
  if (!transaction_times.empty()) {
    auto txn = KeepLastTransactions(std::move(transaction_times), rules.keep_transaction_backups);
    result.decisions.insert(result.decisions.end(), txn.begin(), txn.end());
    std::stable_sort(result.decisions.begin(), result.decisions.end(),
                     [](const RetentionDecision& a, const RetentionDecision& b) {
                       return a.time != b.time ? a.time > b.time : a.id > b.id;
                     });
  }
  if (dry_run) return result;
  // Oldest first: an interrupted forget has removed the least valuable snapshots.
  for (auto it = result.decisions.rbegin(); it != result.decisions.rend(); ++it) {
    if (it->keep) continue;
    auto deleted = repository.backend().Delete(repo::SnapshotObjectName(it->id));
    if (!deleted) {
      return tl::unexpected(deleted.error().Wrap(TrFormat("forgetting backup {}", it->id)));
    }
    ++result.forgotten;
  }
  return result;
}

}  // namespace velin::backup
