#include "velin/repo/blob_writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "velin/core/environment.hpp"
#include "velin/core/termination.hpp"
#include "velin/core/threads.hpp"
#include "velin/repo/delta.hpp"

namespace velin::repo {

namespace {
constexpr uint64_t kMaxSpareBytes = 8ULL << 20;
// Buffers asked for this size or larger are made with a power-of-two capacity (TakeBuffer).
constexpr size_t kRoundedBufferFrom = 128 << 10;
// Queued work that is worth waking an idle worker for (BlobWriter::unclaimed_bytes_).
constexpr uint64_t kWakeBytes = 256 * 1024;
constexpr size_t kWakeJobs = 32;
// Smaller chunks (the tail of a file or stream) are not worth reading a base for.
constexpr size_t kMinDeltaSize = 16 * 1024;
// A pack goes out to an ObjectWriter in pieces of at least this much (BlobWriter::PackStream).
constexpr size_t kStreamPiece = 1 << 20;

// For crash tests only: VELIN_TEST_CRASH_AT=<step> ends the process here as kill -9 would.
void CrashPoint(const char* step) {
  if (GetEnvironment("VELIN_TEST_CRASH_AT") == step) ::_exit(86);
}
}  // namespace

BlobWriter::BlobWriter(Repository& repo, BlobWriterOptions options)
    : repo_(repo), options_(options) {
  int n = options_.workers > 0
              ? options_.workers
              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (options_.dry_run) n = 0;  // nothing to compress or write
  if (n == 0) return;
  // A local directory names a pack in ~20 ms (fsync, rename, fsync of the directory): one
  // thread keeps up. A file server uploads it on Commit (FileServerBackend::NewObjectWriter),
  // ~30 MB/s a connection 20 ms away: as many at once as it takes reads.
  const int commits = std::max(1, storage::ParallelReadsFor(repo_.backend().Location()));
  max_commit_threads_ = static_cast<size_t>(commits);
  max_committing_ = static_cast<size_t>(commits + n);
  commit_threads_.reserve(max_commit_threads_);  // started later, under no threat of bad_alloc
  threads_.reserve(static_cast<size_t>(n));
  // A system short of threads (ulimit -u): fewer workers do it all; without the stream thread
  // or any worker every Save and the Flush fail with the start's error. What the threads throw
  // where others would wait for them forever ends velin with one line (core/threads.hpp).
  auto stream = StartThread([this] { StreamLoop(); }, nullptr);
  if (!stream) {
    SetError(stream.error());
    return;
  }
  stream_thread_ = std::move(*stream);
  for (int i = 0; i < n; ++i) {
    auto t = StartThread([this] { WorkerLoop(); }, nullptr);
    std::lock_guard lock(mu_);
    if (!t) {
      if (threads_.empty()) SetError(t.error());
      break;
    }
    threads_.push_back(std::move(*t));
  }
}

BlobWriter::~BlobWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  {
    std::lock_guard lock(stream_mu_);  // a worker waiting for room to commit goes on
    workers_stopping_ = true;
  }
  stream_cv_.notify_all();
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
  if (stream_thread_.joinable()) {
    {
      std::lock_guard lock(stream_mu_);
      stream_stopping_ = true;
    }
    stream_cv_.notify_all();
    stream_thread_.join();
  }
  if (!commit_threads_.empty()) {  // after the stream thread: it hands packs to (and starts) these
    {
      std::lock_guard lock(stream_mu_);
      commit_stopping_ = true;
    }
    commit_cv_.notify_all();
    for (auto& t : commit_threads_) t.join();
  }
  if (!flushed_ok_) RemoveUnindexedPacks();
}

