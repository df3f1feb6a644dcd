// velin backup …: the backup engine's commands. Each subcommand lives in its own
// src/cli/backup_<name>_cmd.cpp file; this one builds the group.
#include "backup_common.hpp"
#include "backup_copy.hpp"

namespace velin::cli {

void RegisterBackupKeyCommands(CLI::App& group, Context& ctx);  // backup_key_cmd.cpp
void RegisterBackupLs(CLI::App& group, Context& ctx);           // backup_ls_cmd.cpp
void RegisterBackupFind(CLI::App& group, Context& ctx);         // backup_find_cmd.cpp
void RegisterBackupDiff(CLI::App& group, Context& ctx);         // backup_diff_cmd.cpp
void RegisterBackupDump(CLI::App& group, Context& ctx);         // backup_dump_cmd.cpp
void RegisterBackupStats(CLI::App& group, Context& ctx);        // backup_stats_cmd.cpp

void RegisterBackupCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = AddCommand(app, "backup", "Back up and restore databases and files");
  group->require_subcommand(1);
  RegisterBackupInit(*group, ctx);
  RegisterBackupCreate(*group, ctx);
  RegisterBackupList(*group, ctx);
  RegisterBackupRestore(*group, ctx);
  RegisterBackupVerify(*group, ctx);
  RegisterBackupForget(*group, ctx);
  RegisterBackupPrune(*group, ctx);
  RegisterBackupStatus(*group, ctx);
  RegisterBackupUnlock(*group, ctx);
  RegisterBackupUpgrade(*group, ctx);
  RegisterBackupCopy(*group, ctx);
  RegisterBackupKeyCommands(*group, ctx);
  RegisterBackupLs(*group, ctx);
  RegisterBackupFind(*group, ctx);
  RegisterBackupDiff(*group, ctx);
  RegisterBackupDump(*group, ctx);
  RegisterBackupStats(*group, ctx);
}

}  // namespace velin::cli
