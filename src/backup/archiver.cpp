#include "velin/backup/archiver.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <optional>

#include "archiver_walk.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/time_text.hpp"
#include "velin/repo/snapshot_commit.hpp"

namespace velin::backup {

namespace {

std::string FormatTime(std::chrono::system_clock::time_point t, const char* format, bool local) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  if (local) {
    localtime_r(&tt, &tm);
  } else {
    gmtime_r(&tt, &tm);
  }
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

Status ValidateInclude(const std::string& include) {
  // The system reads "a\0b" as "a", and the tree would record "a\0b", a name no restore reads.
  if (include.find('\0') != std::string::npos) {
    return UsageError(TrFormat(
        "backup.include '{}' holds a NUL character: no file has that name, and a backup could not "
        "record it",
        include));
  }
  if (!IsIncludeInsideRoot(include)) {
    return UsageError(TrFormat(
        "backup.include '{}' must be a path inside app.root (relative, without '..')", include));
  }
  return Ok();
}

// The newest snapshot: the parent of an incremental backup, and where every backup finds
// delta bases for its changed files (docs/delta.md).
const repo::Snapshot* Newest(const std::vector<repo::Snapshot>& all) {
  const repo::Snapshot* newest = nullptr;
  for (const auto& s : all) {
    if (!newest || repo::SnapshotNewer(s, *newest)) {
      newest = &s;
    }
  }
  return newest;
}

// "a, b, c and 4 more".
std::string SampleText(const PathSample& sample) {
  std::string text;
  for (const auto& path : sample.first) text += (text.empty() ? "" : ", ") + path;
  if (sample.count > sample.first.size()) {
    text += TrFormat(" and {} more", sample.count - sample.first.size());
  }
  return text;
}

// One line for the backups an incremental create passes over as parents: the first one's
// message ("snapshot ID: why") and what to do.
std::string UnreadableSnapshotsWarning(const std::vector<repo::ObjectDamage>& damage) {
  if (damage.size() == 1) {
    return TrFormat(
        "{}; it is passed over as the parent of this backup (run `velin backup verify --all`, "
        "and `velin backup forget` the backup once you know it is lost)",
        damage.front().message);
  }
  return TrFormat(
      "{} backups cannot be read ({} among them); they are passed over as the parent of this "
      "backup (run `velin backup verify --all`, and `velin backup forget` those that are lost)",
      damage.size(), damage.front().message);
}

}  // namespace

bool IsIncludeInsideRoot(const std::string& include) {
  return !include.empty() && include[0] != '/' && include != "." &&
         ("/" + include + "/").find("/../") == std::string::npos &&
         !NormalizeInclude(include).empty();
}

std::string NormalizeGlob(std::string pattern) {
  while (pattern.size() > 1 && pattern.back() == '/') pattern.pop_back();
  while (pattern.size() > 2 && pattern.starts_with("./")) pattern.erase(0, 2);
  return pattern;
}

std::string NormalizeInclude(const std::string& include) {
  // An absolute path stays one, so that the loader refuses it as such.
  return io::CleanPath(include);
}

Result<repo::Snapshot> CreateBackup(repo::Repository& repo, io::Env& env, Reporter& reporter,
                                    const CreateOptions& options) {
  const auto started = env.SteadyNow();
  const auto now = env.Now();
  for (const auto& inc : options.include) VELIN_TRY(ValidateInclude(inc));
  const std::string host = options.host.empty() ? env.HostName() : options.host;
  std::vector<repo::Snapshot> history;
  if (options.strategy == repo::Strategy::kIncremental) {
    // A damaged snapshot (even another host's) must not stop every later backup: the parent is
    // the newest readable one, and any backup will do as one, each being whole on its own.
    std::vector<repo::ObjectDamage> damage;
    VELIN_ASSIGN(history, repo.LoadAllSnapshots(&damage));
    if (!damage.empty()) reporter.Warn(UnreadableSnapshotsWarning(damage));
  } else if (repo.delta_blobs()) {
    // Only for delta bases: a full backup goes on without them when earlier ones are unreadable.
    auto all = repo.LoadAllSnapshots(nullptr);
    if (all) history = std::move(*all);
  }
  const repo::SnapshotFilter mine{false, host, options.app};
  std::erase_if(history, [&](const repo::Snapshot& s) { return !mine.Matches(s); });
  const repo::Snapshot* newest = Newest(history);
  if (newest != nullptr && repo::DatedInTheFuture(*newest, now)) {
    // Said at every create, so the log shows it daily until someone looks.
    reporter.Warn(TrFormat(
        "the newest backup of {}, {}, is dated {}, after this machine's clock: a clock was wrong "
        "when it was made, or is wrong now; it counts as the newest (`latest`) and retention "
        "keeps it until then",
        mine.Describe(), newest->id, FormatLocalTime(newest->unix_time)));
  }
  const repo::Snapshot* parent =
      options.strategy == repo::Strategy::kIncremental ? newest : nullptr;
  // The walk reads the newest backup's tree of every directory it finds again: nearly all.
  std::optional<repo::Repository::DeeperTreeReads> deeper;
  if (newest) deeper.emplace(repo);

  repo::BlobWriterOptions writer_options;
  writer_options.codec = options.codec;
  writer_options.level = options.level;
  writer_options.dry_run = options.dry_run;
  repo::BlobWriter writer(repo, writer_options);
  ArchiveWalk walk(repo, env, reporter, options, writer, newest);
  for (StreamSource* stream : options.streams) {
    const repo::Snapshot* last = nullptr;  // the newest backup that has this stream
    const repo::SnapshotSource* last_source = nullptr;
    for (const auto& s : history) {
      const repo::SnapshotSource* src = s.FindSource(stream->Name());
      if (src && src->kind == repo::SourceKind::kStream &&
          (!last || !repo::SnapshotNewer(*last, s))) {
        last = &s;
        last_source = src;
      }
    }
    if (last_source) walk.SetStreamHistory(stream->Name(), last_source->chunks);
  }

  repo::Snapshot snapshot;
  reporter.StartProgress(Tr("Backing up"), parent ? parent->stats.bytes : 0);
  for (StreamSource* stream : options.dry_run ? std::vector<StreamSource*>() : options.streams) {
    auto source = walk.ArchiveStream(*stream);
    if (!source) {
      reporter.EndProgress();
      return tl::unexpected(source.error().Wrap(TrFormat("source '{}'", stream->Name())));
    }
    snapshot.sources.push_back(std::move(*source));
    walk.LeaveOut(stream->LiveFiles());
  }
  // The caller's lister began before the repository was opened; otherwise one begins now, after
  // the streams (a database dump takes a while: the listings would wait for the walk meanwhile).
  std::optional<DirLister> own_lister;
  DirLister* lister = options.lister;
  if (!lister && !options.include.empty()) {
    lister = &own_lister.emplace(env, options);
  }
  walk.SetLister(lister);
  for (const auto& written : options.include) {
    const std::string include = NormalizeInclude(written);
    const uint64_t left_out_before = walk.left_out().count;
    auto source = walk.ArchivePath(include);
    if (!source) {
      reporter.EndProgress();
      return tl::unexpected(source.error().Wrap(TrFormat("backup.include '{}'", include)));
    }
    // An include that held only the database's own files (left out: a stream holds them) is
    // not a mount gone missing.
    if (source->files == 0 && walk.left_out().count == left_out_before &&
        std::none_of(options.allow_empty.begin(), options.allow_empty.end(),
                     [&](const std::string& path) { return NormalizeInclude(path) == include; })) {
      reporter.Warn(
          TrFormat("backup.include '{}' holds no files (a mount that is missing?); "
                   "list it in backup.allow_empty if that is expected",
                   include));
    }
    snapshot.sources.push_back(std::move(*source));
  }
  reporter.FinishProgress();
  own_lister.reset();
  if (walk.unstored_xattr_files() > 0) {
    reporter.Warn(TrCount(
        walk.unstored_xattr_files(),
        "{} file or directory has extended attributes (ACLs among them) that repository "
        "format version {} cannot store; `velin backup upgrade` raises it to {}",
        "{} files and directories have extended attributes (ACLs among them) that repository "
        "format version {} cannot store; `velin backup upgrade` raises it to {}",
        walk.unstored_xattr_files(), repo.config().format_version,
        repo::kExtendedTreeFormatVersion));
  }
  if (const PathSample& changed = walk.changed(); changed.count > 0) {
    reporter.Warn(TrCount(
        changed.count,
        "{} file changed while it was read, and again when read once more ({}): the backup "
        "holds it as the second read found it, which may mix old and new data; the next "
        "backup reads it again",
        "{} files changed while they were read, and again when read once more ({}): the backup "
        "holds each as the second read found it, which may mix old and new data; the next "
        "backup reads them again",
        changed.count, SampleText(changed)));
  }
  if (const PathSample& clamped = walk.clamped_mtimes(); clamped.count > 0) {
    reporter.Warn(TrCount(
        clamped.count,
        "{} file or directory has an mtime outside what a backup can record, 1677-09-21 to "
        "2262-04-11 ({}): it is stored as the nearest of these times, which a restore gives it",
        "{} files and directories have an mtime outside what a backup can record, 1677-09-21 to "
        "2262-04-11 ({}): each is stored as the nearest of these times, which a restore gives it",
        clamped.count, SampleText(clamped)));
  }
  if (const PathSample& vanished = walk.vanished(); vanished.count > 0) {
    reporter.Info(TrCount(vanished.count,
                          "{} file or directory was deleted while the backup ran ({}): left out",
                          "{} files and directories were deleted while the backup ran ({}): "
                          "left out",
                          vanished.count, SampleText(vanished)));
  }
  if (const PathSample& left_out = walk.left_out(); left_out.count > 0) {
    reporter.Info(TrFormat(
        "the database's own files are left out of the files ({}): the backup holds the database "
        "as 'db', one consistent copy (a copy of the live files can mix pages written at "
        "different moments)",
        SampleText(left_out)));
  }
  if (const PathSample& replaced = walk.replaced(); replaced.count > 0) {
    reporter.Info(TrCount(
        replaced.count,
        "{} file or directory was replaced while the backup ran, by what velin does not "
        "read in its place (a symlink, a fifo, a directory, or a file replaced again at each "
        "read) ({}): left out; the next backup takes what is there then",
        "{} files and directories were replaced while the backup ran, by what velin does not "
        "read in their place (a symlink, a fifo, a directory, or a file replaced again at each "
        "read) ({}): left out; the next backup takes what is there then",
        replaced.count, SampleText(replaced)));
  }
  VELIN_TRY(writer.Flush());

  repo::BlobWriterStats ws = writer.stats();
  snapshot.stats = walk.stats();
  snapshot.stats.files_changed = walk.changed().count;
  snapshot.stats.files_vanished = walk.vanished().count + walk.replaced().count;
  snapshot.stats.bytes_added = options.dry_run ? ws.raw_bytes_added : ws.stored_bytes_added;
  snapshot.stats.blobs_added = ws.blobs_added;
  snapshot.stats.duration_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(env.SteadyNow() - started).count());
  snapshot.time = FormatTime(now, "%Y-%m-%dT%H:%M:%SZ", false);
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch());
  snapshot.unix_time = std::chrono::floor<std::chrono::seconds>(since_epoch).count();
  snapshot.time_ns = (since_epoch - std::chrono::seconds(snapshot.unix_time)).count();
  snapshot.host = host;
  snapshot.app = options.app;
  snapshot.strategy = options.strategy;
  snapshot.parent = parent ? parent->id : "";
  snapshot.velin_version = options.velin_version;
  snapshot.compression = std::string(repo::CodecName(options.codec));
  if (options.dry_run) return snapshot;  // nothing written, nothing to commit
  std::string base = FormatTime(now, "%Y%m%d-%H%M", true) +
                     (options.strategy == repo::Strategy::kIncremental ? "-incr" : "-full");
  // Under the commit lock, so that two backups in the same minute get different ids.
  VELIN_TRY(repo::CommitSnapshot(env, repo, snapshot, base, options.commit_lock_wait,
                                 options.before_commit));
  return snapshot;
}

