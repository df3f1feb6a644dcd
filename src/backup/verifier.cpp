#include "velin/backup/verifier.hpp"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <thread>

#include "velin/core/i18n.hpp"
#include "velin/core/termination.hpp"
#include "velin/core/threads.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/backend.hpp"

namespace velin::backup {

using repo::BlobId;

namespace {

constexpr size_t kMaxPlacesPerBlob = 3;

struct Refs {
  std::vector<std::string> places;  // "snapshot:path", the first few
  uint64_t count = 0;
};

class Verifier {
 public:
  Verifier(repo::Repository& repo, Reporter& reporter) : repo_(repo), reporter_(reporter) {}

  void AddSnapshot(const repo::Snapshot& s) {
    report.snapshots.push_back(s.id);
    const std::pair<std::string, std::string> group(s.host, s.app);
    auto at = std::find(report.groups.begin(), report.groups.end(), group);
    if (at == report.groups.end()) {
      report.groups.push_back(group);
      report.groups_newest.push_back(s.unix_time);
    } else {
      int64_t& newest = report.groups_newest[static_cast<size_t>(at - report.groups.begin())];
      newest = std::max(newest, s.unix_time);
    }
    for (const auto& src : s.sources) {
      if (src.kind == repo::SourceKind::kStream) {
        for (const auto& id : src.chunks) Note(id, s.id + ":" + src.name + " (stream)");
        continue;
      }
      std::string dir = io::Dirname(src.name) == "." ? "" : io::Dirname(src.name) + "/";
      visited_.clear();
      Walk(src.tree, s.id, dir, s.id + ":" + src.name);
    }
  }

  void CheckPacks() {
    // The walk is over: its trees go, and their memory back to the system, before the pack
    // buffers (16 MiB a worker) are taken, which keeps the peak down.
    trees_.clear();
    visited_.clear();
    ::malloc_trim(0);
    // Ids only (the index hands out copies of its entries): CheckPack finds each again.
    std::map<uint32_t, std::vector<BlobId>> by_pack;
    uint64_t total = 0;
    for (const auto& [id, refs] : refs_) {
      const std::optional<repo::IndexEntry> e = repo_.index().Find(id);
      if (!e) {
        Problem(TrFormat("blob {} is missing from the index", id.Short()), refs);
        continue;
      }
      by_pack[e->pack].push_back(id);
      total += e->length;
    }
    reporter_.StartProgress(Tr("Verifying"), total, ProgressItems::kBlobs);
    // One pack per worker at a time (memory: a pack and a blob each); problems are kept per
    // pack and reported in pack order, whatever order the workers finish in.
    std::vector<const PackBlobs*> packs;
    for (const auto& entry : by_pack) packs.push_back(&entry);
    std::vector<PackResult> results(packs.size());
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    auto work = [&] {
      std::string segment, raw;  // each worker's, reused from pack to pack
      // A verify asked to stop (core/termination.hpp) reads no further pack.
      for (size_t i = next++; i < packs.size() && !Interrupted() && !failed; i = next++) {
        try {
          results[i] = CheckPack(packs[i]->first, packs[i]->second, segment, raw);
        } catch (...) {
          // Out of memory (ulimit -v) says nothing about the pack: the verify fails (exit 1)
          // as for a pack that could not be read.
          results[i] = PackResult{};
          results[i].failure = CurrentExceptionError();
        }
        if (results[i].failure) failed = true;  // the others read no further pack
        std::lock_guard lock(progress_mu_);
        report.packs_checked++;
        report.blobs_checked += results[i].blobs;
        report.bytes_checked += results[i].bytes;
        reporter_.UpdateProgress(report.bytes_checked, report.blobs_checked);
      }
    };
    std::vector<std::thread> workers;
    // Two workers more than there are cores: each reads a segment of its pack (O_DIRECT, no
    // read-ahead) before it checks it, and the extra ones keep the disk busy while the others
    // compute. 2.2 GiB set, 2 cores: 3.1 s with two workers, 2.5 s with four (bench/README.md).
    // A system short of threads (ulimit -u) gives fewer: this thread works too.
    const unsigned n = std::clamp(std::thread::hardware_concurrency() + 2, 2u, 10u);
    workers.reserve(n);
    for (unsigned i = 1; i < n; ++i) {
      auto t = StartThread(work, nullptr);
      if (!t) break;
      workers.push_back(std::move(*t));
    }
    work();
    for (auto& t : workers) t.join();
    for (size_t i = 0; i < results.size(); ++i) {
      PackResult& r = results[i];
      if (r.failure && !failure) failure = std::move(r.failure);
      for (auto& line : r.problems) report.problems.push_back(std::move(line));
      const uint32_t pack = packs[i]->first;
      const BlobId& pack_id = repo_.index().PackId(pack);
      if (damaged_tree_packs_.count(pack)) continue;  // below
      if (r.verdict == PackVerdict::kWhole) report.packs_whole.push_back(pack_id);
      if (r.verdict == PackVerdict::kDamaged) report.packs_damaged.push_back(pack_id);
      if (r.verdict == PackVerdict::kGone) report.packs_gone.push_back(pack_id);
    }
    for (uint32_t pack : damaged_tree_packs_) {
      report.packs_damaged.push_back(repo_.index().PackId(pack));
    }
    reporter_.FinishProgress();
  }

