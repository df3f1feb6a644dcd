#include "velin/backup/snapshot_copier.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "velin/core/i18n.hpp"
#include "velin/core/stack.hpp"
#include "velin/core/termination.hpp"
#include "velin/repo/snapshot_commit.hpp"

namespace velin::backup {
namespace {

class Copier {
 public:
  Copier(repo::Repository& source, repo::Repository& destination,
         const repo::BlobWriterOptions& options, bool recompress, Reporter& reporter)
      : source_(source),
        destination_(destination),
        writer_(destination, WithIndexAsItGoes(options)),
        reporter_(reporter),
        recompress_(recompress) {}

  // Queues every blob of `snapshot` that the destination lacks.
  Status CopyBlobsOf(const repo::Snapshot& snapshot) {
    for (const repo::SnapshotSource& src : snapshot.sources) {
      if (src.kind == repo::SourceKind::kStream) {
        for (const repo::BlobId& chunk : src.chunks)
          VELIN_TRY(CopyBlob(repo::BlobType::kData, chunk));
      } else {
        VELIN_TRY(CopyTree(src.tree));
      }
    }
    return Ok();
  }

  Status Flush() {
    VELIN_TRY(CopyPending());
    return writer_.Flush();
  }
  CopyStats& stats() { return stats_; }
  // Blobs found missing in the destination so far (queued or copied).
  uint64_t blobs_missing() const { return missing_; }
  uint64_t packs_written() { return writer_.stats().packs_written; }
  uint64_t bytes_stored() { return writer_.stats().stored_bytes_added; }

 private:
  bool Present(const repo::BlobId& id) {
    if (!seen_.insert(id).second) return true;  // handled earlier in this copy
    if (destination_.index().Find(id)) {
      stats_.blobs_present++;
      return true;
    }
    return false;
  }

  // Whether a blob travels as the source stores it. Decompressing it to compress it again
  // cost a copy most of its CPU (bench/README.md, "Eighteenth pass"). Not a delta blob: its
  // base may not be in the destination. Both repositories are plain or have the same keys
  // (CheckCopyKeys), so a sealed blob opens in the destination too.
  bool SendsStored(const repo::IndexEntry& e) const {
    return !recompress_ && e.codec != repo::Codec::kZstdDelta &&
           source_.encrypted() == destination_.encrypted();
  }

  // A blob the destination lacks waits in a batch: read with its neighbours in the source's
  // pack, a request per run of them instead of one per blob. From a remote source (the offsite
  // copy brought back) 20,000 small files' blobs took 28 s one GET at a time (bench/README.md,
  // "Eighteenth pass").
  Status CopyBlob(repo::BlobType type, const repo::BlobId& id) {
    VELIN_TRY(CheckInterrupted());  // a copy asked to stop (core/termination.hpp): per blob
    if (Present(id)) return Ok();
    const std::optional<repo::IndexEntry> found = source_.index().Find(id);
    if (!found) {  // fails, naming the blob, as any read of it does
      repo::IndexEntry unused;
      return source_.ReadStoredInto(id, unused, stored_);
    }
    pending_.push_back(Pending{type, id, *found});
    missing_++;
    pending_bytes_ += found->length;
    if (pending_.size() >= kBatchBlobs || pending_bytes_ >= kBatchBytes) return CopyPending();
    return Ok();
  }

  struct Pending {
    repo::BlobType type;
    repo::BlobId id;
    repo::IndexEntry entry;
  };
  static constexpr size_t kBatchBlobs = 4096;
  static constexpr uint64_t kBatchBytes = 32ULL << 20;
  static constexpr uint64_t kGap = 64 * 1024;      // read over a gap this small
  static constexpr uint64_t kMaxRun = 4ULL << 20;  // one request at most

