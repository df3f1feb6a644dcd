// Listing, finding and dumping a backup's paths (include/velin/backup/inspect.hpp).
#include "velin/backup/inspect.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <unordered_map>

#include "velin/backup/archiver.hpp"
#include "velin/backup/stream_source.hpp"
#include "velin/core/i18n.hpp"
#include "velin/core/stack.hpp"
#include "velin/io/env.hpp"

namespace velin::backup {

using repo::Node;
using repo::NodeType;
using repo::Tree;

namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::string Normalize(std::string path) {
  while (path.rfind("./", 0) == 0) path.erase(0, 2);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// The source's root node, checked: one node named like the include path's last component.
Result<Node> SourceRoot(repo::Repository& repo, const repo::Snapshot& snapshot,
                        const repo::SnapshotSource& src) {
  VELIN_ASSIGN(Tree top, repo.ReadTree(src.tree));
  if (top.nodes.size() != 1 || top.nodes[0].name != io::Basename(src.name)) {
    return DamageError(TrFormat("backup {}: source '{}' has a bad root", snapshot.id, src.name));
  }
  return std::move(top.nodes[0]);
}

Status WalkBelow(repo::Repository& repo, const BackupEntry& dir,
                 const std::function<Status(const BackupEntry&)>& visit) {
  if (dir.node.type != NodeType::kDir) return Ok();
  VELIN_TRY(StackRoomBelow(dir.path));  // velin/core/stack.hpp
  VELIN_ASSIGN(Tree tree, repo.ReadTree(dir.node.subtree));
  for (Node& child : tree.nodes) {
    BackupEntry entry{io::JoinPath(dir.path, child.name), std::move(child)};
    VELIN_TRY(visit(entry));
    VELIN_TRY(WalkBelow(repo, entry, visit));
  }
  return Ok();
}

// The entry at `path` and the directory of the source that holds it (for hardlink targets).
struct Located {
  BackupEntry entry;
  std::string source_dir;
  std::string source_top;  // the name of the source's top node
};

Result<std::optional<Located>> Locate(repo::Repository& repo, const repo::Snapshot& snapshot,
                                      const std::string& raw_path) {
  const std::string path = Normalize(raw_path);
  for (const auto& src : snapshot.sources) {
    if (src.kind != repo::SourceKind::kPath) continue;
    const bool exact = path == src.name;
    if (!exact && path.rfind(src.name + "/", 0) != 0) continue;
    VELIN_ASSIGN(Node current, SourceRoot(repo, snapshot, src));
    const std::string src_dir = io::Dirname(src.name) == "." ? "" : io::Dirname(src.name);
    if (!exact) {
      for (const std::string& part : SplitPath(path.substr(src.name.size() + 1))) {
        if (current.type != NodeType::kDir) return std::optional<Located>();
        VELIN_ASSIGN(Tree tree, repo.ReadTree(current.subtree));
        auto it = std::find_if(tree.nodes.begin(), tree.nodes.end(),
                               [&](const Node& n) { return n.name == part; });
        if (it == tree.nodes.end()) return std::optional<Located>();
        current = std::move(*it);
      }
    }
    return std::optional<Located>(
        Located{BackupEntry{path, std::move(current)}, src_dir, io::Basename(src.name)});
  }
  return std::optional<Located>();
}

Status RequireIndexed(repo::Repository& repo, const std::vector<repo::BlobId>& chunks,
                      const std::string& what, const std::string& backup) {
  for (const auto& id : chunks) {
    if (!repo.index().Find(id)) {
      return DamageError(TrFormat("backup {}: '{}' references chunk {}, which no index lists ({})",
                                  backup, what, id.Short(), repo.NotIndexedHint()));
    }
  }
  return Ok();
}

}  // namespace

std::string NodeTypeName(NodeType type) {
  // `default`, not an exhaustive switch: a node type added to the tree format later still
  // lists (by number) until it is named here.
  switch (type) {
    case NodeType::kFile:
      return "file";
    case NodeType::kDir:
      return "dir";
    case NodeType::kSymlink:
      return "symlink";
    case NodeType::kHardlink:
      return "hardlink";
    case NodeType::kFifo:
      return "fifo";
    case NodeType::kCharDevice:
      return "chardev";
    case NodeType::kBlockDevice:
      return "blockdev";
    default:
      return "type " + std::to_string(static_cast<unsigned>(type));
  }
}

Result<std::optional<BackupEntry>> FindEntry(repo::Repository& repo, const repo::Snapshot& snapshot,
                                             const std::string& path) {
  VELIN_ASSIGN(auto located, Locate(repo, snapshot, path));
  if (!located) return std::optional<BackupEntry>();
  return std::optional<BackupEntry>(std::move(located->entry));
}

namespace {

// The entries of `out` from `from` on, of the source in `source_dir` whose top node is
// `source_top`: a hardlink's target made its first link's path relative to app.root, like the
// entries' own paths (a tree records it relative to the source's directory).
void HardlinkTargetsFromRoot(std::vector<BackupEntry>& out, size_t from,
                             const std::string& source_dir, const std::string& source_top) {
  for (size_t i = from; i < out.size(); ++i) {
    Node& node = out[i].node;
    if (node.type != NodeType::kHardlink) continue;
    node.target = io::JoinPath(source_dir, repo::HardlinkTargetPath(node.target, source_top));
  }
}

}  // namespace

Result<std::vector<BackupEntry>> ListBackup(repo::Repository& repo, const repo::Snapshot& snapshot,
                                            const ListOptions& options) {
  std::vector<BackupEntry> out;
  auto collect = [&](const BackupEntry& e) {
    out.push_back(e);
    return Ok();
  };
  const std::string path = Normalize(options.path);
  if (!path.empty()) {
    VELIN_ASSIGN(auto located, Locate(repo, snapshot, path));
    if (located) {
      BackupEntry& found = located->entry;
      if (found.node.type != NodeType::kDir) {
        out.push_back(std::move(found));
      } else {
        VELIN_ASSIGN(Tree tree, repo.ReadTree(found.node.subtree));
        for (Node& child : tree.nodes) {
          BackupEntry entry{io::JoinPath(found.path, child.name), std::move(child)};
          out.push_back(entry);
          if (options.recursive) VELIN_TRY(WalkBelow(repo, entry, collect));
        }
      }
      HardlinkTargetsFromRoot(out, 0, located->source_dir, located->source_top);
      return out;
    }
  }
  // The include roots, all of them or those below `path`.
  bool any = false;
  for (const auto& src : snapshot.sources) {
    if (src.kind != repo::SourceKind::kPath) continue;
    if (!path.empty() && src.name.rfind(path + "/", 0) != 0) continue;
    any = true;
    VELIN_ASSIGN(Node root, SourceRoot(repo, snapshot, src));
    BackupEntry entry{src.name, std::move(root)};
    const size_t from = out.size();
    out.push_back(entry);
    if (options.recursive) VELIN_TRY(WalkBelow(repo, entry, collect));
    HardlinkTargetsFromRoot(out, from, io::Dirname(src.name) == "." ? "" : io::Dirname(src.name),
                            io::Basename(src.name));
  }
  if (!any && !path.empty()) {
    return UsageError(TrFormat("backup {} has no path '{}'", snapshot.id, options.path));
  }
  return out;
}

std::vector<BackupStream> BackupStreams(const repo::Snapshot& snapshot) {
  std::vector<BackupStream> out;
  for (const auto& src : snapshot.sources) {
    if (src.kind == repo::SourceKind::kStream) out.push_back({src.name, src.bytes, src.metadata});
  }
  return out;
}

bool PathMatches(const std::string& pattern, const std::string& path) {
  if (pattern.find('/') != std::string::npos) return fnmatch(pattern.c_str(), path.c_str(), 0) == 0;
  return fnmatch(pattern.c_str(), io::Basename(path).c_str(), 0) == 0;
}

namespace {

// Matches below one directory, relative to it; remembered by tree id (and, for a pattern that
// matches whole paths, by the directory's path), so an unchanged directory is read once.
class TreeMatcher {
 public:
  TreeMatcher(repo::Repository& repo, const std::string& pattern)
      : repo_(repo), pattern_(pattern), by_path_(pattern.find('/') != std::string::npos) {}