void BlobWriter::RemoveUnindexedPacks() {
  std::unordered_set<BlobId, BlobIdHash> doomed(failed_puts_.begin(), failed_puts_.end());
  for (size_t i = indexed_; i < written_.size(); ++i) doomed.insert(written_[i].id);
  if (doomed.empty()) return;
  TerminationCleanup cleanup;  // a stopped backup's packs go too (core/termination.hpp)
  // A pack is named by its content: another writer may have put the very same pack and
  // indexed it meanwhile. Such a pack stays.
  auto objects = repo_.backend().List("index/");
  if (!objects) return;  // cannot tell: leave them to prune
  for (const auto& o : *objects) {
    auto stored = repo_.backend().Get(o.name);
    if (!stored) {
      if (storage::IsNotFound(stored.error())) continue;
      return;
    }
    auto data = repo_.OpenObject("index", o.name.substr(o.name.rfind('/') + 1), std::move(*stored));
    if (!data) continue;  // damaged: names nothing readable
    auto packs = DecodeIndexObject(*data);
    if (!packs) continue;
    for (const auto& p : *packs) doomed.erase(p.first);
  }
  for (const auto& id : doomed) (void)repo_.backend().Delete(PackObjectName(id));
}

bool BlobWriter::Known(const BlobId& id) const {
  return repo_.index().Find(id).has_value() || queued_.Contains(id);
}

void BlobWriter::SetError(const Error& e) {
  if (!error_) error_ = e;
  space_cv_.notify_all();
}

Status BlobWriter::Save(BlobType type, const BlobId& id, std::string data, const BlobId* base) {
  if (Known(id)) return Ok();
  queued_.Insert(id);
  if (options_.dry_run) {
    std::lock_guard lock(mu_);
    stats_.blobs_added++;
    stats_.raw_bytes_added += data.size();
    return Ok();
  }
  return Enqueue(Job{type, id, std::move(data), base ? std::optional<BlobId>(*base) : std::nullopt,
                     std::nullopt, nullptr});
}

Status BlobWriter::SaveStored(BlobType type, const BlobId& id, std::string stored,
                              const IndexEntry& e, const Repository& source) {
  if (Known(id)) return Ok();
  queued_.Insert(id);
  if (options_.dry_run) {
    std::lock_guard lock(mu_);
    stats_.blobs_added++;
    stats_.raw_bytes_added += e.raw_length;
    return Ok();
  }
  return Enqueue(Job{type, id, std::move(stored), std::nullopt, e, &source});
}

Status BlobWriter::Enqueue(Job job) {
  std::unique_lock lock(mu_);
  // Admit one job even when it alone is over budget, so a max-size chunk always fits.
  auto fits = [&] {
    return error_ || queued_bytes_ == 0 ||
           queued_bytes_ + job.data.capacity() <= options_.max_queued_bytes;
  };
  if (!fits()) {
    // Jobs below the wake-up batch may be waiting for a worker that sleeps.
    if (!jobs_.empty()) work_cv_.notify_all();
    saver_waiting_ = true;
    space_cv_.wait(lock, fits);
    saver_waiting_ = false;
  }
  if (error_) return tl::unexpected(*error_);
  queued_bytes_ += job.data.capacity();  // memory, not content: a buffer may be larger
  unclaimed_bytes_ += job.data.size();
  jobs_.push_back(std::move(job));
  const bool wake =
      idle_workers_ > 0 && (unclaimed_bytes_ >= kWakeBytes || jobs_.size() >= kWakeJobs);
  lock.unlock();
  if (wake) work_cv_.notify_one();
  return Ok();
}

