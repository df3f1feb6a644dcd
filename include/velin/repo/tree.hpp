// Tree blobs: one directory listing each, content-addressed like data blobs, so an unchanged
// directory has the same id in every snapshot and costs nothing. Binary, little-endian, entries
// sorted by name (byte order); names are raw bytes — spaces, newlines, any encoding — but never
// empty, ".", "..", or containing '/' or NUL: DecodeTree rejects such names, which is what keeps
// a crafted repository from writing outside a restore target (docs/repository-format.md,
// "Trees"). Two encodings: VLNTREE1 (format versions 1-3) and VLNTREE2 (format version 4), which
// adds fifos, device nodes, extended attributes and the sparse flag.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/blob_id.hpp"

namespace velin::repo {

// 5-7 only in VLNTREE2 trees.
enum class NodeType : uint8_t {
  kFile = 1,
  kDir = 2,
  kSymlink = 3,
  kHardlink = 4,
  kFifo = 5,
  kCharDevice = 6,
  kBlockDevice = 7,
};

// Extended attributes (name, value), sorted by name, names unique (same type as io::Xattrs).
using Xattrs = std::vector<std::pair<std::string, std::string>>;
// Linux's limits (XATTR_NAME_MAX, XATTR_SIZE_MAX): a tree that records more is damaged.
inline constexpr size_t kMaxXattrName = 255;
inline constexpr size_t kMaxXattrValue = 65536;

struct Node {
  NodeType type = NodeType::kFile;
  std::string name;
  uint32_t mode = 0;  // permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  std::vector<BlobId> content;  // kFile: the chunks, in order
  BlobId subtree;               // kDir
  std::string target;           // kSymlink: the link's target; kHardlink: the path (relative
                                // to the source's root, '/'-separated) of the first link
  uint64_t rdev = 0;            // kCharDevice, kBlockDevice: the device number
  // VLNTREE2 only: true when the node was read from (or is for) a VLNTREE2 tree, which records
  // a file's or directory's extended attributes (none recorded then means it had none); false
  // for VLNTREE1 nodes, whose extended attributes are unknown.
  bool xattrs_known = false;
  Xattrs xattrs;        // kFile, kDir
  bool sparse = false;  // kFile: had holes (fewer blocks than its size): restored with holes

  bool operator==(const Node&) const = default;
};

struct Tree {
  int format = 1;           // 1: "VLNTREE1", 2: "VLNTREE2"
  std::vector<Node> nodes;  // sorted by name
};

// True for a name a tree may hold.
bool IsValidNodeName(std::string_view name);

// REQUIRES: nodes sorted by name, names valid, xattrs sorted and within the limits; a format 1
// tree holds only types 1-4 (it has no room for xattrs and the sparse flag: they are dropped).
std::string EncodeTree(const Tree& tree);
// DamageError on malformed data, unsorted or duplicate names, invalid names. `top_name`, when
// given, is the name of a source's top node that earlier velins recorded as "" or "." (an
// include written "storage/uploads/"): such a tree of that one node decodes with the node
// named `top_name` (docs/repository-format.md, "Source names").
Result<Tree> DecodeTree(std::string_view data, std::string_view top_name = {});

// The path a hardlink node's `target` names, relative to the directory of its source (e.g.
// "uploads/a.txt" for a link in the source storage/uploads). Earlier velins recorded the
// targets below a top node they named "" (DecodeTree) as "/a.txt": read below `top_name`.
std::string HardlinkTargetPath(const std::string& target, const std::string& top_name);

}  // namespace velin::repo