  Result<std::vector<BackupEntry>> Below(const repo::BlobId& tree_id, const std::string& dir) {
    std::string key = tree_id.Hex();
    if (by_path_) key += "\n" + dir;
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    VELIN_TRY(StackRoomBelow(dir));  // velin/core/stack.hpp
    VELIN_ASSIGN(Tree tree, repo_.ReadTree(tree_id));
    std::vector<BackupEntry> found;
    for (const Node& child : tree.nodes) {
      const std::string path = io::JoinPath(dir, child.name);
      if (PathMatches(pattern_, path)) found.push_back({child.name, child});
      if (child.type != NodeType::kDir) continue;
      VELIN_ASSIGN(auto inner, Below(child.subtree, path));
      for (auto& e : inner) found.push_back({child.name + "/" + e.path, std::move(e.node)});
    }
    memo_.emplace(key, found);
    return found;
  }

 private:
  repo::Repository& repo_;
  const std::string& pattern_;
  bool by_path_;
  std::unordered_map<std::string, std::vector<BackupEntry>> memo_;
};

}  // namespace

Result<std::vector<FindMatch>> FindInBackups(repo::Repository& repo,
                                             const std::vector<repo::Snapshot>& snapshots,
                                             const std::string& pattern) {
  TreeMatcher matcher(repo, pattern);
  std::vector<FindMatch> out;
  for (const auto& s : snapshots) {
    std::vector<FindMatch> mine;
    auto add = [&](const std::string& path, const Node& node) {
      mine.push_back({s.id, s.time, path, NodeTypeName(node.type), node.size, node.mtime_ns});
    };
    for (const auto& src : s.sources) {
      if (src.kind == repo::SourceKind::kStream) {
        if (PathMatches(pattern, src.name))
          mine.push_back({s.id, s.time, src.name, "stream", src.bytes, 0});
        continue;
      }
      if (src.kind != repo::SourceKind::kPath) continue;
      VELIN_ASSIGN(Node root, SourceRoot(repo, s, src));
      if (PathMatches(pattern, src.name)) add(src.name, root);
      if (root.type != NodeType::kDir) continue;
      VELIN_ASSIGN(auto below, matcher.Below(root.subtree, src.name));
      for (const auto& e : below) add(src.name + "/" + e.path, e.node);
    }
    std::sort(mine.begin(), mine.end(),
              [](const FindMatch& a, const FindMatch& b) { return a.path < b.path; });
    for (auto& m : mine) out.push_back(std::move(m));
  }
  return out;
}

Status DumpPath(repo::Repository& repo, const repo::Snapshot& snapshot, const std::string& path,
                const std::function<Status(std::string_view)>& sink) {
  const std::string name = Normalize(path);
  if (const repo::SnapshotSource* src = snapshot.FindSource(name);
      src && src->kind == repo::SourceKind::kStream) {
    VELIN_TRY(RequireIndexed(repo, src->chunks, name, snapshot.id));
    return ReadStreamSource(repo, snapshot, name, sink);
  }
  VELIN_ASSIGN(auto located, Locate(repo, snapshot, name));
  if (!located) return UsageError(TrFormat("backup {} has no path '{}'", snapshot.id, path));
  Node node = std::move(located->entry.node);
  switch (node.type) {
    case NodeType::kFile:
      break;
    case NodeType::kDir:
      return UsageError(TrFormat(
          "'{}' in backup {} is a directory; dump takes a file (`velin backup ls {} {}` lists it)",
          name, snapshot.id, snapshot.id, name));
    case NodeType::kSymlink:
      return UsageError(TrFormat("'{}' in backup {} is a symlink to '{}'; dump takes a file", name,
                                 snapshot.id, node.target));
    case NodeType::kHardlink: {
      const std::string first = io::JoinPath(
          located->source_dir, repo::HardlinkTargetPath(node.target, located->source_top));
      VELIN_ASSIGN(auto primary, Locate(repo, snapshot, first));
      if (!primary || primary->entry.node.type != NodeType::kFile) {
        return DamageError(TrFormat("backup {}: hardlink '{}' points to '{}', not a file",
                                    snapshot.id, name, node.target));
      }
      node = std::move(primary->entry.node);
      break;
    }
    default:
      return UsageError(TrFormat("'{}' in backup {} is a {}; dump takes a file", name, snapshot.id,
                                 NodeTypeName(node.type)));
  }
  VELIN_TRY(RequireIndexed(repo, node.content, name, snapshot.id));
  std::string raw;
  std::string stored;
  for (const auto& id : node.content) {
    Status read = repo.ReadBlobInto(id, raw, stored);
    if (!read)
      return tl::unexpected(read.error().Wrap(TrFormat("backup {} '{}'", snapshot.id, name)));
    VELIN_TRY(sink(raw));
  }
  return Ok();
}

}  // namespace velin::backup