void BlobWriter::WorkerLoop() {
  OpenPack pack;  // this worker's open pack: blobs are compressed straight into it
  // On the way out (after `lock` lets go of mu_): pieces the stream thread is still writing
  // are read from `pack`'s buffer.
  struct Drain {
    BlobWriter* writer;
    OpenPack& pack;
    ~Drain() {
      if (pack.stream) writer->WaitWritten(*pack.stream);
    }
  } drain{this, pack};
  bool flushed = false;
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_workers_;
    work_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty() || (flushing_ && !flushed); });
    --idle_workers_;
    if (stopping_) return;  // unflushed jobs are dropped: no snapshot will refer to them
    if (jobs_.empty()) {    // Flush(): the queue is drained, so this pack is complete
      flushed = true;
      bool failed = error_.has_value();
      lock.unlock();
      // Out of memory (ulimit -v) is the backup's error, as a failed write is.
      Status st =
          failed || pack.builder.empty() ? Ok() : CatchExceptions([&] { return WritePack(pack); });
      lock.lock();
      if (!st) SetError(st.error());
      ++flushed_workers_;
      space_cv_.notify_all();
      continue;
    }
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    unclaimed_bytes_ -= job.data.size();
    bool failed = error_.has_value();
    lock.unlock();
    BlobWriterStats added;
    // After a failure: drain, write nothing. Out of memory is the backup's error.
    Status st = failed ? Ok() : CatchExceptions([&] { return AddBlob(pack, job, added); });
    lock.lock();
    if (!st) SetError(st.error());
    stats_.blobs_added += added.blobs_added;
    stats_.raw_bytes_added += added.raw_bytes_added;
    stats_.stored_bytes_added += added.stored_bytes_added;
    queued_bytes_ -= job.data.capacity();
    KeepSpare(std::move(job.data));
    if (saver_waiting_ && queued_bytes_ <= options_.max_queued_bytes / 2) space_cv_.notify_all();
  }
}

void BlobWriter::KeepSpare(std::string buffer) {
  const size_t capacity = buffer.capacity();
  if (capacity >= kRoundedBufferFrom) {
    // A large buffer is worth more than small ones: giving it back to the system and making
    // a fresh one for the next chunk faults its pages in again. After the small files of a
    // tree, their buffers filled the spares and every large buffer was let go (123 of
    // 2 MiB in one first backup of the 2.2 GiB set, bench/README.md "Thirteenth pass").
    EvictSpares(capacity, /*keep_from=*/capacity);
  }
  if (spare_bytes_ + capacity > kMaxSpareBytes) return;
  spare_bytes_ += capacity;
  buffer.clear();
  spare_buffers_.push_back(std::move(buffer));
}

void BlobWriter::EvictSpares(size_t capacity, size_t keep_from) {
  while (!spare_buffers_.empty() && spare_bytes_ + capacity > kMaxSpareBytes) {
    auto smallest = std::min_element(
        spare_buffers_.begin(), spare_buffers_.end(),
        [](const std::string& a, const std::string& b) { return a.capacity() < b.capacity(); });
    if (smallest->capacity() >= keep_from) break;
    spare_bytes_ -= smallest->capacity();
    spare_buffers_.erase(smallest);
  }
}

std::string BlobWriter::TakeBuffer(size_t n) {
  std::lock_guard lock(mu_);
  auto best = spare_buffers_.end();
  for (auto it = spare_buffers_.begin(); it != spare_buffers_.end(); ++it) {
    if (it->capacity() >= n && it->capacity() <= 4 * n &&
        (best == spare_buffers_.end() || it->capacity() < best->capacity())) {
      best = it;
    }
  }
  if (best != spare_buffers_.end()) {
    std::string b = std::move(*best);
    spare_buffers_.erase(best);
    spare_bytes_ -= b.capacity();
    return b;
  }
  std::string fresh;
  if (n >= kRoundedBufferFrom) {
    // A fresh large buffer: a power-of-two capacity fits it to far more of the chunks to come
    // (content-defined sizes spread from half the average to eight times it), and spares
    // that fit none of them are let go, smallest first, to make room for it when it comes
    // back. Without either, 40 % of a first backup's chunks missed the spares, and faulting
    // in their fresh pages (costly in a VM) cost it ~13 % of its wall time (bench/README.md,
    // "Eleventh pass").
    const size_t capacity = std::bit_ceil(n);
    stats_.fresh_buffers++;
    EvictSpares(capacity, /*keep_from=*/SIZE_MAX);
    fresh.reserve(capacity);
  }
  return fresh;
}

