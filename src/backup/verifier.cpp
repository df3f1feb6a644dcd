#include "velin/backup/verifier.hpp"

#include <map>
#include <set>

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
      if (src.kind == "stream") {
        for (const auto& id : src.chunks) Note(id, s.id + ":" + src.name + " (stream)");
        continue;
      }
      std::string dir = io::Dirname(src.name) == "." ? "" : io::Dirname(src.name) + "/";
      visited_.clear();
      Walk(src.tree, s.id, dir, s.id + ":" + src.name);
    }
  }

  void CheckPacks() {
    std::map<uint32_t, std::vector<std::pair<BlobId, const repo::IndexEntry*>>> by_pack;
    for (const auto& [id, refs] : refs_) {
      const repo::IndexEntry* e = repo_.index().Find(id);
      if (!e) {
        Problem("blob " + id.Short() + " is missing from the index", refs);
        continue;
      }
      by_pack[e->pack].emplace_back(id, e);
    }
    uint64_t total = 0;
    for (const auto& [pack, blobs] : by_pack) {
      for (const auto& b : blobs) total += b.second->length;
    }
    reporter_.StartProgress(Tr("Verifying"), total);
    for (const auto& [pack, blobs] : by_pack) CheckPack(pack, blobs);
    reporter_.EndProgress();
  }

  VerifyReport report;

 private:
  void Note(const BlobId& id, const std::string& place) {
    Refs& r = refs_[id];
    if (r.places.size() < kMaxPlacesPerBlob) r.places.push_back(place);
    r.count++;
  }

  void Problem(const std::string& what, const Refs& refs) {
    std::string line = what + "; affects ";
    for (size_t i = 0; i < refs.places.size(); ++i) line += (i ? ", " : "") + refs.places[i];
    if (refs.count > refs.places.size()) {
      line += " and " + std::to_string(refs.count - refs.places.size()) + " more";
    }
    report.problems.push_back(line);
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
      report.blobs_checked++;
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

  void CheckPack(uint32_t pack,
                 const std::vector<std::pair<BlobId, const repo::IndexEntry*>>& blobs) {
    const BlobId& pack_id = repo_.index().PackId(pack);
    auto data = repo_.backend().Get(repo::PackObjectName(pack_id));
    report.packs_checked++;
    if (!data) {
      std::string why = storage::IsNotFound(data.error()) ? "is missing" : data.error().message;
      for (const auto& [id, e] : blobs) {
        Problem("blob " + id.Short() + ": pack " + pack_id.Short() + " " + why, refs_[id]);
      }
      return;
    }
    if (repo::Sha256(*data) != pack_id) {
      report.problems.push_back("pack " + pack_id.Short() + " (" + repo::PackObjectName(pack_id) +
                                ") does not match its name: it was modified or truncated");
    }
    for (const auto& [id, e] : blobs) {
      report.blobs_checked++;
      report.bytes_checked += e->length;
      reporter_.UpdateProgress(report.bytes_checked, report.blobs_checked);
      if (static_cast<uint64_t>(e->offset) + e->length > data->size()) {
        Problem("blob " + id.Short() + " in pack " + pack_id.Short() +
                    " is beyond the pack's end (truncated pack)",
                refs_[id]);
        continue;
      }
      auto compressed = repo_.OpenObject("blob", id.Hex(), data->substr(e->offset, e->length));
      auto raw = compressed ? repo::Decompress(e->codec, *compressed, e->raw_length)
                            : Result<std::string>(tl::unexpected(compressed.error()));
      auto hash = raw ? repo_.HashBlob(*raw) : Result<BlobId>(tl::unexpected(raw.error()));
      if (!hash || *hash != id) {
        Problem("blob " + id.Short() + " in pack " + pack_id.Short() + " is damaged (" +
                    (hash ? std::string("hash mismatch") : hash.error().message) + ")",
                refs_[id]);
      }
    }
  }

  repo::Repository& repo_;
  Reporter& reporter_;
  std::map<BlobId, Refs> refs_;
  std::map<BlobId, repo::Tree> trees_;
  std::set<BlobId> visited_;
};

}  // namespace

Result<VerifyReport> VerifyBackups(repo::Repository& repo, Reporter& reporter,
                                   const std::vector<std::string>& ids) {
  Verifier verifier(repo, reporter);
  for (const auto& d : repo.index_damage()) {
    verifier.report.problems.push_back("index " + d.object + ": " + d.message);
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