  // The batch in pack order, a range request per run of neighbouring blobs.
  Status CopyPending() {
    std::sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
      return a.entry.pack != b.entry.pack ? a.entry.pack < b.entry.pack
                                          : a.entry.offset < b.entry.offset;
    });
    for (size_t i = 0; i < pending_.size();) {
      const repo::IndexEntry& first = pending_[i].entry;
      const uint64_t start = first.offset;
      uint64_t end = start + first.length;
      size_t j = i + 1;
      while (j < pending_.size() && pending_[j].entry.pack == first.pack &&
             pending_[j].entry.offset >= end && pending_[j].entry.offset <= end + kGap &&
             pending_[j].entry.offset + pending_[j].entry.length - start <= kMaxRun) {
        end = pending_[j].entry.offset + pending_[j].entry.length;
        ++j;
      }
      const bool read = j - i > 1 &&
                        source_.backend()
                            .GetRangeInto(repo::PackObjectName(source_.index().PackId(first.pack)),
                                          start, end - start, run_)
                            .has_value() &&
                        run_.size() == end - start;
      for (size_t k = i; k < j; ++k) {
        // A run that could not be read whole: each blob on its own, for an error naming it.
        const std::string_view stored =
            read ? std::string_view(run_).substr(pending_[k].entry.offset - start,
                                                 pending_[k].entry.length)
                 : std::string_view();
        VELIN_TRY(CopyOne(pending_[k], read ? &stored : nullptr));
      }
      i = j;
    }
    pending_.clear();
    pending_bytes_ = 0;
    return Ok();
  }

  // One blob, its stored bytes `stored` or, when null, read on its own.
  Status CopyOne(const Pending& p, const std::string_view* stored) {
    if (SendsStored(p.entry)) {
      // Checked (opened, decompressed, hashed) by the writer's workers, on every core.
      std::string bytes = writer_.TakeBuffer(p.entry.length);
      if (stored) {
        bytes.assign(*stored);
      } else {
        repo::IndexEntry e;  // p.entry: the same index
        VELIN_TRY(source_.ReadStoredInto(p.id, e, bytes));
      }
      Count(p.entry.raw_length);
      return writer_.SaveStored(p.type, p.id, std::move(bytes), p.entry, source_);
    }
    // Decoded and stored anew. Into a buffer the writer's finished jobs left behind: a fresh
    // string per blob was a fresh mapping of each blob of 1 MiB or more, faulted in page by page.
    std::string data = writer_.TakeBuffer(p.entry.raw_length);
    if (stored) {
      stored_.assign(*stored);
      VELIN_TRY(source_.DecodeStoredBlob(p.id, p.entry, stored_, data));
    } else {
      VELIN_TRY(source_.ReadBlobInto(p.id, data, stored_));
    }
    Count(data.size());
    return writer_.Save(p.type, p.id, std::move(data));
  }

  void Count(uint64_t raw_bytes) {
    stats_.blobs_copied++;
    stats_.bytes_copied += raw_bytes;
    reporter_.UpdateProgress(stats_.bytes_copied, stats_.blobs_copied);
  }

  static repo::BlobWriterOptions WithIndexAsItGoes(repo::BlobWriterOptions options) {
    options.index_as_it_goes = true;  // a rerun after a kill sends only what is missing
    // The next copy into this destination in this process (the offsite copy's catch-up, one
    // backup after another) finds what this one sent instead of sending it again.
    options.add_to_index = true;
    return options;
  }

  // A tree the destination has is still descended: an interrupted copy may have indexed it
  // (index objects are written as the copy goes) before the packs of its subtree.
  Status CopyTree(const repo::BlobId& id) {
    if (!seen_.insert(id).second) return Ok();  // handled earlier in this copy
    if (!StackHasRoom()) return StackTooDeep(TrFormat("tree {}", id.Short()));  // core/stack.hpp
    const bool present = destination_.index().Find(id).has_value();
    VELIN_ASSIGN(std::string data, source_.ReadBlob(id));
    VELIN_ASSIGN(repo::Tree tree, source_.DecodeTreeBlob(id, data));
    if (tree.format > 1 && !destination_.extended_trees()) {
      // An older velin reading the destination would take the tree for damage. Every backup
      // made in a version 4 repository has such trees, whatever its files hold; written again
      // as VLNTREE1 they would get other ids, and so would the snapshot: no byte-for-byte copy.
      return UsageError(TrFormat(
          "the backup was written with format version {} trees and {} has format version {}: "
          "run `velin backup upgrade` on it first",
          repo::kExtendedTreeFormatVersion, destination_.backend().Location(),
          destination_.config().format_version));
    }
    for (const repo::Node& node : tree.nodes) {
      if (node.type == repo::NodeType::kDir) {
        VELIN_TRY(CopyTree(node.subtree));
      } else if (node.type == repo::NodeType::kFile) {
        for (const repo::BlobId& chunk : node.content) {
          VELIN_TRY(CopyBlob(repo::BlobType::kData, chunk));
        }
      }
    }
    if (present) {
      stats_.blobs_present++;
      return Ok();
    }
    // After its subtrees (its file blobs may still wait in the batch: a killed copy that
    // indexed the tree without them descends it again); counted by the progress too (its
    // "N blobs" is the summary's).
    missing_++;
    Count(data.size());
    return writer_.Save(repo::BlobType::kTree, id, std::move(data));
  }

