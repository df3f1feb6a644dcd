#include "velin/backup/verifier.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "velin/core/i18n.hpp"
#include "velin/io/env.hpp"

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
    auto work = [&] {
      std::string pack_data, raw;  // each worker's, reused from pack to pack
      for (size_t i = next++; i < packs.size(); i = next++) {
        results[i] = CheckPack(packs[i]->first, packs[i]->second, pack_data, raw);
        std::lock_guard lock(progress_mu_);
        report.packs_checked++;
        report.blobs_checked += results[i].blobs;
        report.bytes_checked += results[i].bytes;
        reporter_.UpdateProgress(report.bytes_checked, report.blobs_checked);
      }
    };
    std::vector<std::thread> workers;
    unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
    for (unsigned i = 1; i < n; ++i) workers.emplace_back(work);
    work();
    for (auto& t : workers) t.join();
    for (auto& r : results) {
      for (auto& line : r.problems) report.problems.push_back(std::move(line));
    }
    reporter_.FinishProgress();
  }

  VerifyReport report;

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
  struct PackResult {
    uint64_t blobs = 0;
    uint64_t bytes = 0;
    std::vector<std::string> problems;
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
    if (!visited_.insert(id).second) return;
    auto cached = trees_.find(id);
    if (cached == trees_.end()) {
      auto tree = repo_.ReadTree(id);
      if (!tree) {
        Refs r;
        r.places.push_back(place);
        r.count = 1;
        Problem(tree.error().message, r);
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
  // `pack_data` and `raw` are scratch buffers the caller keeps from pack to pack.
  PackResult CheckPack(uint32_t pack, const std::vector<BlobId>& blobs, std::string& pack_data,
                       std::string& raw) {
    PackResult out;
    const BlobId& pack_id = repo_.index().PackId(pack);
    Status data = repo_.backend().GetInto(repo::PackObjectName(pack_id), pack_data);
    if (!data) {
      std::string why =
          storage::IsNotFound(data.error()) ? std::string(Tr("is missing")) : data.error().message;
      for (const auto& id : blobs) {
        out.problems.push_back(Affects(
            TrFormat("blob {}: pack {} {}", id.Short(), pack_id.Short(), why), refs_.at(id)));
      }
      return out;
    }
    if (repo::Sha256(pack_data) != pack_id) {
      out.problems.push_back(
          TrFormat("pack {} ({}) does not match its name: it was modified or truncated",
                   pack_id.Short(), repo::PackObjectName(pack_id)));
    }
    for (const auto& id : blobs) {
      const repo::IndexEntry e = *repo_.index().Find(id);  // CheckPacks found it there
      out.blobs++;
      out.bytes += e.length;
      if (static_cast<uint64_t>(e.offset) + e.length > pack_data.size()) {
        out.problems.push_back(
            Affects(TrFormat("blob {} in pack {} is beyond the pack's end (truncated pack)",
                             id.Short(), pack_id.Short()),
                    refs_.at(id)));
        continue;
      }
      std::string_view stored(pack_data.data() + e.offset, e.length);
      auto hash = repo_.DecodeBlob(id, e.codec, e.raw_length, stored, raw);
      if (!hash || *hash != id) {
        out.problems.push_back(
            Affects(TrFormat("blob {} in pack {} is damaged ({})", id.Short(), pack_id.Short(),
                             hash ? std::string(Tr("hash mismatch")) : hash.error().message),
                    refs_.at(id)));
      }
    }
    return out;
  }

  repo::Repository& repo_;
  Reporter& reporter_;
  std::map<BlobId, Refs> refs_;
  std::map<BlobId, repo::Tree> trees_;
  std::set<BlobId> visited_;
  std::mutex progress_mu_;
};

}  // namespace

Result<VerifyReport> VerifyBackups(repo::Repository& repo, Reporter& reporter,
                                   const std::vector<std::string>& ids) {
  Verifier verifier(repo, reporter);
  for (const auto& d : repo.index_damage()) {
    verifier.report.problems.push_back(TrFormat("index {}: {}", d.object, d.message));
  }
  std::vector<repo::Snapshot> snapshots;
  if (ids.empty()) {
    std::vector<repo::ObjectDamage> damage;
    VELIN_ASSIGN(snapshots, repo.LoadAllSnapshots(&damage));
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
  for (const auto& s : snapshots) verifier.AddSnapshot(s);
  verifier.CheckPacks();
  return std::move(verifier.report);
}

}  // namespace velin::backup
