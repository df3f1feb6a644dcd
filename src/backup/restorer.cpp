#include "velin/backup/restorer.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "velin/backup/archiver.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/process.hpp"
#include "velin/core/stack.hpp"
#include "velin/core/termination.hpp"
#include "velin/core/threads.hpp"
#include "velin/io/process_space.hpp"

namespace velin::backup {

using repo::Node;
using repo::NodeType;
using repo::Tree;

namespace {

// Splits a relative '/'-path into components; empty result when any is invalid ("..", "").
std::vector<std::string> SplitRelative(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(start, slash - start);
    if (!repo::IsValidNodeName(part)) return {};
    parts.push_back(part);
    start = slash + 1;
  }
  return parts;
}

// The setuid and setgid bits of `node` that a restore leaves out: without root a restored file
// is the restoring user's, with its group, not the backup's owner's, and a set-id bit would let
// anyone who runs it run as that user or with that group (cp -p and libarchive leave them out
// the same way). A bit whose owner or group is the restoring user's stays, and a directory keeps
// its setgid bit (it only passes its group on to new files).
uint32_t SetIdBitsLeftOut(const Node& node, bool restore_owner) {
  if (restore_owner || node.type == NodeType::kDir) return 0;
  uint32_t out = 0;
  if ((node.mode & S_ISUID) != 0 && node.uid != ::geteuid()) out |= S_ISUID;
  if ((node.mode & S_ISGID) != 0 && node.gid != ::getegid()) out |= S_ISGID;
  return out;
}

// Whether this machine has a user (`group` false) or group with numeric id `id`.
bool IdKnown(uint32_t id, bool group) {
  std::vector<char> buf(16384);
  for (;;) {
    int rc = 0;
    bool found = false;
    if (group) {
      struct group entry {};
      struct group* out = nullptr;
      rc = ::getgrgid_r(id, &entry, buf.data(), buf.size(), &out);
      found = out != nullptr;
    } else {
      struct passwd entry {};
      struct passwd* out = nullptr;
      rc = ::getpwuid_r(id, &entry, buf.data(), buf.size(), &out);
      found = out != nullptr;
    }
    if (rc == ERANGE && buf.size() < (1u << 22)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    return found || rc != 0;  // a lookup that failed says nothing: not warned
  }
}

// The owner (when `restore_owner`), mode and mtime `node` records, as restore gives them.
io::Attributes AttributesOf(const Node& node, bool restore_owner) {
  io::Attributes a;
  a.set_owner = restore_owner;
  a.uid = node.uid;
  a.gid = node.gid;
  a.mode = node.mode & ~SetIdBitsLeftOut(node, restore_owner);
  a.mtime_ns = node.mtime_ns;
  return a;
}

// A directory being restored: its open handle, and the metadata it gets once everything inside
// it is in. Every file job and child directory inside holds it; the last holder to let go (a
// worker or the walker) sets its owner, mode and mtime on the open descriptor, so the children
// are finished before their parent, a read-only directory stays writable until its files are
// in, and no link swapped in meanwhile can redirect the chmod.
class DirFinisher;
struct DirState {
  io::DirPtr dir;
  std::optional<Node> meta;  // none: a directory above the backed-up path (made 0755)
  // A directory above the backed-up path that this restore made writable (MakeWritable): the
  // mode it had, set back when it is finished.
  std::optional<uint32_t> found_mode;
  std::shared_ptr<DirState> parent;
  DirFinisher* finisher = nullptr;
  // Deep in a tree the walk closes `dir` while it is far below it and opens it again by its
  // name in `parent` on its way back (Restorer::CloseFarDirs): what it must find there then,
  // and whether it is closed now.
  std::optional<io::FileInfo> reopen_as;
  bool closed = false;
  ~DirState();
};
using DirStatePtr = std::shared_ptr<DirState>;

class DirFinisher {
 public:
  DirFinisher(io::Env& env, const RestoreOptions& options) : env_(env), options_(options) {}
  void Finish(DirState& d) {
    if (d.found_mode) {
      // Set back after a failure too: no rerun would (its walk would find the mode given here).
      io::Attributes a;
      a.mode = *d.found_mode;
      a.set_mtime = false;
      if (Status st = env_.SetDirAttributes(*d.dir, a); !st) Fail(st.error());
      return;
    }
    if (!d.meta || failed_.load()) return;
    io::Attributes a = AttributesOf(*d.meta, options_.restore_owner);
    Status st = Ok();
    if (d.meta->xattrs_known) {
      // Owner, extended attributes, then mode and mtime (see FileWriterPool::Write).
      if (a.set_owner) st = env_.SetDirAttributes(*d.dir, OwnerOnly(a));
      a.set_owner = false;
      if (st) {
        auto outcome = env_.SetDirXattrs(*d.dir, d.meta->xattrs);
        if (outcome) {
          RecordXattrs(d.dir->path(), *outcome);
        } else {
          st = tl::unexpected(outcome.error());
        }
      }
    }
    if (st) st = env_.SetDirAttributes(*d.dir, a);
    if (!st) Fail(st.error());
  }
  // The owner part of `a` alone.
  static io::Attributes OwnerOnly(const io::Attributes& a) {
    io::Attributes o = a;
    o.set_mode = false;
    o.set_mtime = false;
    return o;
  }
  // Counts what setting a file's or directory's extended attributes did; keeps the first
  // refusal for the warning at the end. Any thread.
  void RecordXattrs(const std::string& path, const io::XattrOutcome& outcome) {
    xattrs_.fetch_add(outcome.changed, std::memory_order_relaxed);
    if (outcome.refused.empty()) return;
    std::lock_guard lock(mu_);
    if (refused_ == 0) {
      first_refused_ = TrFormat("{} on {}: {}", outcome.refused[0].first, path,
                                std::string(Tr(std::strerror(outcome.refused[0].second))));
    }
    refused_ += outcome.refused.size();
  }
  uint64_t xattrs() const { return xattrs_.load(); }
  // An entry the target cannot hold (a kind of entry it lacks, a name it does not take):
  // counted, the first kept for the error at the end (RefusedEntriesError). Any thread.
  enum class Refusal { kSymlink, kFifo, kName, kTooLarge };
  void RecordRefused(Refusal kind, const std::string& what, int err) {
    std::lock_guard lock(mu_);
    if (first_refused_entry_.empty()) {
      first_refused_entry_ =
          err == EISDIR
              ? TrFormat("{}: a directory is in its place; move it away and restore again", what)
              : TrFormat("{}: {}", what, std::string(Tr(std::strerror(err))));
    }
    ++refused_entries_[static_cast<size_t>(kind)];
    if (kind == Refusal::kTooLarge || kind == Refusal::kName) left_out_.try_emplace(what, kind);
  }
  // Why the file at `path` was left out (too large for the target, or its name refused:
  // RecordRefused), for its other hardlinks; none when it was not.
  std::optional<Refusal> LeftOut(const std::string& path) {
    std::lock_guard lock(mu_);
    auto it = left_out_.find(path);
    if (it == left_out_.end()) return std::nullopt;
    return it->second;
  }
  void CopyRefusedInto(RestoreStats& stats) {
    std::lock_guard lock(mu_);
    stats.symlinks_refused = refused_entries_[0];
    stats.specials_refused = refused_entries_[1];
    stats.names_refused = refused_entries_[2];
    stats.files_too_large = refused_entries_[3];
    stats.first_refused = first_refused_entry_;
  }
  std::pair<uint64_t, std::string> refused() {
    std::lock_guard lock(mu_);
    return {refused_, first_refused_};
  }
  void Fail(const Error& e) {
    std::lock_guard lock(mu_);
    if (!error_) error_ = e;
    failed_.store(true);
  }
  bool failed() const { return failed_.load(); }
  // Directories of the restore held open (a DirState with this finisher each): the workers'
  // batches keep theirs open until written (FileWriterPool bounds them by the open-file limit).
  // From here on the last holder of `d` finishes it (~DirState), and it counts as open.
  void Adopt(DirState& d) {
    d.finisher = this;
    open_dirs_.fetch_add(1, std::memory_order_relaxed);
  }
  void Closed() { open_dirs_.fetch_sub(1, std::memory_order_relaxed); }
  void Reopened() { open_dirs_.fetch_add(1, std::memory_order_relaxed); }
  size_t open_dirs() const { return open_dirs_.load(std::memory_order_relaxed); }
  std::optional<Error> error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  io::Env& env_;
  const RestoreOptions& options_;
  std::mutex mu_;
  std::optional<Error> error_;
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> xattrs_{0};
  std::atomic<size_t> open_dirs_{0};
  uint64_t refused_ = 0;
  std::string first_refused_;
  uint64_t refused_entries_[4] = {};
  std::map<std::string, Refusal> left_out_;  // files, by path, for their other hardlinks
  std::string first_refused_entry_;
};

// Holes of a sparse file are written in blocks of this size: an all-zero block is skipped
// (the file system's usual block; a hole smaller than its block would be allocated anyway).
constexpr size_t kHoleBlock = 4096;

// What a file system says when it has no such entries at all: FAT and exFAT (EPERM; exfat-fuse
// ENOSYS), other FUSE and network file systems (EOPNOTSUPP).
bool TargetCannotHold(int err) { return err == EPERM || err == ENOSYS || err == EOPNOTSUPP; }

// What a file system says of a name it does not take: FAT, exFAT and NTFS refuse `:`, `?`, `*`
// and others (EINVAL; exfat-fuse ENOENT, in a directory velin holds open), names that are not
// UTF-8 (EILSEQ) and names too long for them.
// EISDIR: a directory stands where the backup has a file, symlink or fifo (an in-place
// restore after someone made one there). A restore leaves alone what is not in the backup, so
// it is not removed: that entry is left out like a name the target does not take.
bool NameRefused(int err) {
  return err == EINVAL || err == ENOENT || err == EILSEQ || err == ENAMETOOLONG || err == EISDIR;
}

bool AllZero(std::string_view d) {
  return d.empty() || (d[0] == 0 && std::memcmp(d.data(), d.data() + 1, d.size() - 1) == 0);
}

// Writes `data` at `offset`, leaving out the all-zero blocks (aligned to the file's offsets):
// they stay holes. Consecutive data blocks go out in one write.
Status WriteSparse(io::WritableFile& file, uint64_t offset, std::string_view data) {
  size_t run_start = 0, run_end = 0;  // the pending data blocks [run_start, run_end)
  for (size_t at = 0; at < data.size();) {
    size_t block = kHoleBlock - static_cast<size_t>((offset + at) % kHoleBlock);
    block = std::min(block, data.size() - at);
    if (!AllZero(data.substr(at, block))) {
      if (run_end != at) {
        if (run_end > run_start) {
          VELIN_TRY(file.WriteAt(offset + run_start, data.substr(run_start, run_end - run_start)));
        }
        run_start = at;
      }
      run_end = at + block;
    }
    at += block;
  }
  if (run_end > run_start) {
    VELIN_TRY(file.WriteAt(offset + run_start, data.substr(run_start, run_end - run_start)));
  }
  return Ok();
}

DirState::~DirState() {
  // Closed: a walk that failed below it (RestoreNode opens it again after every child that
  // succeeded), which gives no directory its metadata.
  if (!finisher || closed) return;
  finisher->Finish(*this);
  finisher->Closed();
}

// Writes restored files on worker threads: each job reads its blobs (hash checked), writes an
// unnamed file in its directory (O_TMPFILE; where the file system has none, a temporary name,
// by descriptor, O_NOFOLLOW), sets its metadata on the open file and links it under its name
// (renames the temporary name into place), so reading packs, decompressing and hashing run on
// every core while the restorer walks the trees. Bounded: at most kMaxQueuedBatches batches of
// small files and kMaxQueuedLarge large files (of at most kMaxQueuedLargeIds chunks together)
// wait, each holding its directory open: well within the usual 1,024 descriptors.
// The first error stops the pool; later jobs are dropped. REQUIRES: Submit() and Wait() from one
// thread.
class FileWriterPool {
 public:
  struct Job {
    DirStatePtr dir;
    std::string tmp;   // the temporary name in dir, where the file cannot be unnamed
    std::string name;  // its name in dir
    Node node;
  };

  FileWriterPool(repo::Repository& repo, io::Env& env, const RestoreOptions& options,
                 DirFinisher& finisher)
      : repo_(repo), env_(env), options_(options), finisher_(finisher) {
    // Twice the cores: a worker often waits for a read or a write, another computes meanwhile.
    // From a remote repository at least as many as it takes reads at once: there a worker
    // mostly waits for a round trip (420 directories of small files on S3 20 ms away, two
    // cores: 3.3 s with 4 workers, bench/README.md, twenty-first pass).
    const int n =
        std::max(static_cast<int>(2 * std::clamp(std::thread::hardware_concurrency(), 1u, 8u)),
                 storage::ParallelReadsFor(repo.backend().Location()));
    // Three quarters: a worker on a large file mostly waits for the disk, one on small files
    // keeps a core busy making them. Measured on two cores (2.2 GiB set, cold, alternating):
    // 3 of 4 won all 7 rounds against 2 of 4, the median 3.08 -> 2.94 s (bench/README.md).
    max_large_ = std::max(1, n * 3 / 4);
    workers_ = n;
    if (const int reads = storage::ParallelReadsFor(repo.backend().Location()); reads > 0) {
      window_ = std::max<size_t>(Ahead::kLocalWindow, reads);
      max_held_ = window_;
      batch_ = kRemoteBatch;
    }
    // A system short of threads (ulimit -u) gives fewer workers, and they do it all; none at
    // all is the restore's error, returned by the first Submit or Wait.
    threads_.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      auto t = StartThread([this] { WorkerLoop(); }, [this](const Error& e) { WorkerThrew(e); });
      std::lock_guard lock(mu_);
      if (!t) {
        workers_ = static_cast<int>(threads_.size());
        if (threads_.empty()) error_ = t.error();
        break;
      }
      threads_.push_back(std::move(*t));
    }
  }
  ~FileWriterPool() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // Queues the file. Consecutive small files of one directory go to the workers as one batch:
  // one hand-over (and wake-up) per batch instead of per file, and the workers create their
  // files in different directories instead of queueing on one directory's lock (perf: 5 % of a
  // restore of 20,000 small files spun on it, 3 % went to handing files over; context
  // switches 13,000 -> 1,100). A batch holds at most ~1 MiB of data, and goes early while the
  // queue is empty, so a directory of a few dozen files is still written in parallel. From a
  // remote repository a batch goes on into the next directories and holds up to 2,048 files
  // (64 early): its blobs are one request (ReadNeighbours), a round trip or four, and 20,000
  // small files in 2,000 directories restored from SFTP 20 ms away took 64 s as 2,000
  // requests, 9.9 s in batches across directories of up to 128, 5.1 s of up to 512
  // (bench/README.md, "Twenty-fourth pass"), 3.5 s of up to 2,048 ("Twenty-sixth pass").
  //
  // Every file waiting keeps its directory open (and that one its parents): a restore from S3
  // of 6,000 directories of one file each stopped at "Too many open files" under the usual
  // limit of 1,024, and a local one of 400 directories of one large file each under 200. So a
  // batch spans at most an eighth of dir_budget_ directories, and once the restore holds
  // dir_budget_ open the walk waits for the workers to let go of a quarter of them.
  Status Submit(Job job) {
    if (finisher_.open_dirs() >= dir_budget_) VELIN_TRY(WaitForDirs());
    const bool new_dir = pending_.empty() || pending_.back().dir != job.dir;
    if (!pending_.empty() &&
        ((new_dir && (!batch_.across_dirs || pending_dirs_ >= dir_budget_ / 8)) ||
         pending_.size() >= batch_.files || pending_bytes_ + job.node.size > kBatchBytes ||
         (pending_.size() >= batch_.early_files && queued_.load(std::memory_order_relaxed) == 0))) {
      VELIN_TRY(Flush());
    }
    if (pending_.empty() || new_dir) ++pending_dirs_;
    pending_bytes_ += job.node.size;
    pending_.push_back(std::move(job));
    return Ok();
  }

  // Until every submitted file is in place; the first error of any of them.
  Status Wait() {
    Status flushed = Flush();
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return error_ || (small_.empty() && large_.empty() && busy_ == 0); });
    if (error_) return tl::unexpected(*error_);
    return flushed;
  }

  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  // What went through the page cache so far: each file's size plus 4 KiB (its inode and name).
  uint64_t cached() const { return cached_.load(std::memory_order_relaxed); }

 private:
  using Batch = std::vector<Job>;
  static constexpr size_t kMaxQueuedBatches = 16;
  static constexpr size_t kMaxQueuedLarge = 256;
  static constexpr size_t kMaxQueuedLargeIds = 256 * 1024;  // 8 MiB of ids, ~256 GiB of files
  // How Submit batches small files: at most `files` (`early_files` while the workers' queue is
  // empty, enough to keep them busy), within one directory unless `across_dirs`.
  struct BatchRule {
    bool across_dirs;
    size_t files;
    size_t early_files;
  };
  static constexpr BatchRule kLocalBatch{false, 128, 8};
  // From a remote repository, where a batch's request is a round trip or four.
  static constexpr BatchRule kRemoteBatch{true, 2048, 64};
  static constexpr uint64_t kBatchBytes = 1 << 20;  // a larger file goes alone

  // Directories a restore holds open at most: the open-file limit but 128 (the files being
  // written, the packs read and the 32 a local repository keeps open, the connections: ~60
  // seen), and at least a quarter of the limit, from 4 to 8,192. Under a small limit the
  // others shrink too (a local repository keeps an eighth open); a floor of 16 took half of
  // `ulimit -n 32`.
  static size_t DirBudget() {
    static constexpr size_t kMaxDirs = 8192;
    static constexpr size_t kOthers = 128;
    const size_t limit = OpenFileLimit();
    const size_t dirs = std::max(limit > kOthers ? limit - kOthers : 0, limit / 4);
    return std::clamp<size_t>(dirs, 4, kMaxDirs);
  }

  // At dir_budget_ open directories: the pending batch goes, and the walk waits until the
  // workers are down to three quarters of it, or have nothing left (the directories the walk
  // itself is in are never waited for).
  Status WaitForDirs() {
    VELIN_TRY(Flush());
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] {
      return error_ || finisher_.open_dirs() <= dir_budget_ * 3 / 4 ||
             (small_.empty() && large_.empty() && busy_ == 0);
    });
    if (error_) return tl::unexpected(*error_);
    return Ok();
  }

  // Hands the pending batch to the workers (waits while kMaxQueuedBatches wait already).
  Status Flush() {
    if (pending_.empty()) return Ok();
    Batch batch;  // destroyed after `lock`: a dropped batch's directories let go unlocked
    batch.swap(pending_);
    pending_bytes_ = 0;
    pending_dirs_ = 0;
    const bool large = batch.size() == 1 && batch[0].node.size > kBatchBytes;
    const size_t ids = large ? batch[0].node.content.size() : 0;
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] {
      if (error_) return true;
      if (!large) return small_.size() < kMaxQueuedBatches;
      // Their chunk lists are copies: bounded too (a file alone may always wait).
      return large_.empty() ||
             (large_.size() < kMaxQueuedLarge && large_ids_ + ids <= kMaxQueuedLargeIds);
    });
    if (error_) return tl::unexpected(*error_);
    large_ids_ += ids;
    (large ? large_ : small_).push_back(std::move(batch));
    queued_.store(small_.size(), std::memory_order_relaxed);
    lock.unlock();
    work_cv_.notify_one();
    return Ok();
  }

  void WorkerLoop() {
    std::unique_lock lock(mu_);
    for (;;) {
      Ahead* help = nullptr;
      work_cv_.wait(lock, [&] {
        help = nullptr;
        if (stopping_) return true;
        if (error_) return false;
        if (!small_.empty() || !large_.empty()) return true;
        help = Claimable();
        return help != nullptr;
      });
      if (stopping_) return;
      if (small_.empty() && large_.empty() && help) {
        DecodeAhead(*help, lock);
        continue;
      }
      // Large files keep the disk busy, small ones the processors: while both wait, at most
      // max_large_ workers take large files and the others small ones, so the two overlap.
      const bool large = !large_.empty() && (small_.empty() || large_busy_ < max_large_);
      std::deque<Batch>& queue = large ? large_ : small_;
      std::optional<Batch> batch(std::move(queue.front()));
      queue.pop_front();
      if (large) large_ids_ -= (*batch)[0].node.content.size();
      queued_.store(small_.size(), std::memory_order_relaxed);
      ++busy_;
      if (large) ++large_busy_;
      lock.unlock();
      std::optional<Error> failed;
      if (!CatchExceptions([&]() -> Status {
            ReadNeighbours(*batch);
            return Ok();
          })) {
        Neighbours().used = 0;  // out of memory: the files read their blobs one by one
        Neighbours().at.clear();
      }
      for (const Job& job : *batch) {
        if (stop_.load(std::memory_order_relaxed)) break;  // another file failed
        // Out of memory (ulimit -v) fails this file as an error of its own would.
        Status st = CatchExceptions([&] { return Write(job, large); });
        if (!st && st.error().sys_errno == EFBIG) {
          // Larger than the target's file system holds (FAT32: 4 GiB): left out like a name
          // it does not take; the others are restored.
          (void)env_.RemoveAt(*job.dir->dir, job.tmp, false);
          finisher_.RecordRefused(DirFinisher::Refusal::kTooLarge,
                                  io::JoinPath(job.dir->dir->path(), job.name), EFBIG);
          continue;
        }
        if (!st) {
          (void)env_.RemoveAt(*job.dir->dir, job.tmp, false);
          failed = st.error().Wrap(NoTr(io::JoinPath(job.dir->dir->path(), job.name)));
          finisher_.Fail(*failed);  // before the directory lets go: no chmod after a failure
          stop_.store(true, std::memory_order_relaxed);
          break;
        }
      }
      batch.reset();  // may finish its directories: before Wait() can see these files done
      lock.lock();
      --busy_;
      if (large) --large_busy_;
      if (failed && !error_) {
        error_ = *failed;
        std::deque<Batch> dropped, dropped_large;
        dropped.swap(small_);
        dropped_large.swap(large_);
        large_ids_ = 0;
        queued_.store(0, std::memory_order_relaxed);
        lock.unlock();  // their directories let go without the lock
        dropped.clear();
        dropped_large.clear();
        lock.lock();
      }
      done_cv_.notify_all();
    }
  }

  // A batch of small files reads its blobs with one request per run of neighbours in a pack
  // (the archiver packed a directory's files one after the other) instead of one request a
  // blob: a restore of 300,000 small files made 300,000 reads of a few KiB each, one at a time
  // per worker (O_DIRECT: each one a round trip to the disk, or to the server of a remote
  // repository). The runs are only read here; every blob is still opened, decompressed and
  // checked against its id (ReadBlob). A run that cannot be read is left to the blob-by-blob
  // reads, which say what is wrong.
  struct NeighbourReads {
    std::vector<std::string> runs;  // reused from batch to batch
    size_t used = 0;                // runs[0, used) hold this batch's
    struct At {
      repo::IndexEntry entry;
      size_t run;
      size_t pos;  // of the blob's stored bytes in runs[run]
    };
    std::unordered_map<repo::BlobId, At, repo::BlobIdHash> at;
  };
  static NeighbourReads& Neighbours() {
    thread_local NeighbourReads reads;
    return reads;
  }

  void ReadNeighbours(const Batch& batch) {
    static constexpr uint64_t kGap = 64 * 1024;        // read over a gap this small
    static constexpr uint64_t kMaxRun = 4ULL << 20;    // one request at most
    static constexpr uint64_t kMaxBytes = 4ULL << 20;  // a batch's runs, each worker's memory
    NeighbourReads& r = Neighbours();
    r.used = 0;
    r.at.clear();
    if (batch.size() < 2) return;  // a large file alone: its blobs are large
    struct Want {
      repo::IndexEntry entry;
      repo::BlobId id;
    };
    std::vector<Want> wants;
    const repo::Index& index = repo_.index();
    for (const Job& job : batch) {
      for (const auto& id : job.node.content) {
        if (auto e = index.Find(id)) wants.push_back({*e, id});
      }
    }
    std::sort(wants.begin(), wants.end(), [](const Want& a, const Want& b) {
      return a.entry.pack != b.entry.pack ? a.entry.pack < b.entry.pack
                                          : a.entry.offset < b.entry.offset;
    });
    uint64_t total = 0;
    for (size_t i = 0; i < wants.size();) {
      const uint64_t start = wants[i].entry.offset;
      uint64_t end = start + wants[i].entry.length;
      size_t j = i + 1;
      while (j < wants.size() && wants[j].entry.pack == wants[i].entry.pack &&
             wants[j].entry.offset <= end + kGap &&
             wants[j].entry.offset + wants[j].entry.length - start <= kMaxRun) {
        end = std::max<uint64_t>(end, wants[j].entry.offset + wants[j].entry.length);
        ++j;
      }
      if (j - i >= 2 && total + (end - start) <= kMaxBytes) {
        if (r.used == r.runs.size()) r.runs.emplace_back();
        std::string& run = r.runs[r.used];
        const std::string pack = repo::PackObjectName(index.PackId(wants[i].entry.pack));
        auto got = repo_.backend().GetRangeInto(pack, start, end - start, run);
        if (got && run.size() == end - start) {
          for (size_t k = i; k < j; ++k) {
            r.at.try_emplace(wants[k].id, NeighbourReads::At{wants[k].entry, r.used,
                                                             wants[k].entry.offset - start});
          }
          ++r.used;
          total += end - start;
        }
      }
      i = j;
    }
  }

  // A large file's next blobs, read and decoded by workers that have nothing else to do while
  // the file's own worker writes the one before. A large file is restored one blob after the
  // other (read, decompress, hash, write): on its own (a restore of one large file, or the last
  // one of a restore) it kept one core busy and left the other idle. Helpers only take what no
  // queued file needs (a second thread per file competed with the other workers while the cores
  // were busy: fifteenth pass, bench/README.md). Every blob is still decoded and checked
  // against its id, by whichever thread reads it. Guarded by mu_.
  // From a local disk 3 blobs ahead keep the file's writer fed. From a remote repository each
  // read is a round trip: there the window is as wide as the reads it takes at once (a 400 MiB
  // file from S3 50 ms away: 9.2 s with 3, 5.6 s with 8; bench/README.md, twenty-third pass),
  // and the blobs held ahead for all large files together are at most that many, so several
  // large files at once do not hold a window each (up to 8 MiB a blob).
  struct Ahead {
    static constexpr size_t kLocalWindow = 3;
    struct Slot {
      enum class State { kFree, kClaimed, kReady } state = State::kFree;
      std::string data;
      std::optional<Error> error;
    };
    const std::vector<repo::BlobId>& ids;
    size_t next = 0;          // the first blob nobody claimed
    size_t taken = 0;         // blobs [0, taken) went to the writer
    int in_flight = 0;        // claimed by helpers, not yet ready
    std::vector<Slot> slots;  // blob i in slots[i % slots.size()] while i is in the window
  };

  // A worker's blob buffers, reused from blob to blob (no allocation per blob), whether it
  // writes a file or helps with one.
  struct BlobBuffers {
    std::string data, stored;
  };
  static BlobBuffers& Buffers() {
    thread_local BlobBuffers buffers;
    return buffers;
  }

  // A claimable blob's file, or none. REQUIRES: mu_ held.
  Ahead* Claimable() {
    if (stop_.load(std::memory_order_relaxed)) return nullptr;
    size_t held = 0;  // claimed or decoded by helpers, not yet taken by their writers
    for (const Ahead* a : helpable_) held += a->next - a->taken;
    if (held >= max_held_) return nullptr;
    for (Ahead* a : helpable_) {
      if (a->next < a->ids.size() && a->next < a->taken + a->slots.size()) return a;
    }
    return nullptr;
  }

  // A helper decodes a's next blob into its slot. REQUIRES: mu_ held through `lock`.
  void DecodeAhead(Ahead& a, std::unique_lock<std::mutex>& lock) {
    const size_t i = a.next++;
    Ahead::Slot& slot = a.slots[i % a.slots.size()];
    slot.state = Ahead::Slot::State::kClaimed;
    if (slot.data.capacity() == 0 && !spare_.empty()) {
      slot.data = std::move(spare_.back());
      spare_.pop_back();
    }
    ++a.in_flight;
    ++helping_;
    lock.unlock();
    // What this throws (out of memory) is the blob's error: its writer waits for the slot.
    Status st =
        CatchExceptions([&] { return repo_.ReadBlobInto(a.ids[i], slot.data, Buffers().stored); });
    lock.lock();
    slot.error = st ? std::nullopt : std::optional<Error>(st.error());
    slot.state = Ahead::Slot::State::kReady;
    --a.in_flight;
    --helping_;
    ahead_cv_.notify_all();
  }

  // A large file's window while its worker writes it: registered for the helpers, and on the
  // way out (written or failed) withdrawn once no helper still decodes into it.
  class AheadScope {
   public:
    AheadScope(FileWriterPool& pool, const std::vector<repo::BlobId>& ids) : pool_(pool), a_{ids} {
      a_.slots.resize(pool_.window_);
      std::lock_guard lock(pool_.mu_);
      pool_.helpable_.push_back(&a_);
      if (pool_.Idle() > 0) pool_.work_cv_.notify_all();
    }
    ~AheadScope() {
      std::unique_lock lock(pool_.mu_);
      std::erase(pool_.helpable_, &a_);
      pool_.ahead_cv_.wait(lock, [&] { return a_.in_flight == 0; });
      for (auto& slot : a_.slots) {  // their buffers serve the next large file
        if (slot.data.capacity() && pool_.spare_.size() < kMaxSpare) {
          pool_.spare_.push_back(std::move(slot.data));
        }
      }
    }
    AheadScope(const AheadScope&) = delete;
    AheadScope& operator=(const AheadScope&) = delete;

    // Blob i (taken in order) into `data`: a helper's, waited for if it is being decoded, or
    // read here.
    Status Take(size_t i, std::string& data, std::string& stored) {
      std::unique_lock lock(pool_.mu_);
      if (i >= a_.next) {  // nobody has it: read here
        a_.next = i + 1;
        lock.unlock();
        Status st = pool_.repo_.ReadBlobInto(a_.ids[i], data, stored);
        lock.lock();
        Advance(i);
        return st;
      }
      Ahead::Slot& slot = a_.slots[i % a_.slots.size()];
      pool_.ahead_cv_.wait(lock, [&] { return slot.state == Ahead::Slot::State::kReady; });
      data.swap(slot.data);
      slot.state = Ahead::Slot::State::kFree;
      std::optional<Error> error = std::move(slot.error);
      slot.error.reset();
      Advance(i);
      if (error) return tl::unexpected(*error);
      return Ok();
    }

   private:
    void Advance(size_t i) {  // REQUIRES: pool_.mu_ held
      a_.taken = i + 1;
      if (pool_.Idle() > 0 && a_.next < a_.ids.size()) pool_.work_cv_.notify_one();
    }
    FileWriterPool& pool_;
    Ahead a_;
  };

  // What a worker threw outside a file's write: the restore's error, as a file's failure is.
  void WorkerThrew(const Error& e) {
    finisher_.Fail(e);
    stop_.store(true, std::memory_order_relaxed);
    std::lock_guard lock(mu_);
    if (!error_) error_ = e;
    done_cv_.notify_all();
    ahead_cv_.notify_all();
  }

  // Workers neither on a file nor helping. REQUIRES: mu_ held.
  int Idle() const { return workers_ - busy_ - helping_; }

  // One blob of the file being written: from the runs read for its batch, else on its own.
  Status ReadBlob(const repo::BlobId& id, std::string& data, std::string& stored) {
    NeighbourReads& r = Neighbours();
    auto it = r.at.find(id);
    if (it == r.at.end()) return repo_.ReadBlobInto(id, data, stored);
    const NeighbourReads::At& at = it->second;
    stored.assign(r.runs[at.run], at.pos, at.entry.length);
    return repo_.DecodeStoredBlob(id, at.entry, stored, data);
  }

  Status Write(const Job& job, bool large) {
    VELIN_TRY(CheckInterrupted());  // a restore asked to stop (core/termination.hpp): per file
    const io::Dir& dir = *job.dir->dir;
    io::WriteOptions wo;
    wo.mode = 0600;
    wo.exclusive = true;
    const bool sparse = job.node.sparse;  // written at offsets, holes skipped: no direct writes
    wo.direct = !sparse && job.node.size >= io::kDirectWriteMin;
    // Unnamed until complete, then linked under its name: one directory entry made instead of
    // a temporary one made, renamed and removed (with 20,000 small files the temporary name's
    // create and rename were 45 % of the restore's CPU; bench/README.md).
    wo.unnamed = unnamed_ok_.load(std::memory_order_relaxed);
    // Unnamed, nobody can open it before it is linked: it is made with its mode at once, and
    // SetAttributes has no mode left to set (nor an owner, restoring one's own files). Not
    // with set-id bits (chown would clear them), nor without the owner's write permission
    // while extended attributes are to be set (user.* needs it).
    const uint32_t mode = job.node.mode & 07777;
    if (wo.unnamed && (mode & 07000) == 0 && ((mode & 0200) || job.node.xattrs.empty())) {
      wo.mode = mode;
    }
    VELIN_ASSIGN(auto file, env_.NewWritableFileAt(dir, job.tmp, wo));
    if (!wo.direct) cached_.fetch_add(job.node.size + 4096, std::memory_order_relaxed);
    std::string& data = Buffers().data;
    std::string& stored = Buffers().stored;
    uint64_t written = 0;
    // A blob repeated back to back (a sparse file's holes, a file of zeros: chunks of zeros
    // all have one id) is read and checked once and written as often as it comes; in a sparse
    // file, such a run of zeros is left a hole without looking at it again.
    const std::vector<repo::BlobId>* ids = &job.node.content;
    std::vector<repo::BlobId> distinct;
    std::vector<uint64_t> repeats;  // of distinct[i]; empty: every blob once
    if (std::adjacent_find(ids->begin(), ids->end()) != ids->end()) {
      for (const repo::BlobId& id : job.node.content) {
        if (!distinct.empty() && distinct.back() == id) {
          repeats.back()++;
        } else {
          distinct.push_back(id);
          repeats.push_back(1);
        }
      }
      ids = &distinct;
    }
    std::optional<AheadScope> ahead;
    if (large && ids->size() > 1) ahead.emplace(*this, *ids);
    for (size_t i = 0; i < ids->size() && written <= job.node.size; ++i) {
      const repo::BlobId& id = (*ids)[i];
      if (ahead) {
        VELIN_TRY(ahead->Take(i, data, stored));  // hash checked, here or by a helper
      } else {
        VELIN_TRY(ReadBlob(id, data, stored));  // hash checked
      }
      const uint64_t times = repeats.empty() ? 1 : repeats[i];
      const bool hole = sparse && times > 1 && AllZero(data);
      for (uint64_t t = 0; t < times; ++t) {
        // The chunks must add up to the size the tree records (the archiver records what it
        // read): a tree that says otherwise is damaged, and its file is not taken as restored.
        written += data.size();
        if (written > job.node.size) break;
        if (hole) {
          // Nothing to write: Truncate below gives a hole at the end its size.
        } else if (sparse) {
          VELIN_TRY(WriteSparse(*file, written - data.size(), data));
        } else {
          VELIN_TRY(file->Append(data));
        }
        bytes_.fetch_add(data.size(), std::memory_order_relaxed);
      }
    }
    if (written != job.node.size) {
      return DamageError(TrFormat("the backup records {} bytes but its chunks hold {}",
                                  std::to_string(job.node.size),
                                  (written > job.node.size ? "more" : std::to_string(written))));
    }
    ahead.reset();  // no helper is left decoding for this file
    if (sparse) VELIN_TRY(file->Truncate(job.node.size));  // a trailing hole
    io::Attributes a = AttributesOf(job.node, options_.restore_owner);
    if (job.node.xattrs_known) {
      // Owner first (chown drops file capabilities, security.capability), then the extended
      // attributes while the file is still 0600 and writable (user.* needs write permission),
      // then the mode (it agrees with a restored ACL's mask) and the mtime.
      if (a.set_owner) VELIN_TRY(file->SetAttributes(DirFinisher::OwnerOnly(a)));
      a.set_owner = false;
      VELIN_ASSIGN(io::XattrOutcome outcome, file->SetXattrs(job.node.xattrs));
      finisher_.RecordXattrs(io::JoinPath(dir.path(), job.name), outcome);
    }
    VELIN_TRY(file->SetAttributes(a));
    if (file->unnamed()) {
      Status linked = file->LinkAt(dir, job.name);
      if (!linked && LinkRefused(linked.error().sys_errno)) {
        // Naming through /proc/self/fd refused (a container's /proc, a security module): this
        // file is written again under a temporary name, and so is every later one.
        unnamed_ok_.store(false, std::memory_order_relaxed);
        (void)file->Close();
        return Write(job, large);
      }
      if (linked || linked.error().sys_errno != EEXIST) {
        VELIN_TRY(linked);
        return file->Close();
      }
      // The name is taken (an in-place restore, a rerun): linked under the temporary name and
      // renamed over it, so the old file is replaced at once.
      VELIN_TRY(file->LinkAt(dir, job.tmp));
    }
    VELIN_TRY(file->Close());
    Status renamed = env_.RenameAt(dir, job.tmp, dir, job.name);
    if (!renamed && NameRefused(renamed.error().sys_errno)) {  // the target does not take it
      (void)env_.RemoveAt(dir, job.tmp, false);
      finisher_.RecordRefused(DirFinisher::Refusal::kName, io::JoinPath(dir.path(), job.name),
                              renamed.error().sys_errno);
      return Ok();
    }
    return renamed;
  }

  // A refusal to link an unnamed file, not an I/O error (ENOSPC, EIO, EDQUOT, EROFS fail the
  // restore as any write would).
  static bool LinkRefused(int err) {
    return err == EPERM || err == EACCES || err == ENOENT || err == EXDEV || err == EOPNOTSUPP ||
           err == ENOTSUP || err == ELOOP || err == EINVAL;
  }

  repo::Repository& repo_;
  io::Env& env_;
  const RestoreOptions& options_;
  DirFinisher& finisher_;
  std::atomic<bool> unnamed_ok_{true};  // false once a link was refused: temporary names
  std::mutex mu_;
  std::condition_variable work_cv_;  // a job is queued, or stopping
  std::condition_variable done_cv_;  // a job finished or failed
  std::deque<Batch> small_;          // batches of small files
  std::deque<Batch> large_;          // large files, one a batch
  size_t large_ids_ = 0;             // chunks of the large files waiting
  int large_busy_ = 0;               // workers on a large file
  int max_large_ = 1;
  Batch pending_;  // the walker's next batch, not yet queued (Submit/Wait's thread only)
  uint64_t pending_bytes_ = 0;
  size_t pending_dirs_ = 0;  // directories pending_ spans
  const size_t dir_budget_ = DirBudget();
  std::condition_variable ahead_cv_;  // a blob decoded ahead is ready
  std::vector<Ahead*> helpable_;      // large files being written, their windows
  std::vector<std::string> spare_;    // buffers of windows gone, for the next ones
  static constexpr size_t kMaxSpare = 4;
  int helping_ = 0;  // workers decoding a blob ahead
  int workers_ = 0;
  size_t window_ = Ahead::kLocalWindow;  // blobs a large file's helpers decode ahead
  size_t max_held_ = SIZE_MAX;           // for all large files together
  BatchRule batch_ = kLocalBatch;
  std::atomic<bool> stop_{false};  // a file failed: the workers stop at their next file
  std::atomic<size_t> queued_{0};  // small_.size(), read without the lock
  int busy_ = 0;
  bool stopping_ = false;
  std::optional<Error> error_;
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> cached_{0};
  std::vector<std::thread> threads_;
};