  VerifyReport report;
  std::optional<Error> failure;  // a pack that could not be read (PackResult::failure)

 private:
  void Note(const BlobId& id, const std::string& place, bool is_base = false) {
    Refs& r = refs_[id];
    if (r.places.size() < kMaxPlacesPerBlob) r.places.push_back(place);
    r.count++;
    // A delta blob reads its base: that base's pack is checked whole too. One level only: a
    // base is never a delta itself (reading one that claims to be is damage), and a hostile
    // index may list bases in a cycle.
    const BlobId* base = is_base ? nullptr : repo_.index().DeltaBase(id);
    if (base) Note(*base, place + " (delta base)", true);
  }

  using PackBlobs = std::pair<const uint32_t, std::vector<BlobId>>;
  enum class PackVerdict { kUnread, kWhole, kDamaged, kGone };
  struct PackResult {
    PackVerdict verdict = PackVerdict::kUnread;
    uint64_t blobs = 0;
    uint64_t bytes = 0;
    std::vector<std::string> problems;
    // A read of the pack failed (not its data: the server went away, EIO, 403): the verify
    // cannot say whether the pack is whole, so it ends with this error (exit 1), not exit 4.
    std::optional<Error> failure;
  };

  static std::string Affects(const std::string& what, const Refs& refs) {
    std::string places;
    for (size_t i = 0; i < refs.places.size(); ++i) places += (i ? ", " : "") + refs.places[i];
    if (refs.count > refs.places.size()) {
      return TrFormat("{}; affects {} and {} more", what, places, refs.count - refs.places.size());
    }
    return TrFormat("{}; affects {}", what, places);
  }

  void Problem(const std::string& what, const Refs& refs) {
    report.problems.push_back(Affects(what, refs));
  }

  // Walks the tree `id` of snapshot `sid`; `prefix` is the app-relative dir of its nodes.
  void Walk(const BlobId& id, const std::string& sid, const std::string& prefix,
            const std::string& place) {
    if (failure) return;  // a read failed (a server gone): the verify ends with it, reads no more
    if (!visited_.insert(id).second) return;
    auto cached = trees_.find(id);
    if (cached == trees_.end()) {
      auto tree = repo_.ReadTree(id);
      if (!tree && !storage::IsDamagedRead(tree.error())) {  // the read failed, not the tree
        if (!failure) failure = tree.error();
        return;
      }
      if (!tree) {
        Refs r;
        r.places.push_back(place);
        r.count = 1;
        Problem(tree.error().message, r);
        // Its pack is damaged (or gone: the record drops it then at create or prune), though
        // CheckPacks may read no blob of it: recorded all the same, so create stores it again.
        if (auto e = repo_.index().Find(id)) damaged_tree_packs_.insert(e->pack);
        return;
      }
      cached = trees_.emplace(id, std::move(*tree)).first;
      // Its pack is read whole and checked against its name too (CheckPacks): a pack may hold
      // nothing but trees, and damage outside a blob (its header) must not go unseen.
      Note(id, place + " (directory)");
    }
    for (const auto& node : cached->second.nodes) {
      std::string path = prefix + node.name;
      if (node.type == repo::NodeType::kFile) {
        for (const auto& chunk : node.content) Note(chunk, sid + ":" + path);
      } else if (node.type == repo::NodeType::kDir) {
        Walk(node.subtree, sid, path + "/", sid + ":" + path);
      }
    }
  }

