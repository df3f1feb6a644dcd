// Shared by the commands that look inside backups (backup ls, find, diff, dump, stats): which
// backup an ID names, and how paths, modes and times are shown.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backup_common.hpp"
#include "velin/repo/snapshot.hpp"

namespace velin::cli {

// The backup `id` names ("latest" of the hosts and apps `filter` selects, an ID or a unique
// prefix), loaded.
Result<repo::Snapshot> LoadNamedBackup(repo::Repository& repo, const std::string& id,
                                       const repo::SnapshotFilter& filter);

// The backups LoadAllSnapshots could not read, as `find` and `stats` report them: they go on
// with the backups they could read, then end with exit 4 (docs/exit-codes.md) — a search or a
// count that left a backup out is not the answer that was asked for.
// "ID: why" each, as --json's "damaged" lists them and the error line joins them with "; ".
std::vector<std::string> UnreadableBackups(const std::vector<repo::ObjectDamage>& damage);

// A path as a line shows it: as it is, or — when it holds a control character (a newline in
// a file name) — in double quotes with C escapes, so one entry stays one line. --json shows
// the raw bytes.
std::string ShownPath(const std::string& path);

// "-rw-r--r--"-style, with the type letter of `type_name` ('d', 'l', 'h' for a hardlink, '?'
// for a type without a letter).
std::string ModeString(const std::string& type_name, uint32_t mode);

// UTC, RFC 3339 with seconds, as JSON shows times: "2026-11-25T14:30:05Z".
std::string UtcTime(int64_t unix_ns);
// The same in local time, as human output shows times (docs/cli.md, "Times").
std::string LocalTime(int64_t unix_ns);

// "2.8x"; "-" when the divisor is 0.
std::string Ratio(uint64_t a, uint64_t b);

}  // namespace velin::cli