// --include / --exclude (RestoreOptions). With includes, a scan of the selected trees before
// anything is written finds the directories that hold something included (`wanted_`, to be
// created) and those wholly included (`whole_`, everything below them goes).
class PathFilter {
 public:
  explicit PathFilter(const RestoreOptions& o)
      : include_(o.include), exclude_(o.exclude), matched_(o.include.size(), false) {
    for (auto& p : include_) p = NormalizeGlob(p);
    for (auto& p : exclude_) p = NormalizeGlob(p);
  }

  // One clear line for a pattern that can never match a path relative to app.root.
  static Status Check(const std::vector<std::string>& patterns, const char* flag) {
    for (const std::string& p : patterns) {
      const bool control =
          std::any_of(p.begin(), p.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
      if (p.empty() || control || p.size() > 4096) {
        // Not echoed: it may be long, or break the one error line.
        return UsageError(TrFormat("{} needs a pattern of 1 to 4096 printable characters", flag));
      }
      if (p[0] == '/') {
        return UsageError(TrFormat(
            "{} '{}': patterns are relative to app.root (like backup.exclude), not absolute", flag,
            p));
      }
    }
    return Ok();
  }

  bool Excluded(const std::string& path) const { return Matches(exclude_, path) >= 0; }

  // Whether the node at `path` (relative to the target) is restored.
  bool Keep(const std::string& path, bool dir) const {
    if (Excluded(path)) return false;
    if (include_.empty()) return true;
    if (dir) return wanted_.count(path) > 0;
    std::string parent = io::Dirname(path);
    return whole_.count(parent == "." ? "" : parent) > 0 || Matches(include_, path) >= 0;
  }

  // The scan of `node` at `path` (include_ not empty): whether anything at or below it is kept.
  Result<bool> Scan(repo::Repository& repo, const Node& node, const std::string& path,
                    bool inherited) {
    if (Excluded(path)) {
      // The exclude wins, but an include matching here or below did match: "matches nothing"
      // is for the typo, and excludes that exclude everything restore nothing (exit 0).
      VELIN_TRY(MarkMatched(repo, node, path));
      return false;
    }
    bool selected = inherited;
    for (int i = Matches(include_, path); i >= 0;
         i = Matches(include_, path, static_cast<size_t>(i) + 1)) {
      matched_[i] = true;
      selected = true;
    }
    if (node.type != NodeType::kDir) return selected;
    VELIN_ASSIGN(Tree tree, repo.ReadTree(node.subtree));
    bool any = selected;
    for (const Node& child : tree.nodes) {
      VELIN_ASSIGN(bool kept, Scan(repo, child, io::JoinPath(path, child.name), selected));
      any = any || kept;
    }
    if (selected) whole_.insert(path);
    if (any) wanted_.insert(path);
    return any;
  }

  bool active() const { return !include_.empty() || !exclude_.empty(); }
  bool includes() const { return !include_.empty(); }
  // Whether the directory at `path` is restored with all it holds (no includes, or it or one
  // above matches one), not only as the way to something included below it.
  bool Whole(const std::string& path) const { return include_.empty() || whole_.count(path) > 0; }
  // The include patterns no scanned path matched.
  std::vector<std::string> Unmatched() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < include_.size(); ++i) {
      if (!matched_[i]) out.push_back(include_[i]);
    }
    return out;
  }

 private:
  // Marks the include patterns matching `node` at `path` or anything below it, reading only
  // while some pattern is still unmatched.
  Status MarkMatched(repo::Repository& repo, const Node& node, const std::string& path) {
    if (std::all_of(matched_.begin(), matched_.end(), [](bool m) { return m; })) return Ok();
    for (int i = Matches(include_, path); i >= 0;
         i = Matches(include_, path, static_cast<size_t>(i) + 1)) {
      matched_[i] = true;
    }
    if (node.type != NodeType::kDir) return Ok();
    VELIN_ASSIGN(Tree tree, repo.ReadTree(node.subtree));
    for (const Node& child : tree.nodes) {
      VELIN_TRY(MarkMatched(repo, child, io::JoinPath(path, child.name)));
    }
    return Ok();
  }

  // The index of the first pattern from `from` on matching `path`, -1 for none.
  static int Matches(const std::vector<std::string>& patterns, const std::string& path,
                     size_t from = 0) {
    const std::string base = io::Basename(path);
    for (size_t i = from; i < patterns.size(); ++i) {
      const std::string& p = patterns[i];
      if (fnmatch(p.c_str(), path.c_str(), 0) == 0) return static_cast<int>(i);
      if (p.find('/') == std::string::npos && fnmatch(p.c_str(), base.c_str(), 0) == 0) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }

  std::vector<std::string> include_;
  std::vector<std::string> exclude_;
  std::vector<bool> matched_;
  std::set<std::string> wanted_;  // directories holding something kept
  std::set<std::string> whole_;   // directories wholly included
};

