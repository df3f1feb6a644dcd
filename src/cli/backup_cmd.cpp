// velin backup …: the backup engine's commands. Each subcommand is registered by the issue
// that implements it.
#include "velin/cli/context.hpp"

namespace velin::cli {

void RegisterBackupCommands(CLI::App& app, Context& ctx) {
  (void)ctx;
  CLI::App* group = AddCommand(app, "backup", "Back up and restore databases and files");
  group->require_subcommand(1);
}

}  // namespace velin::cli