  // Reads one pack and checks its name and every blob of `blobs`. Runs on several threads:
  // touches nothing shared but the repository's (thread-safe) reads and refs_ (read-only).
  // `segment` and `raw` are scratch buffers the caller keeps from pack to pack.
  //
  // The pack is read front to back in segments of about kSegmentSize, each one extended to
  // the end of the last blob it starts, and hashed as it goes: a worker holds a few MiB, not
  // the whole 16 MiB pack, so there can be a worker more than cores to keep the disk busy. A
  // blob no segment holds whole (an index whose entries overlap) is read on its own.
  PackResult CheckPack(uint32_t pack, const std::vector<BlobId>& blobs, std::string& segment,
                       std::string& raw) {
    PackResult out;
    const BlobId& pack_id = repo_.index().PackId(pack);
    const std::string name = repo::PackObjectName(pack_id);
    storage::Backend& backend = repo_.backend();
    struct Item {
      size_t blob;  // index into `blobs`
      repo::IndexEntry e;
      bool done = false;
    };
    std::vector<Item> items;
    items.reserve(blobs.size());
    for (size_t i = 0; i < blobs.size(); ++i) {
      items.push_back({i, *repo_.index().Find(blobs[i])});  // CheckPacks found it there
    }
    std::sort(items.begin(), items.end(),
              [](const Item& a, const Item& b) { return a.e.offset < b.e.offset; });
    std::vector<std::string> problems(blobs.size());
    auto unreadable = [&](const Error& error) {
      if (!storage::IsDamagedRead(error)) {
        out.failure = error.Wrap(TrFormat("pack {}", pack_id.Short()));
        return out;
      }
      out.verdict = storage::IsNotFound(error) ? PackVerdict::kGone : PackVerdict::kDamaged;
      const std::string why = storage::DamagedReadWhy(error);
      for (const auto& id : blobs) {
        out.problems.push_back(Affects(
            TrFormat("blob {}: pack {} {}", id.Short(), pack_id.Short(), why), refs_.at(id)));
      }
      return out;
    };
    // `stored` is scratch once the pack's hash has taken it in: an encrypted blob is opened
    // where it lies (CheckBlobInPlace), unless its bytes overlap the next blob's (a damaged
    // index), which must still see them as stored.
    auto check = [&](Item& it, std::span<char> stored, bool overlaps_next) {
      it.done = true;
      const BlobId& id = blobs[it.blob];
      auto hash = overlaps_next
                      ? repo_.CheckBlob(id, it.e.codec, it.e.raw_length,
                                        std::string_view(stored.data(), stored.size()), raw)
                      : repo_.CheckBlobInPlace(id, it.e.codec, it.e.raw_length, stored, raw);
      if (!hash || *hash != id) {
        problems[it.blob] =
            Affects(TrFormat("blob {} in pack {} is damaged ({})", id.Short(), pack_id.Short(),
                             hash ? std::string(Tr("hash mismatch")) : hash.error().message),
                    refs_.at(id));
      }
    };

    auto info = backend.Stat(name);
    if (!info) return unreadable(info.error());
    if (!*info) return unreadable(Error{ExitCode::kDamage, std::string(Tr("is missing")), 2});
    const uint64_t size = (*info)->size;
    repo::Sha256Stream hash;
    uint64_t pos = 0;
    size_t next = 0;
    while (pos < size) {
      uint64_t end = std::min(size, pos + kSegmentSize);
      for (size_t k = next; k < items.size() && items[k].e.offset < end; ++k) {
        const uint64_t blob_end = uint64_t{items[k].e.offset} + items[k].e.length;
        if (items[k].e.offset >= pos && blob_end > end && blob_end <= size) end = blob_end;
      }
      Status got = backend.GetRangeInto(name, pos, end - pos, segment);
      if (!got) return unreadable(got.error());
      hash.Update(segment);
      for (; next < items.size() && items[next].e.offset < end; ++next) {
        Item& it = items[next];
        const uint64_t blob_end = uint64_t{it.e.offset} + it.e.length;
        if (it.e.offset < pos || blob_end > end) continue;
        const bool overlaps_next = next + 1 < items.size() && items[next + 1].e.offset < blob_end;
        check(it, std::span<char>(segment.data() + (it.e.offset - pos), it.e.length),
              overlaps_next);
      }
      pos = end;
    }
    if (hash.Final() != pack_id) {
      out.problems.push_back(
          TrFormat("pack {} ({}) does not match its name: it was modified or truncated",
                   pack_id.Short(), name));
    }
    for (Item& it : items) {
      out.blobs++;
      out.bytes += it.e.length;
      if (it.done) continue;
      const BlobId& id = blobs[it.blob];
      if (uint64_t{it.e.offset} + it.e.length > size) {
        problems[it.blob] =
            Affects(TrFormat("blob {} in pack {} is beyond the pack's end (truncated pack)",
                             id.Short(), pack_id.Short()),
                    refs_.at(id));
        continue;
      }
      Status got = backend.GetRangeInto(name, it.e.offset, it.e.length, segment);
      if (!got) return unreadable(got.error());
      check(it, std::span<char>(segment.data(), segment.size()), false);
    }
    for (auto& p : problems) {
      if (!p.empty()) out.problems.push_back(std::move(p));
    }
    out.verdict = out.problems.empty() ? PackVerdict::kWhole : PackVerdict::kDamaged;
    return out;
  }

