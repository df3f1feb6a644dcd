// Snapshots: one small JSON object per backup ("snapshots/<id>"), the commit point of a backup.
// It names every source — a path with its root tree, or a stream (a database dump) with its
// chunk list and metadata — plus what list and verify show. The object wraps the snapshot with
// the SHA-256 of its canonical text, so a damaged snapshot is detected, not misread
// (docs/repository-format.md, "Snapshots").
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/blob_id.hpp"

namespace velin::repo {

// What a snapshot source holds: a tree of files (`path`) or one byte stream (`stream`, e.g. a
// database dump). Spelled as in the snapshot JSON by SourceKindName; parsed only there.
enum class SourceKind { kPath, kStream };
std::string_view SourceKindName(SourceKind kind);
std::optional<SourceKind> ParseSourceKind(std::string_view name);

// How a backup reads its files: `full` reads everything, `incremental` reuses the parent
// snapshot's entry for a file whose size and times did not change. Spelled as in the snapshot
// JSON, the config key backup.strategy and --strategy by StrategyName.
enum class Strategy { kFull, kIncremental };
std::string_view StrategyName(Strategy strategy);
std::optional<Strategy> ParseStrategy(std::string_view name);

struct SnapshotSource {
  std::string name;  // as in backup.include: "storage/uploads", or a stream's name ("db")
  SourceKind kind = SourceKind::kPath;
  BlobId tree;                 // path: a tree with one node, the path's last component
  std::vector<BlobId> chunks;  // stream: its chunks, in order
  uint64_t files = 0;
  uint64_t bytes = 0;
  nlohmann::json metadata = nlohmann::json::object();  // stream: what its producer recorded
  // path: the symlinks on the include path that the backup followed (the include root or a
  // directory above it), relative to app.root -> the link's text. Absent when none.
  std::map<std::string, std::string> links;
  // path: of those links, each that led to a directory -> where it led, with no symlink in the
  // path (/mnt/nas/uploads -> /media/nas/uploads): an in-place restore writes behind the link
  // only while it leads there still. Empty in backups of before 2026-12-06.
  std::map<std::string, std::string> links_resolved;
};

struct SnapshotStats {
  uint64_t files = 0;
  uint64_t dirs = 0;
  uint64_t bytes = 0;       // total size of everything backed up
  uint64_t files_read = 0;  // files actually opened and read (incremental skips unchanged)
  uint64_t bytes_read = 0;
  uint64_t bytes_added = 0;  // stored (compressed) bytes this backup added to the repository
  uint64_t blobs_added = 0;
  uint64_t duration_ms = 0;
  // Files that changed while they were read, twice in a row: each copy may mix old and new
  // data. Entries deleted while the backup read them (left out). Recorded when not 0.
  uint64_t files_changed = 0;
  uint64_t files_vanished = 0;
};

struct Snapshot {
  std::string id;    // "20261125-1430-full"
  std::string time;  // UTC, ISO 8601 with seconds: "2026-11-25T14:30:05Z"
  int64_t unix_time = 0;
  // The nanoseconds past unix_time at which the backup started: orders two snapshots of one
  // second. 0 in snapshots of velins before it was recorded ("time_ns" absent).
  int64_t time_ns = 0;
  std::string host;  // the host that made it ([app] host, default the machine's name)
  std::string app;   // [app] name; "" in snapshots of velins before it was recorded
  Strategy strategy = Strategy::kFull;
  std::string parent;  // id of the parent snapshot ("" for none)
  std::string velin_version;
  std::string compression;
  std::vector<SnapshotSource> sources;
  SnapshotStats stats;

