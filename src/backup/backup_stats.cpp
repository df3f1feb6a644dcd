// What the repository stores for a set of backups (include/velin/backup/inspect.hpp,
// ComputeStats): the distinct blobs each source references, priced by the index.
#include <map>
#include <unordered_set>

#include "velin/backup/archiver.hpp"
#include "velin/backup/inspect.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/stack.hpp"

namespace velin::backup {

namespace {

using BlobSet = std::unordered_set<repo::BlobId, repo::BlobIdHash>;

// A source's distinct blobs: data chunks and tree blobs apart.
struct Blobs {
  BlobSet data;
  BlobSet trees;

  void Add(const Blobs& other) {
    data.insert(other.data.begin(), other.data.end());
    trees.insert(other.trees.begin(), other.trees.end());
  }
};

Status CollectTree(repo::Repository& repo, const repo::BlobId& tree_id, Blobs& blobs) {
  if (!blobs.trees.insert(tree_id).second) return Ok();  // counted (an unchanged directory)
  if (!StackHasRoom()) return StackTooDeep(TrFormat("tree {}", tree_id.Short()));
  VELIN_ASSIGN(repo::Tree tree, repo.ReadTree(tree_id));
  for (const auto& node : tree.nodes) {
    if (node.type == repo::NodeType::kDir) {
      VELIN_TRY(CollectTree(repo, node.subtree, blobs));
    } else if (node.type == repo::NodeType::kFile) {
      blobs.data.insert(node.content.begin(), node.content.end());
    }
  }
  return Ok();
}

Status Price(repo::Repository& repo, const Blobs& blobs, SourceStats& stats) {
  // Every blob a source references must be in the index: one missing is damage.
  auto entry = [&](const auto& id) -> Result<repo::IndexEntry> {
    const std::optional<repo::IndexEntry> e = repo.index().Find(id);
    if (!e) {
      return DamageError(TrFormat("'{}' references blob {}, which no index lists ({})", stats.name,
                                  id.Short(), repo.NotIndexedHint()));
    }
    stats.blobs++;
    return *e;
  };
  for (const auto& id : blobs.trees) {
    VELIN_ASSIGN(const repo::IndexEntry e, entry(id));
    stats.trees_stored += e.length;
  }
  for (const auto& id : blobs.data) {
    VELIN_ASSIGN(const repo::IndexEntry e, entry(id));
    stats.raw += e.raw_length;
    stats.stored += e.length;
  }
  return Ok();
}

}  // namespace

Result<BackupStats> ComputeStats(repo::Repository& repo,
                                 const std::vector<repo::Snapshot>& snapshots,
                                 bool whole_repository) {
  BackupStats out;
  std::map<std::string, std::pair<SourceStats, Blobs>> by_name;
  Blobs all;
  for (const auto& s : snapshots) {
    out.backups++;
    for (const auto& src : s.sources) {
      auto& [stats, blobs] = by_name[src.name];
      stats.name = src.name;
      stats.kind = std::string(repo::SourceKindName(src.kind));
      stats.backups++;
      stats.files += src.files;
      stats.logical += src.bytes;
      if (src.kind == repo::SourceKind::kStream) {
        blobs.data.insert(src.chunks.begin(), src.chunks.end());
      } else if (src.kind == repo::SourceKind::kPath) {
        VELIN_TRY(CollectTree(repo, src.tree, blobs));
      }
    }
  }
  // The total: every source's files and bytes, and the union of their blobs.
  for (auto& [name, entry] : by_name) {
    auto& [stats, blobs] = entry;
    VELIN_TRY(Price(repo, blobs, stats));
    out.total.files += stats.files;
    out.total.logical += stats.logical;
    all.Add(blobs);
    out.sources.push_back(std::move(stats));
  }
  out.total.name = "total";
  out.total.backups = out.backups;
  VELIN_TRY(Price(repo, all, out.total));
  if (whole_repository) {
    // A delta blob needs its base, referenced by a backup or not: as prune counts it.
    std::vector<repo::BlobId> bases;
    for (const auto& id : all.data) {
      if (const repo::BlobId* base = repo.index().DeltaBase(id)) bases.push_back(*base);
    }
    all.data.insert(bases.begin(), bases.end());
    repo.index().ForEach([&](const repo::BlobId& id, const repo::IndexEntry& e) {
      out.repository_blobs++;
      out.repository_stored += e.length;
      if (all.data.count(id) == 0 && all.trees.count(id) == 0) out.repository_unreferenced++;
    });
  }
  return out;
}

}  // namespace velin::backup
