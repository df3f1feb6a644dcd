// Shared by the rollback command files: builds the rollback engine's settings from velin.toml
// and registers each group of rollback subcommands.
#pragma once

#include <memory>

#include "velin/cli/context.hpp"
#include "velin/rollback/engine.hpp"

namespace velin::cli {

// The engine for the loaded config, reporting through the console.
Result<std::unique_ptr<rollback::RollbackEngine>> MakeRollbackEngine(Context& ctx);

void RegisterRollbackVersionCommands(CLI::App& group, Context& ctx);
void RegisterRollbackSwitchCommands(CLI::App& group, Context& ctx);
void RegisterRollbackTransactionCommands(CLI::App& group, Context& ctx);

}  // namespace velin::cli
