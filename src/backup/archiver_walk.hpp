// Private to the archiver: the walk over one backup's sources (archiver.cpp drives it and
// commits the snapshot).
#pragma once

#include <map>
#include <string>
#include <utility>

#include "velin/backup/archiver.hpp"
#include "velin/repo/blob_writer.hpp"
#include "velin/repo/chunker.hpp"
#include "velin/repo/tree.hpp"

namespace velin::backup {

class ArchiveWalk {
 public:
  ArchiveWalk(repo::Repository& repo, io::Env& env, Reporter& reporter,
              const CreateOptions& options, repo::BlobWriter& writer, const repo::Snapshot* parent);

  // One backup.include path: a source whose tree holds one node, the path's last component.
  Result<repo::SnapshotSource> ArchivePath(const std::string& include);
  Result<repo::SnapshotSource> ArchiveStream(StreamSource& source);
  repo::SnapshotStats& stats() { return stats_; }

 private:
  // Fills `node` (already named) for the entry at `abs`; `rel_app` is relative to app.root,
  // `rel_src` to the source's root (hardlink targets).
  Status ArchiveNode(const std::string& abs, const std::string& rel_app, const std::string& rel_src,
                     const io::FileInfo& info, const repo::Node* parent_node, repo::Node& node);
  Result<repo::BlobId> ArchiveDir(const std::string& abs, const std::string& rel_app,
                                  const std::string& rel_src, const repo::Tree* parent_tree);
  Status ReadContent(const std::string& abs, repo::Node& node);
  Status SaveChunk(std::string_view chunk, std::vector<repo::BlobId>& ids);
  Result<repo::BlobId> SaveTree(const repo::Tree& tree);
  const repo::Tree* ParentSubtree(const repo::Node* parent_node);

  repo::Repository& repo_;
  io::Env& env_;
  Reporter& reporter_;
  const CreateOptions& options_;
  repo::BlobWriter& writer_;
  const repo::Snapshot* parent_;
  repo::StreamChunker chunker_;
  std::vector<repo::BlobId>* chunk_ids_ = nullptr;                  // where chunker_ emits into
  std::map<std::pair<uint64_t, uint64_t>, std::string> hardlinks_;  // (dev, inode) -> rel_src
  std::map<repo::BlobId, repo::Tree> parent_trees_;                 // loaded parent trees
  repo::SnapshotStats stats_;
};

}  // namespace velin::backup