// A restore's temp files are named ".velin-restore-<pid>-<tag>-<n>-<hint>" (Restorer::TempName):
// the writer's pid (1 to 10 digits), its process-space tag (8 hex digits, "x" when unknown:
// io::WriterMark), a counter and a hint of 1 to 100 of [A-Za-z0-9._-]. The writer of a name of
// exactly that shape; nullopt for any other name (a user's ".velin-restore-notes.txt").
constexpr std::string_view kRestoreTempPrefix = ".velin-restore-";

std::optional<io::TempWriter> RestoreTempWriter(std::string_view name) {
  if (!name.starts_with(kRestoreTempPrefix)) return std::nullopt;
  std::string_view rest = name.substr(kRestoreTempPrefix.size());
  // The next '-'-ended field of `rest`, taken off it; nullopt when there is no '-'.
  const auto field = [&rest]() -> std::optional<std::string_view> {
    const size_t dash = rest.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::string_view f = rest.substr(0, dash);
    rest.remove_prefix(dash + 1);
    return f;
  };
  const auto digits = [](std::string_view s, size_t max) {
    return !s.empty() && s.size() <= max &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const auto pid = field();
  const auto tag = field();
  const auto counter = field();
  if (!pid || !tag || !counter || !digits(*pid, 10) || !digits(*counter, 20)) return std::nullopt;
  const bool hex_tag = tag->size() == 8 && std::all_of(tag->begin(), tag->end(), [](char c) {
                         return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                       });
  if (!hex_tag && *tag != "x") return std::nullopt;
  const bool hint =
      !rest.empty() && rest.size() <= 100 && std::all_of(rest.begin(), rest.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
      });
  if (!hint) return std::nullopt;
  io::TempWriter writer;
  writer.pid = std::stoll(std::string(*pid));
  writer.tag = std::string(*tag);
  return writer;
}

