#include "velin/backup/pruner.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "velin/backup/archiver.hpp"
#include "velin/backup/verify_record.hpp"
#include "velin/core/environment.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/stack.hpp"
#include "velin/core/termination.hpp"
#include "velin/repo/pack.hpp"

namespace velin::backup {
namespace {

using repo::BlobId;
using repo::BlobIdHash;
using repo::PackEntry;
using BlobSet = std::unordered_set<BlobId, BlobIdHash>;

// For crash tests only: VELIN_TEST_CRASH_AT=<step> ends the process here as kill -9 would.
void CrashPoint(const char* step) {
  if (GetEnvironment("VELIN_TEST_CRASH_AT") == step) ::_exit(86);
}

Status RequireIndexed(repo::Repository& r, const BlobId& id, const std::string& snapshot) {
  if (r.index().Find(id)) return Ok();
  return DamageError(
      TrFormat("backup {} references blob {}, which no index lists; prune refuses "
               "to run (run `velin backup verify --all`)",
               snapshot, id.Short()));
}

Status WalkTree(repo::Repository& r, const BlobId& tree_id, const std::string& snapshot,
                BlobSet& used) {
  if (!used.insert(tree_id).second) return Ok();  // walked already (unchanged directory)
  VELIN_TRY(CheckInterrupted());  // a prune asked to stop (core/termination.hpp): per tree
  VELIN_TRY(RequireIndexed(r, tree_id, snapshot));
  if (!StackHasRoom()) {  // velin/core/stack.hpp
    return StackTooDeep(TrFormat("tree {} of backup {}", tree_id.Short(), snapshot));
  }
  VELIN_ASSIGN(repo::Tree tree, r.ReadTree(tree_id));
  for (const auto& node : tree.nodes) {
    if (node.type == repo::NodeType::kDir) {
      VELIN_TRY(WalkTree(r, node.subtree, snapshot, used));
    } else if (node.type == repo::NodeType::kFile) {
      for (const auto& chunk : node.content) {
        if (used.insert(chunk).second) VELIN_TRY(RequireIndexed(r, chunk, snapshot));
      }
    }
  }
  return Ok();
}

// Every blob a readable snapshot references; an unreadable snapshot stops the prune.
Result<BlobSet> CollectUsed(repo::Repository& r, PruneResult& result) {
  if (!r.index_damage().empty()) {
    const auto& d = r.index_damage().front();
    return DamageError(TrFormat("{}: {}; prune refuses to run (run `velin backup verify --all`)",
                                d.object, d.message));
  }
  std::vector<repo::ObjectDamage> damage;
  VELIN_ASSIGN(auto snapshots, r.LoadAllSnapshots(&damage));
  if (!damage.empty()) {
    return DamageError(TrFormat("{}; prune refuses to run (run `velin backup verify --all`)",
                                damage.front().message));  // "snapshot ID: why"
  }
  BlobSet used;
  for (const auto& s : snapshots) {
    for (const auto& src : s.sources) {
      if (src.kind == repo::SourceKind::kStream) {
        for (const auto& c : src.chunks) {
          if (used.insert(c).second) VELIN_TRY(RequireIndexed(r, c, s.id));
        }
      } else {
        VELIN_TRY(WalkTree(r, src.tree, s.id, used));
      }
    }
  }
  // A delta blob needs its base, used by a snapshot or not (bases are never deltas themselves).
  std::vector<BlobId> bases;
  for (const auto& id : used) {
    if (const BlobId* base = r.index().DeltaBase(id)) bases.push_back(*base);
  }
  for (const auto& base : bases) {
    if (used.insert(base).second && !r.index().Find(base)) {
      return DamageError(
          TrFormat("delta base blob {} is listed by no index; prune refuses to run "
                   "(run `velin backup verify --all`)",
                   base.Short()));
    }
  }
  result.snapshots = snapshots.size();
  result.blobs_used = used.size();
  return used;
}

struct PackInfo {
  std::string object;
  uint64_t size = 0;
  bool indexed = false;
  std::vector<PackEntry> entries;  // as an index object lists them
  std::vector<PackEntry> used;     // used blobs whose index entry points into this pack
  // Entries of a kept pack that the new index leaves out: delta blobs whose base no kept pack
  // lists any more. Their bytes stay in the pack, unreferenced, until it is repacked.
  std::vector<BlobId> dropped;
};

// Stored bytes of a pack that its index entries do not account for: blobs an earlier prune left
// out of the index (see PackInfo::dropped). Packs: docs/repository-format.md ("Packs").
uint64_t UnlistedBytes(const PackInfo& info) {
  uint64_t listed = 4 + repo::kPackMagic.size();
  for (const auto& e : info.entries) listed += e.length + repo::kPackEntrySize;
  return info.size > listed ? info.size - listed : 0;
}

enum class PackAction { kKeep, kDelete, kRepack };

struct Plan {
  std::map<BlobId, PackInfo> packs;
  std::map<BlobId, PackAction> actions;
  std::vector<storage::ObjectInfo> index_objects;
  std::vector<BlobId> missing;  // listed by index objects, gone from the storage
};

Status ReadIndexObjects(repo::Repository& r, Plan& plan) {
  VELIN_ASSIGN(plan.index_objects, r.backend().List("index/"));
  std::sort(plan.index_objects.begin(), plan.index_objects.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& obj : plan.index_objects) {
    VELIN_ASSIGN(std::string stored, r.backend().Get(obj.name));
    // Encrypted repositories seal index objects bound to their name (repository.hpp).
    VELIN_ASSIGN(std::string data, r.OpenObject("index", obj.name.substr(obj.name.rfind('/') + 1),
                                                std::move(stored)));
    VELIN_ASSIGN(repo::IndexPacks packs, repo::DecodeIndexObject(data));
    for (auto& [id, entries] : packs) {
      PackInfo& info = plan.packs[id];
      if (info.indexed) continue;  // the first index object listing a pack wins
      info.indexed = true;
      info.entries = std::move(entries);
    }
  }
  return Ok();
}

// The storage's "now", or a time before it: the newest lock object's modification time (ours,
// the exclusive lock, was written when this prune began), else this machine's clock.
Result<int64_t> StorageNow(io::Env& env, repo::Repository& r) {
  VELIN_ASSIGN(auto locks, r.backend().List("locks/"));
  int64_t newest = 0;
  for (const auto& l : locks) newest = std::max(newest, l.mtime);
  if (newest > 0) return newest;
  return std::chrono::duration_cast<std::chrono::seconds>(env.Now().time_since_epoch()).count();
}

// Pack objects present in the backend; index entries for packs that are gone are dropped. A
// pack no index lists that is younger than the lock stale age (or of unknown age) is left out
// of the plan: it may belong to a create that is still running.
Status ReadPackObjects(io::Env& env, repo::Repository& r, const PruneOptions& options, Plan& plan,
                       PruneResult& result) {
  VELIN_ASSIGN(auto objects, r.backend().List("data/"));
  VELIN_ASSIGN(const int64_t now, StorageNow(env, r));
  std::unordered_set<BlobId, BlobIdHash> present;
  for (const auto& obj : objects) {
    auto id = repo::ParseBlobId(obj.name.substr(obj.name.rfind('/') + 1));
    if (!id) continue;  // not a pack (a temp file of another tool): left alone
    auto known = plan.packs.find(*id);
    if ((known == plan.packs.end() || !known->second.indexed) &&
        (obj.mtime <= 0 || now - obj.mtime < options.unindexed_min_age.count())) {
      ++result.packs_young;
      continue;
    }
    PackInfo& info = plan.packs[*id];
    info.object = obj.name;
    info.size = obj.size;
    present.insert(*id);
  }
  for (auto it = plan.packs.begin(); it != plan.packs.end();) {
    if (present.count(it->first)) {
      ++it;
      continue;
    }
    plan.missing.push_back(it->first);
    it = plan.packs.erase(it);
  }
  return Ok();
}

// A kept pack keeps its index entries, used or not; but an unused delta blob there may have
// lost its base (in a pack deleted or repacked without it). Listed, it would be taken as stored
// by a later backup that produces the same chunk, and that backup would point at a blob it
// cannot read. Such entries are left out of the new index; a later backup stores the blob
// again. Bases are never deltas, so one pass settles it.
void DropDanglingDeltas(Plan& plan) {
  BlobSet listed;
  for (const auto& [id, info] : plan.packs) {
    const PackAction a = plan.actions.at(id);
    if (a == PackAction::kDelete) continue;
    for (const auto& e : a == PackAction::kKeep ? info.entries : info.used) listed.insert(e.id);
  }
  for (auto& pack : plan.packs) {
    if (plan.actions.at(pack.first) != PackAction::kKeep) continue;
    PackInfo& info = pack.second;
    std::erase_if(info.entries, [&](const PackEntry& e) {
      if (e.codec != repo::Codec::kZstdDelta || listed.count(e.base)) return false;
      info.dropped.push_back(e.id);
      return true;
    });
  }
}

Status Classify(repo::Repository& r, const BlobSet& used, double threshold, Plan& plan) {
  const repo::Index& index = r.index();
  for (auto& [pack_id, info] : plan.packs) {
    const uint64_t unlisted = UnlistedBytes(info);
    uint64_t total = unlisted, kept = 0;
    for (const auto& e : info.entries) {
      total += e.length;
      const std::optional<repo::IndexEntry> winner = index.Find(e.id);
      if (!used.count(e.id) || !winner || index.PackId(winner->pack) != pack_id ||
          winner->offset != e.offset) {
        continue;
      }
      kept += e.length;
      info.used.push_back(e);
    }
    PackAction action = PackAction::kKeep;
    if (info.used.empty()) {
      action = PackAction::kDelete;
    } else if ((info.used.size() < info.entries.size() || unlisted > 0) && total > 0 &&
               static_cast<double>(total - kept) / static_cast<double>(total) > threshold) {
      action = PackAction::kRepack;
    }
    plan.actions[pack_id] = action;
  }
  DropDanglingDeltas(plan);
  // Every used blob must live in a pack that is still there.
  for (const auto& id : used) {
    const std::optional<repo::IndexEntry> e = index.Find(id);
    if (!e || !plan.packs.count(index.PackId(e->pack))) {
      return DamageError(
          TrFormat("blob {} is in pack {}, which is missing; prune refuses to run "
                   "(run `velin backup verify --all`)",
                   id.Short(), e ? index.PackId(e->pack).Short() : "?"));
    }
  }
  return Ok();
}

class Repacker {
 public:
  explicit Repacker(repo::Repository& r) : r_(r) {}

