// velin backup find PATTERN [--all]: which backups hold a path matching a glob, newest first
// (docs/cli.md, "backup find").
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "backup_inspect.hpp"
#include "velin/backup/inspect.hpp"
#include "velin/core/i18n.hpp"
#include "velin/output/console.hpp"

namespace velin::cli {

namespace {

struct FindFlags {
  RepoFlags repo;
  SelectFlags select;
  std::string pattern;
};

// A search that left backups out answers only for the others: exit 4, after what it found.
Status NotSearched(const std::vector<std::string>& unreadable) {
  if (unreadable.empty()) return Ok();
  return DamageError(TrFormat(
      "{} backup(s) could not be read and were not searched: {} (run `velin backup verify --all`)",
      unreadable.size(), fmt::format("{}", fmt::join(unreadable, "; "))));
}

Status RunFind(Context& ctx, const FindFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(repo::SnapshotFilter filter, FilterOf(*cfg, flags.select));
  if (flags.pattern.empty()) return UsageError(std::string(Tr("the pattern is empty")));
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, repo::LockKind::kShared, false));
  std::vector<repo::ObjectDamage> damage;
  VELIN_ASSIGN(auto all, r.repo->LoadAllSnapshots(&damage));
  std::vector<repo::Snapshot> snapshots;
  for (auto& s : all) {
    if (filter.Matches(s)) snapshots.push_back(std::move(s));
  }
  std::sort(snapshots.begin(), snapshots.end(),
            [](const auto& a, const auto& b) { return repo::SnapshotNewer(a, b); });
  output::Console& out = ctx.out();
  // Whose host and app an unreadable backup is, nobody knows: it may hold matches. The error
  // line at the end names each.
  const std::vector<std::string> unreadable = UnreadableBackups(damage);
  VELIN_ASSIGN(auto matches, backup::FindInBackups(*r.repo, snapshots, flags.pattern));
  std::set<std::string> backups;
  for (const auto& m : matches) backups.insert(m.backup);
  if (out.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& m : matches) {
      nlohmann::json j = {
          {"id", m.backup}, {"time", m.time}, {"path", m.path}, {"type", m.type}, {"size", m.size}};
      j["mtime"] =
          m.type == "stream" ? nlohmann::json(nullptr) : nlohmann::json(UtcTime(m.mtime_ns));
      list.push_back(std::move(j));
    }
    out.Json({{"pattern", flags.pattern},
              {"matches", list},
              {"backups_searched", snapshots.size()},
              {"backups_matched", backups.size()},
              {"damaged", unreadable}});
    return NotSearched(unreadable);
  }
  if (matches.empty()) {
    out.Info(TrFormat("No path matches '{}' in {} backup(s) of {}", flags.pattern, snapshots.size(),
                      filter.Describe()));
    return NotSearched(unreadable);
  }
  std::map<std::string, int64_t> times;  // human output shows local time (docs/cli.md, "Times")
  for (const auto& s : snapshots) times[s.id] = s.unix_time;
  std::string current;
  for (const auto& m : matches) {
    if (m.backup != current) {
      current = m.backup;
      out.Line(TrFormat("Backup {} ({}):", m.backup, output::FormatLocalTime(times[m.backup])));
    }
    std::string type = m.type == "file" ? "" : fmt::format(" [{}]", m.type);
    out.Line(NoTr(fmt::format("  {}{}  {}", ShownPath(m.path), type, output::FormatBytes(m.size))));
  }
  out.Info(TrFormat("{} match(es) in {} of {} backup(s)", matches.size(), backups.size(),
                    snapshots.size()));
  return NotSearched(unreadable);
}

}  // namespace

void RegisterBackupFind(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<FindFlags>();
  CLI::App* cmd = AddCommand(group, "find", "Find the backups that hold a path matching a glob");
  cmd->add_option("pattern", flags->pattern,
                  "A glob (* ? [..]): against the file name, or the whole path (relative to "
                  "app.root) when it contains '/'")
      ->required()
      ->type_name("PATTERN");
  AddRepoFlags(cmd, flags->repo);
  AddNoLockFlag(cmd, flags->repo);
  AddSelectFlags(cmd, flags->select, true);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunFind(ctx, *flags); }); });
}

}  // namespace velin::cli