std::optional<BlobId> BlobWriter::EncodeDelta(const Job& job, std::string& out) {
  if (!job.base || !repo_.delta_blobs() || options_.codec != Codec::kZstd ||
      job.type != BlobType::kData || job.data.size() < kMinDeltaSize) {
    return std::nullopt;
  }
  // Deltas are one level deep: against a delta blob's own base (the full blob it refers to).
  const Index& index = repo_.index();
  BlobId base = *job.base;
  std::optional<IndexEntry> e = index.Find(base);
  if (e && e->codec == Codec::kZstdDelta) {
    const BlobId* b = index.DeltaBase(base);
    if (!b) return std::nullopt;
    base = *b;
    e = index.Find(base);
  }
  if (!e || e->type != BlobType::kData || e->codec == Codec::kZstdDelta) return std::nullopt;
  {
    std::lock_guard lock(delta_mu_);
    if (delta_attempts_ >= 8 && delta_hits_ * 8 < delta_attempts_ && delta_skipped_++ % 16 != 0) {
      return std::nullopt;
    }
    if (++delta_attempts_ >= 64) {
      delta_attempts_ /= 2;
      delta_hits_ /= 2;
    }
  }
  thread_local std::string base_raw;
  thread_local std::string base_stored;
  if (!repo_.ReadBlobInto(base, base_raw, base_stored)) return std::nullopt;  // store it whole
  // Worth it only at half the base's stored size or less: as later versions drift from the
  // base, their deltas grow, and a full blob then becomes the base for the versions after it.
  thread_local std::string delta;
  if (!repo::EncodeDelta(options_.level, job.data, base_raw, e->length / 2, delta)) {
    return std::nullopt;
  }
  // Read back before trusting it: this blob may be the only copy of the data.
  thread_local std::string check;
  if (!repo::DecodeDelta(delta, base_raw, job.data.size(), check) || check != job.data) {
    return std::nullopt;
  }
  out.assign(reinterpret_cast<const char*>(base.bytes.data()), 32);
  out += delta;
  {
    std::lock_guard lock(delta_mu_);
    delta_hits_++;
  }
  return base;
}

Status BlobWriter::AddBlob(OpenPack& open, const Job& job, BlobWriterStats& added) {
  PackBuilder& pack = open.builder;
  if (job.stored) {
    // As the source stores it: checked there (decompressed, hashed) and copied byte for byte.
    thread_local std::string scratch;
    VELIN_TRY(job.source->CheckStoredBlob(job.id, *job.stored, job.data, scratch));
    const size_t room = job.data.size();
    VELIN_ASSIGN(char* dst, Room(open, room));
    std::memcpy(dst, job.data.data(), room);
    pack.Commit(job.type, job.id, job.stored->codec, job.stored->raw_length, room);
    added.blobs_added++;
    added.raw_bytes_added += job.stored->raw_length;
    added.stored_bytes_added += room;
    return Added(open);
  }
  const size_t raw_size = job.data.size();
  size_t stored_size = 0;
  Codec used = Codec::kNone;
  // Encrypted blobs and deltas are compressed aside (and then sealed) into the pack; plain
  // ones are compressed straight into it, into room for the codec's worst case.
  thread_local std::string compressed;
  std::string_view plain;
  size_t room = 0;
  std::optional<BlobId> base = EncodeDelta(job, compressed);
  if (base) {
    used = Codec::kZstdDelta;
    plain = compressed;
    room = repo_.encrypted() ? repo_.SealedSize(plain.size()) : plain.size();
  } else if (repo_.encrypted()) {  // sealed bound to the blob id (docs/encryption.md)
    used = CompressInto(options_.codec, options_.level, job.data, compressed);
    plain = used == Codec::kNone ? std::string_view(job.data) : compressed;
    room = repo_.SealedSize(plain.size());
  } else {
    room = CompressBound(options_.codec, raw_size);
  }
  VELIN_ASSIGN(char* dst, Room(open, room));
  if (repo_.encrypted()) {
    VELIN_TRY(repo_.SealObjectInto("blob", job.id.Hex(), plain, dst));
    stored_size = room;
  } else if (base) {
    std::memcpy(dst, plain.data(), plain.size());
    stored_size = plain.size();
  } else {
    used = CompressTo(options_.codec, options_.level, job.data, dst, room, &stored_size);
    if (used == Codec::kNone) {
      std::memcpy(dst, job.data.data(), raw_size);
      stored_size = raw_size;
    }
  }
  pack.Commit(job.type, job.id, used, static_cast<uint32_t>(raw_size), stored_size,
              base ? &*base : nullptr);
  added.blobs_added++;
  added.raw_bytes_added += raw_size;
  added.stored_bytes_added += stored_size;
  return Added(open);
}

