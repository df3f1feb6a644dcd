// The rollback registry on disk (docs/rollback-format.md): which versions exist and which is
// current (registry.json), every switch and transaction outcome (history.jsonl, append-only),
// the open transaction (transaction.json) and an interrupted switch (switch.json). Every write
// goes through io::WriteFileDurably, so after a crash each file is either old or new; a file
// written by a newer format version is refused with a message naming it, never misread.
// REQUIRES: callers that modify state hold the StateLock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/io/env.hpp"

namespace velin::rollback {

inline constexpr int kRegistryFormat = 1;
// A release manifest that holds a name (a path or a symlink's text) that is not UTF-8, written
// as base64 (docs/rollback-format.md); every other manifest stays format 1.
inline constexpr int kManifestFormatRawNames = 2;

// Where everything lives under rollback.state_dir.
struct StateLayout {
  std::string dir;
  std::string Registry() const { return dir + "/registry.json"; }
  std::string History() const { return dir + "/history.jsonl"; }
  std::string Transaction() const { return dir + "/transaction.json"; }
  std::string SwitchIntent() const { return dir + "/switch.json"; }
  std::string Command() const { return dir + "/command.json"; }  // rollback/command_record.hpp
  // Releases a prune is removing or a create is installing (LoadRemovals below).
  std::string Removals() const { return dir + "/removals.json"; }
  std::string Lock() const { return dir + "/lock"; }
  std::string Releases() const { return dir + "/releases"; }
  std::string Release(const std::string& name) const { return Releases() + "/" + name; }
  std::string Configs() const { return dir + "/configs"; }
  std::string Config(const std::string& name) const { return Configs() + "/" + name; }
  std::string Manifests() const { return dir + "/manifests"; }
  std::string Manifest(const std::string& name) const { return Manifests() + "/" + name + ".json"; }
  // Live configuration saved before a switch to a snapshot replaced it.
  std::string SavedConfigs() const { return dir + "/saved-config"; }
  std::string SavedConfig(const std::string& name) const { return SavedConfigs() + "/" + name; }
  // Held (flock) by the watchdog of transaction `id` for as long as it runs.
  std::string WatchdogLock(const std::string& id) const {
    return dir + "/watchdog-" + id + ".lock";
  }
};

enum class VersionKind { kVersion, kSnapshot };
std::string KindName(VersionKind kind);

struct VersionRecord {
  std::string name;
  std::string description;
  VersionKind kind = VersionKind::kVersion;
  std::string created;  // ISO-8601 UTC
  std::string user;
  std::string host;
  std::string source_digest;  // sha256 of the artifact manifest
  std::string config_digest;  // sha256 of the config files at creation ("" when none)
  std::string schema_level;   // output of migration_status ("" when not configured)
  uint64_t seq = 0;           // creation order, increasing
  // Optional fields (added in format 1 without a version bump: a velin that does not know them
  // ignores them; docs/rollback-format.md#registryjson).
  std::string base_of;  // the transaction this snapshot was taken for ("" for a named release)
  std::string failed;   // when a switch to it last failed its health check ("" when not)

  // A transaction base: velin's own snapshot, not one of the user's named releases. Bases
  // written before `base_of` existed are recognised by their name and description.
  bool IsTransactionBase() const;
};

struct Registry {
  std::string current;  // name of the version `current` pointed at after the last switch
  uint64_t next_seq = 1;
  std::vector<VersionRecord> versions;  // creation order

