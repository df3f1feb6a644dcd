// Comparing two backups (include/velin/backup/inspect.hpp, DiffBackups): a merge of their trees
// by name that never reads a directory whose tree id is the same on both sides.
#include <map>

#include "velin/backup/inspect.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/stack.hpp"
#include "velin/io/env.hpp"

namespace velin::backup {

using repo::Node;
using repo::NodeType;
using repo::Tree;

std::string_view ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kAdded:
      return "added";
    case ChangeKind::kRemoved:
      return "removed";
    case ChangeKind::kMetadata:
      return "metadata";
    case ChangeKind::kChanged:
      break;
  }
  return "changed";
}

namespace {

class Differ {
 public:
  explicit Differ(repo::Repository& repo) : repo_(repo) {}

  std::vector<Change> changes;

  Status Source(const repo::Snapshot& from, const repo::SnapshotSource* a, const repo::Snapshot& to,
                const repo::SnapshotSource* b) {
    std::optional<Node> na, nb;
    if (a && a->kind == repo::SourceKind::kStream && b && b->kind == repo::SourceKind::kStream) {
      if (a->chunks != b->chunks) {
        changes.push_back({ChangeKind::kChanged, a->name, "stream", a->bytes, b->bytes});
      }
      return Ok();
    }
    if (a && a->kind == repo::SourceKind::kStream) {
      changes.push_back({ChangeKind::kRemoved, a->name, "stream", a->bytes, 0});
      a = nullptr;
    }
    if (b && b->kind == repo::SourceKind::kStream) {
      changes.push_back({ChangeKind::kAdded, b->name, "stream", 0, b->bytes});
      b = nullptr;
    }
    if (a) {
      VELIN_ASSIGN(na, Root(from, *a));
    }
    if (b) {
      VELIN_ASSIGN(nb, Root(to, *b));
    }
    if (!na && !nb) return Ok();
    return Compare((a ? a : b)->name, na ? &*na : nullptr, nb ? &*nb : nullptr);
  }

 private:
  Result<std::optional<Node>> Root(const repo::Snapshot& s, const repo::SnapshotSource& src) {
    if (src.kind != repo::SourceKind::kPath) return std::optional<Node>();
    VELIN_ASSIGN(Tree top, repo_.ReadTree(src.tree));
    if (top.nodes.size() != 1 || top.nodes[0].name != io::Basename(src.name)) {
      return DamageError(TrFormat("backup {}: source '{}' has a bad root", s.id, src.name));
    }
    return std::optional<Node>(std::move(top.nodes[0]));
  }

  // Every entry at and below `node` as added (or removed).
  Status All(ChangeKind kind, const std::string& path, const Node& node) {
    const bool added = kind == ChangeKind::kAdded;
    changes.push_back(
        {kind, path, NodeTypeName(node.type), added ? 0 : node.size, added ? node.size : 0});
    if (node.type != NodeType::kDir) return Ok();
    VELIN_TRY(StackRoomBelow(path));  // velin/core/stack.hpp
    VELIN_ASSIGN(Tree tree, repo_.ReadTree(node.subtree));
    for (const Node& child : tree.nodes) {
      VELIN_TRY(All(kind, io::JoinPath(path, child.name), child));
    }
    return Ok();
  }

  // Extended attributes (ACLs are system.posix_acl_* among them) and a device's number are
  // metadata as the mode is: a restore sets them. A node of a VLNTREE1 tree recorded none, so
  // its attributes are unknown and not compared.
  static bool SameMetadata(const Node& a, const Node& b, bool with_mtime) {
    return a.mode == b.mode && a.uid == b.uid && a.gid == b.gid && a.rdev == b.rdev &&
           (!with_mtime || a.mtime_ns == b.mtime_ns) &&
           (!a.xattrs_known || !b.xattrs_known || a.xattrs == b.xattrs);
  }

  Status Compare(const std::string& path, const Node* a, const Node* b) {
    if (!a) return All(ChangeKind::kAdded, path, *b);
    if (!b) return All(ChangeKind::kRemoved, path, *a);
    if (a->type != b->type) {
      VELIN_TRY(All(ChangeKind::kRemoved, path, *a));
      return All(ChangeKind::kAdded, path, *b);
    }
    const std::string type = NodeTypeName(b->type);
    if (a->type == NodeType::kDir) {
      // A directory's mtime moves with every change inside it: only its own mode and owner
      // count as a change of the directory.
      if (!SameMetadata(*a, *b, false)) {
        changes.push_back({ChangeKind::kMetadata, path, type, a->size, b->size});
      }
      if (a->subtree == b->subtree) return Ok();
      VELIN_TRY(StackRoomBelow(path));  // velin/core/stack.hpp
      VELIN_ASSIGN(Tree ta, repo_.ReadTree(a->subtree));
      VELIN_ASSIGN(Tree tb, repo_.ReadTree(b->subtree));
      std::map<std::string, std::pair<const Node*, const Node*>> names;
      for (const Node& n : ta.nodes) names[n.name].first = &n;
      for (const Node& n : tb.nodes) names[n.name].second = &n;
      for (const auto& [name, pair] : names) {
        VELIN_TRY(Compare(io::JoinPath(path, name), pair.first, pair.second));
      }
      return Ok();
    }
    const bool content_changed =
        a->size != b->size || a->content != b->content || a->target != b->target;
    if (content_changed) {
      changes.push_back({ChangeKind::kChanged, path, type, a->size, b->size});
    } else if (!SameMetadata(*a, *b, true)) {
      changes.push_back({ChangeKind::kMetadata, path, type, a->size, b->size});
    }
    return Ok();
  }

  repo::Repository& repo_;
};

}  // namespace

Result<std::vector<Change>> DiffBackups(repo::Repository& repo, const repo::Snapshot& from,
                                        const repo::Snapshot& to) {
  std::map<std::string, std::pair<const repo::SnapshotSource*, const repo::SnapshotSource*>>
      sources;
  for (const auto& s : from.sources) sources[s.name].first = &s;
  for (const auto& s : to.sources) sources[s.name].second = &s;
  Differ differ(repo);
  for (const auto& [name, pair] : sources) {
    VELIN_TRY(differ.Source(from, pair.first, to, pair.second));
  }
  return std::move(differ.changes);
}

}  // namespace velin::backup
