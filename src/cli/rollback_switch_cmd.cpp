// velin rollback to-version NAME|previous [--dry-run]: stop, switch `current`, start, health
// check (exit 5 when the check failed and the switch was undone); --dry-run prints the plan.
#include <unistd.h>

#include <algorithm>

#include "rollback_common.hpp"
#include "rollback_fleet.hpp"
#include "velin/core/i18n.hpp"

namespace velin::cli {
namespace {

std::string OrNone(const std::string& command) {
  return command.empty() ? std::string(Tr("none configured")) : command;
}

nlohmann::json PlanJson(const rollback::SwitchPlan& p) {
  nlohmann::json migrate = {{"run", p.migrate_down},
                            {"level", p.target_level},
                            {"live_level", p.live_level},
                            {"warning", p.migrate_warning}};
  return {
      {"dry_run", true},
      {"from", p.from},
      {"to", p.to},
      {"kind", rollback::KindName(p.to_kind)},
      {"target_failed", !p.target_failed.empty()},
      {"release_changed", p.release_changed},
      {"release_mendable", p.release_mendable},
      {"release_missing", p.release_missing},
      {"release_unreadable", p.release_unreadable},
      {"expired_transaction",
       p.expired_transaction ? nlohmann::json(p.expired_transaction->id) : nullptr},
      {"steps",
       {{"stop", p.stop},
        {"link", {{"from", p.from}, {"to", p.to}}},
        {"config",
         {{"added", p.config_added}, {"changed", p.config_changed}, {"removed", p.config_removed}}},
        {"migrate_down", migrate},
        {"start", p.start},
        {"health", p.health},
        {"health_timeout", FormatDuration(p.health_timeout)}}}};
}

void PrintPlan(output::Console& out, const rollback::SwitchPlan& p) {
  const char* arrow = Arrow(out);
  std::string from = p.from.empty() ? "-" : p.from;
  out.Begin(output::Icon::kRollback,
            TrFormat("Plan for {} {} {} (dry run: nothing is changed)", from, arrow, p.to));
  if (p.expired_transaction) {
    out.Warn(TrFormat("transaction {} has expired: it would be rolled back to {} first",
                      p.expired_transaction->id, p.expired_transaction->base));
  }
  if (!p.target_failed.empty()) {
    out.Warn(TrFormat("{} failed its health check at {}", p.to, p.target_failed));
  }
  if (!p.release_missing.empty()) {  // each of them can be put back, or the plan is refused
    out.Warn(
        TrFormat("release {}: {} file(s) are missing (first: {}; deleted?); the switch would "
                 "put them back from identical files of other releases",
                 p.to, p.release_missing.size(), p.release_missing.front()));
  }
  if (p.release_changed.size() > p.release_missing.size()) {
    std::string first;
    for (const auto& path : p.release_changed) {
      if (std::find(p.release_missing.begin(), p.release_missing.end(), path) ==
          p.release_missing.end()) {
        first = path;
        break;
      }
    }
    out.Warn(
        TrFormat("release {}: {} file(s) no longer hold what it recorded (first: {}; edited "
                 "in place?); the switch would put back {} from identical files of other "
                 "releases",
                 p.to, p.release_changed.size() - p.release_missing.size(), first,
                 p.release_mendable - p.release_missing.size()));
  }
  if (!p.release_unreadable.empty()) {
    out.Warn(TrFormat(
        "release {}: velin (user {}) cannot read {} file(s) of it (first: {}: {}); the switch "
        "would not check them and switch to it as it is",
        p.to, ::geteuid(), p.release_unreadable.size(), p.release_unreadable.front(),
        p.release_unreadable_reason));
  }
  out.Line("  1. " + TrFormat("stop: {}", OrNone(p.stop)));
  out.Line("  2. " + TrFormat("current: {} {} {}", from, arrow, p.to));
  if (p.to_kind != rollback::VersionKind::kSnapshot) {
    out.Line("  3. " + std::string(Tr("config files: not touched (a version holds none)")));
  } else if (p.config_added.empty() && p.config_changed.empty() && p.config_removed.empty()) {
    out.Line("  3. " + std::string(Tr("config files: the snapshot's equal the live ones")));
  } else {
    out.Line("  3. " + TrFormat("config files: {} added, {} changed, {} removed",
                                p.config_added.size(), p.config_changed.size(),
                                p.config_removed.size()));
    for (const auto& f : p.config_added) out.Line(NoTr("       + " + f));
    for (const auto& f : p.config_changed) out.Line(NoTr("       ~ " + f));
    for (const auto& f : p.config_removed) out.Line(NoTr("       - " + f));
  }
  if (p.migrate_down) {
    out.Line("  4. " +
             TrFormat("migrate_down: to level {} (live level {})", p.target_level, p.live_level));
  } else if (!p.migrate_warning.empty()) {
    out.Line("  4. " + TrFormat("migrate_down: not run ({})", p.migrate_warning));
  } else {
    out.Line("  4. " + std::string(Tr("migrate_down: not needed")));
  }
  out.Line("  5. " + TrFormat("start: {}", OrNone(p.start)));
  if (p.health.empty()) {
    out.Line("  6. " + std::string(Tr("health: none configured (the switch is not verified)")));
  } else {
    out.Line("  6. " + TrFormat("health: {} (up to {}; on failure back to {})", p.health,
                                FormatDuration(p.health_timeout), from));
  }
}

}  // namespace

void RegisterRollbackSwitchCommands(CLI::App& group, Context& ctx) {
  CLI::App* cmd = AddCommand(group, "to-version", "Switch the application to a version");
  auto name = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  auto dry_run = std::make_shared<bool>(false);
  cmd->add_option("name", *name,
                  "Version or snapshot name, or 'previous' (the one live before the current)")
      ->required();
  cmd->add_option("--reason", *reason, "Why (kept in the history)");
  cmd->add_flag("--dry-run", *dry_run, "Print what the switch would do; change nothing");
  auto restore_data = std::make_shared<std::string>();
  cmd->add_option("--restore-data", *restore_data,
                  "Also restore the database: a backup ID, or 'at-version' (the backup a "
                  "deploy transaction took while NAME was live); asks unless --yes");
  // Hidden: the fleet's switch back on each host (docs/rollback.md#fleet), not for hand use.
  auto undo = std::make_shared<bool>(false);
  cmd->add_flag("--undo", *undo,
                "Go back to NAME by undoing the last switch (from NAME), with the live "
                "configuration of before it")
      ->group("");
  cmd->callback([&ctx, name, reason, dry_run, restore_data, undo] {
    if (*undo) {
      ctx.Execute([&]() -> Status {
        if (*dry_run || !restore_data->empty() || FleetRequested()) {
          return UsageError(
              std::string(Tr("--undo goes with none of --dry-run, --restore-data and --fleet")));
        }
        VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
        Status s = engine->UndoSwitch(*name, *reason);
        ctx.stats().version = *name;
        if (ctx.out().json()) {
          VELIN_ASSIGN(auto st, engine->Inspect());
          if (s) ctx.out().Json({{"switched", true}, {"current", st.current}});
        }
        return s;
      });
      return;
    }
    if (FleetRequested()) {
      if (!restore_data->empty()) return RefuseFleetFlag(ctx, "--restore-data");
      return RunFleetToVersion(ctx, *name, *reason, *dry_run);
    }
    if (*dry_run) {
      // Nothing may change: not even an expired transaction's rollback (the plan names it),
      // nor a monitoring record of a run that did not happen.
      SkipExpiredTransactionHook() = true;
      Context::CommandPath() = "rollback to-version --dry-run";
      ctx.Execute([&]() -> Status {
        VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
        VELIN_ASSIGN(rollback::SwitchPlan plan, engine->PlanSwitch(*name));
        if (ctx.out().json()) {
          ctx.out().Json(PlanJson(plan));
        } else {
          PrintPlan(ctx.out(), plan);
        }
        return Ok();
      });
      return;
    }
    ctx.Execute([&]() -> Status {
      if (!restore_data->empty()) {
        VELIN_ASSIGN(bool yes,
                     ctx.Confirm(TrFormat("Switch to {} and replace the database with the backup "
                                          "({}), losing the writes made since?",
                                          *name, *restore_data)));
        if (!yes)
          return CancelledError(std::string(Tr("to-version cancelled; nothing was changed")));
      }
      VELIN_ASSIGN(auto engine, MakeRollbackEngine(ctx));
      Status s = engine->ToVersion(*name, *reason, *restore_data);
      ctx.stats().version = *name;  // [notify]: the version switched to (or undone)
      if (ctx.out().json()) {
        VELIN_ASSIGN(auto st, engine->Inspect());
        if (s) ctx.out().Json({{"switched", true}, {"current", st.current}});
      }
      return s;
    });
  });
}

}  // namespace velin::cli
