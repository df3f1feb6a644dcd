// velin backup forget [ID...] [--dry-run] [--host NAME] [--app NAME] [--all]: applies the retention
// rules of [backup] (retention_days, keep_last/daily/weekly/monthly/yearly) to each group of
// backups with the same host, app and sources — by default only this host's and app's — and
// shows per group and backup which rules keep it or that it goes; without --dry-run it deletes the
// forgotten backups' snapshot objects (their data is collected by `velin backup prune`). The rules
// are in docs/operations.md, "Retention". With IDs it forgets those backups instead, after a
// confirmation (--yes), whatever the rules say.
#include <fmt/format.h>

#include "backup_common.hpp"
#include "velin/backup/forget.hpp"
#include "velin/cli/create_plan.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"

namespace velin::cli {
namespace {

struct ForgetFlags {
  RepoFlags repo;
  SelectFlags select;
  bool dry_run = false;
  std::vector<std::string> ids;  // named backups ("latest" and unique prefixes too)
};

std::string JoinSources(const std::vector<std::string>& sources) {
  std::string text;
  for (const auto& s : sources) text += (text.empty() ? "" : ", ") + s;
  return text;
}

// Times as everywhere (docs/cli.md, "Times"): local in the listing (the rules count local
// days), UTC in JSON.
int64_t UnixSeconds(std::chrono::system_clock::time_point tp) {
  return std::chrono::duration_cast<std::chrono::seconds>(tp.time_since_epoch()).count();
}

// "retention_days 42, keep_daily 7": the rules in force, as written in velin.toml.
std::string DescribeRules(const backup::RetentionRules& rules) {
  std::string text;
  const std::pair<const char*, int> all[] = {
      {"retention_days", rules.retention_days}, {"keep_last", rules.keep_last},
      {"keep_daily", rules.keep_daily},         {"keep_weekly", rules.keep_weekly},
      {"keep_monthly", rules.keep_monthly},     {"keep_yearly", rules.keep_yearly}};
  for (const auto& [name, value] : all) {
    if (value <= 0) continue;
    text += (text.empty() ? "" : ", ") + fmt::format("{} = {}", name, value);
  }
  return text;
}

nlohmann::json ToJson(const backup::ForgetResult& result, const backup::RetentionRules& rules,
                      bool dry_run) {
  nlohmann::json list = nlohmann::json::array();
  nlohmann::json forgotten = nlohmann::json::array();
  nlohmann::json groups = nlohmann::json::array();
  for (const auto& g : result.groups) {
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& d : g.decisions) {
      nlohmann::json reasons = nlohmann::json::array();
      for (auto r : d.reasons) reasons.push_back(backup::KeepReasonName(r, rules));
      list.push_back({{"id", d.id},
                      {"host", g.host},
                      {"app", g.app},
                      {"time", output::FormatUtcTime(UnixSeconds(d.time))},
                      {"keep", d.keep},
                      {"reasons", reasons},
                      {"complete", d.complete}});
      ids.push_back(d.id);
      if (!d.keep) forgotten.push_back(d.id);
    }
    groups.push_back({{"host", g.host},
                      {"app", g.app},
                      {"sources", g.sources},
                      {"transactions", g.transactions},
                      {"backups", ids}});
  }
  nlohmann::json unreadable = nlohmann::json::array();
  for (const auto& u : result.unreadable) unreadable.push_back(u.object);
  return {{"dry_run", dry_run},
          {"groups", groups},
          {"backups", list},
          {"forgotten", forgotten},
          {"unreadable", unreadable},
          {"rules",
           {{"retention_days", rules.retention_days},
            {"keep_last", rules.keep_last},
            {"keep_daily", rules.keep_daily},
            {"keep_weekly", rules.keep_weekly},
            {"keep_monthly", rules.keep_monthly},
            {"keep_yearly", rules.keep_yearly},
            {"keep_transaction_backups", rules.keep_transaction_backups}}}};
}

void PrintHuman(output::Console& out, const backup::ForgetResult& result,
                const backup::RetentionRules& rules, bool dry_run) {
  size_t kept = 0;
  size_t total = 0;
  for (const auto& g : result.groups) {
    out.Line(TrFormat(g.transactions ? "Host {}, app {}, sources {}, deploy transactions:"
                                     : "Host {}, app {}, sources {}:",
                      g.host, g.app.empty() ? "''" : g.app, JoinSources(g.sources)));
    for (const auto& d : g.decisions) {
      ++total;
      // A backup whose database dump failed (`backup create --continue-on-error`) says so: the
      // rules keep the complete ones apart (reason "complete backup"), and which those are
      // shows here.
      const std::string incomplete =
          d.complete ? "" : fmt::format("  {}", Tr("(without the database)"));
      if (d.keep) {
        ++kept;
        out.Line(NoTr(fmt::format("  {:<8} {:<26} {}  {}{}", Tr("keep"), d.id,
                                  output::FormatLocalTime(UnixSeconds(d.time)),
                                  backup::DescribeReasons(d, rules), incomplete)));
      } else {
        out.Line(NoTr(fmt::format("  {:<8} {:<26} {}{}", Tr("forget"), d.id,
                                  output::FormatLocalTime(UnixSeconds(d.time)), incomplete)));
      }
    }
  }
  if (dry_run) {
    out.Done(TrFormat("{} of {} backups would be forgotten, {} kept (dry run)", total - kept, total,
                      kept));
  } else {
    out.Done(TrFormat("{} of {} backups forgotten, {} kept", result.forgotten, total, kept));
  }
}

// `velin backup forget ID...`: those backups, whatever the rules say (one that no velin can
// read, one made by mistake). Asked first, as a restore in place is.
Status RunForgetNamed(Context& ctx, const ForgetFlags& flags, const repo::SnapshotFilter& filter) {
  const auto kind = flags.dry_run ? repo::LockKind::kShared : repo::LockKind::kExclusive;
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, kind, false, IndexUse::kNone));
  std::vector<std::string> ids;
  for (const auto& given : flags.ids) {
    VELIN_ASSIGN(std::string id, r.repo->ResolveSnapshotId(given, filter));
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  output::Console& out = ctx.out();
  if (!flags.dry_run) {
    VELIN_ASSIGN(bool yes,
                 ctx.Confirm(TrFormat("Forget backup {} in {}? The next prune deletes its data",
                                      JoinSources(ids), r.backend->Location())));
    if (!yes) return CancelledError(std::string(Tr("forget cancelled; no backup was forgotten")));
    for (const auto& id : ids) {
      VELIN_TRY(CheckInterrupted());
      auto deleted = r.repo->backend().Delete(repo::SnapshotObjectName(id));
      if (!deleted) {
        return tl::unexpected(deleted.error().Wrap(TrFormat("forgetting backup {}", id)));
      }
    }
    VELIN_TRY(r.repo->backend().SyncDeletes());
  }
  if (out.json()) {
    out.Json({{"dry_run", flags.dry_run}, {"forgotten", ids}});
    return Ok();
  }
  for (const auto& id : ids) {
    out.Done(flags.dry_run ? TrFormat("Would forget backup {}", id)
                           : TrFormat("Forgot backup {}", id));
  }
  if (!flags.dry_run) out.Info(std::string(Tr("`velin backup prune` deletes their data")));
  return Ok();
}