Status ReadStreamSource(repo::Repository& repo, const repo::Snapshot& snapshot,
                        const std::string& name,
                        const std::function<Status(std::string_view)>& sink) {
  const repo::SnapshotSource* source = snapshot.FindSource(name);
  if (!source || source->kind != repo::SourceKind::kStream) {
    return UsageError(TrFormat("backup {} has no stream source '{}'", snapshot.id, name));
  }
  // Two buffers for the whole stream: a string per chunk was a fresh mapping of each chunk of
  // 1 MiB or more (velin's M_MMAP_THRESHOLD), faulted in page by page and unmapped after.
  std::string raw;
  std::string stored;
  for (const auto& id : source->chunks) {
    Status read = repo.ReadBlobInto(id, raw, stored);
    if (!read)
      return tl::unexpected(read.error().Wrap(TrFormat("backup {} source {}", snapshot.id, name)));
    VELIN_TRY(sink(raw));
  }
  return Ok();
}

const nlohmann::json* StreamSourceMetadata(const repo::Snapshot& snapshot,
                                           const std::string& name) {
  const repo::SnapshotSource* source = snapshot.FindSource(name);
  if (!source || source->kind != repo::SourceKind::kStream) return nullptr;
  return &source->metadata;
}

}  // namespace velin::backup
