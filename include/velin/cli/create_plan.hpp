// What `velin backup create` does, decided from the configuration before anything runs: the
// archiver's options (backup::CreateOptions) and the options of the steps after the snapshot is
// committed (backup::AfterCreateOptions: offsite copy, forget + prune). Pure: no I/O, so it is
// unit-tested on its own; the command file parses flags, calls this, runs the plan and prints. (The
// config module sits above the backup engine, so the mapping from config::Config lives here, beside
// its one caller.)
#pragma once

#include <string>

#include "velin/backup/after_create.hpp"
#include "velin/backup/archiver.hpp"
#include "velin/config/config.hpp"
#include "velin/core/error.hpp"

namespace velin::cli {

struct CreatePlan {
  // Everything but the database stream (made by the command: backup_db.hpp) and skip_paths
  // (the repository, known once it is opened).
  backup::CreateOptions options;
  bool with_database = false;  // "db" or a "db:NAME" in backup.include
  // The steps after the snapshot is committed: the offsite copy (backup.offsite, with the
  // repository's compression), forget by the retention rules in [app] host's and name's groups
  // and prune (backup.prune_after_create). None for a dry run.
  backup::AfterCreateOptions after;
};

// `strategy` is --strategy ("" for backup.strategy). Usage errors: a strategy other than full
// or incremental, a bad compression, an include list naming nothing to back up.
Result<CreatePlan> PlanCreate(const config::Config& cfg, const std::string& strategy,
                              bool dry_run = false);

// The retention rules of velin.toml ([backup] keep_* and retention_days, and
// rollback.keep_transaction_backups): what `backup forget` and the forget after create apply.
backup::RetentionRules RetentionRulesOf(const config::Config& cfg);

}  // namespace velin::cli
