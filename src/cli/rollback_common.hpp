// Shared by the rollback command files: builds the rollback engine's settings from velin.toml
// and registers each group of rollback subcommands.
#pragma once

#include <memory>

#include "velin/cli/context.hpp"
#include "velin/rollback/engine.hpp"

namespace velin::cli {

// "→" (or "←" when `left`) on a terminal, "->" ("<-") off it: logs, pipes, cron mail.
inline const char* Arrow(const output::Console& out, bool left = false) {
  if (out.mode() == output::Mode::kTerminal) return left ? "←" : "→";
  return left ? "<-" : "->";
}

// The engine for the loaded config, reporting through the console.
Result<std::unique_ptr<rollback::RollbackEngine>> MakeRollbackEngine(Context& ctx);

// Set by `recover` and the watchdog before they run: they finish an expired transaction
// themselves and report it, so the before-command hook leaves it to them.
bool& SkipExpiredTransactionHook();

void RegisterRollbackVersionCommands(CLI::App& group, Context& ctx);
void RegisterRollbackSwitchCommands(CLI::App& group, Context& ctx);
void RegisterRollbackTransactionCommands(CLI::App& group, Context& ctx);

}  // namespace velin::cli
