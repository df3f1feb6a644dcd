#include "velin/core/hooks.hpp"

#include <spdlog/spdlog.h>

#include <string_view>
#include <utility>
#include <vector>

#include "velin/core/i18n.hpp"
#include "velin/core/process.hpp"
#include "velin/core/url_password.hpp"

namespace velin {
namespace {

const std::string& CommandFor(const HookSettings& hooks, HookEvent event) {
  switch (event) {
    case HookEvent::kBeforeBackup:
      return hooks.before_backup;
    case HookEvent::kAfterBackup:
      return hooks.after_backup;
    case HookEvent::kOnBackupFailure:
      return hooks.on_backup_failure;
    case HookEvent::kBeforeSwitch:
      return hooks.before_switch;
    case HookEvent::kAfterSwitch:
      return hooks.after_switch;
    case HookEvent::kOnSwitchFailure:
      break;
  }
  return hooks.on_switch_failure;
}

}  // namespace

const char* HookName(HookEvent event) {
  switch (event) {
    case HookEvent::kBeforeBackup:
      return "before_backup";
    case HookEvent::kAfterBackup:
      return "after_backup";
    case HookEvent::kOnBackupFailure:
      return "on_backup_failure";
    case HookEvent::kBeforeSwitch:
      return "before_switch";
    case HookEvent::kAfterSwitch:
      return "after_switch";
    case HookEvent::kOnSwitchFailure:
      break;
  }
  return "on_switch_failure";
}

Status RunHook(const HookSettings& hooks, HookEvent event, const HookVars& vars,
               const std::function<Status(pid_t)>& on_started) {
  const std::string& command = CommandFor(hooks, event);
  if (command.empty()) return Ok();
  const std::string name = HookName(event);
  std::vector<std::pair<std::string, std::string>> env{{"VELIN_EVENT", name}};
  auto add = [&env](const char* key, const std::string& value) {
    if (!value.empty()) env.emplace_back(key, value);
  };
  add("VELIN_BACKUP_ID", vars.backup_id);
  add("VELIN_VERSION", vars.version);
  add("VELIN_FROM_VERSION", vars.from_version);
  add("VELIN_ERROR", vars.error);
  spdlog::info("hooks.{}: running {}", name, MaskUrlPasswords(command));
  ProcessOptions options;
  options.argv = {"/bin/sh", "-c", command};
  options.cwd = hooks.cwd;
  options.extra_env = std::move(env);
  options.on_started = on_started;
  auto r = RunCommand(std::move(options), hooks.timeout);
  if (!r) {
    return Failure(TrFormat("hooks.{} could not be run: {}", name, r.error().message));
  }
  // The hook's output goes to the log only (stdout may be --json).
  LogCommandOutput("hooks." + name, r->output);
  if (r->timed_out) {
    return Failure(TrFormat("hooks.{} did not finish within {} and was killed", name,
                            FormatDuration(hooks.timeout)));
  }
  if (r->exit_code != 0) {
    std::string last = MaskUrlPasswords(LastLine(r->output));
    return Failure(NoTr(TrFormat("hooks.{} failed ({})", name, DescribeExit(r->exit_code)) +
                        (last.empty() ? "" : ": " + last)));  // the hook's last line as it is
  }
  spdlog::info("hooks.{}: done", name);
  return Ok();
}

}  // namespace velin