  Status Copy(const PackInfo& info) {
    VELIN_ASSIGN(std::string bytes, r_.backend().Get(info.object));
    for (const auto& e : info.used) {
      if (uint64_t{e.offset} + e.length > bytes.size()) {
        return DamageError(
            TrFormat("{}: blob {} lies outside the pack", info.object, e.id.Short()));
      }
      std::string_view stored(bytes.data() + e.offset, e.length);
      // Checked the way a restore reads it: opened (when encrypted), decompressed, hashed.
      VELIN_ASSIGN(BlobId hash, r_.CheckBlob(e.id, e.codec, e.raw_length, stored, raw_));
      if (hash != e.id) {
        return DamageError(TrFormat("{}: blob {} is damaged; prune refuses to copy it", info.object,
                                    e.id.Short()));
      }
      builder_.Add(e.type, e.id, e.codec, e.raw_length, stored, &e.base);
      if (builder_.size() >= repo::kTargetPackSize) VELIN_TRY(Write());
    }
    return Ok();
  }

  Status Write() {
    if (builder_.empty()) return Ok();
    std::vector<PackEntry> entries = builder_.entries();
    std::string bytes = builder_.Finish();
    BlobId id = repo::Sha256(bytes);
    attempted_.push_back(id);  // before the Put: a failed Put may still leave the object
    VELIN_TRY(r_.backend().Put(repo::PackObjectName(id), bytes));
    written_.emplace_back(id, std::move(entries));
    bytes_written_ += bytes.size();
    return Ok();
  }