bool IsNotDirError(const Error& e) { return e.sys_errno == ELOOP || e.sys_errno == ENOTDIR; }

// Walks the target by directory descriptors: every name is opened in its parent with
// O_NOFOLLOW, so no symlink in the target (put there by anyone, or by an earlier restore) is
// followed. The one exception: an in-place restore follows a symlink on a source's include path
// that the backup followed (the snapshot's `links`), while it still has the recorded text and
// this restore did not create it.
class Restorer {
 public:
  Restorer(repo::Repository& repo, io::Env& env, Reporter& reporter, const RestoreOptions& options,
           io::DirPtr root, const PathFilter& filter)
      : repo_(repo),
        env_(env),
        reporter_(reporter),
        options_(options),
        filter_(filter),
        root_(std::move(root)),
        finisher_(env, options),
        pool_(repo, env, options, finisher_) {}

  // One open directory on each file system this restore writes into, the target's first: the
  // final flush (and the background ones) syncfs each, since syncfs flushes one file system
  // only, and a mount inside the target (storage/uploads on a volume of its own, an in-place
  // restore through a symlinked include to a NAS) would else be left unflushed, its write
  // errors never seen. Any thread.
  std::vector<io::DirPtr> FileSystems() {
    std::lock_guard lock(file_systems_mu_);
    std::vector<io::DirPtr> dirs;
    dirs.reserve(file_systems_.size());
    for (const auto& [device, dir] : file_systems_) dirs.push_back(dir);
    std::stable_partition(dirs.begin(), dirs.end(),
                          [&](const io::DirPtr& d) { return d == root_; });
    return dirs;
  }