Status RunForget(Context& ctx, const ForgetFlags& flags) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  VELIN_ASSIGN(repo::SnapshotFilter filter, FilterOf(*cfg, flags.select));
  if (!flags.ids.empty()) return RunForgetNamed(ctx, flags, filter);
  const backup::RetentionRules rules = RetentionRulesOf(*cfg);
  // Deleting snapshots excludes every other user of the repository; looking does not.
  const auto kind = flags.dry_run ? repo::LockKind::kShared : repo::LockKind::kExclusive;
  VELIN_ASSIGN(OpenRepo r, OpenRepository(ctx, flags.repo, kind, false, IndexUse::kNone));
  output::Console& out = ctx.out();
  out.Begin(output::Icon::kList, flags.dry_run ? Tr("Applying the retention rules (dry run)...")
                                               : Tr("Applying the retention rules..."));
  if (!filter.all) {
    out.Info(TrFormat("Backups of host {}, app {} (--all: every host and app)", filter.host,
                      filter.app.empty() ? "''" : filter.app));
  }
  if (rules.Empty() && rules.keep_transaction_backups > 0) {
    out.Warn(
        TrFormat("no retention rule is set in [backup]: every backup is kept, except deploy "
                 "transactions' backups beyond the last {} (rollback.keep_transaction_backups)",
                 rules.keep_transaction_backups));
  } else if (rules.Empty()) {
    out.Warn(Tr("no retention rule is set in [backup]: every backup is kept"));
  } else {
    out.Info(TrFormat("Rules: {}", DescribeRules(rules)));
  }
  VELIN_ASSIGN(auto result, backup::ForgetSnapshots(*r.repo, rules, ctx.env().Now(), flags.dry_run,
                                                    filter, out));
  if (out.json()) {
    out.Json(ToJson(result, rules, flags.dry_run));
  } else {
    PrintHuman(out, result, rules, flags.dry_run);
  }
  return Ok();
}

}  // namespace

void RegisterBackupForget(CLI::App& group, Context& ctx) {
  auto flags = std::make_shared<ForgetFlags>();
  CLI::App* cmd = AddCommand(group, "forget", "Forget the backups the retention rules let go");
  cmd->add_option("ids", flags->ids,
                  "Forget these backups instead (IDs, or latest), after a confirmation");
  AddRepoFlags(cmd, flags->repo);
  cmd->add_flag("--dry-run", flags->dry_run, "Only show which backups would be forgotten");
  AddSelectFlags(cmd, flags->select, true);
  cmd->callback([&ctx, flags] {
    ctx.Execute([&ctx, flags]() -> Status {
      // A signal stops the forget between two backups (oldest first) and releases the lock
      // (core/termination.hpp); velin then ends by it.
      TerminationCancel cancel(
          std::string(Tr("stopping the forget (a second signal ends velin at once)")));
      Status st = RunForget(ctx, *flags);
      if (!st && Interrupted()) {
        return Failure(TrFormat(
            "forget interrupted by {}; some backups it would forget may remain: run it again",
            TerminationSignalName(HeldTerminationSignal())));
      }
      return st;
    });
  });
}

}  // namespace velin::cli
