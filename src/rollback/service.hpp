// The application's own commands, as configured in [rollback]: stop, start, the health check
// (a command, or an http(s) URL fetched in this process with libcurl), migration_status and
// migrate_down. Each command runs with `sh -c` in app.root; a failure names the command's key
// and its exit status. A command or its output in a message shows a URL's password as ***
// (MaskUrlPasswords): messages go to the history, VELIN_ERROR and notifications.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "velin/core/duration.hpp"
#include "velin/core/error.hpp"
#include "velin/rollback/engine.hpp"

namespace velin::rollback {

// What a service command (stop, start, health, migrate_down) finds in its environment about the
// switch it is part of (docs/rollback.md#what-the-commands-are-told): VELIN_VERSION, the version
// this direction of the switch goes to (going back, the one it goes back to), VELIN_RELEASE_DIR,
// that version's release directory, VELIN_FROM_VERSION, the version it leaves ("" when none),
// VELIN_FROM_RELEASE_DIR, its release directory (where migrate_down finds the down migrations of
// the version being left: `current` already points at the older code, which lacks them), and
// VELIN_ROLLBACK_LEVEL, the level migrate_down migrates to (else ""). Each is set, empty when
// unknown, so that a value inherited from velin's own environment never passes for one.
struct ServiceVars {
  std::string version;
  std::string release_dir;
  std::string from_version;
  std::string from_release_dir;
  std::string level;
};

// Told that the command `name` ("rollback.stop", "rollback.health", ...) started as process
// `pid`, the leader of its own process group, and may run for `timeout`: before it runs
// anything (core's ProcessOptions::on_started). The engine records it in command.json
// (rollback/command_record.hpp), so that a velin taking the state lock after a kill -9 of this
// one waits for it instead of running a second command beside it.
using CommandStarted =
    std::function<Status(const std::string& name, int64_t pid, Duration timeout)>;

// Runs a configured command (`key` names it in messages); an empty command does nothing.
Status RunServiceCommand(const Settings& settings, const std::string& key,
                         const std::string& command, Duration timeout, const ServiceVars& vars = {},
                         const CommandStarted& started = {});

// Runs the health check until it passes or health_timeout passes. Ok when no check is
// configured. The error carries the last attempt's output. A command gets `vars` (a URL cannot).
Status WaitHealthy(io::Env& env, const Settings& settings, const ServiceVars& vars = {},
                   const CommandStarted& started = {});

// True when rollback.health is a URL (GET in this process) rather than a command.
bool IsHealthUrl(const std::string& health);

// The schema level printed by migration_status ("" when not configured).
Result<std::string> SchemaLevel(const Settings& settings, const CommandStarted& started = {});

// True when a switch to a version recorded at level `target` goes back past a schema change from
// the `live` level, so migrate_down runs: numerically when both are numbers; else (alembic's
// revision hashes, "Current version: 12") levels have no order velin could know, and a level
// that differs counts as below when the target is the older version (`target_older`). Before
// 2026-12-07 such levels were compared as strings: going back from alembic's "1975ea83b712" to
// "ae1027a6acg" skipped migrate_down without a word.
bool LevelBelow(const std::string& target, const std::string& live, bool target_older);

}  // namespace velin::rollback