  const SnapshotSource* FindSource(const std::string& name) const;
};

// The snapshot object's "format" (docs/repository-format.md, "Snapshots"): the one this velin
// writes and reads.
inline constexpr int kSnapshotFormat = 1;

std::string EncodeSnapshot(const Snapshot& snapshot);
// DamageError when the text does not parse, fields are missing or the checksum differs, or its
// "format" is not a whole number from 1 (missing: 1); a UsageError ("upgrade velin") when it is
// greater than kSnapshotFormat: a later velin's snapshot, not damage.
Result<Snapshot> DecodeSnapshot(std::string_view text);
// The snapshot object `text` (checked as DecodeSnapshot checks it) with its id set to `id` and
// its checksum made anew; every other field stays as it is, those this velin does not know too.
Result<std::string> RenameSnapshotText(std::string_view text, const std::string& id);
// Whether two snapshot objects (checked) hold the same snapshot but for their ids.
Result<bool> SameSnapshotButId(std::string_view a, std::string_view b);

// Which snapshots a command works on (docs/cli.md, "Hosts and applications"): by default this
// host's and this application's; `all` takes every snapshot of the repository, `any_host` /
// `any_app` every host's / every application's (a repository alone: --app or --host only).
struct SnapshotFilter {
  bool all = false;
  std::string host;
  std::string app;  // "" selects the snapshots of older velins, which record no application
  bool any_host = false;
  bool any_app = false;
  // A repository alone with neither --host, --app nor --all: `latest` must then be one
  // group's (host and app) newest; over several groups it is refused as ambiguous.
  bool latest_of_one_group = false;

  bool Matches(const std::string& of_host, const std::string& of_app) const {
    return all || ((any_host || of_host == host) && (any_app || of_app == app));
  }
  bool Matches(const Snapshot& s) const { return Matches(s.host, s.app); }
  // "host web1, app shop" (or "all hosts and apps", "host web1, every app"), for messages.
  std::string Describe() const;
};

// An id's base and numeric suffix: "20261125-1430-full-12" -> ("20261125-1430-full", 12); no
// suffix -> (id, 1). A suffix has 1 to 9 digits.
std::pair<std::string_view, uint64_t> SplitSuffix(std::string_view id);

// The minute an id of velin's ("20261125-1430-full-2") names, as unix seconds read as if UTC
// (an id is its host's local time); nullopt for an id not of that form.
std::optional<int64_t> SnapshotIdMinute(std::string_view id);

// The order of "newer": by unix_time, then — for equal times — by id, where a numeric suffix
// counts as a number ("…-full-10" is newer than "…-full-9", which is newer than "…-full").
// Deterministic whatever the input order. True when a is newer than b.
bool SnapshotNewer(int64_t a_time, const std::string& a_id, int64_t b_time,
                   const std::string& b_id);
// The same order with the start times to the nanosecond (unix_time, then time_ns): of a full
// and an incremental backup begun in one second, the one begun later is the newer, which the
// ids alone cannot tell ("…-incr" sorts above "…-full-2" whatever the order they were taken).
bool SnapshotNewer(const Snapshot& a, const Snapshot& b);
// The start time as a time point, to the nanosecond where the snapshot records it.
std::chrono::system_clock::time_point SnapshotStart(const Snapshot& s);

// How far after `now` a backup may be dated before velin says a clock is wrong: the one of the
// machine that made it then, or of the one reading it now. Hosts sharing a repository differ
// by far less (NTP); a clock a year ahead made "latest" and `backup status` name a stale
// backup until that date.
inline constexpr std::chrono::minutes kClockSkew{15};
bool DatedInTheFuture(const Snapshot& s, std::chrono::system_clock::time_point now);

inline std::string SnapshotObjectName(const std::string& id) { return "snapshots/" + id; }

// Whether `name` (an object's name in snapshots/, without the prefix) can be a backup id. Ids
// begin with their date ("20261125-1430-full-2", docs/repository-format.md) and hold only ASCII
// letters, digits, '-', '_' and ':'; anything else there (".DS_Store", "notes.txt", a temp
// object, a file in a subdirectory) is no backup, and no command takes it for one.
bool CouldBeSnapshotId(std::string_view name);
// What `list` and `verify --all` say of such an object (`object`: "snapshots/.DS_Store").
std::string ForeignSnapshotObjectWarning(const std::string& object);

}  // namespace velin::repo
