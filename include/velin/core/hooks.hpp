// The user's hooks ([hooks] in velin.toml): shell commands run around a backup and around a
// switch, e.g. to put the application into maintenance mode, flush a cache or FLUSH TABLES.
// Each runs with `sh -c` in app.root, with velin's environment minus its secrets
// (ChildEnv::kWithoutSecrets) plus VELIN_EVENT, VELIN_BACKUP_ID, VELIN_VERSION,
// VELIN_FROM_VERSION and VELIN_ERROR (those that apply), and is killed with its process group
// after hooks.timeout. Its output goes to the log, never to stdout. docs/operations.md#hooks.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "velin/core/duration.hpp"
#include "velin/core/error.hpp"

namespace velin {

enum class HookEvent {
  kBeforeBackup,
  kAfterBackup,
  kOnBackupFailure,
  kBeforeSwitch,
  kAfterSwitch,
  kOnSwitchFailure,
};

// The commands of [hooks] in velin.toml, one per event ("" = none), and their time limit; the
// config's HooksSection is this type.
struct HookCommands {
  std::string before_backup;
  std::string after_backup;
  std::string on_backup_failure;
  std::string before_switch;
  std::string after_switch;
  std::string on_switch_failure;
  Duration timeout = Duration(300'000);  // then the hook's process group is killed
};

// The hooks as RunHook wants them: the commands and where they run.
struct HookSettings : HookCommands {
  std::string cwd;  // app.root
};

// What the hook learns about the event (empty: the variable is not set).
struct HookVars {
  std::string backup_id;
  std::string version;
  std::string from_version;
  std::string error;
};

// "before_backup", ...: the config key and the value of VELIN_EVENT.
const char* HookName(HookEvent event);

// Runs the hook configured for `event`; Ok when none is. A failure (non-zero exit, timeout, or
// the shell not starting) is an error with exit code 1 naming hooks.KEY and the exit status.
// `on_started`: told of the hook's shell (the leader of its own process group) before it runs
// anything (ProcessOptions::on_started): a rollback records it, so that a velin taking over
// after a kill -9 waits for it.
Status RunHook(const HookSettings& hooks, HookEvent event, const HookVars& vars,
               const std::function<Status(pid_t)>& on_started = {});

}  // namespace velin