  // Restores `node` (found inside the source `src`'s top tree `top`) to target/`dir_rel`/name.
  // `rel_src` is the node's path from the source's top tree (hardlink targets use it).
  // `followed_elsewhere`: the symlinks (relative to the target) that another include of this
  // restore followed; this source's copy of such a link is not written (RestoreNode).
  Status RestoreAt(const repo::SnapshotSource& src, const std::string& dir_rel, const Node& node,
                   const std::string& rel_src, const Tree& top, const std::string& source_dir,
                   const std::set<std::string>& followed_elsewhere) {
    source_top_ = &top;
    source_dir_ = source_dir;
    links_ = &src.links;
    links_resolved_ = &src.links_resolved;
    followed_elsewhere_ = &followed_elsewhere;
    Status st = [&]() -> Status {
      VELIN_ASSIGN(DirStatePtr dir, WalkTo(dir_rel, true));
      return RestoreNode(dir, dir_rel, node, rel_src);
    }();
    if (!st) finisher_.Fail(st.error());  // no directory gets its mode after a failure
    Status written = pool_.Wait();        // also after a failure: no worker may still write
    VELIN_TRY(st);
    VELIN_TRY(written);
    if (auto e = finisher_.error()) return tl::unexpected(*e);
    stats.bytes = pool_.bytes();
    stats.xattrs = finisher_.xattrs();
    return Ok();
  }
  // The extended attributes the target refused: how many, and the first (name, path, why).
  std::pair<uint64_t, std::string> RefusedXattrs() { return finisher_.refused(); }
  void CopyRefusedInto(RestoreStats& out) { finisher_.CopyRefusedInto(out); }
  // The first hardlink the target refused (written as a copy): path, first link, why.
  const std::string& FirstCopiedHardlink() const { return first_copied_; }
  const std::string& FirstSetIdLeftOut() const { return first_setid_left_out_; }
  // The uids and gids of OwnersUnknown (`uid 5001, gid 5002`), and the first such entry.
  std::string UnknownOwners() const {
    std::string out;
    for (const auto& [id, known] : uids_) {
      if (!known) out += (out.empty() ? "uid " : ", uid ") + std::to_string(id);
    }
    for (const auto& [id, known] : gids_) {
      if (!known) out += (out.empty() ? "gid " : ", gid ") + std::to_string(id);
    }
    return out;
  }
  const std::string& FirstUnknownOwner() const { return first_unknown_owner_; }
  uint64_t cached_bytes() const { return pool_.cached(); }
  RestoreStats stats;

 private:
  std::string Abs(const std::string& rel) const { return io::JoinPath(options_.target, rel); }

  // Counts `node` (at `path`, relative to the target) in stats.owners_unknown when this machine
  // has no user for its uid or no group for its gid: restored as root on a new machine, where
  // the application's user has another uid or none yet, its files would belong to a number
  // nobody has, silently.
  void NoteOwner(const Node& node, const std::string& path) {
    auto known = [](std::map<uint32_t, bool>& cache, uint32_t id, bool group) {
      auto it = cache.find(id);
      if (it == cache.end()) it = cache.emplace(id, IdKnown(id, group)).first;
      return it->second;
    };
    const bool user = known(uids_, node.uid, false);
    const bool group = known(gids_, node.gid, true);
    if (user && group) return;
    if (stats.owners_unknown++ == 0) first_unknown_owner_ = Abs(path);
  }

  // Notes the file system of `dir`, a directory this restore writes into (FileSystems).
  Status NoteFileSystem(const io::DirPtr& dir) {
    VELIN_ASSIGN(io::FileInfo info, env_.StatAt(*dir, "."));
    std::lock_guard lock(file_systems_mu_);
    file_systems_.try_emplace(info.device, dir);
    return Ok();
  }

  // Opens the symlink `name` in `dir` (at `rel`) when it is one the backup followed: in place,
  // with the recorded text, not made by this restore, leading where it led then. Null when it
  // is none of those; refused when it leads elsewhere now.
  Result<io::DirPtr> FollowRecorded(const io::Dir& dir, const std::string& name,
                                    const std::string& rel) {
    if (!options_.in_place || !links_) return io::DirPtr();
    auto recorded = links_->find(rel);
    if (recorded == links_->end() || created_symlinks_.count(rel)) return io::DirPtr();
    auto text = env_.ReadLinkAt(dir, name);
    if (!text || *text != recorded->second) return io::DirPtr();
    VELIN_ASSIGN(io::DirPtr opened, env_.OpenDirAt(dir, name, true));
    // The directory opened, by its descriptor, must be where the link led when backed up. The
    // text alone says little: the open follows every symlink along it, and one of them swapped
    // since (the link itself between the readlink and the open, the NAS's uploads, its mount
    // point; by whoever may write there) would have this restore, as root, write the backup's
    // files (uploads anyone may have written) where it leads now (a cron.d).
    VELIN_ASSIGN(std::string now, env_.RealPathOf(*opened));
    if (auto led = links_resolved_->find(rel); led != links_resolved_->end()) {
      if (now == led->second) return opened;
      return Failure(TrFormat(
          "refusing to restore through {}: it leads to {} now, not to {} as when backed up (a "
          "symlink on the way changed); fix it, or restore with --target",
          Abs(rel), now, led->second));
    }
    // A backup of before 2026-12-06 recorded only the text: the directory it names, with no
    // other symlink on the way (which may have been swapped since as well).
    std::string named = recorded->second;
    if (named.empty() || named[0] != '/') {
      VELIN_ASSIGN(std::string holder, env_.RealPathOf(dir));
      named = io::JoinPath(holder, named);
    }
    named = io::LexicalPath(named);
    if (now == named) return opened;
    return Failure(
        TrFormat("refusing to restore through {}: it leads to {}, not to {} as its text says (a "
                 "symlink on the way, which a backup of before 2026-12-06 cannot tell from one "
                 "swapped since); fix it, or restore with --target",
                 Abs(rel), now, named));
  }

  // The directory target/`rel`, made (0755) where missing. A symlink on the way is followed only
  // when the backup followed it (FollowRecorded); any other is refused, not replaced: it is not
  // the backup's to remove. When `create` (the restore writes there), a directory on the way
  // that its owner may not write is made writable until the restore is through with it, then
  // given back the mode it had (KeepWritable).
  Result<DirStatePtr> WalkTo(const std::string& rel, bool create) {
    auto state = std::make_shared<DirState>();
    state->dir = root_;
    if (create) VELIN_TRY(KeepWritable(*state));
    if (create) VELIN_TRY(NoteFileSystem(root_));
    RemoveDeadTemps(*root_);
    if (rel.empty()) return state;
    std::string at;
    for (const auto& part : SplitRelative(rel)) {
      at = io::JoinPath(at, part);
      const io::Dir& parent = *state->dir;
      std::optional<uint32_t> widened;
      auto opened = OpenDirOwned(parent, part, widened);
      if (!opened && create && opened.error().sys_errno == ENOENT) {
        VELIN_TRY(env_.CreateDirAt(parent, part, 0755));
        opened = env_.OpenDirAt(parent, part, false);
      }
      if (!opened && IsNotDirError(opened.error())) {
        VELIN_ASSIGN(io::DirPtr followed, FollowRecorded(parent, part, at));
        if (!followed) {
          return Failure(TrFormat(
              "refusing to restore through {}: it is not a directory (a symlink is followed only "
              "where the backup followed one; restore elsewhere with --target, or remove it)",
              Abs(at)));
        }
        opened = followed;
      }
      if (!opened) return tl::unexpected(opened.error());
      auto next = std::make_shared<DirState>();
      next->dir = std::move(*opened);
      next->parent = std::move(state);
      state = std::move(next);
      if (widened) {
        // Given u+rwx to be opened: the mode it had comes back once the restore is through
        // with it (also on a walk that only reads: a hardlink's first name).
        state->found_mode = widened;
        finisher_.Adopt(*state);
      } else if (create) {
        VELIN_TRY(KeepWritable(*state));
      }
      if (create) VELIN_TRY(NoteFileSystem(state->dir));
      RemoveDeadTemps(*state->dir);
    }
    return state;
  }

  // An existing directory this restore writes into whose mode does not let its owner write or
  // enter it (0555: an app's read-only directory, as a first restore leaves it): without root,
  // velin gives it u+wx
  // (a restore as root writes there anyway, and leaves its mode alone) and returns the mode it
  // had. The caller sets a mode again at the end: the backup's (a directory of the backup, as
  // for those it creates 0700), or the one it had (KeepWritable). Killed in between, the
  // directory keeps the u+wx; a rerun sets the backup's mode. One it may not chmod (another
  // user's) is left as it is: writing into it fails then, naming the file.
  Result<std::optional<uint32_t>> MakeWritable(const io::Dir& dir) {
    if (options_.restore_owner) return std::nullopt;  // root
    VELIN_ASSIGN(io::FileInfo info, env_.StatAt(dir, "."));
    if ((info.mode & 0300) == 0300) return std::nullopt;
    io::Attributes a;
    a.mode = info.mode | 0300;
    a.set_mtime = false;
    if (Status st = env_.SetDirAttributes(dir, a); !st) {
      if (st.error().sys_errno == EPERM) return std::nullopt;
      return tl::unexpected(st.error());
    }
    return info.mode;
  }

  // The directory `name` in `parent`, not following a symlink there. One its owner may not
  // read or enter (0300, 0000: as a first restore leaves a backup's directory of that mode)
  // cannot even be opened to be made writable (MakeWritable): without root, when velin's user
  // owns it, it is given u+rwx by name first (fchmodat, never following a symlink) and opened
  // again, and `widened` is the mode it had, for the caller to set back (or the backup's is set
  // at the end). One of another user stays as it is: the open's error is returned.
  Result<io::DirPtr> OpenDirOwned(const io::Dir& parent, const std::string& name,
                                  std::optional<uint32_t>& widened) {
    auto opened = env_.OpenDirAt(parent, name, false);
    if (opened || opened.error().sys_errno != EACCES || options_.restore_owner) return opened;
    auto info = env_.StatAt(parent, name);
    if (!info || info->type != io::FileType::kDirectory || (info->mode & 0700) == 0700) {
      return opened;
    }
    io::Attributes a;
    a.mode = info->mode | 0700;
    a.set_mtime = false;
    if (!env_.SetAttributesAt(parent, name, a)) return opened;  // EPERM: not ours
    widened = info->mode;
    auto reopened = env_.OpenDirAt(parent, name, false);
    if (!reopened) {
      a.mode = info->mode;  // as it was: nothing of this restore is in it
      (void)env_.SetAttributesAt(parent, name, a);
      widened.reset();
    }
    return reopened;
  }

  // MakeWritable for a directory above the backed-up path (no mode of it in the backup): the
  // finisher gives it back the mode it had once the restore's last file in it is in.
  Status KeepWritable(DirState& d) {
    VELIN_ASSIGN(d.found_mode, MakeWritable(*d.dir));
    if (d.found_mode) finisher_.Adopt(d);
    return Ok();
  }

