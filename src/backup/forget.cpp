#include "velin/backup/forget.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "velin/core/i18n.hpp"

namespace velin::backup {

Result<ForgetResult> ForgetSnapshots(repo::Repository& repository, const RetentionRules& rules,
                                     std::chrono::system_clock::time_point now, bool dry_run,
                                     const repo::SnapshotFilter& filter, Reporter& reporter) {
  ForgetResult result;
  VELIN_ASSIGN(auto snapshots, repository.LoadAllSnapshots(&result.unreadable));
  for (const auto& d : result.unreadable) {
    reporter.Warn(TrFormat("{}: {} (left alone)", d.object, d.message));
  }
  using Key = std::tuple<std::string, std::string, std::vector<std::string>>;
  std::map<Key, std::vector<SnapshotTime>> groups;
  for (const auto& s : snapshots) {
    if (!filter.Matches(s)) continue;
    std::vector<std::string> sources;
    for (const auto& src : s.sources) sources.push_back(src.name);
    std::sort(sources.begin(), sources.end());
    groups[Key{s.host, s.app, std::move(sources)}].push_back(
        {s.id, std::chrono::system_clock::time_point(std::chrono::seconds(s.unix_time))});
  }
  for (auto& [key, times] : groups) {
    ForgetGroup g;
    std::tie(g.host, g.app, g.sources) = key;
    g.decisions = ApplyRetention(std::move(times), rules, now);
    result.groups.push_back(std::move(g));
  }
  if (dry_run) return result;
  // Oldest first: an interrupted forget has removed the least valuable snapshots.
  for (const ForgetGroup& g : result.groups) {
    for (auto it = g.decisions.rbegin(); it != g.decisions.rend(); ++it) {
      if (it->keep) continue;
      auto deleted = repository.backend().Delete(repo::SnapshotObjectName(it->id));
      if (!deleted) {
        return tl::unexpected(deleted.error().Wrap(TrFormat("forgetting backup {}", it->id)));
      }
      ++result.forgotten;
    }
  }
  return result;
}

}  // namespace velin::backup
