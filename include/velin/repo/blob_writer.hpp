// The write half of the pipeline: blobs whose id the caller has computed go to a pool of
// workers; each worker compresses them straight into its own pack of ~16 MiB (no copy, no
// lock while compressing); a full pack is hashed, put to the backend (one durable put: one
// fsync per pack, never per file) and recorded, while the other workers go on filling theirs.
// Where the backend takes an object in pieces (Backend::NewObjectWriter: a local directory; a
// file server, into a local unnamed file uploaded on Commit), a pack goes out while it fills: a
// stream thread writes and hashes each further 1 MiB of it, so a full pack holds its worker for
// its last piece only, not for the whole put (the put and the hash were ~13 % of a worker's
// time), and no second 16 MiB buffer is needed for that. Commit threads name the packs, as many
// at once as the backend takes reads (storage::ParallelReadsFor).
// Memory is bounded: Save() blocks while the bytes queued or in open packs exceed the budget. A
// blob the index already has, or one already queued, is never compressed again. Flush() writes the
// last pack and then an index object for the packs not yet indexed — the commit order packs →
// index (→ snapshot, by the caller); a large run writes index objects as it goes too
// (BlobWriterOptions::index_checkpoint_bytes). REQUIRES: Save(), Known() and Flush() from one
// thread (the archiver's); workers are internal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/blob_id_set.hpp"
#include "velin/repo/index.hpp"
#include "velin/repo/index_object.hpp"
#include "velin/repo/pack.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/backend.hpp"

namespace velin::repo {

struct BlobWriterOptions {
  Codec codec = Codec::kZstd;
  int level = 3;
  int workers = 0;                         // 0: one per core
  uint64_t max_queued_bytes = 8ULL << 20;  // buffer bytes waiting or being compressed
  // Also write an index object for the packs written so far whenever they reach a quarter of
  // those already indexed by this writer (after the 1st, 2nd, 3rd, 4th, 5th, 6th, 8th, 10th …
  // pack: a few index objects, logarithmic in the packs): an interrupted run leaves indexed
  // blobs that a rerun does not send again (`backup copy`). Off for create, whose failure
  // removes what it wrote.
  bool index_as_it_goes = false;
  // Also write an index object whenever the entries of packs not yet indexed reach this many
  // bytes (46 a blob: 8 MiB is ~180,000 blobs), so a writer's memory does not grow with the
  // index of all it wrote (a million-file first backup held 46 MB of it until the end). Packs
  // indexed this way stay when the run fails later: they are sound, the next backup reuses
  // their blobs, and prune removes them if no backup does. 0: never.
  uint64_t index_checkpoint_bytes = 8ULL << 20;
  // Flush() also merges the index objects this writer wrote into the repository's index()
  // (Repository::AddIndexObjects), so a later writer in this process does not store their blobs
  // again (`backup copy` and the offsite copy, which copy several backups into one open
  // destination one after another). Keeps a copy of each index object (46 bytes a blob) until
  // then.
  bool add_to_index = false;
  // `backup create --dry-run`: Save() only counts the blobs the repository lacks (stats():
  // blobs_added, raw_bytes_added; nothing compressed), Flush() writes nothing.
  bool dry_run = false;
};

struct BlobWriterStats {
  uint64_t blobs_added = 0;
  uint64_t raw_bytes_added = 0;
  uint64_t stored_bytes_added = 0;  // what the packs hold for them (after compression)
  uint64_t packs_written = 0;
  // Buffers of 128 KiB or more that TakeBuffer made afresh instead of reusing a spare: each
  // one's pages are faulted in again (expensive in a VM; bench/README.md, "Eleventh pass").
  uint64_t fresh_buffers = 0;
};

class BlobWriter {
 public:
  BlobWriter(Repository& repo, BlobWriterOptions options);
  // Stops the workers; unflushed blobs are dropped (nothing refers to them). Without a
  // successful Flush(), the packs this writer put that no index object names are deleted (best
  // effort; after a kill -9, `velin backup prune` removes them).
  ~BlobWriter();
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // True when the repository has the blob or it is queued here.
  bool Known(const BlobId& id) const;
  // Queues a blob unless Known(); returns the first worker error, if any. `base`: a stored
  // blob this one probably resembles (the same place of the same file or stream in an earlier
  // backup); the blob is then stored as a delta against it when that is much smaller
  // (docs/delta.md).
  Status Save(BlobType type, const BlobId& id, std::string data, const BlobId* base = nullptr);
  // Queues a blob as `source` stores it, unless Known(): `stored` holds its stored bytes and `e`
  // its entry there (codec, raw length), and they go into a pack as they are, neither
  // decompressed nor compressed again (`backup copy`). A worker checks them first
  // (source.CheckStoredBlob); a damaged blob fails the writer with its DamageError.
  // REQUIRES: e.codec is not kZstdDelta (its base may be missing here); `source` is unencrypted
  // when this repository is, and otherwise has its keys; `source` outlives Flush().
  Status SaveStored(BlobType type, const BlobId& id, std::string stored, const IndexEntry& e,
                    const Repository& source);
  // An empty string whose capacity (n to 4n bytes) a finished job left behind, or a fresh
  // one (of a power-of-two capacity when n is 128 KiB or more): filling it keeps large
  // allocations (and page faults) out of the steady state.
  std::string TakeBuffer(size_t n);
  // Waits for the queue, writes the last pack and the index object. Call once.
  Status Flush();
  BlobWriterStats stats();

