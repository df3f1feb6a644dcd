#include "velin/backup/forget.hpp"

#include "velin/core/i18n.hpp"

namespace velin::backup {

Result<ForgetResult> ForgetSnapshots(repo::Repository& repository, const RetentionRules& rules,
                                     std::chrono::system_clock::time_point now, bool dry_run,
                                     Reporter& reporter) {
  ForgetResult result;
  VELIN_ASSIGN(auto snapshots, repository.LoadAllSnapshots(&result.unreadable));
  for (const auto& d : result.unreadable) {
    reporter.Warn(TrFormat("{}: {} (left alone)", d.object, d.message));
  }
  std::vector<SnapshotTime> times;
  times.reserve(snapshots.size());
  for (const auto& s : snapshots) {
    times.push_back(
        {s.id, std::chrono::system_clock::time_point(std::chrono::seconds(s.unix_time))});
  }
  result.decisions = ApplyRetention(std::move(times), rules, now);
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