Result<char*> BlobWriter::Room(OpenPack& open, size_t room) {
  PackBuilder& pack = open.builder;
  // Full before the blob could overflow it: packs (and their buffers) stay within the target
  // size, so a worker's pack never holds more than 16 MiB of memory.
  if (!pack.empty() && pack.finished_size() + kPackEntrySize + room > kTargetPackSize) {
    VELIN_TRY(WritePack(open));
  }
  // Pieces being written read the buffer: it may move only once they are out.
  if (open.stream && pack.size() + room > pack.capacity()) WaitWritten(*open.stream);
  return pack.Reserve(room);
}

Status BlobWriter::Added(OpenPack& open) {
  if (open.builder.finished_size() < kTargetPackSize) return StreamPieces(open);
  return WritePack(open);
}

Status BlobWriter::StreamPieces(OpenPack& open) {
  const size_t ready = open.builder.size();
  const size_t handed = open.stream ? open.stream->handed : 0;
  if (ready - handed < kStreamPiece || streams_unsupported_.load(std::memory_order_relaxed)) {
    return Ok();
  }
  if (!open.stream) {
    VELIN_ASSIGN(std::unique_ptr<storage::ObjectWriter> out,
                 repo_.backend().NewObjectWriter("data"));
    if (!out) {
      streams_unsupported_ = true;  // whole puts, then
      return Ok();
    }
    open.stream = std::make_shared<PackStream>();
    open.stream->out = std::move(out);
  }
  Hand(StreamItem{open.stream, open.builder.data() + handed, ready - handed, std::nullopt});
  open.stream->handed = ready;
  return Ok();
}

void BlobWriter::Hand(StreamItem item) {
  {
    std::lock_guard lock(stream_mu_);
    item.stream->pending++;
    stream_items_.push_back(std::move(item));
  }
  stream_cv_.notify_all();
}

void BlobWriter::WaitWritten(PackStream& stream) {
  std::unique_lock lock(stream_mu_);
  stream_cv_.wait(lock, [&] { return stream.pending == 0; });
}

bool BlobWriter::Failed() {
  std::lock_guard lock(mu_);
  return error_.has_value();
}

void BlobWriter::StreamLoop() {
  std::unique_lock lock(stream_mu_);
  for (;;) {
    stream_cv_.wait(lock, [&] { return stream_stopping_ || !stream_items_.empty(); });
    if (stream_items_.empty()) return;
    StreamItem item = std::move(stream_items_.front());
    stream_items_.pop_front();
    stream_busy_ = true;
    // Stopping without a flush: what is left is dropped (its temp file removed).
    const bool stopping = stream_stopping_;
    lock.unlock();
    PackStream& s = *item.stream;
    if (stopping || Failed()) s.failed = true;  // after a failure: write nothing more
    if (!s.failed && item.size > 0) {
      const std::string_view piece(item.data ? item.data : item.owned.data(), item.size);
      Status st = CatchExceptions([&] { return s.out->Append(piece); });
      if (st) {
        s.hash.Update(piece);
        CrashPoint("writer-pack-piece");
      } else {
        s.failed = true;
        std::lock_guard l(mu_);
        SetError(st.error());
      }
    }
    lock.lock();
    s.pending--;  // the worker may reuse the buffer from here on
    stream_cv_.notify_all();
    std::optional<Error> no_commit_thread;
    if (item.last && !s.failed && commit_threads_.size() < max_commit_threads_ &&
        commit_threads_.size() < commit_items_.size() + 1 + static_cast<size_t>(commit_busy_)) {
      auto t = StartThread([this] { CommitLoop(); }, nullptr);
      if (t) {
        commit_threads_.push_back(std::move(*t));  // reserved: cannot throw
      } else if (commit_threads_.empty()) {
        // None to name the pack (ulimit -u): the backup fails, the pack's temp file goes.
        no_commit_thread = t.error();
        s.failed = true;
      }
    }
    if (item.last && !s.failed) {
      commit_items_.push_back(CommitItem{std::move(item.stream), std::move(*item.last)});
      commit_cv_.notify_one();
    } else if (item.last) {
      committing_--;  // never to be named
    }
    if (!item.owned.empty() && tail_spares_.size() < 2) {
      tail_spares_.push_back(std::move(item.owned));
    }
    lock.unlock();
    if (no_commit_thread) {
      std::lock_guard l(mu_);
      SetError(*no_commit_thread);
    }
    item = StreamItem();  // the last owner: an unnamed pack's temp file goes
    lock.lock();
    stream_busy_ = false;
    stream_cv_.notify_all();
  }
}