  const VersionRecord* Find(const std::string& name) const;
  VersionRecord* Find(const std::string& name);
};

// A missing registry is an empty one.
Result<Registry> LoadRegistry(io::Env& env, const StateLayout& layout);
Status SaveRegistry(io::Env& env, const StateLayout& layout, const Registry& registry);

struct HistoryEntry {
  std::string time;
  std::string user;
  std::string host;
  std::string action;  // "switch" | "transaction" | "create" | "prune"
  std::string from;
  std::string to;
  std::string reason;
  std::string outcome;      // "switched", "committed", "rolled back by timeout", ...
  std::string transaction;  // transaction id, when part of one
  std::string detail;
  // Optional (added in format 1 without a version bump; docs/rollback-format.md#historyjsonl):
  std::string backup;          // the database backup taken at the transaction's begin
  std::string backup_version;  // the version live when that backup was taken
  std::string data;            // what happened to the database ("restored from backup …", …)
  // A switch that replaced config: the live config saved before it (below saved-config/), which
  // `to-version FROM --undo` puts back.
  std::string saved_config;
  // A switch with rollback.migration_status: the database's schema level the switch left, as
  // velin knows it (the level migrate_down reached and migration_status confirmed, else the
  // live level read before the switch: velin never migrates up).
  std::string schema_level;
};

// A switch (or a transaction's rollback switch) whose target failed its health check.
bool FailedHealthCheck(const HistoryEntry& entry);

// A history entry's outcome (or a transaction's) as the user reads it. The history keeps it in
// English, pieced together ("health check failed; switched back to v1 (healthy)"); the pieces
// velin writes are shown in the user's language, an error message inside them as it was kept.
std::string OutcomeShown(const std::string& outcome);
// A history entry's reason: the ones velin gives (a transaction's rollback) in the user's
// language, the user's own as given.
std::string ReasonShown(const std::string& reason);

// Strict, for `velin rollback history`: the first line it cannot read is damage (exit 4).
Result<std::vector<HistoryEntry>> ReadHistory(io::Env& env, const StateLayout& layout);
// For what velin looks up in the history (a switch's entry, `previous`, a transaction's end): a
// line it cannot read (a hand edit, a field a newer velin wrote with another type) is left out
// and its problem ("FILE:LINE: …") added to `unreadable`, so that one line stops no rollback.
// A newer format or an unreadable file is still an error.
Result<std::vector<HistoryEntry>> ReadHistory(io::Env& env, const StateLayout& layout,
                                              std::vector<std::string>* unreadable);
// Appends one entry: the whole log is rewritten durably (old entries are never changed; one
// this velin cannot read stays).
Status AppendHistory(io::Env& env, const StateLayout& layout, const HistoryEntry& entry);

// What has to happen next to a transaction (docs/rollback-format.md#transaction). Spelled as in
// transaction.json and `rollback status --json` ("open", "rolling-back", "committed",
// "rolled-back", "rollback-failed") by TransactionStateName; parsed only by LoadTransaction.
enum class TransactionState { kOpen, kRollingBack, kCommitted, kRolledBack, kRollbackFailed };
std::string_view TransactionStateName(TransactionState state);
std::optional<TransactionState> ParseTransactionState(std::string_view name);

// Why a transaction rolls back: "timeout" (its deadline passed) or "by hand" (`velin rollback
// rollback`); kNone ("") until it starts rolling back.
enum class RollbackCause { kNone, kTimeout, kByHand };
std::string_view RollbackCauseName(RollbackCause cause);
std::optional<RollbackCause> ParseRollbackCause(std::string_view name);

// The open transaction. `state` names what has to happen next (docs/rollback-format.md).
struct TransactionRecord {
  std::string id;
  TransactionState state = TransactionState::kOpen;
  std::string base;  // the version to return to
  std::string started;
  int64_t deadline_ms = 0;  // Unix ms
  std::string reason;
  std::string user;
  std::string host;
  RollbackCause cause = RollbackCause::kNone;  // why rolling back
  std::string outcome;
  int64_t watchdog_pid = 0;
  // Optional (added in format 1 without a version bump; docs/rollback-format.md#transaction):
  std::string backup;         // the database backup taken by `begin --backup` ("" when none)
  std::string version;        // the version live at begin (what that backup belongs to)
  bool restore_data = false;  // the rollback restores the database from `backup`
  std::string data;           // what the rollback did to the database (history's `data`)
};

// nullopt when there is no transaction file.
Result<std::optional<TransactionRecord>> LoadTransaction(io::Env& env, const StateLayout& layout);
Status SaveTransaction(io::Env& env, const StateLayout& layout, const TransactionRecord& txn);
Status RemoveTransaction(io::Env& env, const StateLayout& layout);

// Where the forward direction of a switch takes the configuration from (switch.json
// `config`; docs/rollback-format.md#switchjson).
enum class SwitchConfig {
  kTarget,  // a snapshot's stored config; a version touches none (every switch but an undo)
  kKeep,    // none is touched: the undo of a switch that touched none (`to-version --undo`)
  kSaved,   // the live config saved before the switch being undone (`config_saved`), exactly
};

// A switch in progress: written before the service is stopped, rewritten when it turns back,
// removed when it ended. `recover` continues it from here (docs/rollback-format.md).
struct SwitchIntent {
  std::string from;
  std::string to;
  std::string reason;
  std::string transaction;
  std::string started;       // also the time of its history entry
  int64_t history_len = 0;   // history entries before it: a later matching one is its own
  std::string action;        // history action: "switch" | "rollback"
  std::string from_level;    // schema level before the switch
  std::string saved_config;  // name below state_dir/saved-config ("" when config is not replaced)
  std::string phase;         // "forward" | "back" (the target failed: returning to `from`)
  std::string failure;       // phase "back": why the target failed
  bool health_failed = false;
  // Optional (docs/rollback-format.md#switchjson): restore the database from this backup after
  // `current` points at `to` and before `start`; `data` is "" until the restore ran, then
  // "restored" or "failed: …" (a crash before that runs it again).
  std::string restore_backup;
  std::string data;
  // Optional: the forward direction's config when it is not the target's (an undo).
  SwitchConfig config = SwitchConfig::kTarget;
  std::string config_saved;  // kSaved: the name below state_dir/saved-config
  // Optional, read only: the last command of the switch the velin of 2026-12-07 started (stop,
  // start, health, migrate_down), recorded before it ran anything: its key, its process (the
  // leader of its own process group) with its start time (clock ticks since boot), and when its
  // timeout passes (Unix ms). Whoever continues the switch waits for it first. Since 2026-12-08
  // commands are recorded in command.json (rollback/command_record.hpp), at no fsync.
  std::string command;
  int64_t command_pid = 0;
  int64_t command_start_ticks = 0;
  int64_t command_deadline_ms = 0;
};
Result<std::optional<SwitchIntent>> LoadSwitchIntent(io::Env& env, const StateLayout& layout);
Status SaveSwitchIntent(io::Env& env, const StateLayout& layout, const SwitchIntent& intent);
Status RemoveSwitchIntent(io::Env& env, const StateLayout& layout);

// removals.json (docs/rollback-format.md): the releases a prune is about to unregister and
// delete, or the one a create is about to rename into place and register, written durably
// before either. A name listed there that the registry does not hold is what a killed run left
// behind, and the next create removes it; a release merely missing from the registry (a lost or
// older registry.json) is never touched. Names that are not valid version names are dropped.
Result<std::vector<std::string>> LoadRemovals(io::Env& env, const StateLayout& layout);
Status SaveRemovals(io::Env& env, const StateLayout& layout, const std::vector<std::string>& names);
Status ClearRemovals(io::Env& env, const StateLayout& layout);
// removals.json lists exactly `names` (releases still to remove), or is removed when empty.
Status KeepRemovals(io::Env& env, const StateLayout& layout, const std::vector<std::string>& names);

// "2026-11-25T15:45:00Z" for a Unix time in ms: the records' and the JSON documents' times.
std::string IsoTime(int64_t unix_ms);
// "2026-11-25 16:45:00", local to the second: a Unix time in ms as human output and messages
// show times (docs/cli.md, "Times").
std::string LocalTime(int64_t unix_ms);
// A recorded IsoTime text as LocalTime shows it; a text of another shape as it is.
std::string LocalTimeOf(const std::string& iso);
int64_t UnixMs(io::Env& env);
// $USER (through `env`), else the effective user's name, else its uid.
std::string CurrentUser(io::Env& env);

// `to-version previous`: the version live before the current one (a name no version may take).
inline constexpr const char* kPreviousVersion = "previous";

// A version name: letters, digits, '.', '_', '-', '+'; not starting with '.' or '-'; not
// "previous".
Status CheckVersionName(const std::string& name);

}  // namespace velin::rollback
