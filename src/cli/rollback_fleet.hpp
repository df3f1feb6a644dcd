// velin rollback --fleet begin | to-version | commit | rollback | status: the rollback
// commands run on every host of [fleet] hosts over ssh (docs/rollback.md#fleet). The commands'
// callbacks hand over to these when --fleet was given.
#pragma once

#include <string>

#include "velin/cli/context.hpp"

namespace velin::cli {

// Set by --fleet on `velin rollback`.
bool& FleetRequested();

// Adds --fleet to the rollback group, and refuses it with the commands that have no fleet form.
void RegisterFleetFlag(CLI::App& group, Context& ctx);

void RunFleetBegin(Context& ctx, const std::string& timeout, const std::string& reason);
void RunFleetToVersion(Context& ctx, const std::string& name, const std::string& reason,
                       bool dry_run);
void RunFleetEnd(Context& ctx, bool commit, const std::string& reason);
void RunFleetStatus(Context& ctx);
// A flag that has no fleet form yet (--backup, --restore-data): a usage error naming the way
// that works (each host's own rollback.backup_on_begin / restore_data_on_timeout).
void RefuseFleetFlag(Context& ctx, const std::string& flag);

}  // namespace velin::cli