  repo::Repository& source_;
  repo::Repository& destination_;
  repo::BlobWriter writer_;
  Reporter& reporter_;
  std::unordered_set<repo::BlobId, repo::BlobIdHash> seen_;
  CopyStats stats_;
  std::string stored_;  // a blob's stored bytes, reused
  std::string run_;     // a run of neighbouring blobs' stored bytes, reused
  std::vector<Pending> pending_;
  uint64_t pending_bytes_ = 0;
  uint64_t missing_ = 0;
  bool recompress_;
};

// The id under which the destination holds the snapshot `text` (source id `id`) when a copy
// renamed it before: a snapshot of the same minute and kind that is the same but for its id;
// "" when none. A damaged candidate is not taken for it (the copy then stores a sound one).
Result<std::string> FindRenamedCopy(repo::Repository& destination,
                                    const std::vector<std::string>& destination_ids,
                                    const std::string& id, const std::string& text) {
  const std::string base = repo::SnapshotIdBase(id);
  for (const std::string& candidate : destination_ids) {
    if (candidate == id || repo::SnapshotIdBase(candidate) != base) continue;
    VELIN_ASSIGN(std::string stored,
                 destination.backend().Get(repo::SnapshotObjectName(candidate)));
    auto there = destination.OpenObject("snapshot", candidate, std::move(stored));
    if (!there) continue;  // damaged (or not this repository's): not a copy of it
    auto same = repo::SameSnapshotButId(text, *there);
    if (same && *same) return candidate;
  }
  return std::string();
}

// A snapshot to store under a new id: its object's text in the source, and the host of the
// snapshot that holds its id in the destination.
struct Rename {
  std::string id;
  std::string text;
  std::string holder;
};

}  // namespace

