// The inspection engine on real backups of a temp tree: the glob rule, find across backups
// (with its memo of unchanged directories), diff by tree ids, ls of virtual directories, dump
// of hardlinks, and stats.
#include "velin/backup/inspect.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/local_repo.hpp"
#include "support/test_support.hpp"
#include "velin/backup/archiver.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::backup {
namespace {

// A repository and an app/ to back up into it.
struct AppRepo : testing::LocalRepo {
  std::string app() const { return dir / "app"; }
  repo::Snapshot Backup(std::vector<std::string> include) {
    CreateOptions options;
    options.app_root = app();
    options.include = std::move(include);
    NullReporter reporter;
    auto s = CreateBackup(*repo, io::Env::Default(), reporter, options);
    EXPECT_TRUE(s) << s.error().message;
    EXPECT_TRUE(repo->LoadIndex());
    return *s;
  }
};

TEST(InspectTest, PatternMatchesTheNameUnlessItHoldsASlash) {
  EXPECT_TRUE(PathMatches("*.jpg", "storage/uploads/a.jpg"));
  EXPECT_TRUE(PathMatches("a.jpg", "storage/uploads/a.jpg"));
  EXPECT_FALSE(PathMatches("uploads", "storage/uploads/a.jpg"));
  EXPECT_TRUE(PathMatches("storage/*/a.jpg", "storage/uploads/a.jpg"));
  EXPECT_FALSE(PathMatches("uploads/*.jpg", "storage/uploads/a.jpg"));  // whole path
  EXPECT_TRUE(PathMatches("storage/*", "storage/uploads/a.jpg"));       // '*' crosses '/'
  EXPECT_TRUE(PathMatches("new?line", "d/new\nline"));
  EXPECT_EQ(NodeTypeName(repo::NodeType::kFifo), "fifo");
  EXPECT_EQ(NodeTypeName(repo::NodeType::kCharDevice), "chardev");
  EXPECT_EQ(NodeTypeName(repo::NodeType::kBlockDevice), "blockdev");
  EXPECT_EQ(NodeTypeName(static_cast<repo::NodeType>(9)), "type 9");
}

TEST(InspectTest, FindDiffAndListAcrossTwoBackups) {
  AppRepo f;
  testing::WriteFile(f.app() + "/storage/uploads/a.jpg", "jpeg-a");
  testing::WriteFile(f.app() + "/storage/uploads/b.jpg", "jpeg-b");
  testing::WriteFile(f.app() + "/storage/same/x.jpg", "same");
  testing::WriteFile(f.app() + "/config/app.ini", "[x]\n");
  ASSERT_EQ(::link((f.app() + "/storage/uploads/a.jpg").c_str(),
                   (f.app() + "/storage/same/hard.jpg").c_str()),
            0);
  repo::Snapshot first = f.Backup({"storage", "config/app.ini"});
  testing::WriteFile(f.app() + "/storage/uploads/b.jpg", "jpeg-b, edited");
  std::filesystem::remove(f.app() + "/storage/uploads/a.jpg");
  testing::WriteFile(f.app() + "/storage/uploads/c/d.jpg", "new");
  repo::Snapshot second = f.Backup({"storage", "config/app.ini"});

  auto found = FindInBackups(*f.repo, {second, first}, "*.jpg");
  ASSERT_TRUE(found) << found.error().message;
  std::vector<std::string> got;
  for (const auto& m : *found) got.push_back(m.backup.substr(m.backup.size() - 2) + " " + m.path);
  const std::string s2 = second.id.substr(second.id.size() - 2);
  const std::string s1 = first.id.substr(first.id.size() - 2);
  EXPECT_EQ(got, (std::vector<std::string>{
                     s2 + " storage/same/hard.jpg", s2 + " storage/same/x.jpg",
                     s2 + " storage/uploads/b.jpg", s2 + " storage/uploads/c/d.jpg",
                     s1 + " storage/same/hard.jpg", s1 + " storage/same/x.jpg",
                     s1 + " storage/uploads/a.jpg", s1 + " storage/uploads/b.jpg"}));
  auto by_path = FindInBackups(*f.repo, {second, first}, "storage/same/*");
  ASSERT_TRUE(by_path);
  EXPECT_EQ(by_path->size(), 4u);

  auto diff = DiffBackups(*f.repo, first, second);
  ASSERT_TRUE(diff) << diff.error().message;
  std::vector<std::string> changes;
  for (const auto& c : *diff) {
    changes.push_back(std::string(ChangeKindName(c.kind)) + " " + c.path + " " +
                      std::to_string(c.old_size) + ">" + std::to_string(c.new_size));
  }
  // storage/same has the same tree id in both: not read, not listed (the walk met hard.jpg
  // first, so it holds the bytes and uploads/a.jpg was the hardlink to it).
  EXPECT_EQ(changes, (std::vector<std::string>{
                         "removed storage/uploads/a.jpg 6>0", "changed storage/uploads/b.jpg 6>14",
                         "added storage/uploads/c 0>0", "added storage/uploads/c/d.jpg 0>3"}))
      << ::testing::PrintToString(changes);
  auto none = DiffBackups(*f.repo, second, second);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  // ls: "config" is no node, only the directory above an include root.
  auto config = ListBackup(*f.repo, first, {"config", false});
  ASSERT_TRUE(config);
  ASSERT_EQ(config->size(), 1u);
  EXPECT_EQ((*config)[0].path, "config/app.ini");
  auto all = ListBackup(*f.repo, first, {"", true});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 8u);  // storage, same, hard.jpg, x.jpg, uploads, a.jpg, b.jpg, app.ini
  auto missing = ListBackup(*f.repo, first, {"storage/none", false});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ExitCode::kUsage);

  // dump of a hardlink gives its group's bytes.
  auto link = FindEntry(*f.repo, first, "storage/uploads/a.jpg");
  ASSERT_TRUE(link && *link);
  EXPECT_EQ((*link)->node.type, repo::NodeType::kHardlink);
  std::string bytes;
  ASSERT_TRUE(DumpPath(*f.repo, first, "storage/uploads/a.jpg", [&](std::string_view p) {
    bytes.append(p);
    return Ok();
  }));
  EXPECT_EQ(bytes, "jpeg-a");
  auto dir = DumpPath(*f.repo, first, "storage/same/", [](std::string_view) { return Ok(); });
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, ExitCode::kUsage);

  auto stats = ComputeStats(*f.repo, {first, second}, true);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->backups, 2u);
  ASSERT_EQ(stats->sources.size(), 2u);
  EXPECT_EQ(stats->sources[1].name, "storage");
  EXPECT_EQ(stats->sources[1].logical,
            first.FindSource("storage")->bytes + second.FindSource("storage")->bytes);
  // Distinct contents: jpeg-a, jpeg-b, same, jpeg-b edited, new.
  EXPECT_EQ(stats->sources[1].raw, 6u + 6 + 4 + 14 + 3);
  EXPECT_GE(stats->repository_blobs, stats->total.blobs);
}