  const repo::IndexPacks& written() const { return written_; }
  // Every pack a Put was started for, written or not.
  const std::vector<BlobId>& attempted() const { return attempted_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  repo::Repository& r_;
  repo::PackBuilder builder_;
  std::string raw_;  // a decoded blob, reused
  repo::IndexPacks written_;
  std::vector<BlobId> attempted_;
  uint64_t bytes_written_ = 0;
};

// Fills the counts and byte totals of `result` from the plan (before anything is written).
void Tally(const Plan& plan, PruneResult& result) {
  for (const auto& o : plan.index_objects) result.bytes_before += o.size;
  for (const auto& [id, info] : plan.packs) {
    result.bytes_before += info.size;
    ++result.packs_total;
    const PackAction a = plan.actions.at(id);
    if (a == PackAction::kDelete) ++result.packs_deleted;
    if (a == PackAction::kRepack) ++result.packs_repacked;
    result.blobs_removed += info.dropped.size();
    if (a != PackAction::kKeep) {
      result.blobs_removed +=
          info.entries.size() - (a == PackAction::kRepack ? info.used.size() : 0);
    }
  }
}

bool NothingToDo(const Plan& plan) {
  for (const auto& [id, a] : plan.actions) {
    if (a != PackAction::kKeep || !plan.packs.at(id).dropped.empty()) return false;
  }
  return plan.index_objects.size() <= 1;
}

}  // namespace

namespace {

// Until the new index object is in place nothing refers to the packs the repack wrote: a
// prune failing before that (a full disk, an I/O error, a lost lock) removes them again, and
// the index object too when its Put failed after the object got its name (at the directory's
// fsync), so the repository is left as it was — not fuller, with no unindexed packs that the
// next prune would have to leave alone as young. The index object goes first: packs it lists
// are never deleted while it may still be there. Nothing is removed once the lock is lost:
// another prune may then own packs of the same content (same names). What cannot be removed
// stays for a later prune; the original error is the one reported.
Status Undo(repo::Repository& r, const Plan& plan, const Repacker& repacker,
            const std::string& index_name, Error error) {
  // Also when the prune was asked to stop (core/termination.hpp): the guard asks the storage.
  TerminationCleanup cleanup;
  if (!r.CheckCommitGuard()) return tl::unexpected(std::move(error));
  bool index_gone = true;
  if (!index_name.empty() && std::none_of(plan.index_objects.begin(), plan.index_objects.end(),
                                          [&](const auto& o) { return o.name == index_name; })) {
    index_gone = static_cast<bool>(r.backend().Delete(index_name));
  }
  if (index_gone) {
    for (const auto& id : repacker.attempted()) {
      if (plan.packs.count(id)) continue;  // the same bytes as a pack that was there: keep it
      (void)r.backend().Delete(repo::PackObjectName(id));
    }
  }
  return tl::unexpected(std::move(error));
}

// Writes new packs and the new index, then deletes what they replace (the commit order).
Status Execute(repo::Repository& r, const Plan& plan, PruneResult& result, Reporter& reporter) {
  Repacker repacker(r);
  repo::IndexPacks index_packs;
  uint64_t kept_bytes = 0;
  std::string index_name;
  std::string sealed_index;
  std::unordered_set<BlobId, BlobIdHash> new_packs;
  Status written = [&]() -> Status {
    for (const auto& [id, info] : plan.packs) {
      const PackAction a = plan.actions.at(id);
      if (a == PackAction::kRepack) {
        VELIN_TRY(CheckInterrupted());  // per pack; Undo removes what was written
        VELIN_TRY(repacker.Copy(info));
      }
      if (a == PackAction::kKeep) {
        index_packs.emplace_back(id, info.entries);
        kept_bytes += info.size;
      }
    }
    VELIN_TRY(repacker.Write());
    CrashPoint("prune-after-packs");
    VELIN_TRY(r.CheckCommitGuard());
    VELIN_TRY(CheckInterrupted());  // the last moment nothing changed
    for (const auto& p : repacker.written()) {
      index_packs.push_back(p);
      new_packs.insert(p.first);
    }
    std::string index = repo::EncodeIndexObject(index_packs);
    // Named and sealed like the blob writer's index objects (keyed hash when encrypted).
    VELIN_ASSIGN(BlobId index_id, r.HashBlob(index));
    VELIN_ASSIGN(sealed_index, r.SealObject("index", index_id.Hex(), index));
    index_name = "index/" + index_id.Hex();
    return r.backend().Put(index_name, sealed_index);
  }();
  if (!written) return Undo(r, plan, repacker, index_name, written.error());
  CrashPoint("prune-after-index");
  VELIN_TRY(r.CheckCommitGuard());
  result.packs_written = repacker.written().size();
  result.bytes_after = kept_bytes + repacker.bytes_written() + sealed_index.size();
  reporter.Info(
      TrFormat("New index written ({} packs); removing what it replaces", index_packs.size()));
  // Past this point a failure leaves the new index in place and the repository whole; what was
  // not removed is left for the next prune, which the message says.
  const auto removal_failed = [](const Error& e) {
    return tl::unexpected(
        e.Wrap(Tr("new index in place, removing what it replaces (run prune "
                  "again)")));
  };
  // Asked to stop here, the prune stops between two removals: every state on the way is whole
  // (a blob listed twice, a pack no index lists), and the next prune finishes the work.
  for (const auto& o : plan.index_objects) {
    if (o.name == index_name) continue;
    if (auto s = CheckInterrupted(); !s) return removal_failed(s.error());
    if (auto s = r.backend().Delete(o.name); !s) return removal_failed(s.error());
    ++result.index_objects_replaced;
  }
  // The old index objects must be gone for good before the packs they list: one brought back
  // by a crash after the packs' removal would name blobs in packs that no longer exist.
  if (auto s = r.backend().SyncDeletes(); !s) return removal_failed(s.error());
  CrashPoint("prune-after-old-index");
  for (const auto& [id, info] : plan.packs) {
    if (plan.actions.at(id) == PackAction::kKeep || new_packs.count(id)) continue;
    if (auto s = CheckInterrupted(); !s) return removal_failed(s.error());
    if (auto s = r.backend().Delete(info.object); !s) return removal_failed(s.error());
  }
  // The space is free when prune says so.
  if (auto s = r.backend().SyncDeletes(); !s) return removal_failed(s.error());
  result.changed = true;
  // The verify record's damaged packs that are gone now need no word any more; the record is
  // advisory, so a failure to say so only costs a warning.
  std::vector<BlobId> gone = plan.missing;
  for (const auto& [id, info] : plan.packs) {
    if (plan.actions.at(id) != PackAction::kKeep && !new_packs.count(id)) gone.push_back(id);
  }
  if (auto s = ForgetDamagedPacks(r.backend(), std::move(gone)); !s) {
    reporter.Warn(TrFormat("could not update the verify record: {}", s.error().message));
  }
  return Ok();
}

}  // namespace

Result<PruneResult> Prune(repo::Repository& repository, io::Env& env, const PruneOptions& options,
                          Reporter& reporter) {
  PruneResult result;
  VELIN_ASSIGN(BlobSet used, CollectUsed(repository, result));
  Plan plan;
  VELIN_TRY(ReadIndexObjects(repository, plan));
  VELIN_TRY(ReadPackObjects(env, repository, options, plan, result));
  VELIN_TRY(Classify(repository, used, options.repack_threshold, plan));
  Tally(plan, result);
  result.bytes_after = result.bytes_before;
  if (NothingToDo(plan)) return result;
  if (options.dry_run) {
    // Estimate: the packs that go, less the used share of the repacked ones, and the one new
    // index object in place of every old one (as large as theirs, in proportion to the blobs
    // it keeps listing).
    uint64_t after = 0;
    uint64_t entries = 0;
    uint64_t index_bytes = 0;
    for (const auto& [id, info] : plan.packs) {
      const PackAction a = plan.actions.at(id);
      entries += info.entries.size() + info.dropped.size();
      if (a == PackAction::kKeep) after += info.size;
      if (a == PackAction::kRepack) {
        for (const auto& e : info.used) after += e.length + repo::kPackEntrySize;
      }
    }
    for (const auto& o : plan.index_objects) index_bytes += o.size;
    const uint64_t kept = entries - std::min(entries, result.blobs_removed);
    if (entries > 0) {
      after += static_cast<uint64_t>(static_cast<double>(index_bytes) * static_cast<double>(kept) /
                                     static_cast<double>(entries));
    }
    result.bytes_after = after;
    result.index_objects_replaced = plan.index_objects.size();
    return result;
  }
  VELIN_TRY(Execute(repository, plan, result, reporter));
  return result;
}

}  // namespace velin::backup