  // About what CheckPack reads at a time (docs/cli.md, "velin backup verify").
  static constexpr uint64_t kSegmentSize = 4 << 20;

  repo::Repository& repo_;
  Reporter& reporter_;
  std::map<BlobId, Refs> refs_;
  std::map<BlobId, repo::Tree> trees_;
  std::set<BlobId> visited_;
  std::set<uint32_t> damaged_tree_packs_;  // of trees that did not read (Walk)
  std::mutex progress_mu_;
};

}  // namespace

Result<VerifyReport> VerifyBackups(repo::Repository& repo, Reporter& reporter,
                                   const std::vector<std::string>& ids) {
  Verifier verifier(repo, reporter);
  for (const auto& d : repo.index_damage()) {
    verifier.report.problems.push_back(TrFormat("index {}: {}", d.object, d.message));
  }
  // Harmless now (the index leaves them out, so no backup can point at them and `create` stores
  // such a chunk again), but a sign of an earlier velin's prune; the next prune drops them.
  for (const auto& d : repo.index().dangling_deltas()) {
    reporter.Warn(TrFormat(
        "the index lists delta blob {} whose base {} no index lists; it counts as not stored "
        "(run `velin backup prune` to drop the entry)",
        d.id.Short(), d.base.Short()));
  }
  std::vector<repo::Snapshot> snapshots;
  if (ids.empty()) {
    std::vector<repo::ObjectDamage> damage;
    std::vector<std::string> foreign;
    VELIN_ASSIGN(snapshots, repo.LoadAllSnapshots(&damage, &foreign));
    for (const auto& name : foreign) reporter.Warn(repo::ForeignSnapshotObjectWarning(name));
    for (const auto& d : damage) verifier.report.problems.push_back(d.message);
  } else {
    for (const auto& id : ids) {
      auto s = repo.LoadSnapshot(id);
      if (!s && s.error().code != ExitCode::kDamage) return tl::unexpected(s.error());
      if (!s) {
        verifier.report.problems.push_back(s.error().message);
      } else {
        snapshots.push_back(std::move(*s));
      }
    }
  }
  {
    // One backup's walk takes every tree; several share subtrees, which the walk skips.
    std::optional<repo::Repository::DeeperTreeReads> deeper;
    if (snapshots.size() == 1) deeper.emplace(repo);
    for (const auto& s : snapshots) verifier.AddSnapshot(s);
  }
  if (verifier.failure) return tl::unexpected(*verifier.failure);  // a tree could not be read
  verifier.CheckPacks();
  VELIN_TRY(CheckInterrupted());  // stopped part way: no report to mistake for a whole one
  if (verifier.failure) return tl::unexpected(*verifier.failure);  // nor after a failed read
  return std::move(verifier.report);
}

}  // namespace velin::backup
