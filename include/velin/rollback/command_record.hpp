// The command velin runs for the rollback state right now (a hook, stop, start, a health
// attempt, migrate_down, migration_status), in state_dir/command.json
// (docs/rollback-format.md#commandjson): written before the command runs anything, so that a
// velin that takes the state lock after a `kill -9` of the one that started it waits for it to
// end instead of running a second command beside it (docs/rollback.md#recover).
//
// Written without fsync: the record matters only while the command may still run, and a
// process outlives a kill -9 of velin but never a reboot, while the page cache outlives the one
// as long as the other. A record torn or lost by a crash, or made in another boot or container
// (ProcessSpaceTag), names nothing that runs. Its deadline is on the monotonic clock (the same
// for every process of one boot), so a step of the wall clock (NTP, `date -s`) neither shortens
// nor lengthens the wait.
// REQUIRES: the StateLock, to write it or to act on it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "velin/core/duration.hpp"
#include "velin/core/error.hpp"
#include "velin/core/reporter.hpp"
#include "velin/io/env.hpp"

namespace velin::rollback {

struct CommandRecord {
  std::string command;             // its config key: "before_switch", "stop", "health", ...
  std::string context;             // what it was for, in the warning: "the switch to v1"
  int64_t pid = 0;                 // its shell, the leader of its own process group
  int64_t start_ticks = 0;         // that process's start time (clock ticks since boot)
  std::string space;               // io::ProcessSpaceTag() of the velin that started it
  int64_t deadline_steady_ms = 0;  // its timeout passes then: Env::SteadyNow(), in ms
};

// The record at `path`; nullopt when there is none or it cannot be read (see above).
std::optional<CommandRecord> LoadCommandRecord(io::Env& env, const std::string& path);
// Writes it (temp file + rename, no fsync; see above).
Status SaveCommandRecord(io::Env& env, const std::string& path, const CommandRecord& record);
// The record of process `pid` just started for `command`, running at most `timeout`.
CommandRecord RecordOf(io::Env& env, const std::string& command, const std::string& context,
                       int64_t pid, Duration timeout);

// When the command recorded at `path` still runs (velin that started it was killed): says so,
// waits until it ends or its deadline passes, then kills its process group as that velin would
// have (SIGTERM, a second later SIGKILL). Nothing when it has ended.
void AwaitRecordedCommand(io::Env& env, Reporter& reporter, const std::string& path);

}  // namespace velin::rollback
