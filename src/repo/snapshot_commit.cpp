#include "velin/repo/snapshot_commit.hpp"

#include <algorithm>

#include "velin/repo/lock.hpp"

namespace velin::repo {
namespace {

// The suffix n of an id "base-n" of `base`; 1 for `base` itself; 0 for an id of another base.
uint64_t SuffixOf(const std::string& id, const std::string& base) {
  const auto [id_base, n] = SplitSuffix(id);
  return id_base == base ? n : 0;
}

uint64_t NextSuffix(const std::vector<std::string>& ids, const std::string& base) {
  uint64_t greatest = 0;
  for (const auto& id : ids) greatest = std::max(greatest, SuffixOf(id, base));
  return greatest == 0 ? 1 : std::max<uint64_t>(greatest + 1, 2);
}

}  // namespace

std::string SnapshotIdBase(const std::string& id) {
  const auto [base, n] = SplitSuffix(id);
  return n >= 2 ? std::string(base) : id;
}

Status CommitSnapshot(io::Env& env, Repository& repo, Snapshot& snapshot, const std::string& base,
                      std::chrono::milliseconds wait) {
  VELIN_ASSIGN(CommittedSnapshot committed,
               CommitSnapshotText(env, repo, base, wait, [&snapshot](const std::string& id) {
                 snapshot.id = id;
                 return Result<std::string>(EncodeSnapshot(snapshot));
               }));
  snapshot.id = committed.id;
  return Ok();
}

Result<CommittedSnapshot> CommitSnapshotText(
    io::Env& env, Repository& repo, const std::string& base, std::chrono::milliseconds wait,
    const std::function<Result<std::string>(const std::string& id)>& encode,
    const std::function<Result<std::string>(const std::vector<std::string>& ids)>& find_existing) {
  LockOptions lock_options;
  lock_options.wait = wait;
  VELIN_ASSIGN(auto lock, RepoLock::Acquire(env, repo.backend(), LockKind::kCommit, lock_options));
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
  VELIN_TRY(repo.CheckCommitGuard());  // the shared lock still ours: no prune can have run
  VELIN_TRY(lock->Check());
  VELIN_TRY(repo.backend().Put(SnapshotObjectName(id), stored));
  repo.NoteSnapshotWritten(id);
  return CommittedSnapshot{id, true};
}

Status CommitSnapshotObjects(io::Env& env, Repository& repo,
                             std::vector<SnapshotObjectToCommit>& objects,
                             std::chrono::milliseconds wait) {
  if (objects.empty()) return Ok();
  LockOptions lock_options;
  lock_options.wait = wait;
  VELIN_ASSIGN(auto lock, RepoLock::Acquire(env, repo.backend(), LockKind::kCommit, lock_options));
  for (SnapshotObjectToCommit& o : objects) {
    const std::string name = SnapshotObjectName(o.id);
    VELIN_ASSIGN(auto existing, repo.backend().Stat(name));
    if (existing) {
      VELIN_ASSIGN(o.held, repo.backend().Get(name));
      continue;
    }
    VELIN_TRY(repo.CheckCommitGuard());  // the shared lock still ours: no prune can have run
    VELIN_TRY(lock->Check());
    VELIN_TRY(repo.backend().Put(name, o.stored));
    repo.NoteSnapshotWritten(o.id);
  }
  return Ok();
}

}  // namespace velin::repo