void BlobWriter::CommitLoop() {
  std::unique_lock lock(stream_mu_);
  for (;;) {
    commit_cv_.wait(lock, [&] { return commit_stopping_ || !commit_items_.empty(); });
    if (commit_items_.empty()) return;
    CommitItem item = std::move(commit_items_.front());
    commit_items_.pop_front();
    commit_busy_++;
    // Stopping without a flush: not named (its temp file removed), as on the stream thread.
    const bool stopping = commit_stopping_;
    lock.unlock();
    if (!stopping && !Failed()) {
      // Out of memory (the index object it may write) is the backup's error.
      Status st = CatchExceptions([&]() -> Status {
        CommitStream(*item.stream, std::move(item.encoded));
        return Ok();
      });
      if (!st) {
        std::lock_guard l(mu_);
        SetError(st.error());
      }
    }
    item.stream.reset();
    lock.lock();
    commit_busy_--;
    committing_--;
    stream_cv_.notify_all();
  }
}

void BlobWriter::CommitStream(PackStream& stream, EncodedPack encoded) {
  encoded.id = stream.hash.Final();
  Status put = stream.out->Commit(PackObjectName(encoded.id));
  if (!put) {
    std::lock_guard lock(mu_);
    failed_puts_.push_back(encoded.id);  // may be there all the same (a failed sync after rename)
    SetError(put.error());
    return;
  }
  CrashPoint("writer-pack-named");
  Status st = RecordPack(std::move(encoded));
  if (!st) {
    std::lock_guard lock(mu_);
    SetError(st.error());
  }
}

Status BlobWriter::WritePack(OpenPack& open) {
  PackBuilder& pack = open.builder;
  EncodedPack encoded = EncodePack(BlobId(), pack.entries());  // Finish() clears the entries
  if (open.stream) {
    std::shared_ptr<PackStream> stream = std::move(open.stream);
    // Finish() appends the header: where that moves the buffer, the pieces must be out first.
    if (pack.finished_size() > pack.capacity()) WaitWritten(*stream);
    const size_t handed = stream->handed;
    std::string bytes = pack.Finish();
    // The rest (at most a piece and the header) goes out as a copy, so that the worker can
    // fill its next pack while it is written; the stream and commit threads name and record
    // the pack, and errors come via error_. The pieces handed before point into `bytes`: they
    // are written before it goes back to the builder (Recycle).
    WaitWritten(*stream);
    std::string tail;
    {
      std::lock_guard lock(stream_mu_);  // one the stream thread is done with: no fresh pages
      if (!tail_spares_.empty()) {
        tail = std::move(tail_spares_.back());
        tail_spares_.pop_back();
      }
    }
    tail.assign(bytes.data() + handed, bytes.size() - handed);
    {
      // Packs written and not yet named wait in the backend's temp files (a file server's:
      // local disk, until uploaded): at most max_committing_ of them.
      std::unique_lock lock(stream_mu_);
      stream_cv_.wait(lock, [&] { return committing_ < max_committing_ || workers_stopping_; });
      committing_++;
    }
    Hand(StreamItem{stream, nullptr, tail.size(), std::move(encoded), std::move(tail)});
    pack.Recycle(std::move(bytes));
    return Ok();
  }
  std::string bytes = pack.Finish();
  BlobId pack_id = Sha256(bytes);
  encoded.id = pack_id;
  Status put = repo_.backend().Put(PackObjectName(pack_id), bytes);
  if (!put) {
    std::lock_guard lock(mu_);
    failed_puts_.push_back(pack_id);  // may be there all the same (a failed sync after rename)
    return put;
  }
  pack.Recycle(std::move(bytes));
  return RecordPack(std::move(encoded));
}

