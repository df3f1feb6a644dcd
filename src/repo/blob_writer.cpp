#include "velin/repo/blob_writer.hpp"

#include <malloc.h>

#include <algorithm>

namespace velin::repo {

namespace {
constexpr uint64_t kMaxSpareBytes = 8ULL << 20;
}  // namespace

BlobWriter::BlobWriter(Repository& repo, BlobWriterOptions options)
    : repo_(repo), options_(options) {
  // glibc raises its mmap threshold after each large free, after which chunk-sized buffers
  // come from per-thread arenas that keep freed memory: peak RSS doubled. A fixed threshold
  // returns chunk buffers to the system (the spare-buffer pool keeps the common case cheap).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  int n = options_.workers > 0
              ? options_.workers
              : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

BlobWriter::~BlobWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

bool BlobWriter::Known(const BlobId& id) const {
  return repo_.index().Find(id) != nullptr || queued_.count(id) != 0;
}

void BlobWriter::SetError(const Error& e) {
  if (!error_) error_ = e;
  space_cv_.notify_all();
}

Status BlobWriter::Save(BlobType type, const BlobId& id, std::string data) {
  if (Known(id)) return Ok();
  queued_.insert(id);
  std::unique_lock lock(mu_);
  // Admit one job even when it alone is over budget, so a max-size chunk always fits.
  space_cv_.wait(lock, [&] {
    return error_ || queued_bytes_ == 0 || queued_bytes_ + data.size() <= options_.max_queued_bytes;
  });
  if (error_) return tl::unexpected(*error_);
  queued_bytes_ += data.size();
  jobs_.push_back(Job{type, id, std::move(data)});
  lock.unlock();
  work_cv_.notify_one();
  return Ok();
}

void BlobWriter::WorkerLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;  // unflushed jobs are dropped: no snapshot will refer to them
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    ++busy_;
    lock.unlock();
    thread_local std::string compressed;
    Codec used = CompressInto(options_.codec, options_.level, job.data, compressed);
    std::string_view stored = used == Codec::kNone ? std::string_view(job.data) : compressed;
    Status st;
    if (repo_.encrypted()) {  // sealed bound to the blob id (docs/encryption.md)
      auto sealed = repo_.SealObject("blob", job.id.Hex(), std::string(stored));
      st = sealed ? AddToPack(job, used, *sealed) : Status(tl::unexpected(sealed.error()));
    } else {
      st = AddToPack(job, used, stored);
    }
    lock.lock();
    if (!st) SetError(st.error());
    queued_bytes_ -= job.data.size();
    if (spare_bytes_ + job.data.capacity() <= kMaxSpareBytes) {
      spare_bytes_ += job.data.capacity();
      job.data.clear();
      spare_buffers_.push_back(std::move(job.data));
    }
    --busy_;
    space_cv_.notify_all();
  }
}

std::string BlobWriter::TakeBuffer() {
  std::lock_guard lock(mu_);
  if (spare_buffers_.empty()) return {};
  std::string b = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  spare_bytes_ -= b.capacity();
  return b;
}

Status BlobWriter::AddToPack(const Job& job, Codec used, std::string_view stored) {
  PackBuilder full;
  {
    std::lock_guard lock(mu_);
    if (error_) return Ok();  // already failed; the error is reported once
    open_pack_.Add(job.type, job.id, used, static_cast<uint32_t>(job.data.size()), stored);
    stats_.blobs_added++;
    stats_.raw_bytes_added += job.data.size();
    stats_.stored_bytes_added += stored.size();
    if (open_pack_.size() < kTargetPackSize) return Ok();
    std::swap(full, open_pack_);
  }
  return WritePack(full);  // outside the lock: the other workers fill the next pack meanwhile
}

Status BlobWriter::WritePack(PackBuilder& pack) {
  std::vector<PackEntry> entries = pack.entries();
  std::string bytes = pack.Finish();
  BlobId pack_id = Sha256(bytes);
  {
    std::lock_guard put_lock(put_mu_);
    VELIN_TRY(repo_.backend().Put(PackObjectName(pack_id), bytes));
  }
  std::lock_guard lock(mu_);
  written_.emplace_back(pack_id, std::move(entries));
  stats_.packs_written++;
  return Ok();
}

Status BlobWriter::Flush() {
  PackBuilder last;
  {
    std::unique_lock lock(mu_);
    space_cv_.wait(lock, [&] { return error_ || (jobs_.empty() && busy_ == 0); });
    if (error_) return tl::unexpected(*error_);
    std::swap(last, open_pack_);
  }
  if (!last.empty()) VELIN_TRY(WritePack(last));
  std::lock_guard lock(mu_);
  if (written_.empty()) return Ok();
  std::string index = EncodeIndexObject(written_);
  // Named by the (keyed, when encrypted) hash of its plaintext, and sealed bound to that name.
  VELIN_ASSIGN(BlobId name, repo_.HashBlob(index));
  VELIN_ASSIGN(std::string stored, repo_.SealObject("index", name.Hex(), std::move(index)));
  return repo_.backend().Put("index/" + name.Hex(), stored);
}

BlobWriterStats BlobWriter::stats() {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace velin::repo