  // The directory `name` of the backup in `parent` (at `rel`): a real directory, anything else
  // there (file, symlink) removed, not followed — except a symlink the backup followed. Null
  // when the target does not take the name (counted as refused: its tree is left out). For a
  // directory that was there (or behind a followed link), `found` is set: the mode it had when
  // this restore made it writable (MakeWritable), else none.
  Result<io::DirPtr> OpenRealDir(const io::Dir& parent, const std::string& name,
                                 const std::string& rel,
                                 std::optional<std::optional<uint32_t>>& found) {
    std::optional<uint32_t> widened;
    auto opened = OpenDirOwned(parent, name, widened);
    if (opened) {
      // The backup's mode is set at the end (DirFinisher).
      if (!widened) {
        VELIN_ASSIGN(widened, MakeWritable(**opened));
      }
      found = widened;
      RemoveDeadTemps(**opened);
      return opened;
    }
    if (IsNotDirError(opened.error())) {
      VELIN_ASSIGN(io::DirPtr followed, FollowRecorded(parent, name, rel));
      if (followed) {
        VELIN_ASSIGN(found, MakeWritable(*followed));
        return followed;
      }
      if (options_.in_place && links_ && links_->count(rel)) {
        return Failure(
            TrFormat("refusing to replace the symlink {}: the backup followed it to '{}' and it "
                     "now points elsewhere; fix the link or restore with --target",
                     Abs(rel), links_->at(rel)));
      }
      VELIN_TRY(env_.RemoveAt(parent, name, false));
    } else if (opened.error().sys_errno != ENOENT) {
      return tl::unexpected(opened.error());
    }
    if (Status made = env_.CreateDirAt(parent, name, 0700); !made) {
      if (!NameRefused(made.error().sys_errno)) return tl::unexpected(made.error());
      finisher_.RecordRefused(DirFinisher::Refusal::kName, Abs(rel), made.error().sys_errno);
      return io::DirPtr();
    }
    return env_.OpenDirAt(parent, name, false);
  }

  // A restore killed while it wrote into this target left its temp files
  // (".velin-restore-PID-TAG-N-name", TempName) where it was writing; a later restore removes
  // those of writers that are gone as it enters each existing directory (once), so nothing of
  // the killed run stays. Only a name of exactly that shape (RestoreTempWriter) whose writer is
  // of this process space and no longer runs (io::IsDeadWriter) goes: a running restore's, one
  // of another host or container writing the same target (NFS), one from before a reboot and a
  // user's file that merely looks alike stay. So do the names of velins before 2026-12-07
  // (".velin-restore-PID-N-name"): with no tag they cannot be told from another host's live
  // restore, nor from a user's file (docs/operations.md, "What a killed run leaves").
  void RemoveDeadTemps(const io::Dir& dir) {
    if (!swept_.insert(dir.path()).second) return;
    auto entries = env_.ListDir(dir.path());
    if (!entries) return;
    for (const io::DirEntry& e : *entries) {
      if (e.type == io::FileType::kDirectory) continue;
      const std::optional<io::TempWriter> writer = RestoreTempWriter(e.name);
      if (!writer || !io::IsDeadWriter(env_, *writer)) continue;
      (void)env_.RemoveAt(dir, e.name, false);
    }
  }

  // The name's part is only a hint for whoever finds the temp: cut to 100 bytes and kept to
  // characters every file system takes, so that a name the target refuses fails at its rename
  // (NameOrRefused), not at the temp's creation.
  std::string TempName(const std::string& name) {
    std::string hint = name.substr(0, 100);
    for (char& c : hint) {
      const bool portable = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      if (!portable) c = '_';
    }
    return temp_prefix_ + std::to_string(temp_counter_++) + "-" + hint;
  }

  // Hands the file to the pool; it is in place after the next pool_.Wait().
  Status WriteFile(const DirStatePtr& dir, const Node& node) {
    auto submitted = pool_.Submit({dir, TempName(node.name), node.name, node});
    if (!submitted) {
      pool_failed_ = true;  // the error names the file it happened to: not to be wrapped again
      return submitted;
    }
    reporter_.UpdateProgress(pool_.bytes(), stats.files);
    return Ok();
  }

  // A hardlink `node` (at `path`) to the file of this restore at `existing` (relative to the
  // target): that file must be in place first. Its directory is reached again by descriptors
  // from the target. A target that refuses the link gets the file's content once more.
  Status LinkTo(const std::string& existing, const DirStatePtr& dir, const Node& node,
                const std::string& path) {
    if (auto written = pool_.Wait(); !written) {
      pool_failed_ = true;
      return written;
    }
    const auto left_out = finisher_.LeftOut(Abs(existing));
    if (left_out == DirFinisher::Refusal::kTooLarge) {
      // Its file was too large for the target and is left out: so is this name of it.
      finisher_.RecordRefused(DirFinisher::Refusal::kTooLarge, Abs(path), EFBIG);
      return Ok();
    }
    if (left_out == DirFinisher::Refusal::kName) {
      // Its first name was refused (a directory stands there, a name the target does not
      // take), which the restore reports: nothing to link to, and nothing to say of the
      // target's hardlinks. This name gets the file's content (whatever is at the first name
      // now is not the backup's file).
      VELIN_ASSIGN(bool copied, WriteLinkCopy(dir, node));
      if (copied) return Ok();
      return DamageError(
          TrFormat("hardlink {} points to '{}', not a file", Abs(path), node.target));
    }
    std::string from_dir = io::Dirname(existing);
    VELIN_ASSIGN(DirStatePtr from, WalkTo(from_dir == "." ? "" : from_dir, false));
    std::string tmp = TempName(node.name);
    Status linked = env_.HardLinkAt(*from->dir, io::Basename(existing), *dir->dir, tmp);
    if (!linked) {
      (void)env_.RemoveAt(*dir->dir, tmp, false);  // a file system may leave something there
      const int err = linked.error().sys_errno;
      if (!TargetCannotHold(err) && err != EMLINK) return linked;
      VELIN_ASSIGN(bool copied, WriteLinkCopy(dir, node));
      if (!copied) return linked;
      if (stats.hardlinks_copied++ == 0) {
        first_copied_ =
            TrFormat("{} to {}: {}", Abs(path), Abs(existing), std::string(Tr(std::strerror(err))));
      }
      return Ok();
    }
    stats.hardlinks++;
    return NameOrRefused(env_.RenameAt(*dir->dir, tmp, *dir->dir, node.name), dir, tmp, path);
  }

  // The hardlink `node`'s file (its group's first link in the source) written once more, as a
  // file of its own under node's name; false when the source has no such file.
  Result<bool> WriteLinkCopy(const DirStatePtr& dir, const Node& node) {
    const Node* primary = FindInSource(node.target);
    if (!primary || primary->type != NodeType::kFile) return false;
    Node copy = *primary;
    copy.name = node.name;
    VELIN_TRY(WriteFile(dir, copy));
    stats.files++;
    return true;
  }

  // A failure to give an entry its name: when the target does not take the name (it is not
  // valid there), the entry is counted as refused (RecordRefused) and its temporary name
  // removed, and the restore goes on; any other failure is returned.
  Status NameOrRefused(Status st, const DirStatePtr& dir, const std::string& tmp,
                       const std::string& path) {
    if (st) return st;
    (void)env_.RemoveAt(*dir->dir, tmp, false);
    if (!NameRefused(st.error().sys_errno)) return st;
    finisher_.RecordRefused(DirFinisher::Refusal::kName, Abs(path), st.error().sys_errno);
    return Ok();
  }

  // The node at `rel` (relative to the source's top tree), for hardlink targets.
  const Node* FindInSource(const std::string& rel) {
    auto parts = SplitRelative(rel);
    const Tree* tree = source_top_;
    for (size_t i = 0; i < parts.size() && tree; ++i) {
      const Node* found = nullptr;
      for (const auto& n : tree->nodes) {
        if (n.name == parts[i]) found = &n;
      }
      if (!found || i + 1 == parts.size()) return found;
      if (found->type != NodeType::kDir) return nullptr;
      auto sub = repo_.ReadTree(found->subtree);
      if (!sub) return nullptr;
      tree = &trees_.emplace_back(std::move(*sub));
    }
    return nullptr;
  }

  Status RestoreHardlink(const DirStatePtr& dir, const std::string& path, const Node& node) {
    std::string first = io::JoinPath(source_dir_, node.target);
    if (SplitRelative(node.target).empty()) {
      return DamageError(
          TrFormat("hardlink {} names an invalid path '{}'", Abs(path), node.target));
    }
    if (restored_files_.count(first)) return LinkTo(first, dir, node, path);
    // The first link is not part of this restore (--only): restore the content here.
    const Node* primary = FindInSource(node.target);
    if (!primary || primary->type != NodeType::kFile) {
      return DamageError(
          TrFormat("hardlink {} points to '{}', not a file", Abs(path), node.target));
    }
    Node copy = *primary;
    copy.name = node.name;
    VELIN_TRY(WriteFile(dir, copy));
    restored_files_.insert(first);  // later links of the group link to this one
    restored_alias_[first] = path;
    stats.files++;
    return Ok();
  }

  // Gives the entry `tmp` of `dir` the attributes `a` by name, without following it, and
  // renames it to `name` (at `path`); on failure `tmp` is removed. A name the target does not
  // take is counted as refused (NameOrRefused).
  Status SettleAt(const DirStatePtr& dir, const std::string& tmp, const io::Attributes& a,
                  const std::string& name, const std::string& path) {
    Status st = env_.SetAttributesAt(*dir->dir, tmp, a);
    if (!st) {
      (void)env_.RemoveAt(*dir->dir, tmp, false);
      return st;
    }
    return NameOrRefused(env_.RenameAt(*dir->dir, tmp, *dir->dir, name), dir, tmp, path);
  }

  // A fifo or device node: made under a temporary name (mknodat), given owner, mode and mtime
  // by name without following (velin never opens one: opening a device can act on it), and
  // renamed into place. A device node needs root: without, it is skipped with a warning.
  Status RestoreSpecial(const DirStatePtr& dir, const std::string& path, const Node& node) {
    const io::SpecialKind kind = node.type == NodeType::kFifo ? io::SpecialKind::kFifo
                                 : node.type == NodeType::kCharDevice
                                     ? io::SpecialKind::kCharDevice
                                     : io::SpecialKind::kBlockDevice;
    std::string tmp = TempName(node.name);
    Status made = env_.MakeNodeAt(*dir->dir, tmp, kind, 0600, node.rdev);
    if (!made) {
      // exfat-fuse, asked for a fifo, makes a plain file and says EIO: nothing stays behind.
      (void)env_.RemoveAt(*dir->dir, tmp, false);
      if (kind != io::SpecialKind::kFifo && made.error().sys_errno == EPERM) {
        reporter_.Warn(
            TrFormat("skipped the device node {}: creating device nodes needs root", Abs(path)));
        stats.specials_skipped++;
        return Ok();
      }
      if (kind == io::SpecialKind::kFifo && TargetCannotHold(made.error().sys_errno)) {
        finisher_.RecordRefused(DirFinisher::Refusal::kFifo, Abs(path), made.error().sys_errno);
        return Ok();
      }
      return made;
    }
    VELIN_TRY(SettleAt(dir, tmp, AttributesOf(node, options_.restore_owner), node.name, path));
    stats.specials++;
    return Ok();
  }