Status BlobWriter::RecordPack(EncodedPack encoded) {
  std::lock_guard lock(mu_);
  unindexed_bytes_ += encoded.entries.size();
  written_.push_back(std::move(encoded));
  stats_.packs_written++;
  const size_t unindexed = written_.size() - indexed_;
  const bool by_count = options_.index_as_it_goes && unindexed >= std::max<size_t>(1, indexed_ / 4);
  const bool by_size =
      options_.index_checkpoint_bytes > 0 && unindexed_bytes_ >= options_.index_checkpoint_bytes;
  if (by_count || by_size) {
    VELIN_TRY(WriteIndexLocked());
    CrashPoint("writer-after-checkpoint-index");
  }
  return Ok();
}

Status BlobWriter::WriteIndexLocked() {
  if (indexed_ >= written_.size()) return Ok();
  VELIN_TRY(repo_.CheckCommitGuard());
  // Each pack's encoded entries are freed as they are copied into the object (index_object.hpp);
  // the pack ids stay for RemoveUnindexedPacks.
  std::vector<EncodedPack> packs;
  packs.reserve(written_.size() - indexed_);
  for (size_t i = indexed_; i < written_.size(); ++i) {
    packs.push_back(EncodedPack{written_[i].id, written_[i].blobs, written_[i].deltas,
                                std::move(written_[i].entries)});
    std::string().swap(written_[i].entries);
  }
  std::string index = EncodeIndexObject(packs);
  std::vector<EncodedPack>().swap(packs);
  std::string plaintext;
  if (options_.add_to_index) plaintext = index;
  Status put = [&]() -> Status {
    // Named by the (keyed, when encrypted) hash of its plaintext, and sealed bound to that name.
    VELIN_ASSIGN(BlobId name, repo_.HashBlob(index));
    VELIN_ASSIGN(std::string stored, repo_.SealObject("index", name.Hex(), std::move(index)));
    return repo_.backend().Put("index/" + name.Hex(), stored);
  }();
  // The entries are gone: this writer can never index these packs again (they are removed as
  // unindexed on destruction).
  if (!put) SetError(put.error());
  VELIN_TRY(put);
  if (options_.add_to_index) index_objects_.push_back(std::move(plaintext));
  indexed_ = written_.size();
  unindexed_bytes_ = 0;
  return Ok();
}

Status BlobWriter::Flush() {
  if (options_.dry_run) {
    flushed_ok_ = true;  // nothing was written: nothing to index or remove
    return Ok();
  }
  {
    std::unique_lock lock(mu_);
    flushing_ = true;
    work_cv_.notify_all();
    space_cv_.wait(lock, [&] { return flushed_workers_ == threads_.size(); });
  }
  {
    std::unique_lock lock(stream_mu_);  // the last packs named and recorded
    stream_cv_.wait(lock, [&] {
      return stream_items_.empty() && !stream_busy_ && commit_items_.empty() && commit_busy_ == 0;
    });
  }
  std::lock_guard lock(mu_);
  if (error_) return tl::unexpected(*error_);
  VELIN_TRY(WriteIndexLocked());
  flushed_ok_ = true;
  // Every worker waits for work now: none reads the index while it changes.
  Status added = repo_.AddIndexObjects(index_objects_);
  std::vector<std::string>().swap(index_objects_);
  return added;
}

BlobWriterStats BlobWriter::stats() {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace velin::repo
