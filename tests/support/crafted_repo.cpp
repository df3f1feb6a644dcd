#include "support/crafted_repo.hpp"

#include <gtest/gtest.h>

#include "velin/io/env.hpp"
#include "velin/repo/blob_writer.hpp"
#include "velin/repo/snapshot.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::testing {

void CraftSnapshot(const std::string& repo_dir, const std::string& id,
                   const std::vector<std::pair<std::string, repo::Tree>>& sources,
                   const std::vector<repo::Tree>& subtrees, const std::string& host,
                   const std::string& app) {
  auto backend = storage::LocalBackend::Open(io::Env::Default(), repo_dir, true);
  ASSERT_TRUE(backend);
  auto r = repo::Repository::Open(**backend, true);
  ASSERT_TRUE(r);
  ASSERT_TRUE((*r)->LoadIndex());
  repo::BlobWriter writer(**r, {});
  for (const auto& t : subtrees) {
    std::string data = repo::EncodeTree(t);
    ASSERT_TRUE(writer.Save(repo::BlobType::kTree, repo::Sha256(data), data));
  }
  repo::Snapshot snap;
  snap.id = id;
  snap.time = "2026-01-01T00:00:00Z";
  snap.strategy = repo::Strategy::kFull;
  snap.host = host;
  snap.app = app;
  for (const auto& [name, top] : sources) {
    std::string data = repo::EncodeTree(top);
    repo::BlobId tid = repo::Sha256(data);
    ASSERT_TRUE(writer.Save(repo::BlobType::kTree, tid, data));
    repo::SnapshotSource src;
    src.name = name;
    src.kind = repo::SourceKind::kPath;
    src.tree = tid;
    snap.sources.push_back(src);
  }
  ASSERT_TRUE(writer.Save(repo::BlobType::kData, repo::Sha256(kCraftedContent), kCraftedContent));
  ASSERT_TRUE(writer.Flush());
  ASSERT_TRUE((*backend)->Put(repo::SnapshotObjectName(id), repo::EncodeSnapshot(snap)));
}

repo::Tree TreeOf(std::vector<repo::Node> nodes) {
  repo::Tree t;
  t.nodes = std::move(nodes);
  return t;
}

}  // namespace velin::testing