  // `dir` is target/`dir_rel`, open.
  Status RestoreNode(const DirStatePtr& dir, const std::string& dir_rel, const Node& node,
                     const std::string& rel_src) {
    VELIN_TRY(CheckInterrupted());  // a restore asked to stop (core/termination.hpp): per node
    std::string path = io::JoinPath(dir_rel, node.name);                // relative to the target
    if (!filter_.Keep(path, node.type == NodeType::kDir)) return Ok();  // --include/--exclude
    // A copy of the live SQLite database's own files (RestoreOptions::database_files).
    if ((node.type == NodeType::kFile || node.type == NodeType::kHardlink) &&
        options_.database_files.contains(path)) {
      stats.database_files.push_back(path);
      if (options_.leave_out_database_files && !options_.kept_database_files.contains(path)) {
        return Ok();
      }
    }
    if (options_.restore_owner) NoteOwner(node, path);
    switch (node.type) {
      case NodeType::kFile:
        VELIN_TRY(WriteFile(dir, node));
        restored_files_.insert(io::JoinPath(source_dir_, rel_src));
        stats.files++;
        if (SetIdBitsLeftOut(node, options_.restore_owner) != 0 && stats.setid_left_out++ == 0) {
          first_setid_left_out_ = Abs(path);
        }
        return Ok();
      case NodeType::kHardlink: {
        Node link = node;
        link.target = repo::HardlinkTargetPath(node.target, source_top_->nodes[0].name);
        auto alias = restored_alias_.find(io::JoinPath(source_dir_, link.target));
        if (alias != restored_alias_.end()) return LinkTo(alias->second, dir, link, path);
        return RestoreHardlink(dir, path, link);
      }
      case NodeType::kSymlink: {
        if (followed_elsewhere_ && followed_elsewhere_->count(path)) {
          // An inner include followed this link (`storage/uploads` of the includes `storage` and
          // `storage/uploads`): that include restores what was behind it — in place behind the
          // link, left as it is, elsewhere as a directory in its place. Written here, the link
          // would be one this restore made, which the inner include must not follow, or
          // replaced by its directory at once.
          return Ok();
        }
        std::string tmp = TempName(node.name);
        if (Status made = env_.SymlinkAt(node.target, *dir->dir, tmp); !made) {
          (void)env_.RemoveAt(*dir->dir, tmp, false);  // a file system may leave something
          if (!TargetCannotHold(made.error().sys_errno)) return made;
          finisher_.RecordRefused(DirFinisher::Refusal::kSymlink, Abs(path) + " -> " + node.target,
                                  made.error().sys_errno);
          return Ok();
        }
        io::Attributes a = AttributesOf(node, options_.restore_owner);
        a.set_mode = false;  // a symlink has no mode of its own
        VELIN_TRY(SettleAt(dir, tmp, a, node.name, path));
        created_symlinks_.insert(path);
        stats.symlinks++;
        return Ok();
      }
      case NodeType::kFifo:
      case NodeType::kCharDevice:
      case NodeType::kBlockDevice:
        return RestoreSpecial(dir, path, node);
      case NodeType::kDir:
        break;
    }
    VELIN_TRY(StackRoomBelow(Abs(path)));  // velin/core/stack.hpp
    auto state = std::make_shared<DirState>();
    std::optional<std::optional<uint32_t>> found;  // set: the directory was there
    VELIN_ASSIGN(state->dir, OpenRealDir(*dir->dir, node.name, path, found));
    if (!state->dir) return Ok();  // the target does not take its name: refused, left out
    VELIN_TRY(NoteFileSystem(state->dir));
    if (found && !filter_.Whole(path)) {
      // Only the way to something --include'd below it: the directory found keeps its owner,
      // mode and extended attributes, as one above --only does (docs/cli.md). One made here
      // gets the backup's, as every directory of the backup that a restore makes.
      state->found_mode = *found;
    } else {
      state->meta = node;
      state->meta->content.clear();
    }
    state->parent = dir;
    finisher_.Adopt(*state);
    walk_.push_back({state, 0});
    WalkLevel level{walk_};  // after `state`: leaves walk_ before `state` lets go
    walk_.back().walk_holds = state.use_count();
    VELIN_TRY(CloseFarDirs());
    auto tree = repo_.ReadTree(node.subtree);
    if (!tree) {
      finisher_.Fail(tree.error());
      return tl::unexpected(tree.error());
    }
    for (const auto& child : tree->nodes) {
      auto st = RestoreNode(state, path, child, rel_src + "/" + child.name);
      if (st) st = Reopen(*state);          // the walk is back in it: closed while it was far below
      if (!st) finisher_.Fail(st.error());  // before `state` lets go: no chmod after a failure
      if (!st && pool_failed_) return st;
      if (!st) {
        return tl::unexpected(st.error().WrapPath(NoTr(Abs(io::JoinPath(path, child.name)))));
      }
    }
    stats.dirs++;
    return Ok();
  }

  // A tree nested deeper than the open-file limit (1,500 levels under the usual 1,024) could
  // be backed up but not restored ("Too many open files"): the walk held every directory it
  // was in open. Past kOpenLevels levels it closes those it is kOpenLevels or more below, but
  // one in every kOpenLevels, while nothing but the walk holds them (no file of theirs waits
  // for a worker), and opens each again on its way back up, once the files handed to the
  // workers are in: by name in its parent, never following a symlink, and only when it is
  // still the directory the restore made (device and inode; else the restore fails naming
  // it). Open at most: about 2 × kOpenLevels + depth / kOpenLevels (~270 at the ~9,000 levels
  // the stack allows). Trees up to kOpenLevels deep (nearly all) are walked as before.
  static constexpr size_t kOpenLevels = 64;
  struct WalkEntry {
    DirStatePtr dir;
    long walk_holds;  // its use_count() as the walk alone holds it (RestoreNode's and this)
  };
  std::vector<WalkEntry> walk_;  // the directories RestoreNode is in, outermost first
  // Pops walk_ when RestoreNode leaves a directory.
  struct WalkLevel {
    std::vector<WalkEntry>& walk;
    ~WalkLevel() { walk.pop_back(); }
  };

  // RestoreNode entered the last directory of walk_: the one kOpenLevels above it is closed if
  // nothing but the walk holds it.
  Status CloseFarDirs() {
    if (walk_.size() <= kOpenLevels) return Ok();
    const size_t i = walk_.size() - 1 - kOpenLevels;
    WalkEntry& far = walk_[i];
    DirState& d = *far.dir;
    if (d.closed) return Ok();  // since an earlier visit, deeper: the walk has not been back
    // The one below it may be closed next: then it must be found again by its name in this
    // one (not through a symlink the backup followed), and be this very directory.
    DirState& next = *walk_[i + 1].dir;
    if (!next.closed && !next.reopen_as) {
      VELIN_ASSIGN(io::FileInfo self, env_.StatAt(*next.dir, "."));
      auto named = env_.StatAt(*d.dir, next.meta->name);
      if (named && io::SameFile(*named, self, env_.StableInodes(*next.dir))) {
        next.reopen_as = self;
      }
    }
    // Held by the walk and the directory below it it is in: no file of it waits for a worker
    // (only the walk adds one, and it is not there).
    if (i % kOpenLevels != 0 && d.reopen_as && far.dir.use_count() == far.walk_holds + 1) {
      // The workers' last uses of it happened before they let go of their files' holds.
      std::atomic_thread_fence(std::memory_order_acquire);
      d.dir.reset();
      d.closed = true;
      finisher_.Closed();
    }
    return Ok();
  }

  // Opens `d` again if CloseFarDirs closed it, when the walk is back in it. The files handed
  // to the workers so far are written first: each holds its directory and, through it, every
  // directory above it, which once opened again would stay open until that file is in (one
  // file 1,500 levels down held them all).
  Status Reopen(DirState& d) {
    if (!d.closed) return Ok();
    if (Status written = pool_.Wait(); !written) {
      pool_failed_ = true;  // the error names the file it happened to
      return written;
    }
    return ReopenWithParents(d);
  }

  // Opens `d` again, and its parents that are closed first (at most kOpenLevels - 1 of them):
  // by name, never through a symlink, and only as the directory it was.
  Status ReopenWithParents(DirState& d) {
    if (!d.closed) return Ok();
    VELIN_TRY(ReopenWithParents(*d.parent));
    VELIN_ASSIGN(io::DirPtr dir, env_.OpenDirAt(*d.parent->dir, d.meta->name, false));
    VELIN_ASSIGN(io::FileInfo now, env_.StatAt(*dir, "."));
    if (!io::SameFile(*d.reopen_as, now, env_.StableInodes(*dir))) {
      return Failure(TrFormat(
          "{} was replaced while the restore was in it: not restoring into what is there now",
          dir->path()));
    }
    d.dir = std::move(dir);
    d.closed = false;
    finisher_.Reopened();
    return Ok();
  }

  repo::Repository& repo_;
  io::Env& env_;
  Reporter& reporter_;
  const RestoreOptions& options_;
  const PathFilter& filter_;
  io::DirPtr root_;
  const Tree* source_top_ = nullptr;
  std::string source_dir_;  // the source's directory, relative to the target
  const std::map<std::string, std::string>* links_ = nullptr;
  const std::map<std::string, std::string>* links_resolved_ = nullptr;
  const std::set<std::string>* followed_elsewhere_ = nullptr;  // RestoreAt
  std::set<std::string> created_symlinks_;                     // relative to the target
  std::set<std::string> restored_files_;
  std::map<std::string, std::string> restored_alias_;
  std::deque<Tree> trees_;
  // Names the temps: the pid and process-space tag let a later restore tell a dead run's temps
  // (RemoveDeadTemps).
  const std::string temp_prefix_ =
      std::string(kRestoreTempPrefix) + io::WriterMark(env_, '-') + "-";
  uint64_t temp_counter_ = 0;
  std::set<std::string> swept_;  // directories RemoveDeadTemps has been through
  bool pool_failed_ = false;
  std::string first_copied_;          // the first hardlink the target refused (FirstCopiedHardlink)
  std::string first_setid_left_out_;  // FirstSetIdLeftOut
  std::map<uint32_t, bool> uids_, gids_;  // NoteOwner: whether this machine knows each
  std::string first_unknown_owner_;       // FirstUnknownOwner
  std::mutex file_systems_mu_;
  std::map<uint64_t, io::DirPtr> file_systems_;  // by device: FileSystems
  DirFinisher finisher_;
  FileWriterPool pool_;  // last: its workers stop before the members they use go
};

// Where --only points inside a source: the node and its directory relative to app.root.
struct Selection {
  Node node;
  std::string dir_rel;  // its directory, relative to the target
  std::string rel_src;  // its path from the source's top tree
};

Result<std::optional<Selection>> Select(repo::Repository& repo, const repo::SnapshotSource& src,
                                        const Tree& top, const std::string& only) {
  const std::string src_dir = io::Dirname(src.name) == "." ? "" : io::Dirname(src.name);
  if (only.empty() || only == src.name || src.name.rfind(only + "/", 0) == 0) {
    return Selection{top.nodes[0], src_dir, top.nodes[0].name};
  }
  if (only.rfind(src.name + "/", 0) != 0) return std::optional<Selection>();
  auto parts = SplitRelative(only.substr(src.name.size() + 1));
  if (parts.empty()) return UsageError(TrFormat("--only '{}' is not a valid path", only));
  Node current = top.nodes[0];
  for (size_t i = 0; i < parts.size(); ++i) {
    if (current.type != NodeType::kDir) return std::optional<Selection>();
    VELIN_ASSIGN(Tree tree, repo.ReadTree(current.subtree));
    bool found = false;
    for (auto& n : tree.nodes) {
      if (n.name == parts[i]) {
        current = std::move(n);
        found = true;
        break;
      }
    }
    if (!found) return std::optional<Selection>();
  }
  std::string rel_src = src_dir.empty() ? only : only.substr(src_dir.size() + 1);
  return Selection{current, io::Dirname(only) == "." ? "" : io::Dirname(only), rel_src};
}

// What a source contributes to a restore (--only): its top tree and the selection in it.
struct Part {
  const repo::SnapshotSource* src;
  Tree top;
  Selection selection;
};

// Whether restoring `outer` (an earlier part) restored all that `inner` would: `inner`'s include
// lies inside `outer`'s ("a/sub" in "a"), and the walk of `outer` took `inner`'s path as what
// `inner` took (a directory as a directory, a file as a file or a hard link) rather than, say,
// as the symlink the inner include followed. Then `inner` holds the same entries a second time,
// read a moment later; `outer` also knows their hard links to the rest of it, which a second
// write of a link's name as a file of its own would break. A tree that cannot be read: not
// covered (restoring `outer` read the same trees).
bool Covers(repo::Repository& repo, const Part& outer, const Part& inner) {
  if (!inner.src->name.starts_with(outer.src->name + "/")) return false;
  const std::string outer_at = io::JoinPath(outer.selection.dir_rel, outer.selection.node.name);
  const std::string inner_at = io::JoinPath(inner.selection.dir_rel, inner.selection.node.name);
  if (inner_at != outer_at && !inner_at.starts_with(outer_at + "/")) return false;
  Node current = outer.selection.node;
  for (const std::string& part :
       SplitRelative(inner_at == outer_at ? "" : inner_at.substr(outer_at.size() + 1))) {
    if (current.type != NodeType::kDir) return false;
    auto tree = repo.ReadTree(current.subtree);
    if (!tree) return false;
    auto it = std::find_if(tree->nodes.begin(), tree->nodes.end(),
                           [&](const Node& n) { return n.name == part; });
    if (it == tree->nodes.end()) return false;
    current = std::move(*it);
  }
  const auto file = [](NodeType t) { return t == NodeType::kFile || t == NodeType::kHardlink; };
  const NodeType kind = inner.selection.node.type;
  return current.type == kind || (file(current.type) && file(kind));
}

