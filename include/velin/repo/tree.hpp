// Tree blobs: one directory listing each, content-addressed like data blobs, so an unchanged
// directory has the same id in every snapshot and costs nothing. Binary, little-endian, entries
// sorted by name (byte order); names are raw bytes — spaces, newlines, any encoding — but never
// empty, ".", "..", or containing '/' or NUL: DecodeTree rejects such names, which is what keeps
// a crafted repository from writing outside a restore target (docs/repository-format.md,
// "Trees").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/repo/blob_id.hpp"

namespace velin::repo {

enum class NodeType : uint8_t { kFile = 1, kDir = 2, kSymlink = 3, kHardlink = 4 };

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
};

struct Tree {
  std::vector<Node> nodes;  // sorted by name
};

// True for a name a tree may hold.
bool IsValidNodeName(std::string_view name);

// REQUIRES: nodes sorted by name, names valid.
std::string EncodeTree(const Tree& tree);
// DamageError on malformed data, unsorted or duplicate names, invalid names.
Result<Tree> DecodeTree(std::string_view data);

}  // namespace velin::repo
