// velin rollback …: the rollback engine's commands. Each subcommand is registered by the
// issue that implements it.
#include "velin/cli/context.hpp"

namespace velin::cli {

void RegisterRollbackCommands(CLI::App& app, Context& ctx) {
  (void)ctx;
  CLI::App* group = AddCommand(app, "rollback", "Deploy versions and roll them back");
  group->require_subcommand(1);
}

}  // namespace velin::cli