// syncfs of each of `dirs`' file systems, all of them also after one fails; the first error.
Status SyncFileSystems(io::Env& env, const std::vector<io::DirPtr>& dirs) {
  Status first = Ok();
  for (const io::DirPtr& dir : dirs) {
    Status st = env.SyncFileSystem(*dir);
    if (!st && first) first = st;
  }
  return first;
}

// While a restore writes files through the page cache (those below io::kDirectWriteMin), a
// thread starts their writeback every kInterval once kMinBytes more went in, so the final
// syncfs finds little left. Without it, 300,000 small files were made with both cores busy and
// then flushed for 2.7 s by the kernel's writeback thread with a core and a half busy
// (block allocation, one thread); with it the two overlap (bench/README.md). Large files go
// around the cache (O_DIRECT) and start no flush. Each flush syncs every file system the
// restore wrote into so far (`dirs`: Restorer::FileSystems). Stop() before the final flush.
class BackgroundFlush {
 public:
  BackgroundFlush(io::Env& env, std::function<std::vector<io::DirPtr>()> dirs,
                  std::function<uint64_t()> written)
      : env_(env), dirs_(std::move(dirs)), written_(std::move(written)) {
    // Without a thread to spare (ulimit -u) the final flush does it all.
    auto t = StartThread([this] { Loop(); },
                         [this](const Error& e) {
                           std::lock_guard lock(mu_);
                           if (!error_) error_ = e;
                         });
    if (t) thread_ = std::move(*t);
  }
  ~BackgroundFlush() { (void)Stop(); }
  BackgroundFlush(const BackgroundFlush&) = delete;
  BackgroundFlush& operator=(const BackgroundFlush&) = delete;

  // Waits for a flush under way; the first error a flush met.
  Status Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (error_) return tl::unexpected(*error_);
    return Ok();
  }

 private:
  static constexpr auto kInterval = std::chrono::milliseconds(250);
  static constexpr uint64_t kMinBytes = 8 << 20;

  void Loop() {
    uint64_t flushed = 0;
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, kInterval, [&] { return stop_; })) {
      const uint64_t now = written_();
      if (now - flushed < kMinBytes) continue;
      flushed = now;
      lock.unlock();
      Status st = SyncFileSystems(env_, dirs_());
      lock.lock();
      if (!st && !error_) error_ = st.error();
    }
  }

  io::Env& env_;
  std::function<std::vector<io::DirPtr>()> dirs_;
  std::function<uint64_t()> written_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::optional<Error> error_;
  std::thread thread_;
};

}  // namespace

Result<RestoreStats> RestoreSnapshot(repo::Repository& repo, const repo::Snapshot& snapshot,
                                     io::Env& env, Reporter& reporter,
                                     const RestoreOptions& options) {
  std::string only = options.only;
  while (only.size() > 1 && only.back() == '/') only.pop_back();
  VELIN_TRY(PathFilter::Check(options.include, "--include"));
  VELIN_TRY(PathFilter::Check(options.exclude, "--exclude"));
  PathFilter filter(options);
  // A whole restore takes every tree; one filtered would have the skipped ones read in vain.
  std::optional<repo::Repository::DeeperTreeReads> deeper;
  if (only.empty() && options.include.empty() && options.exclude.empty()) deeper.emplace(repo);
  // What each source contributes (--only), checked before anything is written.
  std::vector<Part> parts;
  for (const auto& src : snapshot.sources) {
    if (src.kind != repo::SourceKind::kPath) continue;
    if (SplitRelative(src.name).empty()) {
      return DamageError(TrFormat("backup {} names an invalid path '{}'", snapshot.id, src.name));
    }
    for (const auto& [link, text] : src.links) {
      (void)text;
      if (link != src.name && src.name.rfind(link + "/", 0) != 0) {
        return DamageError(TrFormat("backup {}: source '{}' records a link '{}' off its path",
                                    snapshot.id, src.name, link));
      }
    }
    VELIN_ASSIGN(Tree top, repo.ReadTree(src.tree));
    if (top.nodes.size() != 1 || top.nodes[0].name != io::Basename(src.name)) {
      return DamageError(TrFormat("backup {}: source '{}' has a bad root", snapshot.id, src.name));
    }
    VELIN_ASSIGN(auto selection, Select(repo, src, top, only));
    if (!selection) continue;
    parts.push_back(Part{&src, std::move(top), std::move(*selection)});
  }
  if (parts.empty() && only.empty()) {
    return UsageError(TrFormat("backup {} holds no files to restore", snapshot.id));
  }
  if (parts.empty()) {
    return UsageError(TrFormat("backup {} has no path '{}'", snapshot.id, options.only));
  }
  if (filter.includes()) {
    for (const Part& part : parts) {
      VELIN_TRY(filter.Scan(repo, part.selection.node,
                            io::JoinPath(part.selection.dir_rel, part.selection.node.name), false));
    }
    if (auto unmatched = filter.Unmatched(); !unmatched.empty()) {
      return UsageError(TrFormat(
          "--include '{}' matches nothing in backup {}{}; nothing was restored", unmatched[0],
          snapshot.id, only.empty() ? std::string() : TrFormat(" under '{}'", only)));
    }
  }
  VELIN_TRY(CreateDirs(env, options.target));
  VELIN_ASSIGN(io::DirPtr root, env.OpenDir(options.target));
  Restorer restorer(repo, env, reporter, options, root, filter);
  BackgroundFlush flush(
      env, [&] { return restorer.FileSystems(); }, [&] { return restorer.cached_bytes(); });
  reporter.StartProgress(Tr("Restoring"), snapshot.stats.bytes);
  // Overlapping includes ("a" and "a/sub"): the outer one first, whatever their order in
  // backup.include, and the inner one not again where the outer one covers it (Covers).
  std::stable_sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) {
    return std::count(a.src->name.begin(), a.src->name.end(), '/') <
           std::count(b.src->name.begin(), b.src->name.end(), '/');
  });
  std::vector<const Part*> restored;
  for (const Part& part : parts) {
    // A source that contributes nothing (all of it excluded, or no include below it) leaves no
    // directory behind.
    const std::string at = io::JoinPath(part.selection.dir_rel, part.selection.node.name);
    if (filter.active() && !filter.Keep(at, part.selection.node.type == NodeType::kDir)) continue;
    if (std::any_of(restored.begin(), restored.end(),
                    [&](const Part* outer) { return Covers(repo, *outer, part); })) {
      continue;
    }
    restored.push_back(&part);
  }
  for (const Part* part : restored) {
    const repo::SnapshotSource& src = *part->src;
    // A symlink another include followed is restored by that include, not as this one's link.
    std::set<std::string> followed_elsewhere;
    for (const Part* other : restored) {
      if (other == part) continue;
      for (const auto& link : other->src->links) followed_elsewhere.insert(link.first);
    }
    std::string src_dir = io::Dirname(src.name) == "." ? "" : io::Dirname(src.name);
    auto st = restorer.RestoreAt(src, part->selection.dir_rel, part->selection.node,
                                 part->selection.rel_src, part->top, src_dir, followed_elsewhere);
    if (!st) {
      reporter.EndProgress();
      return tl::unexpected(st.error());
    }
  }
  reporter.UpdateProgress(restorer.stats.bytes, restorer.stats.files);  // the final figures
  reporter.FinishProgress();
  // One flush of each file system the restore wrote into (the target's, and a mount inside it)
  // for the whole restore instead of an fsync per file; an error a background one met first
  // (syncfs reports it once per descriptor) fails it too.
  Status background = flush.Stop();
  std::vector<io::DirPtr> file_systems = restorer.FileSystems();
  if (file_systems.empty()) file_systems.push_back(root);
  VELIN_TRY(SyncFileSystems(env, file_systems));
  VELIN_TRY(background);
  RestoreStats stats = restorer.stats;
  restorer.CopyRefusedInto(stats);
  if (stats.hardlinks_copied == 1) {
    reporter.Warn(
        TrFormat("the target refused a hardlink ({}); its file is restored as a "
                 "separate copy",
                 restorer.FirstCopiedHardlink()));
  } else if (stats.hardlinks_copied > 1) {
    reporter.Warn(
        TrFormat("the target refused {} hardlinks (e.g. {}); their files are restored "
                 "as separate copies",
                 stats.hardlinks_copied, restorer.FirstCopiedHardlink()));
  }
  if (stats.setid_left_out == 1) {
    reporter.Warn(TrFormat(
        "a file is restored without its setuid or setgid bit ({}): without root a restore cannot "
        "give it the backup's owner or group, and the bit would let it run as you; restore as "
        "root to keep it",
        restorer.FirstSetIdLeftOut()));
  } else if (stats.setid_left_out > 1) {
    reporter.Warn(TrFormat(
        "{} files are restored without their setuid or setgid bit (e.g. {}): without root a "
        "restore cannot give them the backup's owner or group, and the bit would let them run as "
        "you; restore as root to keep it",
        stats.setid_left_out, restorer.FirstSetIdLeftOut()));
  }
  if (stats.owners_unknown > 0) {
    // Restored as the backup has them (numeric, docs/cli.md), which on a new machine may be
    // nobody's: the application's user cannot write its own files.
    reporter.Warn(TrCount(
        stats.owners_unknown,
        "{} file or directory is restored with an owner this machine has no user or group "
        "for ({}; e.g. {}): a backup keeps numeric owners; give it to the application's user "
        "(chown -R USER:GROUP …)",
        "{} files and directories are restored with an owner this machine has no user or group "
        "for ({}; e.g. {}): a backup keeps numeric owners; give them to the application's user "
        "(chown -R USER:GROUP …)",
        stats.owners_unknown, restorer.UnknownOwners(), restorer.FirstUnknownOwner()));
  }
  auto [refused, first] = restorer.RefusedXattrs();
  stats.xattrs_refused = refused;
  if (refused > 0) {
    // Like an owner a restore without root cannot give: the files are complete and in place,
    // so the restore succeeds; the warning says what is missing (docs/cli.md).
    reporter.Warn(TrFormat(
        "the target refused {} extended attributes (e.g. {}); the files are restored without them",
        refused, first));
  }
  return stats;
}

Status RefusedEntriesError(const RestoreStats& stats) {
  const uint64_t total =
      stats.symlinks_refused + stats.specials_refused + stats.names_refused + stats.files_too_large;
  if (total == 0) return Ok();
  std::string what;
  const auto count = [&what](uint64_t n, std::string_view one, std::string_view many) {
    if (n == 0) return;
    if (!what.empty()) what += Tr(" and ");
    what += n == 1 ? std::string(Tr(one)) : TrFormat(many, n);
  };
  count(stats.symlinks_refused, "1 symlink", "{} symlinks");
  count(stats.specials_refused, "1 fifo", "{} fifos");
  count(stats.names_refused, "1 name", "{} names");
  count(stats.files_too_large, "1 file too large for it", "{} files too large for it");
  if (total == 1) {
    return Failure(TrFormat("the target refused {} ({}); everything else is restored", what,
                            stats.first_refused));
  }
  return Failure(TrFormat("the target refused {} (e.g. {}); everything else is restored", what,
                          stats.first_refused));
}

}  // namespace velin::backup
