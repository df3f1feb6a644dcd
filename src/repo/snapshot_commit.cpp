#include "velin/repo/snapshot_commit.hpp"

#include <algorithm>
#include <chrono>

#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/repo/lock.hpp"

namespace velin::repo {
namespace {

// The suffix n of an id "base-n" of `base`; 1 for `base` itself; 0 for an id of another base.
uint64_t SuffixOf(const std::string& id, const std::string& base) {
  const auto [id_base, n] = SplitSuffix(id);
  return id_base == base ? n : 0;
}

// For lock tests only: with VELIN_TEST_PAUSE_AT=<step> and VELIN_TEST_PAUSE_DIR=<dir>, the run
// creates <dir>/reached here and waits until <dir>/go exists, so a test can remove its lock (and
// prune) at a moment it knows, whatever the refresh interval.
void PausePoint(io::Env& env, const char* step) {
  if (env.GetEnv("VELIN_TEST_PAUSE_AT") != step) return;
  const std::string dir = env.GetEnv("VELIN_TEST_PAUSE_DIR").value_or("");
  if (dir.empty()) return;
  if (auto reached = env.NewWritableFile(dir + "/reached", io::WriteOptions{}); reached) {
    (void)(*reached)->Close();
  }
  for (;;) {
    auto go = env.Exists(dir + "/go");
    if (!go || *go) return;
    env.SleepFor(std::chrono::milliseconds(10));
  }
}

uint64_t NextSuffix(const std::vector<std::string>& ids, const std::string& base) {
  uint64_t greatest = 0;
  for (const auto& id : ids) greatest = std::max(greatest, SuffixOf(id, base));
  return greatest == 0 ? 1 : std::max<uint64_t>(greatest + 1, 2);
}

// Writes the snapshot object of `id`, the point of no return: from then on its blobs are
// referenced, and prune keeps them. Until then only this run's shared lock keeps a prune away
// from them (the packs it wrote and the older ones it deduplicated against, which a forget may
// have left unreferenced). So the locks are asked of the storage right before the write; and
// once more right after it, because a prune may have begun between that check and the write —
// our lock gone, its exclusive lock taken, the snapshots listed without this one. Seen in place
// after the write, the lock was there when the snapshot appeared, and any prune that starts
// later sees the snapshot. Not seen: the snapshot is taken back, and the run fails as one that
// lost its lock before committing (docs/repository-format.md, "Locks").
Status PutSnapshotObject(io::Env& env, Repository& repo, RepoLock& commit_lock,
                         const std::string& id, const std::string& stored) {
  const std::string name = SnapshotObjectName(id);
  VELIN_TRY(repo.CheckCommitGuard());  // the shared lock still ours: no prune can have run
  VELIN_TRY(commit_lock.Check());
  PausePoint(env, "snapshot-checked");
  VELIN_TRY(repo.backend().Put(name, stored));
  TerminationCleanup cleanup;  // a stop asked meanwhile must not abort these requests
  Status held = repo.CheckCommitGuard();
  if (held) return Ok();
  Status removed = repo.backend().Delete(name);
  if (removed) removed = repo.backend().SyncDeletes();
  if (removed) return held;
  return Failure(TrFormat(
      "lost the repository lock while writing backup {} ({}), and removing it failed ({}): a "
      "prune may have deleted data it needs; run `velin backup forget {}`",
      id, held.error().message, removed.error().message, id));
}

}  // namespace

std::string SnapshotIdBase(const std::string& id) {
  const auto [base, n] = SplitSuffix(id);
  return n >= 2 ? std::string(base) : id;
}

Status CommitSnapshot(io::Env& env, Repository& repo, Snapshot& snapshot, const std::string& base,
                      std::chrono::milliseconds wait,
                      const std::function<void(const std::string& id)>& before_write) {
  VELIN_ASSIGN(CommittedSnapshot committed,
               CommitSnapshotText(env, repo, base, wait, [&](const std::string& id) {
                 snapshot.id = id;
                 if (before_write) before_write(id);
                 return Result<std::string>(EncodeSnapshot(snapshot));
               }));
  snapshot.id = committed.id;
  return Ok();
}

Result<CommittedSnapshot> CommitSnapshotText(
    io::Env& env, Repository& repo, const std::string& base, std::chrono::milliseconds wait,
    const std::function<Result<std::string>(const std::string& id)>& encode,
    const std::function<Result<std::string>(const std::vector<std::string>& ids)>& find_existing) {
  PausePoint(env, "snapshot-commit");
  VELIN_ASSIGN(auto lock,
               RepoLock::Acquire(env, repo.backend(), LockKind::kCommit, CommitLockOptions(wait)));
  VELIN_ASSIGN(auto ids, repo.ListSnapshotIds());
  if (find_existing) {
    VELIN_ASSIGN(std::string existing, find_existing(ids));
    if (!existing.empty()) return CommittedSnapshot{existing, false};
  }
  uint64_t n = NextSuffix(ids, base);
  std::string id = n == 1 ? base : base + "-" + std::to_string(n);
  for (;;) {
    VELIN_ASSIGN(auto existing, repo.backend().Stat(SnapshotObjectName(id)));
    if (!existing) break;
    id = base + "-" + std::to_string(n = std::max<uint64_t>(n, 1) + 1);
  }
  VELIN_ASSIGN(std::string text, encode(id));
  VELIN_ASSIGN(std::string stored, repo.SealObject("snapshot", id, text));
  VELIN_TRY(PutSnapshotObject(env, repo, *lock, id, stored));
  repo.NoteSnapshotWritten(id);
  return CommittedSnapshot{id, true};
}

Status CommitSnapshotObjects(io::Env& env, Repository& repo,
                             std::vector<SnapshotObjectToCommit>& objects,
                             std::chrono::milliseconds wait) {
  if (objects.empty()) return Ok();
  VELIN_ASSIGN(auto lock,
               RepoLock::Acquire(env, repo.backend(), LockKind::kCommit, CommitLockOptions(wait)));
  for (SnapshotObjectToCommit& o : objects) {
    const std::string name = SnapshotObjectName(o.id);
    VELIN_ASSIGN(auto existing, repo.backend().Stat(name));
    if (existing) {
      VELIN_ASSIGN(o.held, repo.backend().Get(name));
      continue;
    }
    VELIN_TRY(PutSnapshotObject(env, repo, *lock, o.id, o.stored));
    repo.NoteSnapshotWritten(o.id);
  }
  return Ok();
}

}  // namespace velin::repo