// Diff never reads a directory whose tree id is the same in both backups: with that tree's
// bytes damaged in its pack, reading it fails, and the diff still succeeds.
TEST(InspectTest, DiffSkipsUnchangedSubtreesUnread) {
  AppRepo f;
  testing::WriteFile(f.app() + "/storage/same/deep/x.txt", "same");
  testing::WriteFile(f.app() + "/storage/edited.txt", "one");
  repo::Snapshot first = f.Backup({"storage"});
  testing::WriteFile(f.app() + "/storage/edited.txt", "two!");
  repo::Snapshot second = f.Backup({"storage"});

  auto same = FindEntry(*f.repo, second, "storage/same");
  ASSERT_TRUE(same && *same);
  const repo::BlobId tree = (*same)->node.subtree;
  const std::optional<repo::IndexEntry> e = f.repo->index().Find(tree);
  ASSERT_TRUE(e);
  const std::string pack = f.repo->index().PackId(e->pack).Hex();
  std::string pack_path;
  for (const auto& p : std::filesystem::recursive_directory_iterator(f.dir / "repo")) {
    if (p.path().filename() == pack) pack_path = p.path();
  }
  ASSERT_FALSE(pack_path.empty());
  {
    std::fstream file(pack_path, std::ios::in | std::ios::out | std::ios::binary);
    // Flip the byte rather than overwrite it: a fixed value equals the byte there 1 time in
    // 256 (the tree holds mtimes, so its bytes change from run to run).
    const std::streamoff at = e->offset + e->length / 2;
    file.seekg(at);
    const char was = static_cast<char>(file.get());
    file.seekp(at);
    file.put(static_cast<char>(was ^ 0xff));
  }
  auto reopened = repo::Repository::Open(*f.backend, false);
  ASSERT_TRUE(reopened);
  ASSERT_TRUE((*reopened)->LoadIndex());
  EXPECT_FALSE((*reopened)->ReadTree(tree));  // the damage is real

  auto diff = DiffBackups(**reopened, first, second);
  ASSERT_TRUE(diff) << diff.error().message;
  ASSERT_EQ(diff->size(), 1u);
  EXPECT_EQ((*diff)[0].path, "storage/edited.txt");
  // What does read it reports the damage as such.
  auto listed = ListBackup(**reopened, second, {"storage/same", false});
  ASSERT_FALSE(listed);
  EXPECT_EQ(listed.error().code, ExitCode::kDamage);
}

}  // namespace
}  // namespace velin::backup
