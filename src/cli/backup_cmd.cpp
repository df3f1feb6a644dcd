// velin backup …: the backup engine's commands. Each subcommand is registered by the issue
// that implements it.
#include "velin/cli/context.hpp"

namespace velin::cli {

void RegisterBackupKeyCommands(CLI::App& group, Context& ctx);  // backup_key_cmd.cpp

void RegisterBackupCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = AddCommand(app, "backup", "Back up and restore databases and files");
  group->require_subcommand(1);
  RegisterBackupKeyCommands(*group, ctx);
}

}  // namespace velin::cli