Result<CopyStats> CopySnapshots(repo::Repository& source, repo::Repository& destination,
                                const std::vector<std::string>& ids,
                                const repo::BlobWriterOptions& options, io::Env& env,
                                Reporter& reporter, bool recompress,
                                std::chrono::milliseconds commit_lock_wait) {
  Copier copier(source, destination, options, recompress, reporter);
  std::vector<std::string> to_commit;  // under their own ids, byte for byte
  std::vector<Rename> to_rename;       // another snapshot holds their id there
  // One listing, not a request a snapshot; it also lets a remote destination's cache serve
  // the snapshot objects read below (storage.md, "Local cache of remote repositories").
  VELIN_ASSIGN(const std::vector<std::string> destination_ids, destination.ListSnapshotIds());
  const std::unordered_set<std::string> listed(destination_ids.begin(), destination_ids.end());
  // `id` is held in the destination by another snapshot: queued to be stored under a new id
  // (its text, the host of the one there). `search`: unless an earlier copy did so already.
  auto clash = [&](const std::string& id, std::string here, bool search) -> Result<bool> {
    VELIN_ASSIGN(std::string text, source.OpenObject("snapshot", id, std::move(here)));
    auto holder = destination.LoadSnapshot(id);
    std::string holder_host = holder ? holder->host : std::string();
    if (search) {
      VELIN_ASSIGN(std::string copied_as, FindRenamedCopy(destination, destination_ids, id, text));
      if (!copied_as.empty()) {
        copier.stats().snapshots_present++;
        copier.stats().renamed.push_back(CopyRename{id, copied_as, holder_host, false});
        return false;
      }
    }
    to_rename.push_back(Rename{id, std::move(text), std::move(holder_host)});
    return true;
  };
  // Packs the destination's index lists that are gone there, cut short, or that a verify found
  // damaged (LoadIndex with PackCheck::kAll takes them as absent): a backup already there may
  // need their blobs, so its blobs are walked too and those the destination lacks are sent
  // again. Otherwise a backup there has every blob it needs: not walked.
  const bool lacking = !destination.index().missing_packs().empty();
  reporter.StartProgress(Tr("Copying"), 0, ProgressItems::kBlobs);
  for (const std::string& id : ids) {
    std::string name = repo::SnapshotObjectName(id);
    bool present = false;
    if (listed.count(id) != 0) {
      VELIN_ASSIGN(std::string here, source.backend().Get(name));
      VELIN_ASSIGN(std::string there, destination.backend().Get(name));
      if (here == there) {  // a copy travels byte for byte: this one was copied before
        copier.stats().snapshots_present++;
        present = true;
      } else {
        VELIN_ASSIGN(bool queued, clash(id, std::move(here), true));
        present = !queued;
      }
      if (present && !lacking) continue;
    } else {
      to_commit.push_back(id);
    }
    VELIN_ASSIGN(repo::Snapshot snapshot, source.LoadSnapshot(id));
    const uint64_t missing_before = copier.blobs_missing();
    VELIN_TRY(copier.CopyBlobsOf(snapshot));
    if (present && copier.blobs_missing() > missing_before) {
      copier.stats().snapshots_repaired++;
      copier.stats().blobs_resent += copier.blobs_missing() - missing_before;
    }
  }
  VELIN_TRY(copier.Flush());      // packs, then the index object
  VELIN_TRY(CheckInterrupted());  // the packs stay, indexed: the next copy sends only the rest
  // The snapshot objects travel byte for byte: same id, same checksum. Under the commit lock,
  // and only where nothing took the id meanwhile (a copy from another host's repository).
  std::vector<repo::SnapshotObjectToCommit> objects;
  for (const std::string& id : to_commit) {
    VELIN_ASSIGN(std::string bytes, source.backend().Get(repo::SnapshotObjectName(id)));
    objects.push_back({id, std::move(bytes), std::nullopt});
  }
  VELIN_TRY(repo::CommitSnapshotObjects(env, destination, objects, commit_lock_wait));
  for (repo::SnapshotObjectToCommit& o : objects) {
    if (!o.held) {
      copier.stats().snapshots_copied++;
    } else if (*o.held == o.stored) {
      copier.stats().snapshots_present++;  // the same snapshot, by a copy beside this one
    } else {
      VELIN_TRY(clash(o.id, std::move(o.stored), false));  // searched for under the lock, below
    }
  }
  for (const Rename& r : to_rename) {
    // Only the id changes (and the checksum, and the seal, which binds the object's name).
    // Looked for again under the commit lock: a copy running beside this one may have stored it.
    VELIN_ASSIGN(
        repo::CommittedSnapshot committed,
        repo::CommitSnapshotText(
            env, destination, repo::SnapshotIdBase(r.id), commit_lock_wait,
            [&r](const std::string& new_id) { return repo::RenameSnapshotText(r.text, new_id); },
            [&](const std::vector<std::string>& now) {
              return FindRenamedCopy(destination, now, r.id, r.text);
            }));
    (committed.written ? copier.stats().snapshots_copied : copier.stats().snapshots_present)++;
    copier.stats().renamed.push_back(CopyRename{r.id, committed.id, r.holder, committed.written});
  }
  reporter.FinishProgress();
  CopyStats stats = copier.stats();
  stats.packs_written = copier.packs_written();
  stats.bytes_stored = copier.bytes_stored();
  return stats;
}

Status CheckCopyKeys(const repo::RepoConfig& source, const std::string& source_location,
                     const repo::RepoConfig& destination, const std::string& destination_location) {
  const bool source_encrypted = source.cipher != crypto::Cipher::kNone;
  const bool destination_encrypted = destination.cipher != crypto::Cipher::kNone;
  if (source_encrypted && (source.id != destination.id || source.cipher != destination.cipher)) {
    return UsageError(TrFormat(
        "backup copy: {} is a repository with other keys than {}; an encrypted repository can be "
        "copied only into a new destination (velin creates it with the same keys) or an earlier "
        "copy of it",
        destination_location, source_location));
  }
  if (!source_encrypted && destination_encrypted) {
    return UsageError(TrFormat(
        "backup copy: {} is encrypted and {} is not; the backups of an unencrypted repository can "
        "be copied only into an unencrypted one (a new destination is created unencrypted, like "
        "its source)",
        destination_location, source_location));
  }
  return Ok();
}

Status CheckCopyKeys(repo::Repository& source, repo::Repository& destination) {
  return CheckCopyKeys(source.config(), source.backend().Location(), destination.config(),
                       destination.backend().Location());
}

}  // namespace velin::backup