 private:
  struct Job {
    BlobType type;
    BlobId id;
    std::string data;
    std::optional<BlobId> base;
    // SaveStored: `data` is the blob as `source` stores it, described by `stored`.
    std::optional<IndexEntry> stored;
    const Repository* source = nullptr;
  };
  // A pack on its way to the backend while it fills (Backend::NewObjectWriter).
  struct PackStream {
    std::unique_ptr<storage::ObjectWriter> out;
    Sha256Stream hash;    // of the bytes written so far (stream thread)
    bool failed = false;  // a piece was not written: never named (stream thread)
    size_t handed = 0;    // bytes of the pack handed to the stream thread (its worker)
    size_t pending = 0;   // pieces handed and not yet written (stream_mu_)
  };
  // A worker's open pack.
  struct OpenPack {
    PackBuilder builder;
    std::shared_ptr<PackStream> stream;  // null until its first piece goes out, or no streams
  };
  // A piece of a pack for the stream thread: [data, data + size) of its buffer, which stays
  // put until the piece is written (PackStream::pending); the last one carries the pack's
  // entries, and the pack is named and recorded after it.
  struct StreamItem {
    std::shared_ptr<PackStream> stream;
    const char* data = nullptr;  // null: the piece is `owned`
    size_t size = 0;
    std::optional<EncodedPack> last;
    std::string owned;  // the last piece's bytes, a copy: the worker goes on at once
  };
  // A fully written pack for the commit thread to name and record.
  struct CommitItem {
    std::shared_ptr<PackStream> stream;
    EncodedPack encoded;
  };
  void WorkerLoop();
  // Keeps a job's buffer for TakeBuffer, within kMaxSpareBytes. REQUIRES: mu_ held.
  void KeepSpare(std::string buffer);
  // Lets spares go, smallest first, until `capacity` more bytes fit among them, but none of
  // `keep_from` bytes or more. REQUIRES: mu_ held.
  void EvictSpares(size_t capacity, size_t keep_from);
  // Compresses (seals) the job into the pack; counts it in `added` (the caller adds that to
  // stats_ under the lock it takes anyway).
  Status AddBlob(OpenPack& open, const Job& job, BlobWriterStats& added);
  // Queues a job (Save, SaveStored), waiting while the queue is over budget.
  Status Enqueue(Job job);
  // Room for `room` more stored bytes in the open pack, written first when the blob would
  // overflow it; then, once the blob is committed there, Added() streams or writes the pack.
  Result<char*> Room(OpenPack& open, size_t room);
  Status Added(OpenPack& open);
  // The job's data as a delta blob (base id, zstd frame) into `out`, with the base it used;
  // nullopt when there is no usable base or the delta would not be much smaller.
  std::optional<BlobId> EncodeDelta(const Job& job, std::string& out);
  Status WritePack(OpenPack& open);
  // Hands the pack's committed bytes not yet handed to the stream thread, once they are a
  // piece's worth (opening the stream at the first).
  Status StreamPieces(OpenPack& open);
  void Hand(StreamItem item);
  // Until every piece handed of `stream` is written. REQUIRES: mu_ not held.
  void WaitWritten(PackStream& stream);
  void StreamLoop();
  void CommitLoop();
  // Names a fully written pack and records it (the commit thread).
  void CommitStream(PackStream& stream, EncodedPack encoded);
  // Records a pack that is in the backend under its name (index entries, checkpoints).
  Status RecordPack(EncodedPack encoded);
  bool Failed();
  // One index object for the packs in written_[indexed_, end). REQUIRES: mu_ held.
  Status WriteIndexLocked();
  // Deletes the packs of written_[indexed_, end) that no index object in the repository names.
  void RemoveUnindexedPacks();
  void SetError(const Error& e);

