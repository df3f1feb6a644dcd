// velin backup list [--host NAME] [--app NAME] [--all]: this host's and app's backups (or the
// chosen ones) with their host, app, time, strategy, sources, files and sizes.
#include <fmt/format.h>

#include <algorithm>

#include "backup_common.hpp"
#include "velin/backup/forget.hpp"
#include "velin/core/i18n.hpp"

namespace velin::cli {

namespace {

struct ListFlags {
  RepoFlags repo;
  SelectFlags select;
};

nlohmann::json NullIfEmpty(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

Status RunList(Context& ctx, const ListFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(repo::SnapshotFilter filter, FilterOf(*cfg, flags.select));
  VELIN_ASSIGN(OpenRepo r,
               OpenRepository(ctx, flags.repo, repo::LockKind::kShared, false, IndexUse::kNone));
  std::vector<repo::ObjectDamage> damage;
  std::vector<std::string> foreign;
  VELIN_ASSIGN(auto all, r.repo->LoadAllSnapshots(&damage, &foreign));
  std::vector<repo::Snapshot> snapshots;
  for (auto& s : all) {
    if (filter.Matches(s)) snapshots.push_back(std::move(s));
  }
  // Oldest first by start time, not by id text ("…-incr" sorts after a newer "…-full-2"); equal
  // times by the id's numeric suffix, as forget and `latest` order them.
  std::stable_sort(snapshots.begin(), snapshots.end(),
                   [](const auto& a, const auto& b) { return repo::SnapshotNewer(b, a); });
  const size_t others = all.size() - snapshots.size();
  // The deploy transaction that took each backup and its version ("" when none did).
  std::vector<std::pair<std::string, std::string>> transactions;
  for (const auto& s : snapshots) {
    transactions.emplace_back(backup::TransactionOf(s), backup::TransactionVersionOf(s));
  }
  output::Console& out = ctx.out();
  // "snapshot ID: why": the message names the backup (the object's name would say it twice).
  for (const auto& d : damage) out.Warn(d.message);
  for (const auto& name : foreign) out.Warn(repo::ForeignSnapshotObjectWarning(name));
  if (out.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (size_t i = 0; i < snapshots.size(); ++i) {
      const repo::Snapshot& s = snapshots[i];
      nlohmann::json sources = nlohmann::json::array();
      nlohmann::json streams = nlohmann::json::object();  // e.g. "db": the database's metadata
      for (const auto& src : s.sources) {
        sources.push_back(src.name);
        if (src.kind == repo::SourceKind::kStream) streams[src.name] = src.metadata;
      }
      list.push_back({{"id", s.id},
                      {"time", output::FormatUtcTime(s.unix_time)},
                      {"strategy", std::string(repo::StrategyName(s.strategy))},
                      {"parent", s.parent},
                      {"host", s.host},
                      {"app", s.app},
                      {"sources", sources},
                      {"streams", streams},
                      {"files", s.stats.files},
                      {"size", s.stats.bytes},
                      {"added_size", s.stats.bytes_added},
                      {"files_changed", s.stats.files_changed},
                      {"files_vanished", s.stats.files_vanished},
                      {"transaction", NullIfEmpty(transactions[i].first)},
                      {"version", NullIfEmpty(transactions[i].second)}});
    }
    out.Json({{"backups", list},
              {"host", filter.all || filter.any_host ? nlohmann::json(nullptr)
                                                     : nlohmann::json(filter.host)},
              {"app",
               filter.all || filter.any_app ? nlohmann::json(nullptr) : nlohmann::json(filter.app)},
              {"other_backups", others}});
    return Ok();
  }
  // Backups of other hosts and apps are not shown; say so, so none seems lost.
  auto hint = [&] {
    if (others > 0) {
      out.Info(
          TrFormat("{} backup(s) of other hosts or apps not shown (--all shows them)", others));
    }
  };
  if (snapshots.empty()) {
    out.Info(Tr("No backups yet"));
    hint();
    return Ok();
  }
  out.Begin(output::Icon::kList, Tr("Backups:"));
  // The Transaction column only when a deploy transaction took a backup (docs/rollback.md#data).
  const bool any_transaction = std::any_of(transactions.begin(), transactions.end(),
                                           [](const auto& t) { return !t.first.empty(); });
  std::string header = fmt::format("  {:<26} {:<20} {:<12} {:<12} {:<12} {:>8} {:>10} {:>10}  {}",
                                   Tr("ID"), Tr("Time"), Tr("Host"), Tr("App"), Tr("Strategy"),
                                   Tr("Files"), Tr("Size"), Tr("Added"), Tr("Sources"));
  if (any_transaction) header += fmt::format("  {}", Tr("Transaction (version)"));
  out.Line(NoTr(header));
  for (size_t i = 0; i < snapshots.size(); ++i) {
    const repo::Snapshot& s = snapshots[i];
    std::string sources;
    for (const auto& src : s.sources) sources += (sources.empty() ? "" : ", ") + src.name;
    std::string line = fmt::format("  {:<26} {:<20} {:<12} {:<12} {:<12} {:>8} {:>10} {:>10}  {}",
                                   s.id, output::FormatLocalTime(s.unix_time), s.host,
                                   s.app.empty() ? "-" : s.app, Tr(repo::StrategyName(s.strategy)),
                                   s.stats.files, output::FormatBytes(s.stats.bytes),
                                   output::FormatBytes(s.stats.bytes_added), sources);
    if (const auto& [txn, version] = transactions[i]; !txn.empty()) {
      line += fmt::format("  {} ({})", txn, version);
    }
    out.Line(NoTr(line));
  }
  hint();
  return Ok();
}

}  // namespace

void RegisterBackupList(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<ListFlags>();
  CLI::App* cmd = AddCommand(group, "list", "List the backups in the repository");
  AddRepoFlags(cmd, flags->repo);
  AddNoLockFlag(cmd, flags->repo);
  AddSelectFlags(cmd, flags->select, true);
  cmd->callback([&ctx, flags] { ctx.Execute([&ctx, flags] { return RunList(ctx, *flags); }); });
}

}  // namespace velin::cli
