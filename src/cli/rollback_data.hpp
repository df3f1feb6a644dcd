// The database side of deploy transactions: rollback::DataGuard on the backup engine
// (rollback_data.cpp, docs/rollback.md#data).
#pragma once

#include <memory>
#include <string>

#include "velin/cli/context.hpp"
#include "velin/repo/snapshot.hpp"
#include "velin/rollback/engine.hpp"

namespace velin::cli {

// A database-only backup of every database backup.include names ("db", "db:NAME") into the
// configured repository, each stream tagged with the transaction and the version live at begin
// (what `backup list` and retention read).
Result<repo::Snapshot> CreateTransactionBackup(Context& ctx, const std::string& transaction,
                                               const std::string& version);

// Null when no database is backed up ("db" or "db:NAME" in backup.include, with its table).
std::unique_ptr<rollback::DataGuard> MakeDataGuard(Context& ctx);

}  // namespace velin::cli