  Repository& repo_;
  BlobWriterOptions options_;
  BlobIdSet queued_;  // archiver thread only

  std::mutex mu_;
  std::condition_variable work_cv_;   // a job is queued, flushing, or stopping
  std::condition_variable space_cv_;  // queue space freed, or a worker finished flushing
  std::deque<Job> jobs_;
  uint64_t queued_bytes_ = 0;
  // Hand-offs in batches: a thread woken per small blob costs more than compressing it (the
  // wake-ups were a quarter of a many-small-files backup's CPU). Save() wakes an idle worker
  // once jobs_ holds kWakeBytes or kWakeJobs (a worker awake takes every job there is), and a
  // Save() waiting for room is woken when the queue is down to half the budget, not per job.
  uint64_t unclaimed_bytes_ = 0;  // the data of jobs_
  int idle_workers_ = 0;          // waiting on work_cv_
  bool saver_waiting_ = false;    // Save() waiting on space_cv_
  bool stopping_ = false;
  bool flushing_ = false;
  size_t flushed_workers_ = 0;
  std::optional<Error> error_;
  // Packs put so far, their entries as the index object lists them until it is written.
  std::vector<EncodedPack> written_;
  size_t indexed_ = 0;               // written_[0, indexed_) are named by an index object already
  uint64_t unindexed_bytes_ = 0;     // the entries of written_[indexed_, end)
  std::vector<BlobId> failed_puts_;  // packs whose put failed: maybe present, never indexed
  std::vector<std::string> index_objects_;  // their plaintext, for add_to_index
  bool flushed_ok_ = false;
  BlobWriterStats stats_;
  std::vector<std::string> spare_buffers_;
  uint64_t spare_bytes_ = 0;  // their capacity
  std::vector<std::thread> threads_;
  // The stream thread and its queue (PackStream). Workers and the stream thread never hold mu_
  // and stream_mu_ together.
  std::thread stream_thread_;
  std::mutex stream_mu_;
  std::condition_variable stream_cv_;  // an item is queued, written, or done; stopping
  std::deque<StreamItem> stream_items_;
  bool stream_busy_ = false;
  bool stream_stopping_ = false;
  std::vector<std::string> tail_spares_;  // StreamItem::owned buffers written, for reuse
  // The commit threads (under stream_mu_ too): a pack's fsync, rename and directory fsync took
  // ~20 ms here, and on the stream thread every piece queued behind them waited, and with them
  // the workers at their packs' ends (1.2 s of a 7.3 s first backup, bench/README.md). One for
  // a local directory; for a file server, whose Commit uploads the pack, one per connection.
  // Started by the stream thread as packs come to be named, up to max_commit_threads_ (S3
  // takes its packs whole, on the workers: none).
  std::vector<std::thread> commit_threads_;
  size_t max_commit_threads_ = 0;
  std::condition_variable commit_cv_;  // an item is queued; stopping
  std::deque<CommitItem> commit_items_;
  int commit_busy_ = 0;  // commit threads naming a pack
  bool commit_stopping_ = false;
  // Packs whose last piece is handed and that are not named yet (their bytes sit in the
  // backend's temp files): a worker waits before handing another past max_committing_.
  size_t committing_ = 0;
  size_t max_committing_ = 0;
  bool workers_stopping_ = false;                 // the destructor: no worker waits for that room
  std::atomic<bool> streams_unsupported_{false};  // the backend has no ObjectWriter
  // Recent delta attempts and how many paid off (halved now and then: a sliding window). When
  // few do — files rewritten whole, nothing like their base — only every 16th candidate is
  // tried, so such data costs little more than without deltas and a change back is noticed.
  std::mutex delta_mu_;
  uint32_t delta_attempts_ = 0;
  uint32_t delta_hits_ = 0;
  uint32_t delta_skipped_ = 0;
};

}  // namespace velin::repo
