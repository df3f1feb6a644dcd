// velin rollback --fleet ...: builds the fleet from [fleet], runs the command on every host,
// prints one line per host (or, with --json, one document with an object per host).
#include <fmt/format.h>

#include <algorithm>

#include "rollback_common.hpp"
#include "rollback_fleet.hpp"
#include "velin/core/i18n.hpp"
#include "velin/rollback/fleet.hpp"

namespace velin::cli {
namespace {

// The commands with a fleet form (Context::CommandPath()).
constexpr const char* kFleetCommands[] = {
    "rollback begin",  "rollback to-version", "rollback to-version --dry-run",
    "rollback commit", "rollback rollback",   "rollback status"};

Result<rollback::FleetSettings> FleetSettingsOf(Context& ctx) {
  VELIN_ASSIGN(const config::Config* cfg, ctx.Config());
  const config::FleetSection& f = cfg->fleet;
  if (f.hosts.empty()) {
    return UsageError(TrFormat("--fleet needs [fleet] hosts in {} (docs/config.md#fleet)",
                               cfg->file.empty() ? "velin.toml" : cfg->file));
  }
  rollback::FleetSettings s;
  const std::string default_config = f.config.empty() ? cfg->file : f.config;
  for (const std::string& entry : f.hosts) {
    // Loading velin.toml has checked each entry with the same parser (config/loader.cpp).
    VELIN_ASSIGN(rollback::FleetHost host, rollback::ParseFleetHost(entry, default_config));
    s.hosts.push_back(std::move(host));
  }
  rollback::UniqueHostNames(s.hosts, f.hosts);
  s.velin = f.velin;
  s.ssh_options = f.ssh_options;
  s.connect_timeout = f.connect_timeout;
  s.command_timeout = f.command_timeout;
  return s;
}

nlohmann::json HostJson(const rollback::HostOutcome& o, const std::string& command) {
  nlohmann::json j = {{"host", o.host},
                      {"ok", o.ok},
                      {"exit_code", o.exit_code},
                      {"message", o.message},
                      {"reply", o.reply}};
  if (command == "to-version") {
    j["before"] = o.before;
    j["current"] = o.current;
    j["switched_back"] = o.switched_back;
  }
  return j;
}

// Prints the result (a line per host, or the JSON document) and returns its status.
Status Print(Context& ctx, const rollback::FleetResult& r) {
  output::Console& out = ctx.out();
  nlohmann::json hosts = nlohmann::json::array();
  for (const auto& o : r.hosts) hosts.push_back(HostJson(o, r.command));
  if (out.json()) {
    nlohmann::json doc = {
        {"fleet", r.command}, {"ok", static_cast<bool>(r.status)}, {"hosts", hosts}};
    if (r.status) {
      out.Json(doc);
    } else {
      out.AttachToFailure(doc);
    }
    return r.status;
  }
  size_t width = 0;
  for (const auto& o : r.hosts) width = std::max(width, o.host.size());
  for (const auto& o : r.hosts) {
    out.Line(
        fmt::format("{:<{}}  {:<6}  {}", o.host, width, o.ok ? Tr("ok") : Tr("failed"), o.message));
  }
  return r.status;
}

void RunFleet(Context& ctx, const std::function<rollback::FleetResult(rollback::Fleet&)>& run) {
  ctx.Execute([&]() -> Status {
    VELIN_ASSIGN(rollback::FleetSettings settings, FleetSettingsOf(ctx));
    rollback::SshRunner runner(settings);
    rollback::Fleet fleet(std::move(settings), runner, ctx.out());
    return Print(ctx, run(fleet));
  });
}

}  // namespace

bool& FleetRequested() {
  static bool fleet = false;
  return fleet;
}

void RegisterFleetFlag(CLI::App& group, Context& ctx) {
  group.add_flag("--fleet", FleetRequested(),
                 "Run begin, to-version, commit, rollback or status on every host of [fleet]");
  ctx.before_command.push_back([](Context&) -> Status {
    if (!FleetRequested()) return Ok();
    const std::string& path = Context::CommandPath();
    for (const char* c : kFleetCommands) {
      if (path == c) return Ok();
    }
    return UsageError(TrFormat(
        "--fleet works with begin, to-version, commit, rollback and status, not '{}'", path));
  });
}

void RefuseFleetFlag(Context& ctx, const std::string& flag) {
  ctx.Execute([&]() -> Status {
    return UsageError(
        TrFormat("--fleet does not pass {} to the hosts; set rollback.backup_on_begin and "
                 "rollback.restore_data_on_timeout in each host's velin.toml instead",
                 flag));
  });
}

void RunFleetBegin(Context& ctx, const std::string& timeout, const std::string& reason) {
  RunFleet(ctx, [&](rollback::Fleet& f) { return f.Begin(timeout, reason); });
}

void RunFleetToVersion(Context& ctx, const std::string& name, const std::string& reason,
                       bool dry_run) {
  if (dry_run) {  // as without --fleet: no monitoring record, no local rollback first
    SkipExpiredTransactionHook() = true;
    Context::CommandPath() = "rollback to-version --dry-run";
  }
  ctx.stats().version = name;
  RunFleet(ctx, [&](rollback::Fleet& f) {
    return dry_run ? f.PlanToVersion(name) : f.ToVersion(name, reason);
  });
}

void RunFleetEnd(Context& ctx, bool commit, const std::string& reason) {
  RunFleet(ctx, [&](rollback::Fleet& f) { return commit ? f.Commit() : f.RollbackNow(reason); });
}

void RunFleetStatus(Context& ctx) {
  RunFleet(ctx, [](rollback::Fleet& f) { return f.Inspect(); });
}

}  // namespace velin::cli
