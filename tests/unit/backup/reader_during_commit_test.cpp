// A reader whose index was loaded before another velin committed a backup: reading that
// backup loads the index again instead of calling its blobs missing (verify and restore
// reported an intact repository as damaged, exit 4, when a create committed as they started).
#include <gtest/gtest.h>

#include "support/local_repo.hpp"
#include "support/test_support.hpp"
#include "velin/backup/archiver.hpp"
#include "velin/io/env.hpp"
#include "velin/repo/repository.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::backup {
namespace {

struct ReaderAndWriter : testing::LocalRepo {
  std::unique_ptr<storage::LocalBackend> reader_backend;
  std::unique_ptr<repo::Repository> reader;

  std::string app() const { return dir / "app"; }
  repo::Snapshot WriterBackup(const std::string& content) {
    testing::WriteFile(app() + "/uploads/a.txt", content);
    CreateOptions options;
    options.app_root = app();
    options.include = {"uploads"};
    NullReporter reporter;
    auto s = CreateBackup(*repo, io::Env::Default(), reporter, options);
    EXPECT_TRUE(s) << s.error().message;
    return *s;
  }
  void OpenReader() {
    reader_backend =
        std::move(*storage::LocalBackend::Open(io::Env::Default(), dir / "repo", false));
    reader = std::move(*repo::Repository::Open(*reader_backend, false));
    ASSERT_TRUE(reader->LoadIndex());
  }
};

TEST(ReaderDuringCommit, ABackupCommittedAfterTheReaderLoadedItsIndexReadsWhole) {
  ReaderAndWriter f;
  f.WriterBackup("first");
  f.OpenReader();
  const repo::Snapshot second = f.WriterBackup("second, with blobs of its own");

  auto all = f.reader->LoadAllSnapshots(nullptr);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  auto tree = f.reader->ReadTree(second.sources.at(0).tree);
  EXPECT_TRUE(tree) << tree.error().message;
}

TEST(ReaderDuringCommit, LatestAndANamedBackupCatchUpToo) {
  for (bool by_name : {false, true}) {
    ReaderAndWriter f;
    f.WriterBackup("first");
    f.OpenReader();
    const repo::Snapshot second = f.WriterBackup("second " + std::to_string(by_name));
    auto id = by_name ? Result<std::string>(second.id) : f.reader->ResolveSnapshotId("latest");
    ASSERT_TRUE(id) << id.error().message;
    EXPECT_EQ(*id, second.id);
    auto s = f.reader->LoadSnapshot(*id);
    ASSERT_TRUE(s) << s.error().message;
    auto tree = f.reader->ReadTree(s->sources.at(0).tree);
    EXPECT_TRUE(tree) << (by_name ? "named: " : "latest: ") << tree.error().message;
  }
}

}  // namespace
}  // namespace velin::backup
